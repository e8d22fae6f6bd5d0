"""Demo data for the embedded default, loaded through the directory's own API on the first `make up`.

The partners and network partners are the real organisations named in the source texts (VIA, TBB,
Club Dialog, Yaar e.V., the Paritätischer). Everything marked DEMO is invented to show a realistic spread
over Berlin's twelve districts; it names no real association.
"""

from __future__ import annotations

from typing import Any

import httpx

from shared.settings import Settings

ORGANISATIONS: list[dict[str, Any]] = [
    # The partners of the competence centre and the organisations of the seeds.
    {
        "name": "Verband für interkulturelle Arbeit (VIA) Regionalverband Berlin/Brandenburg e.V.",
        "kind": "partner",
        "legal_form": "e_v",
        "districts": ["friedrichshain_kreuzberg"],
        "fields_of_work": ["labour_market", "education", "counselling"],
        "languages": ["de", "en", "tr", "ar"],
        "website": "https://www.via-in-berlin.de",
        "public_profile": True,
    },
    {
        "name": "Türkischer Bund in Berlin-Brandenburg (TBB) e.V.",
        "kind": "partner",
        "legal_form": "e_v",
        "districts": ["tempelhof_schoeneberg"],
        "fields_of_work": ["political_participation", "anti_discrimination", "counselling"],
        "languages": ["de", "tr"],
        "website": "https://www.tbb-berlin.de",
        "public_profile": True,
    },
    {
        "name": "Club Dialog e.V.",
        "kind": "partner",
        "legal_form": "e_v",
        "districts": ["mitte"],
        "fields_of_work": ["volunteering", "youth", "culture"],
        "languages": ["de", "ru", "uk"],
        "website": "https://www.club-dialog.de",
        "public_profile": True,
    },
    {
        "name": "Yaar e.V.",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["friedrichshain_kreuzberg"],
        "fields_of_work": ["labour_market", "counselling", "youth"],
        "languages": ["fa", "ps", "de"],
        "website": "https://www.yaarberlin.de",
        "public_profile": True,
    },
    {
        "name": "Der Paritätische Wohlfahrtsverband Landesverband Berlin e.V.",
        "kind": "welfare_association",
        "legal_form": "e_v",
        "districts": ["charlottenburg_wilmersdorf"],
        "fields_of_work": ["counselling", "health"],
        "languages": ["de"],
        "website": "https://www.paritaet-berlin.de",
        "public_profile": True,
    },
    # DEMO: invented organisations, one or more per district.
    {
        "name": "Afrikanisches Frauennetzwerk Wedding e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["mitte"],
        "fields_of_work": ["women", "health"],
        "languages": ["fr", "en", "so", "de"],
        "public_profile": True,
    },
    {
        "name": "Elternverein Brücke Neukölln e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["neukoelln"],
        "fields_of_work": ["upbringing", "education"],
        "languages": ["ar", "tr", "de"],
        "public_profile": True,
    },
    {
        "name": "Syrische Initiative Marzahn (Demo)",
        "kind": "refugee_initiative",
        "legal_form": "in_gruendung",
        "districts": ["marzahn_hellersdorf"],
        "fields_of_work": ["language", "labour_market"],
        "languages": ["ar", "ku"],
        "public_profile": False,
    },
    {
        "name": "Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["lichtenberg"],
        "fields_of_work": ["culture", "elderly"],
        "languages": ["vi", "de"],
        "public_profile": True,
    },
    {
        "name": "Polnischer Sozialrat Spandau e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["spandau"],
        "fields_of_work": ["counselling", "housing"],
        "languages": ["pl", "de"],
        "public_profile": True,
    },
    {
        "name": "Ukrainische Nachbarschaftshilfe Pankow (Demo)",
        "kind": "refugee_initiative",
        "legal_form": "none",
        "districts": ["pankow"],
        "fields_of_work": ["housing", "language"],
        "languages": ["uk", "ru"],
        "public_profile": False,
    },
    {
        "name": "Eritreische Gemeinschaft Reinickendorf e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["reinickendorf"],
        "fields_of_work": ["youth", "sport"],
        "languages": ["ti", "de"],
        "public_profile": True,
    },
    {
        "name": "Bezirksamt Neukölln – Integrationsbeauftragte (Demo)",
        "kind": "district_office",
        "legal_form": "public_body",
        "districts": ["neukoelln"],
        "fields_of_work": ["political_participation"],
        "languages": ["de"],
        "public_profile": True,
    },
    {
        "name": "Bezirksamt Treptow-Köpenick – Jugendamt (Demo)",
        "kind": "specialist_service",
        "legal_form": "public_body",
        "districts": ["treptow_koepenick"],
        "fields_of_work": ["youth", "upbringing"],
        "languages": ["de"],
        "public_profile": True,
    },
    {
        "name": "Jobcenter Berlin Steglitz-Zehlendorf (Demo)",
        "kind": "labour_market_actor",
        "legal_form": "public_body",
        "districts": ["steglitz_zehlendorf"],
        "fields_of_work": ["labour_market"],
        "languages": ["de", "en"],
        "public_profile": True,
    },
    {
        "name": "Wirtschaftskreis Charlottenburg (Demo)",
        "kind": "business_alliance",
        "legal_form": "e_v",
        "districts": ["charlottenburg_wilmersdorf"],
        "fields_of_work": ["labour_market"],
        "languages": ["de"],
        "public_profile": True,
    },
    {
        "name": "Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)",
        "kind": "mo",
        "legal_form": "e_v",
        "districts": ["friedrichshain_kreuzberg", "neukoelln"],
        "fields_of_work": ["culture", "political_participation"],
        "languages": ["ku", "tr", "de"],
        "public_profile": True,
    },
]

