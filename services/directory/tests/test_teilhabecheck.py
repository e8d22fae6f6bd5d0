"""The Teilhabecheck: four phases in order, none skipped; findings and recommendations; the follow-up."""

from __future__ import annotations

import json
import re
from datetime import date

import httpx
import pytest

from services.directory.domain.teilhabecheck import Teilhabecheck
from shared.auth.principal import Role
from shared.contracts.directory import Adoption, District, TeilhabePhase
from shared.errors import DomainRuleViolation, InvalidInput, NotFound
from shared.platform.natsserver import NatsServer
from shared.testing import Tokens, eventually, stream_messages

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
    assert "phase “inventory of participation structures”" in skipped.value.message_en  # a label, no code
    with pytest.raises(DomainRuleViolation):
        check.recommend("r-1", "Mehr Beratung auf Arabisch", None)  # not yet the last phase
    check.record_finding("Drei MO nutzen den Nachbarschaftstreff")
    for phase in (TeilhabePhase.INVENTORY, TeilhabePhase.MO_TALKS, TeilhabePhase.ADMINISTRATION):
        check.complete_phase(phase, DAY)
    assert check.phase is TeilhabePhase.RECOMMENDATIONS
    check.recommend("r-1", "Mehr Beratung auf Arabisch", "Bezirksamt Neukölln")
    with pytest.raises(NotFound):
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
    fresh = (await client.get(url, headers=tbb)).text
    assert re.search(r'<p class="hint" id="f-text-hint">[^<]*keine personenbezogenen Angaben', fresh)
    skipped = await client.post(f"{url}/phase/mo_talks/abschliessen", headers=tbb)
    assert skipped.status_code == 409 and "übersprungen" in skipped.text
    assert (
        await client.post(f"{url}/befund", data={"text": "Drei MO im Kiez"}, headers=tbb)
    ).status_code == 303
    for phase in ("inventory", "mo_talks", "administration"):
        assert (await client.post(f"{url}/phase/{phase}/abschliessen", headers=tbb)).status_code == 303
    rec = await client.post(
        f"{url}/empfehlung",
        data={"recommendation": "Beratung auf Arabisch", "addressee": "Bezirksamt"},
        headers=tbb,
    )
    assert rec.status_code == 303
    page = (await client.get(url, headers=tbb)).text
    assert "Drei MO im Kiez" in page and "Beratung auf Arabisch" in page and "offen" in page
    assert 'aria-current="step"' in page and "Schriftliche Empfehlungen" in page
    assert re.search(r'<p class="hint" id="f-recommendation-hint">[^<]*keine personenbezogenen', page)
    as_via = await client.post(f"{url}/befund", data={"text": "nicht erlaubt"}, headers=html)
    assert as_via.status_code == 403


def test_phases_end_in_order_the_last_needs_a_recommendation_and_follow_ups_are_dated() -> None:
    check = started()
    check.complete_phase(TeilhabePhase.INVENTORY, date(2026, 4, 1))
    with pytest.raises(InvalidInput) as before_previous:
        check.complete_phase(TeilhabePhase.MO_TALKS, date(2026, 3, 31))
    assert before_previous.value.field == "completed_on" and "01.04.2026" in before_previous.value.message_de
    check.complete_phase(TeilhabePhase.MO_TALKS, date(2026, 4, 1))  # the same day is fine
    check.complete_phase(TeilhabePhase.ADMINISTRATION, date(2026, 6, 1))
    with pytest.raises(DomainRuleViolation) as empty:
        check.complete_phase(TeilhabePhase.RECOMMENDATIONS, date(2026, 7, 1))
    assert "mindestens eine Empfehlung" in empty.value.message_de
    check.recommend("r-1", "Feste Ansprechperson im Bezirksamt", None)
    with pytest.raises(InvalidInput) as too_early:
        check.follow_up("r-1", Adoption.ADOPTED, date(2026, 1, 31), None)
    assert too_early.value.field == "on"
    before = check.version
    check.follow_up("r-1", Adoption.PARTLY, date(2026, 9, 1), " erst ab 2027 ")
    check.follow_up("r-1", Adoption.PARTLY, date(2026, 9, 1), "erst ab 2027")  # sent twice: nothing new
    assert check.version == before + 1
    check.follow_up("r-1", Adoption.ADOPTED, date(2027, 2, 1), None)
    assert check.recommendations["r-1"] == (Adoption.ADOPTED, date(2027, 2, 1), None)


