"""Demo data for the embedded default: a realistic calendar of VIA's formats, loaded through the service's
own API on the first `make up`, after the directory's demo (the organisations come over the bus).

A feature the demo never shows is not done, so every one of them happens here once, the way it happens
for real (staff through the API, people through the public form and their personal link):
- events published, a draft, one cancelled with a reason (and VIA's note), two completed with attendance
  (one no-show each), paper feedback entered by staff and one feedback given through the personal link;
- a waitlist: staff cancel one place and a person cancels hers through her personal link (as her notice
  carries it), and each time the first in line moves up; on another event more places move the head of
  the waitlist up; someone waiting fills in the public form again and gets the reminder;
- a registration through the public form with consent ("online, mit Einwilligung" on the staff page);
- a registrant erased (crypto-shredding: the staff list shows "[gelöscht]");
- a name corrected after the event, as on the person's papers, so her certificate carries it;
- a published talk moved an hour later: its registrant gets "Neue Zeit oder neuer Ort", old beside new;
- an event under way today ("Offene Antragswerkstatt"): it starts a few seconds after it is planned and
  lasts some hours; people are checked in and a walk-in registered at the door, so the phone check-in
  list has something live;
- the advice records (consultation_demo.py).

The formats, topics, funding lines and VIA's address are those of the source texts (seeds 000 and 001);
the dates are relative to today, so the calendar always has something coming. Everything about people
is invented (DEMO) and uses example.org addresses. It loads only while the service has no events.
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from services.events import consultation_demo
from shared.web.vocabulary import BERLIN

VIA_ADDRESS = "VIA Berlin/Brandenburg e.V., Petersburger Straße 92, 10247 Berlin"
WAIT_FOR_DIRECTORY = 60.0  # seconds: the directory's organisations arrive over the bus
LIVE_START = 3.0  # seconds after it is planned, the event under way begins: check-in and walk-ins open
PUBLIC_FORM = "/oeffentlich/veranstaltungen"  # the public pages, as a person's browser uses them
PERSONAL_LINK = re.compile(r"/oeffentlich/anmeldung/[A-Za-z0-9_-]+")  # the link in a person's notice

# the events on which a feature happens (see the module's docstring)
WAITLIST = "Anerkennung ausländischer Berufsabschlüsse – Wege, Stellen, Fristen"
MORE_PLACES = "Werkstattgespräch: Interkulturelle Öffnung im Bezirksamt gemeinsam mit MO"
ONLINE = "Vereinsgründung und Vereinsführung: Satzung, Vorstand, Gemeinnützigkeit"
ERASED = "Fachtag Kommune interkulturell: MO als Arbeitsmarktakteure"
FEEDBACK_BY_LINK = "Der Verein als Arbeitgeber: Minijob, Ehrenamtspauschale, Arbeitsvertrag"
UNDER_WAY = "Offene Antragswerkstatt: Förderanträge gemeinsam schreiben"
NEW_TIME = "Vorbilder zeigen: Gründerinnen aus migrantischen Communities"
CORRECTED = "Buchhaltung für kleine Vereine"
CORRECTED_NAME = "Nguyễn Thị Lan (Demo)"  # PEOPLE[3] as her papers write it

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
# DEMO feedback a participant gave herself through her personal link
OWN_FEEDBACK = {"rating": "5", "comment": "Endlich weiß ich, was ein Minijob den Verein kostet. (Demo)"}


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
            7,  # more than places: three wait; two move up (staff cancel one, a person another by link)
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
                3,
                venue="Bezirksamt Neukölln (Demo-Adresse)",
                district="neukoelln",
            ),
            "published",
            5,  # two wait; one more place moves the first of them up
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
                CORRECTED,
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
    made: dict[str, tuple[str, list[str]]] = {}  # title: (event id, registration ids in order)
    for body, fate, registrations in planned:
        event_id = (await client.post("/events", json=body)).raise_for_status().json()["id"]
        url = f"/events/{event_id}"
        if fate == "draft":
            continue
        (await client.post(f"{url}/publish")).raise_for_status()
        ids = [await _register(client, event_id, person, organisations) for person in PEOPLE[:registrations]]
        made[body["title"]] = (event_id, ids)
        if fate == "cancelled":
            # A category for everyone, and a note for the team that says nothing about anyone.
            why = {"reason": "speaker_unavailable", "note": "Neuer Termin im nächsten Quartal (Demo)."}
            (await client.post(f"{url}/cancel", json=why)).raise_for_status()
        elif fate == "completed":
            came = ids[:-1]  # everyone came but the last (a no-show)
            for registration_id in came:
                (await client.post(f"{url}/registrations/{registration_id}/attendance")).raise_for_status()
            (await client.post(f"{url}/complete")).raise_for_status()
            on_paper = came[1:] if body["title"] == FEEDBACK_BY_LINK else came  # the first says it online
            for registration_id, (rating, comment) in zip(on_paper, FEEDBACK, strict=False):
                answer = {"rating": rating, "comment": comment}
                (
                    await client.put(f"{url}/registrations/{registration_id}/feedback", json=answer)
                ).raise_for_status()
    await _moves_up(client, *made[WAITLIST])
    await _more_places(client, made[MORE_PLACES][0])
    await _registers_online(client, made[ONLINE][0])
    await _erases(client, *made[ERASED])
    await _corrects_a_name(client, *made[CORRECTED])
    await _feedback_by_link(client, *made[FEEDBACK_BY_LINK])
    await _starts_later(client, made[NEW_TIME][0])
    await _registers_twice(client, made[WAITLIST][0])
    await _under_way(client, organisations)
    return len(planned) + 1


async def _register(
    client: httpx.AsyncClient,
    event_id: str,
    person: tuple[str, str, str | None],
    organisations: dict[str, str],
) -> str:
    """Staff register someone (by phone, on paper, at the door); returns the registration's id."""
    name, email, organisation = person
    body = {"name": name, "email": email, "organisation_id": organisations.get(organisation or "")}
    made = (await client.post(f"/events/{event_id}/registrations", json=body)).raise_for_status()
    return str(made.json()["registration_id"])