# DEMO: the same parents' association entered a second time, with a contact person, then merged.
DUPLICATE: dict[str, Any] = {
    "name": "Elternverein Bruecke Neukoelln (Demo, Dublette)",
    "kind": "mo",
    "legal_form": "e_v",
    "districts": ["neukoelln"],
    "fields_of_work": ["youth"],
    "languages": ["ar", "ku"],
}
DUPLICATE_OF = "Elternverein Brücke Neukölln e.V. (Demo)"
ORGANISATIONS.append(DUPLICATE)  # registered with the others, merged at the end of loading

# The two networks VIA founded in 2017 (seed 002), with VIA and their partner organisations coordinating.
# Their founding days and the members besides the coordinators are DEMO.
NETWORKS: list[dict[str, Any]] = [
    {
        "name": "Arbeitsmarktintegration von afghanischen Geflüchteten",
        "topic": "Kommunikation über Integrationsbedarfe in arbeitsmarktbezogenen Themen",
        "coordinators": [
            "Verband für interkulturelle Arbeit (VIA) Regionalverband Berlin/Brandenburg e.V.",
            "Yaar e.V.",
        ],
        "founded_on": "2017-03-01",
        "members": [
            ("Jobcenter Berlin Steglitz-Zehlendorf (Demo)", "2018-05-01", None),
            ("Bezirksamt Neukölln – Integrationsbeauftragte (Demo)", "2019-09-01", "2023-12-31"),
        ],
    },
    {
        "name": "Migrannet. Netzwerk für MO und Unternehmen",
        "topic": "Migrant*innenorganisationen und Unternehmen im Gespräch",
        "coordinators": [
            "Verband für interkulturelle Arbeit (VIA) Regionalverband Berlin/Brandenburg e.V.",
            "Der Paritätische Wohlfahrtsverband Landesverband Berlin e.V.",
        ],
        "founded_on": "2017-06-01",
        "members": [
            ("Wirtschaftskreis Charlottenburg (Demo)", "2018-01-15", None),
            ("Afrikanisches Frauennetzwerk Wedding e.V. (Demo)", "2019-02-01", None),
            ("Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)", "2021-04-01", None),
        ],
    },
]

# DEMO: invented contact persons (no real person's data in demo data); one has not agreed to be passed on.
CONTACTS: list[tuple[str, dict[str, Any]]] = [
    (
        "Yaar e.V.",
        {
            "name": "Leyla Ahmadi (Demo)",
            "role": "board",
            "consent": True,
            "email": "vorstand@yaar-demo.example",
            "phone": "+49 30 555 0101",
        },
    ),
    ("Yaar e.V.", {"name": "Farid Karimi (Demo)", "role": "volunteer", "consent": False}),
    (
        "Elternverein Brücke Neukölln e.V. (Demo)",
        {
            "name": "Aylin Demir (Demo)",
            "role": "staff",
            "consent": True,
            "email": "kontakt@bruecke-demo.example",
        },
    ),
]

