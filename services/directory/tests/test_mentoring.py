"""Mentoring: proposed → active → completed or ended early; nobody mentors itself; no step skipped."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from services.directory.domain.mentoring import Mentoring, MentoringStatus
from shared.errors import DomainRuleViolation, InvalidInput

ORG = {"kind": "mo", "legal_form": "e_v", "districts": ["neukoelln"]}


def proposed() -> Mentoring:
    mentoring = Mentoring.propose("m-1", "org-a", "org-b", ("Vereinsgründung", "Fördermittel"))
    return Mentoring.rebuild("m-1", mentoring.pending_events)


def test_no_organisation_mentors_itself_and_a_focus_is_needed() -> None:
    with pytest.raises(InvalidInput) as itself:
        Mentoring.propose("m-1", "org-a", "org-a", ("Vereinsgründung",))
    assert "selbst" in itself.value.message_de and itself.value.field == "mentee_id"
    with pytest.raises(InvalidInput) as unfocused:
        Mentoring.propose("m-1", "org-a", "org-b", (" ",))
    assert unfocused.value.field == "focus_areas"


def test_the_steps_go_in_order() -> None:
    mentoring = proposed()
    with pytest.raises(DomainRuleViolation) as skipped:
        mentoring.complete(date(2026, 5, 1))  # not started yet
    assert "aktiv" in skipped.value.message_de
    mentoring.start(date(2026, 3, 1))
    with pytest.raises(DomainRuleViolation):
        mentoring.start(date(2026, 3, 2))
    with pytest.raises(InvalidInput):
        mentoring.complete(date(2026, 2, 1))  # before the start
    mentoring.complete(date(2026, 9, 30))
    assert mentoring.status is MentoringStatus.COMPLETED
    with pytest.raises(DomainRuleViolation):
        mentoring.end_early(date(2026, 10, 1), "zu spät")


def test_a_proposal_can_end_before_it_starts() -> None:
    mentoring = proposed()
    mentoring.end_early(date(2026, 2, 1), "  Kein Bedarf mehr ")
    assert mentoring.status is MentoringStatus.ENDED_EARLY
    assert mentoring.pending_events[-1].reason == "Kein Bedarf mehr"  # type: ignore[attr-defined]


async def test_a_mentoring_over_http_with_its_errors(client: httpx.AsyncClient) -> None:
    mentor = (await client.post("/organisations", json={**ORG, "name": "Etablierter Verein e.V."})).json()[
        "id"
    ]
    mentee = (await client.post("/organisations", json={**ORG, "name": "Junge Initiative"})).json()["id"]
    archived = (await client.post("/organisations", json={**ORG, "name": "Alter Verein e.V."})).json()["id"]
    await client.post(f"/organisations/{archived}/archive", json={})

    itself = await client.post(
        "/mentorings", json={"mentor_id": mentor, "mentee_id": mentor, "focus_areas": ["x"]}
    )
    assert itself.status_code == 422 and itself.json()["fields"][0]["field"] == "mentee_id"
    empty = await client.post(
        "/mentorings", json={"mentor_id": mentor, "mentee_id": mentee, "focus_areas": []}
    )
    assert empty.status_code == 422
    gone = await client.post(
        "/mentorings", json={"mentor_id": archived, "mentee_id": mentee, "focus_areas": ["x"]}
    )
    assert gone.status_code == 409 and "archiviert" in gone.json()["message_de"]
    ghost = await client.post(
        "/mentorings", json={"mentor_id": "nobody", "mentee_id": mentee, "focus_areas": ["x"]}
    )
    assert ghost.status_code == 404

    made = await client.post(
        "/mentorings", json={"mentor_id": mentor, "mentee_id": mentee, "focus_areas": ["Vereinsgründung"]}
    )
    assert made.status_code == 201
    mentoring = made.json()
    assert mentoring["mentor_name"] == "Etablierter Verein e.V." and mentoring["status"] == "proposed"
    url = f"/mentorings/{mentoring['id']}"
    early = await client.post(f"{url}/complete", json={})
    assert early.status_code == 409  # no step skipped
    started = await client.post(f"{url}/start", json={"on": "2026-03-01"})
    assert started.json()["status"] == "active"
    backwards = await client.post(f"{url}/complete", json={"on": "2026-01-01"})
    assert backwards.status_code == 422 and backwards.json()["fields"][0]["field"] == "on"
    done = await client.post(f"{url}/complete", json={"on": "2026-09-30"})
    assert done.json()["status"] == "completed" and done.json()["ended_on"] == "2026-09-30"
    assert (await client.post("/mentorings/nothing/start", json={})).status_code == 404
    of_mentee = (await client.get("/mentorings", params={"organisation_id": mentee})).json()
    assert [m["id"] for m in of_mentee] == [mentoring["id"]]


async def test_one_open_mentoring_per_pair_and_both_active_when_it_begins(client: httpx.AsyncClient) -> None:
    def organisation(name: str) -> dict[str, object]:
        return {**ORG, "name": name}

    mentor = (await client.post("/organisations", json=organisation("Etablierter Verein e.V."))).json()["id"]
    mentee = (await client.post("/organisations", json=organisation("Junge Initiative"))).json()["id"]
    pair = {"mentor_id": mentor, "mentee_id": mentee, "focus_areas": ["Vereinsgründung"]}
    too_long = await client.post("/mentorings", json={**pair, "focus_areas": ["x" * 101]})
    assert too_long.status_code == 422 and too_long.json()["fields"][0]["field"].startswith("focus_areas")
    with pytest.raises(InvalidInput) as long_focus:  # the domain holds the rule too, whoever calls it
        Mentoring.propose("m-9", "a", "b", ("y" * 101,))
    assert long_focus.value.field == "focus_areas" and "100" in long_focus.value.message_de

    first = await client.post("/mentorings", json=pair)
    assert first.status_code == 201
    twice = await client.post("/mentorings", json=pair)
    assert twice.status_code == 409 and "bereits eine laufende" in twice.json()["message_de"]
    turned = await client.post("/mentorings", json={**pair, "mentor_id": mentee, "mentee_id": mentor})
    assert turned.status_code == 409  # either way round

    await client.post(f"/organisations/{mentee}/archive", json={})
    start = await client.post(f"/mentorings/{first.json()['id']}/start", json={})
    assert start.status_code == 409 and "archiviert" in start.json()["message_de"]
    assert (await client.get(f"/mentorings/{first.json()['id']}")).json()["status"] == "proposed"
    ended = await client.post(f"/mentorings/{first.json()['id']}/end-early", json={"reason": "aufgelöst"})
    assert ended.status_code == 200  # what was proposed can still end


async def test_the_mentoring_page_proposes_and_steps_with_errors_on_the_page(
    client: httpx.AsyncClient,
) -> None:
    html_headers = {"Accept": "text/html"}
    mentor = (await client.post("/organisations", json={**ORG, "name": "Etablierter Verein e.V."})).json()[
        "id"
    ]
    mentee = (await client.post("/organisations", json={**ORG, "name": "Junge Initiative"})).json()["id"]
    itself = await client.post(
        "/verzeichnis/begleitungen",
        data={"mentor_id": mentor, "mentee_id": mentor, "focus_areas": "Vereinsgründung"},
        headers=html_headers,
    )
    assert itself.status_code == 422 and "nicht selbst begleiten" in itself.text
    assert 'value="Vereinsgründung"' in itself.text  # what was typed stays
    made = await client.post(
        "/verzeichnis/begleitungen",
        data={"mentor_id": mentor, "mentee_id": mentee, "focus_areas": "Vereinsgründung, Fördermittel"},
    )
    assert made.status_code == 303
    [mentoring] = (await client.get("/mentorings")).json()
    assert mentoring["focus_areas"] == ["Vereinsgründung", "Fördermittel"]
    skipped = await client.post(
        f"/verzeichnis/begleitungen/{mentoring['id']}/abschliessen", headers=html_headers
    )
    assert skipped.status_code == 409 and "im Stand „aktiv“ kann abgeschlossen werden" in skipped.text
    begun = await client.post(f"/verzeichnis/begleitungen/{mentoring['id']}/beginnen")
    assert begun.status_code == 303
    page = (await client.get("/verzeichnis/begleitungen", headers=html_headers)).text
    assert "Die Begleitung hat begonnen." in page and "aktiv seit" in page and "Abschließen" in page
    unknown = await client.post(f"/verzeichnis/begleitungen/{mentoring['id']}/fliegen", headers=html_headers)
    assert unknown.status_code == 404