async def _personal_link(client: httpx.AsyncClient, event_id: str, registration_id: str) -> str:
    """The path of someone's personal link, taken from the notice they were sent (as staff read it on
    "Benachrichtigungen" while no mail server is configured): the demo clicks what the person clicks."""
    sent = (await client.get("/notices", params={"event_id": event_id})).raise_for_status().json()
    for notice in sent:
        found = PERSONAL_LINK.search(notice["body"]) if notice["registration_id"] == registration_id else None
        if found:
            return found.group(0)
    raise RuntimeError(f"no notice with a personal link for the demo's registration {registration_id}")


async def _status_of(client: httpx.AsyncClient, event_id: str, registration_id: str) -> dict[str, Any]:
    people = (await client.get(f"/events/{event_id}/registrations")).raise_for_status().json()
    return dict(next(p for p in people if p["id"] == registration_id))


async def _moves_up(client: httpx.AsyncClient, event_id: str, ids: list[str]) -> None:
    """The full workshop: staff cancel one place (someone phoned), a person cancels hers through her
    personal link; each time the first on the waitlist moves up, and one still waits."""
    (await client.post(f"/events/{event_id}/registrations/{ids[1]}/cancel")).raise_for_status()
    link = await _personal_link(client, event_id, ids[2])
    answer = await client.post(link)  # the button on the link's page; the page says how it went
    cancelled = await _status_of(client, event_id, ids[2])
    if answer.status_code != 303 or cancelled["cancelled_by"] != "participant":
        raise RuntimeError(f"the demo's cancellation by link did not go through ({answer.status_code})")


async def _more_places(client: httpx.AsyncClient, event_id: str) -> None:
    """One more place at the Werkstattgespräch: the head of its waitlist moves up, the next still waits."""
    event = (await client.get(f"/events/{event_id}")).raise_for_status().json()
    more = {"capacity": event["capacity"] + 1}
    (await client.post(f"/events/{event_id}/capacity", json=more)).raise_for_status()


async def _registers_online(client: httpx.AsyncClient, event_id: str) -> None:
    """Someone registers through the public form and agrees to the processing of her data: the staff
    list shows "online, mit Einwilligung" with the wording she agreed to."""
    name, email, _ = PEOPLE[-1]
    form = {"name": name, "email": email, "privacy_consent": "true"}
    answer = await client.post(f"{PUBLIC_FORM}/{event_id}", data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"the demo's public registration was answered {answer.status_code}")