# DEMO: mentoring pairs in each state: (mentor, mentee, focus areas, started_on, (ending step, day) or None)
MENTORINGS: list[tuple[str, str, list[str], str | None, tuple[str, ...] | None]] = [
    (
        "Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)",
        "Syrische Initiative Marzahn (Demo)",
        ["Vereinsgründung", "Fördermittel"],
        "2025-09-01",
        None,
    ),
    (
        "Afrikanisches Frauennetzwerk Wedding e.V. (Demo)",
        "Eritreische Gemeinschaft Reinickendorf e.V. (Demo)",
        ["Projektverwaltung", "Ehrenamt"],
        "2024-03-01",
        ("complete", "2025-02-28"),
    ),
    (
        "Türkischer Bund in Berlin-Brandenburg (TBB) e.V.",
        "Ukrainische Nachbarschaftshilfe Pankow (Demo)",
        ["Vereinsgründung"],
        None,
        None,
    ),
    (
        "Yaar e.V.",
        "Syrische Initiative Marzahn (Demo)",
        ["Arbeitsmarktzugang", "Ehrenamt"],
        "2024-10-01",
        ("end-early", "2025-04-30", "Die Initiative hat sich vorerst auf die Vereinsgründung konzentriert."),
    ),
]
# The demo's organisation account (`organisation`, shared/auth/users.py) acts for this MO: it is
# registered under the id the account carries (IKMO_DEMO_ORGANISATION_ID), so signing in as it shows
# a real organisation with contacts, networks, a cooperation and mentoring.
OWN_ACCOUNT = "Yaar e.V."

# DEMO: cooperations of MOs with administrations and services: (MO, partner, field, since, ended on)
COOPERATIONS: list[tuple[str, str, str, str, str | None]] = [
    (
        "Elternverein Brücke Neukölln e.V. (Demo)",
        "Bezirksamt Neukölln – Integrationsbeauftragte (Demo)",
        "upbringing",
        "2023-04-01",
        None,
    ),
    ("Yaar e.V.", "Jobcenter Berlin Steglitz-Zehlendorf (Demo)", "labour_market", "2022-09-01", None),
    (
        "Ukrainische Nachbarschaftshilfe Pankow (Demo)",
        "Bezirksamt Treptow-Köpenick – Jugendamt (Demo)",
        "youth",
        "2023-01-15",
        "2024-12-31",
    ),
]

# DEMO: district committees and working groups with the MOs represented in them over time:
# name, kind, district, topic, seats (organisation, representative or None, since, until), dissolved on.
COMMITTEES: list[dict[str, Any]] = [
    {
        "name": "AG Arbeitsmarktintegration Geflüchteter Friedrichshain-Kreuzberg (Demo)",
        "kind": "working_group",
        "district": "friedrichshain_kreuzberg",
        "topic": "Zugang zum Arbeitsmarkt und Anerkennung ausländischer Abschlüsse",
        "seats": [
            ("Yaar e.V.", "Leyla Ahmadi (Demo)", "2019-03-01", None),
            ("Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)", None, "2021-06-01", None),
        ],
    },
    {
        "name": "Beirat für Integration und Migration Neukölln (Demo)",
        "kind": "advisory_board",
        "district": "neukoelln",
        "topic": "Teilhabe von Migrant*innen im Bezirk",
        "seats": [
            ("Elternverein Brücke Neukölln e.V. (Demo)", "Aylin Demir (Demo)", "2023-05-01", None),
            ("Kurdisches Kulturzentrum Kreuzberg e.V. (Demo)", None, "2020-01-01", "2024-12-31"),
        ],
    },
    {
        "name": "Migrationsbeirat Lichtenberg (Demo)",
        "kind": "advisory_board",
        "district": "lichtenberg",
        "topic": None,
        "seats": [("Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)", None, "2020-09-01", None)],
    },
    {
        "name": "Gremium Willkommensstrukturen Marzahn-Hellersdorf (Demo)",
        "kind": "committee",
        "district": "marzahn_hellersdorf",
        "topic": "Kommunale Willkommenskultur mit Verwaltung und Regeldiensten",
        "seats": [("Syrische Initiative Marzahn (Demo)", None, "2024-02-01", None)],
    },
    {
        "name": "Runder Tisch Geflüchtete Pankow (Demo)",
        "kind": "working_group",
        "district": "pankow",
        "topic": "Unterbringung und Nachbarschaft",
        "seats": [("Ukrainische Nachbarschaftshilfe Pankow (Demo)", None, "2022-04-01", None)],
        "dissolved_on": "2024-06-30",
    },
]