async def test_follow_ups_keep_their_history_and_a_stale_change_is_refused(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tbb = tokens.headers(Role.TBB)
    body = {"district": "marzahn_hellersdorf", "social_space": "Hellersdorf-Nord", "started_on": "2026-03-02"}
    made = await client.post("/teilhabechecks", json=body, headers=tbb)
    assert made.headers["etag"] == '"1"'
    url = f"/teilhabechecks/{made.json()['id']}"
    stale = await client.post(
        f"{url}/phases/inventory/complete",
        json={"completed_on": "2026-05-15"},
        headers={**tbb, "If-Match": '"2"'},
    )
    assert stale.status_code == 409 and stale.json()["error"] == "version_conflict"
    assert (await client.get(url)).json()["phases_completed"] == 0
    for phase, day in (("inventory", "2026-05-15"), ("mo_talks", "2026-08-31")):
        done = await client.post(f"{url}/phases/{phase}/complete", json={"completed_on": day}, headers=tbb)
        assert done.status_code == 200
    early = await client.post(
        f"{url}/phases/administration/complete", json={"completed_on": "2026-08-30"}, headers=tbb
    )
    assert early.status_code == 422 and early.json()["fields"][0]["field"] == "completed_on"
    await client.post(
        f"{url}/phases/administration/complete", json={"completed_on": "2026-10-01"}, headers=tbb
    )
    empty = await client.post(f"{url}/phases/recommendations/complete", json={}, headers=tbb)
    assert empty.status_code == 409 and "Empfehlung" in empty.json()["message_de"]
    made_rec = await client.post(
        f"{url}/recommendations", json={"text": "Sprechstunde auf Vietnamesisch"}, headers=tbb
    )
    item = made_rec.json()["recommendations"][0]["item_id"]
    version = made_rec.headers["etag"]
    steps: list[dict[str, str | None]] = [
        {"adoption": "partly", "on": "2026-11-01", "note": "einmal im Monat"},
        {"adoption": "adopted", "on": "2027-03-01", "note": None},
    ]
    for step in steps:
        followed = await client.post(
            f"{url}/recommendations/{item}/follow-up", json=step, headers={**tbb, "If-Match": version}
        )
        assert followed.status_code == 200, followed.text
        version = followed.headers["etag"]
    again = await client.post(
        f"{url}/recommendations/{item}/follow-up",
        json=steps[0],
        headers={**tbb, "If-Match": made_rec.headers["etag"]},
    )
    assert again.status_code == 409  # decided on a state that no longer exists
    [recommendation] = (await client.get(url)).json()["recommendations"]
    assert recommendation["adoption"] == "adopted" and recommendation["adoption_on"] == "2027-03-01"
    assert recommendation["follow_ups"] == [{**steps[0]}, {**steps[1]}]
    bad = [
        {"adoption": "maybe"},
        {"adoption": "adopted", "on": "bald"},
        {"adoption": "adopted", "on": "2026-01-01"},  # before the analysis began
    ]
    for wrong in bad:
        refused = await client.post(f"{url}/recommendations/{item}/follow-up", json=wrong, headers=tbb)
        assert refused.status_code == 422, wrong
    missing = await client.post(f"{url}/recommendations/nothing/follow-up", json=steps[0], headers=tbb)
    assert missing.status_code == 404 and "gibt es in dieser Analyse nicht" in missing.json()["message_de"]
    assert (
        await client.post("/teilhabechecks/nothing/findings", json={"text": "abc"}, headers=tbb)
    ).status_code == 404


async def test_the_pages_take_the_day_and_refuse_a_stale_form(
    client: httpx.AsyncClient, tokens: Tokens
) -> None:
    tbb = {"Accept": "text/html", **tokens.headers(Role.TBB)}
    made = await client.post(
        "/verzeichnis/teilhabechecks",
        data={"district": "neukoelln", "social_space": "Gropiusstadt", "started_on": "2026-02-01"},
        headers=tbb,
    )
    url = made.headers["location"]
    page = (await client.get(url, headers=tbb)).text
    assert 'name="completed_on"' in page and 'name="version" value="1"' in page
    done = await client.post(
        f"{url}/phase/inventory/abschliessen",
        data={"completed_on": "2026-03-01", "version": "1"},
        headers=tbb,
    )
    assert done.status_code == 303
    stale = await client.post(
        f"{url}/phase/mo_talks/abschliessen", data={"completed_on": "2026-04-01", "version": "1"}, headers=tbb
    )
    assert stale.status_code == 409 and "inzwischen geändert" in stale.text
    wrong_day = await client.post(
        f"{url}/phase/mo_talks/abschliessen", data={"completed_on": "morgen"}, headers=tbb
    )
    assert wrong_day.status_code == 422 and 'id="f-completed_on-error"' in wrong_day.text
    api = (await client.get(url.replace("/verzeichnis", ""), headers=tokens.headers(Role.TBB))).json()
    assert api["phases_completed"] == 1


async def test_every_step_of_a_teilhabecheck_reaches_the_bus_in_order(
    client: httpx.AsyncClient, tokens: Tokens, nats_server: NatsServer
) -> None:
    tbb = tokens.headers(Role.TBB)
    body = {"district": "spandau", "social_space": "Heerstraße Nord", "started_on": "2026-02-01"}
    made = await client.post("/teilhabechecks", json=body, headers=tbb)
    check_id = made.json()["id"]
    url = f"/teilhabechecks/{check_id}"
    await client.post(f"{url}/findings", json={"text": "Kein Treffpunkt für MO im Kiez"}, headers=tbb)
    for phase in ("inventory", "mo_talks", "administration"):
        await client.post(f"{url}/phases/{phase}/complete", json={"completed_on": "2026-04-01"}, headers=tbb)
    made_rec = await client.post(f"{url}/recommendations", json={"text": "Ein Raum für MO"}, headers=tbb)
    [recommendation] = made_rec.json()["recommendations"]
    follow_up = {"adoption": "partly", "on": "2026-09-01"}
    await client.post(
        f"{url}/recommendations/{recommendation['item_id']}/follow-up", json=follow_up, headers=tbb
    )

    async def published() -> list[tuple[dict[str, str], bytes]]:
        return [
            m
            for m in await stream_messages(nats_server.url, "IKMO_DIRECTORY")
            if m[0]["ce-subject"] == check_id
        ]

    async def all_seven() -> bool:
        return len(await published()) == 7

    await eventually(all_seven)
    messages = await published()
    assert [h["ce-type"] for h, _ in messages] == [
        "ikmo.directory.teilhabecheck.started",
        "ikmo.directory.teilhabecheck.finding_recorded",
        *["ikmo.directory.teilhabecheck.phase_completed"] * 3,
        "ikmo.directory.teilhabecheck.recommendation_made",
        "ikmo.directory.teilhabecheck.recommendation_followed_up",
    ]
    assert [h["ce-sequence"] for h, _ in messages] == [str(n) for n in range(1, 8)]
    assert [json.loads(p).get("phase") for _, p in messages[2:5]] == [
        "inventory",
        "mo_talks",
        "administration",
    ]
    last = json.loads(messages[-1][1])
    assert last["recommendation_id"] == recommendation["item_id"] and last["adoption"] == "partly"
    assert {h["ce-subject"] for h, _ in messages} == {check_id}