async def _erases(client: httpx.AsyncClient, event_id: str, ids: list[str]) -> None:
    """A registrant asks to be forgotten (GDPR Art. 17): her key is deleted, her place goes on, and
    every copy of her data reads "[gelöscht]"."""
    (await client.post(f"/events/{event_id}/registrations/{ids[-1]}/erase")).raise_for_status()


async def _corrects_a_name(client: httpx.AsyncClient, event_id: str, ids: list[str]) -> None:
    """After the seminar a participant asks for her name as her papers write it (family name first, with
    its marks): staff correct it, and her certificate of participation carries it."""
    body = {"name": CORRECTED_NAME}
    (await client.patch(f"/events/{event_id}/registrations/{ids[3]}", json=body)).raise_for_status()


async def _starts_later(client: httpx.AsyncClient, event_id: str) -> None:
    """The hall is free only later that evening: the talk moves by an hour, and who registered gets the
    notice "Neue Zeit oder neuer Ort" with the old time beside the new."""
    later = {"starts_at": at(22, 19).isoformat(), "ends_at": at(22, 21).isoformat()}  # was 18 to 20 o'clock
    (await client.patch(f"/events/{event_id}", json=later)).raise_for_status()


async def _feedback_by_link(client: httpx.AsyncClient, event_id: str, ids: list[str]) -> None:
    """A participant of a past event rates it herself through her personal link."""
    link = await _personal_link(client, event_id, ids[0])
    answer = await client.post(f"{link}/rueckmeldung", data=OWN_FEEDBACK)
    if answer.status_code != 303:
        raise RuntimeError(f"the demo's feedback by link was answered {answer.status_code}")


async def _registers_twice(client: httpx.AsyncClient, event_id: str) -> None:
    """Someone on a waitlist forgot and fills in the public form again: the page thanks them as anyone,
    and the notices show the reminder with their link (the staff page "Benachrichtigungen")."""
    waiting = [
        r["name"]
        for r in (await client.get(f"/events/{event_id}/registrations")).json()
        if r["status"] == "waitlisted"
    ]
    name, email, _ = next(p for p in PEOPLE if p[0] == waiting[-1])
    form = {"name": name, "email": email, "privacy_consent": "true"}
    answer = await client.post(f"{PUBLIC_FORM}/{event_id}", data=form)
    if answer.status_code != 303:
        raise RuntimeError(f"the demo's second registration was answered {answer.status_code}")


async def _under_way(client: httpx.AsyncClient, organisations: dict[str, str]) -> None:
    """An event that is on right now: planned to begin a few seconds from now and to last some hours.
    Five registered beforehand; once it has begun three of them are checked in, and a walk-in is
    registered at the door onto a free place (allowed only once it has begun) and checked in."""
    starts = datetime.now(BERLIN).replace(microsecond=0) + timedelta(seconds=LIVE_START)
    body = {
        "title": UNDER_WAY,
        "format": "workshop",
        "topics": ["project_funding", "project_administration"],
        "funding_line": "senate_ikmo",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=4)).isoformat(),
        "capacity": 8,
        "description": "Bringen Sie Ihren Antrag mit: Wir schreiben gemeinsam an Projektbeschreibung, "
        "Finanzplan und Zeitplan. Kommen und gehen, wann Sie möchten.",
        "venue": VIA_ADDRESS,
        "district": "friedrichshain_kreuzberg",
    }
    event_id = (await client.post("/events", json=body)).raise_for_status().json()["id"]
    (await client.post(f"/events/{event_id}/publish")).raise_for_status()
    ids = [await _register(client, event_id, person, organisations) for person in PEOPLE[:5]]
    await asyncio.sleep(max(0.0, (starts - datetime.now(BERLIN)).total_seconds()) + 0.5)  # it begins
    walk_in = await _register(client, event_id, PEOPLE[8], organisations)
    for registration_id in [*ids[:3], walk_in]:
        checked = await client.post(f"/events/{event_id}/registrations/{registration_id}/attendance")
        checked.raise_for_status()
