"""Demo advice for the embedded default: sessions for organisations of the directory's demo and two process
accompaniments (Yaar e.V.'s Aktionsfonds application, still open; the Syrian initiative's founding as an
association, closed with its goal reached). Loaded through the service's own API by demo.py, once.

Days are relative to today, so the list always has recent advice. People and minutes are invented (Demo).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx

from services.events.consultation_handlers import berlin_today

YAAR = "Yaar e.V."
SYRIAN = "Syrische Initiative Marzahn (Demo)"
VIETNAMESE = "Vietnamesischer Kulturverein Lichtenberg e.V. (Demo)"
WOMEN = "Afrikanisches Frauennetzwerk Wedding e.V. (Demo)"
ERITREAN = "Eritreische Gemeinschaft Reinickendorf e.V. (Demo)"
ADVISED = (YAAR, SYRIAN, VIETNAMESE, WOMEN, ERITREAN)

Lookup = Callable[[], Awaitable[tuple[dict[str, str], Any]]]


def days_ago(n: int) -> str:
    return (berlin_today() - timedelta(days=n)).isoformat()


def session(
    topics: list[str],
    days: int,
    minutes: int,
    format_: str,
    person: str | None = None,
    notes: str | None = None,
) -> dict[str, Any]:
    return {
        "topics": topics,
        "held_on": days_ago(days),
        "duration_minutes": minutes,
        "format": format_,
        "person_advised": person,
        "minutes": notes,
    }


# (organisation, session) of advice that stands alone
SINGLE = [
    (
        VIETNAMESE,
        session(
            ["volunteers"],
            25,
            60,
            "phone",
            "Thi Lan Nguyen (Demo)",
            "Ehrenamtliche gewinnen und halten: Aufwandsentschädigung, Versicherung, Anerkennung (Demo).",
        ),
    ),
    (
        WOMEN,
        session(
            ["association_and_labour_law", "association_as_employer"],
            40,
            120,
            "online",
            "Amina Diallo (Demo)",
            "Minijob oder Honorar für die Koordinatorin? Arbeitsvertrag und Anmeldung besprochen (Demo).",
        ),
    ),
    (ERITREAN, {**session(["project_administration"], 8, 45, "phone"), "funding_line": "iq"}),
    (
        YAAR,
        session(["voluntary_services"], 60, 30, "in_person", notes="Einsatzstelle im BFD? An CLD verwiesen."),
    ),
]

# Accompaniments: (organisation, opening, sessions, closing or None)
ACCOMPANIMENTS: list[tuple[str, dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]] = [
    (
        YAAR,
        {
            "topics": ["project_funding", "concept_development", "project_administration"],
            "opened_on": days_ago(45),
            "goal": "Einen Antrag beim Aktionsfonds (Kaleidoskop Berlin) für die Arbeitsmarkt-Lotsinnen "
            "vorbereiten und fristgerecht stellen.",
        },
        [
            session(
                ["project_funding"],
                40,
                90,
                "in_person",
                "Leyla Ahmadi (Demo)",
                "Förderlogik des Aktionsfonds erklärt; Idee: Lotsinnen begleiten zu Terminen (Demo).",
            ),
            session(
                ["concept_development"], 20, 120, "in_person", "Leyla Ahmadi (Demo)", "Ziele und Zielgruppe."
            ),
            session(
                ["project_administration"], 5, 60, "online", "Farid Karimi (Demo)", "Kosten- und Zeitplan."
            ),
        ],
        None,
    ),
    (
        SYRIAN,
        {
            "topics": ["founding_an_association"],
            "opened_on": days_ago(120),
            "goal": "Von der Initiative zum eingetragenen Verein: Satzung, Gründungsversammlung, Eintragung.",
        },
        [
            session(
                ["founding_an_association"], 110, 90, "in_person", "Samir Haddad (Demo)", "Mustersatzung."
            ),
            session(["founding_an_association", "association_and_labour_law"], 85, 60, "phone"),
            session(["founding_an_association"], 60, 120, "in_person", "Samir Haddad (Demo)", "Gründung."),
            session(["bookkeeping"], 35, 45, "online"),
        ],
        {
            "closed_on": days_ago(30),
            "outcome": "achieved",
            "note": "Der Verein ist eingetragen; die Gemeinnützigkeit ist beantragt (Demo).",
        },
    ),
]


async def load(client: httpx.AsyncClient, organisations: Lookup) -> int:
    """Record the demo advice unless the service already has some; returns how many sessions."""
    existing = (await client.get("/consultations", params={"limit": 1})).raise_for_status().json()
    if existing["total"] > 0:
        return 0
    by_name, _ = await organisations()
    recorded = 0
    for name, opening, sessions, closing in ACCOMPANIMENTS:
        body = {"organisation_id": by_name[name], **opening}
        accompaniment = (await client.post("/accompaniments", json=body)).raise_for_status().json()
        for each in sessions:
            body = {**each, "accompaniment_id": accompaniment["id"]}
            (await client.post("/consultations", json=body)).raise_for_status()
            recorded += 1
        if closing is not None:
            url = f"/accompaniments/{accompaniment['id']}/close"
            (await client.post(url, json=closing)).raise_for_status()
    for name, each in SINGLE:
        (
            await client.post("/consultations", json={**each, "organisation_id": by_name[name]})
        ).raise_for_status()
        recorded += 1
    return recorded
