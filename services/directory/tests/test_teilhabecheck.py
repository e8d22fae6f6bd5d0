"""The Teilhabecheck: four phases in order, none skipped; findings and recommendations; the follow-up."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from services.directory.domain.teilhabecheck import Teilhabecheck
from shared.auth.principal import Role
from shared.contracts.directory import Adoption, District, TeilhabePhase
from shared.errors import DomainRuleViolation, InvalidInput
from shared.testing import Tokens

DAY = date(2026, 2, 1)


def started() -> Teilhabecheck:
    check = Teilhabecheck.start("t-1", District.NEUKOELLN, "Gropiusstadt", DAY)
    return Teilhabecheck.rebuild("t-1", check.pending_events)


def test_no_phase_is_skipped_and_each_step_belongs_to_its_phase() -> None:
    check = started()
    assert check.phase is TeilhabePhase.INVENTORY
    with pytest.raises(DomainRuleViolation) as skipped:
        check.complete_phase(TeilhabePhase.MO_TALKS, DAY)
    assert "übersprungen" in skipped.value.message_de and "Bestandsaufnahme" in skipped.value.message_de
    with pytest.raises(DomainRuleViolation):
        check.recommend("r-1", "Mehr Beratung auf Arabisch", None)  # not yet the last phase
    check.record_finding("Drei MO nutzen den Nachbarschaftstreff")
    for phase in (TeilhabePhase.INVENTORY, TeilhabePhase.MO_TALKS, TeilhabePhase.ADMINISTRATION):
        check.complete_phase(phase, DAY)
    assert check.phase is TeilhabePhase.RECOMMENDATIONS
    check.recommend("r-1", "Mehr Beratung auf Arabisch", "Bezirksamt Neukölln")
    with pytest.raises(InvalidInput):
        check.follow_up("r-x", Adoption.ADOPTED, DAY, None)
    check.complete_phase(TeilhabePhase.RECOMMENDATIONS, DAY)
    assert check.phase is None
    with pytest.raises(DomainRuleViolation):
        check.record_finding("zu spät")
    check.follow_up("r-1", Adoption.PARTLY, date(2026, 9, 1), "Sprechstunde einmal im Monat")
    with pytest.raises(InvalidInput) as early:
        started().complete_phase(TeilhabePhase.INVENTORY, date(2026, 1, 1))
    assert early.value.field == "completed_on"


async def test_a_teilhabecheck_over_http(client: httpx.AsyncClient, tokens: Tokens) -> None:
    tbb = tokens.headers(Role.TBB)
    body = {"district": "neukoelln", "social_space": "Gropiusstadt", "started_on": "2026-02-01"}
    assert (await client.post("/teilhabechecks", json=body)).status_code == 403  # VIA reads, TBB writes
    made = await client.post("/teilhabechecks", json=body, headers=tbb)
    assert made.status_code == 201
    url = f"/teilhabechecks/{made.json()['id']}"
    assert (
        await client.post("/teilhabechecks", json={**body, "district": "atlantis"}, headers=tbb)
    ).status_code == 422
    finding = await client.post(f"{url}/findings", json={"text": "Drei MO nutzen den Treff"}, headers=tbb)
    assert finding.json()["findings"][0]["phase"] == "inventory"
    skipped = await client.post(f"{url}/phases/administration/complete", json={}, headers=tbb)
    assert skipped.status_code == 409 and "übersprungen" in skipped.json()["message_de"]
    assert (await client.post(f"{url}/phases/nonsense/complete", json={}, headers=tbb)).status_code == 422
    for phase in ("inventory", "mo_talks", "administration"):
        done = await client.post(
            f"{url}/phases/{phase}/complete", json={"completed_on": "2026-03-01"}, headers=tbb
        )
        assert done.status_code == 200, done.text
    made_rec = await client.post(
        f"{url}/recommendations",
        json={"text": "Mehr Beratung auf Arabisch", "addressee": "Bezirksamt"},
        headers=tbb,
    )
    [recommendation] = made_rec.json()["recommendations"]
    assert recommendation["adoption"] == "open"
    followed = await client.post(
        f"{url}/recommendations/{recommendation['item_id']}/follow-up",
        json={"adoption": "adopted", "on": "2026-10-01", "note": "im Haushalt 2027"},
        headers=tbb,
    )
    assert followed.json()["recommendations"][0]["adoption"] == "adopted"
    assert followed.json()["phases_completed"] == 3
    assert (await client.get(url)).status_code == 200  # staff read
    assert (await client.get("/teilhabechecks/nothing")).status_code == 404


async def test_the_teilhabecheck_pages(client: httpx.AsyncClient, tokens: Tokens) -> None:
    html = {"Accept": "text/html"}
    tbb = {**html, **tokens.headers(Role.TBB)}
    listing = await client.get("/verzeichnis/teilhabechecks", headers=html)
    assert listing.status_code == 200 and "Noch keine Analyse." in listing.text
    assert "Analyse beginnen" not in listing.text  # VIA reads only
    wrong = await client.post(
        "/verzeichnis/teilhabechecks", data={"social_space": "Gropiusstadt"}, headers=tbb
    )
    assert (
        wrong.status_code == 422
        and 'id="f-district-error"' in wrong.text
        and 'value="Gropiusstadt"' in wrong.text
    )
    made = await client.post(
        "/verzeichnis/teilhabechecks",
        data={"district": "neukoelln", "social_space": "Gropiusstadt"},
        headers=tbb,
    )
    assert made.status_code == 303
    url = made.headers["location"]
    skipped = await client.post(f"{url}/phase/mo_talks/abschliessen", headers=tbb)
    assert skipped.status_code == 409 and "übersprungen" in skipped.text
    assert (
        await client.post(f"{url}/befund", data={"text": "Drei MO im Kiez"}, headers=tbb)
    ).status_code == 303
    for phase in ("inventory", "mo_talks", "administration"):
        assert (await client.post(f"{url}/phase/{phase}/abschliessen", headers=tbb)).status_code == 303
    rec = await client.post(
        f"{url}/empfehlung", data={"text": "Beratung auf Arabisch", "addressee": "Bezirksamt"}, headers=tbb
    )
    assert rec.status_code == 303
    page = (await client.get(url, headers=tbb)).text
    assert "Drei MO im Kiez" in page and "Beratung auf Arabisch" in page and "offen" in page
    assert 'aria-current="step"' in page and "Schriftliche Empfehlungen" in page
    as_via = await client.post(f"{url}/befund", data={"text": "nicht erlaubt"}, headers=html)
    assert as_via.status_code == 403
