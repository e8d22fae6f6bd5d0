"""Demo data for the embedded default: a realistic calendar of VIA's formats, loaded through the service's
own API on the first `make up`, after the directory's demo (the organisations come over the bus).

The formats, topics, funding lines and VIA's address are those of the source texts (seeds 000 and 001);
the dates are relative to today, so the calendar always has something coming. Everything about people
is invented (DEMO) and uses example.org addresses.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.events import consultation_demo
from shared.web.vocabulary import BERLIN

VIA_ADDRESS = "VIA Berlin/Brandenburg e.V., Petersburger Straße 92, 10247 Berlin"
WAIT_FOR_DIRECTORY = 60.0  # seconds: the directory's organisations arrive over the bus

NEEDED = (
    "Yaar e.V.",
    "Jobcenter Berlin Steglitz-Zehlendorf (Demo)",
    "Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)",
)
NETWORK = "Arbeitsmarktintegration von afghanischen Geflüchteten"

# DEMO people: (name, e-mail, organisation name or None)
PEOPLE = [
    ("Leyla Ahmadi (Demo)", "leyla.ahmadi@example.org", "Yaar e.V."),
    ("Aylin Demir (Demo)", "aylin.demir@example.org", "Elternverein Brücke Neukölln e.V. (Demo)"),
    ("Amina Diallo (Demo)", "amina.diallo@example.org", "Afrikanisches Frauennetzwerk Wedding e.V. (Demo)"),
    (
        "Thi Lan Nguyen (Demo)",
        "lan.nguyen@example.org",
        "Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)",
    ),
    ("Rojda Aslan (Demo)", "rojda.aslan@example.org", "Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)"),
    ("Samir Haddad (Demo)", "samir.haddad@example.org", "Syrische Initiative Marzahn (Demo)"),
    (
        "Olena Kovalenko (Demo)",
        "olena.kovalenko@example.org",
        "Ukrainische Nachbarschaftshilfe Pankow (Demo)",
    ),
    (
        "Yonas Tesfaye (Demo)",
        "yonas.tesfaye@example.org",
        "Eritreische Gemeinschaft Reinickendorf e.V. (Demo)",
    ),
    ("Farid Karimi (Demo)", "farid.karimi@example.org", "Yaar e.V."),
    ("Marta Nowak (Demo)", "marta.nowak@example.org", None),
]


# DEMO feedback from the paper forms of the past events: (rating, comment)
FEEDBACK = [
    (5, "Sehr praxisnah, endlich verstehe ich die Einnahmen-Überschuss-Rechnung. (Demo)"),
    (4, None),
    (4, "Gerne ein zweiter Termin mit Übungen am eigenen Beleg. (Demo)"),
    (3, "Etwas zu viel Stoff für einen Tag. (Demo)"),
    (5, None),
]


def at(days: int, hour: int, minute: int = 0) -> datetime:
    """A day relative to today, at a time of day in Berlin."""
    day = datetime.now(BERLIN).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def event(
    title: str,
    format_: str,
    topics: list[str],
    funding_line: str,
    days: int,
    hours: tuple[int, int],
    capacity: int,
    **rest: Any,
) -> dict[str, Any]:
    return {
        "title": title,
        "format": format_,
        "topics": topics,
        "funding_line": funding_line,
        "starts_at": at(days, hours[0]).isoformat(),
        "ends_at": at(days, hours[1]).isoformat(),
        "registration_deadline": at(days - 2, 23, 59).isoformat()
        if days > 2
        else at(days, hours[0]).isoformat(),
        "capacity": capacity,
        **rest,
    }


def calendar(org: dict[str, str], network_id: str | None) -> list[tuple[dict[str, Any], str, int]]:
    """(event, what happens to it, how many people register): published, draft, cancelled, completed."""
    in_person = {"venue": VIA_ADDRESS, "district": "friedrichshain_kreuzberg"}
    talk_host = org["Yaar e.V."]
    return [
        (
            event(
                "Vereinsgründung und Vereinsführung: Satzung, Vorstand, Gemeinnützigkeit",
                "qualification_seminar",
                ["founding_an_association", "association_and_labour_law"],
                "senate_ikmo",
                12,
                (10, 16),
                16,
                description="Für Initiativen in Gründung und junge Vereine: Schritt für Schritt zum e.V., "
                "mit Mustersatzung und Zeit für eigene Fragen.",
                **in_person,
            ),
            "published",
            5,
        ),
        (
            event(
                "Anerkennung ausländischer Berufsabschlüsse – Wege, Stellen, Fristen",
                "workshop",
                ["recognition_of_qualifications", "qualification_opportunities"],
                "iq",
                9,
                (17, 20),
                4,
                description="Ein Abendworkshop für Beratende in MO: Wer ist zuständig, was kostet es, "
                "welche Unterlagen braucht es?",
                venue="Nachbarschaftshaus, Karl-Marx-Straße 1 (Demo-Adresse)",
                district="neukoelln",
            ),
            "published",
            6,  # more than places: two wait
        ),
        (
            event(
                "Arbeitsmarktgespräch bei Yaar e.V.: Ausbildung und Arbeit für junge Geflüchtete",
                "labour_market_talk",
                ["labour_market_access_refugees", "recognition_of_qualifications"],
                "iq",
                19,
                (16, 18),
                25,
                description="Referent*innen des Jobcenters kommen zu Yaar e.V. und beantworten die Fragen "
                "der Besucher*innen vor Ort.",
                venue="Räume von Yaar e.V. (Demo-Adresse)",
                district="friedrichshain_kreuzberg",
                host_organisation_id=talk_host,
                speaker_organisation_ids=[org["Jobcenter Berlin Steglitz-Zehlendorf (Demo)"]],
            ),
            "published",
            3,
        ),
        (
            event(
                "Fachrunde des Netzwerks: Übergänge in Ausbildung",
                "network_meeting",
                ["labour_market_access_refugees", "qualification_opportunities"],
                "iq",
                26,
                (14, 17),
                30,
                online=True,
                network_id=network_id,
                description="Thematische Fachrunde des Netzwerks Arbeitsmarktintegration von afghanischen "
                "Geflüchteten, online.",
            ),
            "published",
            2,
        ),
        (
            event(
                "Fachtag Kommune interkulturell: MO als Arbeitsmarktakteure",
                "conference",
                ["intercultural_opening", "welcome_structures", "political_participation"],
                "iq",
                40,
                (9, 17),
                80,
                description="Verwaltungen, Wirtschaftsbündnisse und MO im Gespräch über bezirkliche "
                "Willkommensstrukturen.",
                venue="Rathaus Mitte, BVV-Saal (Demo-Adresse)",
                district="mitte",
            ),
            "published",
            4,
        ),
        (
            event(
                "Werkstattgespräch: Interkulturelle Öffnung im Bezirksamt gemeinsam mit MO",
                "workshop_talk",
                ["intercultural_opening", "needs_assessment"],
                "senate_ikmo",
                33,
                (10, 13),
                15,
                venue="Bezirksamt Neukölln (Demo-Adresse)",
                district="neukoelln",
            ),
            "published",
            0,
        ),
        (
            event(
                "Vorbilder zeigen: Gründerinnen aus migrantischen Communities",
                "role_model_talk",
                ["political_participation", "founding_an_association"],
                "amif",
                22,
                (18, 20),
                40,
                venue="Kulturhaus Lichtenberg (Demo-Adresse)",
                district="lichtenberg",
                speaker_organisation_ids=[org["Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)"]],
            ),
            "published",
            1,
        ),
        (
            event(
                "Projektmanagement und Fördermittel für Vereine",
                "workshop",
                ["project_management", "project_funding", "project_administration"],
                "senate_ikmo",
                54,
                (10, 15),
                20,
                online=True,
            ),
            "draft",
            0,
        ),
        (
            event(
                "Arbeit mit Ehrenamtlichen: gewinnen, begleiten, halten",
                "workshop",
                ["volunteers"],
                "amif",
                15,
                (10, 14),
                18,
                **in_person,
            ),
            "cancelled",
            2,
        ),
        (
            event(
                "Buchhaltung für kleine Vereine",
                "qualification_seminar",
                ["bookkeeping", "project_administration"],
                "senate_ikmo",
                -40,
                (10, 15),
                12,
                **in_person,
            ),
            "completed",
            6,
        ),
        (
            event(
                "Der Verein als Arbeitgeber: Minijob, Ehrenamtspauschale, Arbeitsvertrag",
                "workshop_talk",
                ["association_as_employer", "association_and_labour_law"],
                "senate_ikmo",
                -18,
                (17, 20),
                15,
                **in_person,
            ),
            "completed",
            4,
        ),
    ]


async def _directory_copy(
    client: httpx.AsyncClient, needed: tuple[str, ...] = NEEDED
) -> tuple[dict[str, str], str | None]:
    """Wait until the organisations (and the network) the demo names have come over the bus."""
    deadline = asyncio.get_running_loop().time() + WAIT_FOR_DIRECTORY
    while True:
        organisations = (await client.get("/organisations")).raise_for_status().json()
        networks = (await client.get("/networks")).raise_for_status().json()
        by_name = {o["name"]: o["id"] for o in organisations}
        network_id = next((n["id"] for n in networks if n["name"] == NETWORK), None)
        if all(name in by_name for name in needed) and network_id:
            return by_name, network_id
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(
                "Die Organisationen des Verzeichnisses sind nicht angekommen / the directory's "
                f"organisations did not arrive within {WAIT_FOR_DIRECTORY:.0f} s "
                "(NATS running? the directory's demo loaded?)"
            )
        await asyncio.sleep(0.5)


async def load_demo(client: httpx.AsyncClient) -> int:
    """Plan the demo calendar unless the service already has events; returns how many. The advice demo
    (consultation_demo.py) loads first, once, on its own check."""
    await consultation_demo.load(client, lambda: _directory_copy(client, consultation_demo.ADVISED))
    existing = (await client.get("/events", params={"limit": 1})).raise_for_status().json()
    if existing["total"] > 0:
        return 0
    organisations, network_id = await _directory_copy(client)
    planned = calendar(organisations, network_id)
    for body, fate, registrations in planned:
        made = (await client.post("/events", json=body)).raise_for_status().json()
        url = f"/events/{made['id']}"
        if fate == "draft":
            continue
        (await client.post(f"{url}/publish")).raise_for_status()
        ids = []
        for name, email, organisation in PEOPLE[:registrations]:
            person = {"name": name, "email": email, "organisation_id": organisations.get(organisation or "")}
            made_registration = (await client.post(f"{url}/registrations", json=person)).raise_for_status()
            ids.append(made_registration.json()["registration_id"])
        if registrations > body["capacity"]:  # one with a place withdraws: the first waiting moves up
            (await client.post(f"{url}/registrations/{ids[1]}/cancel")).raise_for_status()
        if fate == "cancelled":
            # A category for everyone, and a note for the team that says nothing about anyone.
            why = {"reason": "speaker_unavailable", "note": "Neuer Termin im nächsten Quartal (Demo)."}
            (await client.post(f"{url}/cancel", json=why)).raise_for_status()
        elif fate == "completed":
            for registration_id in ids[:-1]:  # everyone came but the last (a no-show)
                (await client.post(f"{url}/registrations/{registration_id}/attendance")).raise_for_status()
            (await client.post(f"{url}/complete")).raise_for_status()
            for registration_id, (rating, comment) in zip(ids[:-1], FEEDBACK, strict=False):  # paper forms
                answer = {"rating": rating, "comment": comment}
                (
                    await client.put(f"{url}/registrations/{registration_id}/feedback", json=answer)
                ).raise_for_status()
    await _registers_twice(client)
    return len(planned)


async def _registers_twice(client: httpx.AsyncClient) -> None:
    """Someone on a waitlist forgot and fills in the public form again: the page thanks them as anyone,
    and the notices show the reminder with their link (the staff page "Benachrichtigungen")."""
    full = next(e for e in (await client.get("/events")).json()["items"] if e["waitlisted"])
    waiting = [
        r["name"]
        for r in (await client.get(f"/events/{full['id']}/registrations")).json()
        if r["status"] == "waitlisted"
    ]
    name, email, _ = next(p for p in PEOPLE if p[0] == waiting[-1])
    form = {"name": name, "email": email, "privacy_consent": "true"}
    answer = await client.post(f"/oeffentlich/veranstaltungen/{full['id']}", data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"the demo's second registration was answered {answer.status_code}")
