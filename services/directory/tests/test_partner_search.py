"""Partner search: ranked by what is shared, current partners left out, each with its reason."""

from __future__ import annotations

import httpx

from services.directory.domain.partner_search import Candidate, suggest
from services.directory.labels import label


def candidate(i: str, districts: set[str], fields: set[str], languages: set[str] = frozenset()) -> Candidate:  # type: ignore[assignment]
    return Candidate(i, f"Amt {i}", frozenset(districts), frozenset(fields), frozenset(languages))


def test_ranked_by_what_is_shared_with_reasons_and_without_current_partners() -> None:
    mo = candidate("mo", {"neukoelln", "mitte"}, {"labour_market", "youth"}, {"ar", "de"})
    both = candidate("a", {"neukoelln"}, {"labour_market"})  # 3 + 2
    district = candidate("b", {"mitte"}, {"health"}, {"ar", "de"})  # 3 + 1 (Arabic; German tells nothing)
    field = candidate("c", {"spandau"}, {"youth"}, {"de"})  # 2
    language = candidate("f", {"spandau"}, {"health"}, {"ar"})  # a language alone: no suggestion
    nothing = candidate("d", {"spandau"}, {"health"})
    partner = candidate("e", {"neukoelln", "mitte"}, {"labour_market", "youth"})
    found = suggest(mo, [nothing, language, field, district, both, partner, mo], {"e"}, label)
    assert [(s.id, s.score) for s in found] == [("a", 5), ("b", 4), ("c", 2)]
    assert found[0].reason_de == "gleicher Bezirk: Neukölln; gemeinsames Arbeitsfeld: Arbeitsmarkt"
    assert found[0].reason_en == "same district: Neukölln; shared field of work: Labour market"
    assert found[1].reason_de == "gleicher Bezirk: Mitte; gemeinsame Sprache: Arabisch"
    assert found[2].reason_de == "gemeinsames Arbeitsfeld: Jugend"
    assert suggest(mo, [both, district], set(), label, limit=1)[0].id == "a"


async def test_suggestions_over_http_leave_out_current_partners(client: httpx.AsyncClient) -> None:
    async def org(name: str, kind: str, districts: list[str], fields: list[str]) -> str:
        body = {
            "name": name,
            "kind": kind,
            "legal_form": "e_v",
            "districts": districts,
            "fields_of_work": fields,
        }
        return str((await client.post("/organisations", json=body)).json()["id"])

    mo = await org("Brücke e.V.", "mo", ["neukoelln"], ["upbringing"])
    office = await org("Bezirksamt Neukölln", "district_office", ["neukoelln"], ["upbringing"])
    jobcenter = await org("Jobcenter Neukölln", "labour_market_actor", ["neukoelln"], ["labour_market"])
    await org("Anderer Verein", "mo", ["neukoelln"], ["upbringing"])  # not an administration: never suggested
    await org("Jugendamt Spandau", "district_office", ["spandau"], ["youth"])  # shares nothing

    found = (await client.get(f"/organisations/{mo}/partner-suggestions")).json()
    assert [s["id"] for s in found] == [office, jobcenter]
    assert (
        found[0]["reason_de"] == "gleicher Bezirk: Neukölln; gemeinsames Arbeitsfeld: Erziehung und Familie"
    )
    body = {"organisation_id": mo, "partner_id": office, "field_of_work": "upbringing"}
    assert (await client.post("/cooperations", json=body)).status_code == 201
    assert [s["id"] for s in (await client.get(f"/organisations/{mo}/partner-suggestions")).json()] == [
        jobcenter
    ]
    page = (await client.get(f"/verzeichnis/{mo}", headers={"Accept": "text/html"})).text
    assert "Passende Partner" in page and "Jobcenter Neukölln" in page
    assert (await client.get("/organisations/nobody/partner-suggestions")).status_code == 404
    assert (await client.get(f"/organisations/{mo}/partner-suggestions?limit=0")).status_code == 422