# DEMO: a later chapter of two of them, so that history, legal-form change and archive show up.
BECOMES_E_V = "Syrische Initiative Marzahn (Demo)"
ARCHIVED = ("Polnischer Sozialrat Spandau e.V. (Demo)", "Verein hat sich 2025 aufgelöst (Demo)")


async def load_committees(client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    """The demo committees, with representatives looked up among the organisations' contact persons."""
    for committee in COMMITTEES:
        body = {k: committee[k] for k in ("name", "kind", "district", "topic")}
        created = await client.post("/committees", json=body)
        created.raise_for_status()
        url = f"/committees/{created.json()['id']}"
        for organisation, representative, since, until in committee["seats"]:
            seat: dict[str, Any] = {"organisation_id": ids[organisation], "taken_on": since}
            if representative:
                people = await client.get(f"/organisations/{ids[organisation]}/contacts")
                people.raise_for_status()
                seat["representative_id"] = next(
                    p["id"] for p in people.json() if p["name"] == representative
                )
            (await client.post(f"{url}/seats", json=seat)).raise_for_status()
            if until:
                vacated = await client.post(
                    f"{url}/seats/{ids[organisation]}/vacate", json={"vacated_on": until}
                )
                vacated.raise_for_status()
        if committee.get("dissolved_on"):
            dissolved = await client.post(f"{url}/dissolve", json={"dissolved_on": committee["dissolved_on"]})
            dissolved.raise_for_status()


async def load_demo(client: httpx.AsyncClient) -> int:
    """Register the demo organisations unless the directory already has some; returns how many."""
    existing = await client.get("/organisations", params={"include_archived": True, "limit": 1})
    existing.raise_for_status()
    if existing.json()["total"] > 0:
        return 0
    ids: dict[str, str] = {}
    account_id = Settings().demo_organisation_id
    for body in ORGANISATIONS:
        chosen = {"id": account_id} if body["name"] == OWN_ACCOUNT else {}
        response = await client.post("/organisations", json={**body, **chosen})
        response.raise_for_status()
        ids[body["name"]] = response.json()["id"]
    (
        await client.post(f"/organisations/{ids[BECOMES_E_V]}/legal-form", json={"legal_form": "e_v"})
    ).raise_for_status()
    name, reason = ARCHIVED
    (await client.post(f"/organisations/{ids[name]}/archive", json={"reason": reason})).raise_for_status()
    for organisation, person in CONTACTS:
        (await client.post(f"/organisations/{ids[organisation]}/contacts", json=person)).raise_for_status()
    for mentor, mentee, focus, started_on, ending in MENTORINGS:
        made = await client.post(
            "/mentorings", json={"mentor_id": ids[mentor], "mentee_id": ids[mentee], "focus_areas": focus}
        )
        made.raise_for_status()
        url = f"/mentorings/{made.json()['id']}"
        if started_on:
            (await client.post(f"{url}/start", json={"on": started_on})).raise_for_status()
        if ending:
            step, on, *why = ending  # ending early may say why
            (
                await client.post(f"{url}/{step}", json={"on": on, "reason": next(iter(why), None)})
            ).raise_for_status()
    for mo, partner, field, since, ended_on in COOPERATIONS:
        body = {
            "organisation_id": ids[mo],
            "partner_id": ids[partner],
            "field_of_work": field,
            "started_on": since,
        }
        started = await client.post("/cooperations", json=body)
        started.raise_for_status()
        if ended_on:
            ended = await client.post(
                f"/cooperations/{started.json()['id']}/end", json={"ended_on": ended_on}
            )
            ended.raise_for_status()
    await load_teilhabecheck(client)
    for network in NETWORKS:
        body = {k: network[k] for k in ("name", "topic", "founded_on")}
        created = await client.post(
            "/networks", json={**body, "coordinators": [ids[c] for c in network["coordinators"]]}
        )
        created.raise_for_status()
        url = f"/networks/{created.json()['id']}/members"
        for member, joined_on, left_on in network["members"]:
            joined = await client.post(url, json={"organisation_id": ids[member], "joined_on": joined_on})
            joined.raise_for_status()
            if left_on:
                (
                    await client.post(f"{url}/{ids[member]}/leave", json={"left_on": left_on})
                ).raise_for_status()
    await load_committees(client, ids)
    await load_finished_teilhabecheck(client)
    await load_merged_duplicate(client, ids)
    return len(ORGANISATIONS)


async def load_teilhabecheck(client: httpx.AsyncClient) -> None:
    """DEMO: a Teilhabecheck in Marzahn-Hellersdorf, two phases done, in talks with the administration."""
    made = await client.post(
        "/teilhabechecks",
        json={
            "district": "marzahn_hellersdorf",
            "social_space": "Hellersdorf-Nord (Demo)",
            "started_on": "2026-03-02",
        },
    )
    made.raise_for_status()
    url = f"/teilhabechecks/{made.json()['id']}"
    steps = [
        (
            "findings",
            {"text": "Zwei Nachbarschaftstreffs, aber keine Angebote auf Vietnamesisch oder Arabisch."},
        ),
        ("phases/inventory/complete", {"completed_on": "2026-05-15"}),
        ("findings", {"text": "MO wünschen sich feste Ansprechpersonen im Bezirksamt."}),
        ("phases/mo_talks/complete", {"completed_on": "2026-08-31"}),
        ("findings", {"text": "Das Jugendamt lädt MO künftig zur AG Jugendhilfe ein."}),
    ]
    for path, body in steps:
        (await client.post(f"{url}/{path}", json=body)).raise_for_status()


async def load_finished_teilhabecheck(client: httpx.AsyncClient) -> None:
    """DEMO: a finished Teilhabecheck in Neukölln whose recommendations are being followed up."""
    made = await client.post(
        "/teilhabechecks",
        json={"district": "neukoelln", "social_space": "Gropiusstadt (Demo)", "started_on": "2025-03-03"},
    )
    made.raise_for_status()
    url = f"/teilhabechecks/{made.json()['id']}"
    steps = [
        ("findings", {"text": "Der Stadtteilbeirat hat keinen Sitz für MO; Sitzungen nur auf Deutsch."}),
        ("phases/inventory/complete", {"completed_on": "2025-05-30"}),
        (
            "findings",
            {"text": "Elternvereine erreichen arabisch- und türkischsprachige Familien, die Schulen nicht."},
        ),
        ("phases/mo_talks/complete", {"completed_on": "2025-08-29"}),
        (
            "findings",
            {"text": "Das Bezirksamt ist offen für einen festen MO-Sitz, braucht aber einen Beschluss."},
        ),
        ("phases/administration/complete", {"completed_on": "2025-10-31"}),
    ]
    for path, body in steps:
        (await client.post(f"{url}/{path}", json=body)).raise_for_status()
    recommendations = [
        (
            {
                "text": "Zwei feste Sitze für MO im Stadtteilbeirat Gropiusstadt.",
                "addressee": "Bezirksamt Neukölln",
            },
            {"adoption": "adopted", "on": "2026-02-12", "note": "Beschluss der BVV vom Februar 2026 (Demo)"},
        ),
        (
            {
                "text": "Elternabende mit Sprachmittlung auf Arabisch und Türkisch.",
                "addressee": "Schulaufsicht",
            },
            {"adoption": "partly", "on": "2026-04-20", "note": "an zwei von fünf Schulen (Demo)"},
        ),
        ({"text": "Ein Raum im Gemeinschaftshaus für MO-Treffen, kostenfrei.", "addressee": None}, None),
    ]
    later = []
    for recommendation, follow_up in recommendations:
        made_rec = await client.post(f"{url}/recommendations", json=recommendation)
        made_rec.raise_for_status()
        if follow_up:
            later.append((made_rec.json()["recommendations"][-1]["item_id"], follow_up))
    done = await client.post(f"{url}/phases/recommendations/complete", json={"completed_on": "2025-12-15"})
    done.raise_for_status()
    for item_id, follow_up in later:  # what became of them, months after the analysis ended
        followed = await client.post(f"{url}/recommendations/{item_id}/follow-up", json=follow_up)
        followed.raise_for_status()


async def load_merged_duplicate(client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    duplicate = ids[DUPLICATE["name"]]
    person = {"name": "Murat Yılmaz (Demo)", "role": "volunteer", "consent": True}
    (await client.post(f"/organisations/{duplicate}/contacts", json=person)).raise_for_status()
    merged = await client.post(
        f"/organisations/{ids[DUPLICATE_OF]}/merge",
        json={"absorbed_id": duplicate, "reason": "doppelt eingetragen (Demo)"},
    )
    merged.raise_for_status()
