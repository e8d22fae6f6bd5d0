"""Feedback after the event: the rules on the pure aggregate, the API (422 per field, 404, 409, nothing
half-applied), the bus (rating and registration id, never the comment), erasure shredding the comment,
the personal link's form and the staff page with average, distribution, comments and paper forms."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.events.domain.model import Event
from services.events.tests.test_api import fields_of, log_size, published, register
from services.events.tests.test_attendance_api import HTML
from services.events.tests.test_attendance_domain import ON_THE_DAY, full_event
from services.events.tests.test_domain import START, types
from services.events.tests.test_public import ANONYMOUS, fresh_limits, link_of
from shared.contracts.events import FeedbackBy, RegistrationFeedbackCommented, RegistrationFeedbackGiven
from shared.errors import DomainRuleViolation, InvalidInput
from shared.personal import ERASED
from shared.platform.natsserver import NatsServer
from shared.testing import eventually, plaintext_in_database, stream_messages

__all__ = ["fresh_limits"]  # the public rate limits, reset around each test
AFTER = START + timedelta(hours=7)  # the seminar of test_domain lasts six hours
PARTICIPANT, STAFF = FeedbackBy.PARTICIPANT, FeedbackBy.STAFF


def came() -> Event:
    """r1 and r2 were checked in, r3 waited."""
    event = full_event()
    event.check_in("r1", ON_THE_DAY)
    event.check_in("r2", ON_THE_DAY)
    event.mark_saved()
    return event


def test_who_came_rates_the_event_after_it_ended_and_may_change_it() -> None:
    event = came()
    assert event.give_feedback("r1", 4, "  Sehr praxisnah.  ", PARTICIPANT, AFTER)
    assert event.pending_events == [
        RegistrationFeedbackGiven(
            event_id="e1",
            registration_id="r1",
            rating=4,
            previous_rating=None,
            by=PARTICIPANT,
            with_comment=True,
        ),
        RegistrationFeedbackCommented(event_id="e1", registration_id="r1", comment="Sehr praxisnah."),
    ]
    event.mark_saved()
    assert event.give_feedback("r1", 4, "Sehr praxisnah.", PARTICIPANT, AFTER) is False  # sent twice
    assert event.pending_events == []
    event.give_feedback("r1", 5, "Sehr praxisnah.", PARTICIPANT, AFTER)  # a slip on the phone, put right
    assert types(event) == ["RegistrationFeedbackGiven"]  # the comment stayed: no new sealed copy
    assert event.pending_events[0].previous_rating == 4  # type: ignore[attr-defined]
    event.mark_saved()
    event.give_feedback("r1", 5, "", PARTICIPANT, AFTER)
    assert event.pending_events[-1] == RegistrationFeedbackCommented(event_id="e1", registration_id="r1")
    assert (event.registrations["r1"].rating, event.registrations["r1"].comment) == (5, None)


def test_feedback_is_refused_before_the_end_and_from_who_did_not_come() -> None:
    event = came()
    with pytest.raises(DomainRuleViolation, match="has ended"):
        event.give_feedback("r1", 4, None, PARTICIPANT, START + timedelta(hours=5))
    with pytest.raises(DomainRuleViolation, match="took part"):
        event.give_feedback("r3", 4, None, STAFF, AFTER)
    for rating, comment, field in ((0, None, "rating"), (6, None, "rating"), (3, "x" * 2001, "comment")):
        with pytest.raises(InvalidInput) as refused:
            event.give_feedback("r1", rating, comment, PARTICIPANT, AFTER)
        assert refused.value.field == field
    event.complete(AFTER)
    event.erase_registration("r2", AFTER)
    with pytest.raises(DomainRuleViolation, match="erased"):
        event.give_feedback("r2", 4, None, STAFF, AFTER)
    assert types(event) == ["EventCompleted", "RegistrationErased"]


def test_a_paper_form_never_overwrites_what_the_person_said_and_feedback_keeps_the_check_in() -> None:
    event = came()
    event.give_feedback("r1", 5, None, PARTICIPANT, AFTER)
    with pytest.raises(DomainRuleViolation, match="paper form"):
        event.give_feedback("r1", 2, None, STAFF, AFTER)
    event.give_feedback("r2", 2, "Raum zu klein", STAFF, AFTER)
    event.give_feedback("r2", 3, "Raum zu klein", STAFF, AFTER)  # VIA corrects its own typing
    event.give_feedback("r2", 4, None, PARTICIPANT, AFTER)  # the person's own word replaces the paper
    assert event.registrations["r2"].feedback_by == PARTICIPANT
    with pytest.raises(DomainRuleViolation, match="check-in stays"):
        event.undo_check_in("r1")


# -- over HTTP --------------------------------------------------------------------------------------------


def ended(**changes: Any) -> dict[str, Any]:
    """An event that ended an hour ago."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=4)
    return {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=3)).isoformat(),
        "registration_deadline": start.isoformat(),
        **changes,
    }


async def took_place(client: httpx.AsyncClient, came: int = 2, **changes: Any) -> tuple[str, list[str]]:
    """An event that ended, with Person 1 … `came` checked in and one more who stayed away."""
    event = await published(client, **ended(capacity=5, **changes))
    ids = []
    for n in range(1, came + 2):
        ids.append((await register(client, event["id"], n)).json()["registration_id"])
    for registration_id in ids[:came]:
        assert (
            await client.post(f"/events/{event['id']}/registrations/{registration_id}/attendance")
        ).is_success
    return event["id"], ids


async def test_staff_enter_feedback_and_read_average_distribution_and_comments(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    event_id, (first, second, away) = await took_place(client)
    url = f"/events/{event_id}/registrations"
    given = await client.put(f"{url}/{first}/feedback", json={"rating": 5, "comment": "Sehr hilfreich!"})
    assert given.status_code == 200
    assert given.json() == {
        "registration_id": first,
        "rating": 5,
        "comment": "Sehr hilfreich!",
        "by": "staff",
        "changed": True,
    }
    assert (await client.put(f"{url}/{second}/feedback", json={"rating": 2})).status_code == 200
    summary = (await client.get(f"/events/{event_id}/feedback")).json()
    assert (summary["count"], summary["average"]) == (2, 3.5)
    assert summary["distribution"] == {"5": 1, "4": 0, "3": 0, "2": 1, "1": 0}
    assert [i["comment"] for i in summary["items"] if i["comment"]] == ["Sehr hilfreich!"]

    size = await log_size(engine)
    wrong = await client.put(f"{url}/{first}/feedback", json={"rating": 0, "comment": "x" * 2001, "stars": 3})
    assert wrong.status_code == 422 and set(fields_of(wrong)) == {"rating", "comment", "stars"}
    missing = await client.put(f"{url}/{first}/feedback", json={})
    assert fields_of(missing) == {"rating": "Dieses Feld ist erforderlich."}
    stayed_away = await client.put(f"{url}/{away}/feedback", json={"rating": 4})
    assert stayed_away.status_code == 409 and "teilgenommen" in stayed_away.json()["message_de"]
    for response in (
        await client.put(f"{url}/nobody/feedback", json={"rating": 4}),
        await client.put(f"/events/no-such-event/registrations/{first}/feedback", json={"rating": 4}),
        await client.get("/events/no-such-event/feedback"),
    ):
        assert response.status_code == 404, response.text
    assert await log_size(engine) == size  # nothing half-applied

    early = await published(client)  # in thirty days
    person = (await register(client, early["id"], 9)).json()["registration_id"]
    too_early = await client.put(f"/events/{early['id']}/registrations/{person}/feedback", json={"rating": 4})
    assert too_early.status_code == 409


async def test_the_bus_carries_the_rating_never_the_comment_and_erasure_shreds_it(
    client: httpx.AsyncClient, engine: AsyncEngine, nats_server: NatsServer
) -> None:
    event_id, (first, *_rest) = await took_place(client, came=1)
    secret = "Frau Beispiel aus dem Jobcenter war super"
    await client.put(
        f"/events/{event_id}/registrations/{first}/feedback", json={"rating": 4, "comment": secret}
    )

    async def arrived() -> list:
        messages = await stream_messages(nats_server.url, "IKMO_EVENTS")
        return messages if any(h["ce-type"].endswith("feedback_given") for h, _ in messages) else []

    messages = await eventually(arrived)
    [given] = [
        json.loads(p) for h, p in messages if h["ce-type"] == "ikmo.events.registration.feedback_given"
    ]
    assert given == {
        "event_id": event_id,
        "registration_id": first,
        "rating": 4,
        "previous_rating": None,
        "by": "staff",
        "with_comment": True,
    }
    assert not any(h["ce-type"].endswith("feedback_commented") for h, _ in messages)
    assert secret.encode() not in b"".join(p for _, p in messages)
    tables = ("events", "outbox", "event_feedback", "person_keys")
    assert await plaintext_in_database(engine, "Jobcenter war super", tables) is False  # sealed
    assert await plaintext_in_database(engine, "Vereinsgründung", tables)  # what is there is found

    await client.post(f"/events/{event_id}/registrations/{first}/erase")
    [item] = (await client.get(f"/events/{event_id}/feedback")).json()["items"]
    assert (item["rating"], item["comment"]) == (4, ERASED)  # the rating still counts


async def test_the_participant_gives_feedback_through_the_link_and_staff_see_it(
    client: httpx.AsyncClient,
) -> None:
    event_id, (first, second, _away) = await took_place(client, title="Buchhaltung für kleine Vereine")
    link = await link_of(client, "person1@verein.example")
    page = await client.get(link, headers=ANONYMOUS)
    assert "Wie war die Veranstaltung?" in page.text and "Rückmeldung senden" in page.text
    wrong = await client.post(f"{link}/rueckmeldung", data={"comment": "Gut"}, headers=ANONYMOUS)
    assert wrong.status_code == 422
    assert re.search(r'id="f-rating-error">.*?erforderlich', wrong.text, re.S)
    assert ">Gut</textarea>" in wrong.text  # nothing typed is lost
    sent = await client.post(
        f"{link}/rueckmeldung",
        data={"rating": "5", "comment": "Endlich verstehe ich die EÜR."},
        headers=ANONYMOUS,
    )
    assert sent.status_code == 303
    again = await client.get(link, headers=ANONYMOUS)
    assert "Vielen Dank für Ihre Rückmeldung!" in again.text and "Meine Rückmeldung ändern" in again.text
    assert 'value="5" checked' in again.text and "Endlich verstehe ich die EÜR." in again.text

    detail = await client.get(f"/veranstaltungen/{event_id}", headers=HTML)
    assert "Durchschnittliche Bewertung: 5,0 von 5 (Bewertungen: 1)" in detail.text
    assert "Endlich verstehe ich die EÜR." in detail.text and "persönlicher Link" in detail.text
    assert f'<option value="{first}"' not in detail.text  # what the person said is not typed over
    paper = await client.post(
        f"/veranstaltungen/{event_id}/rueckmeldungen",
        data={"registration_id": second, "rating": "3", "comment": "Mehr Pausen"},
        headers=HTML,
    )
    assert paper.status_code == 303
    after = await client.get(f"/veranstaltungen/{event_id}", headers=HTML)
    assert "Die Rückmeldung ist erfasst" in after.text and "4,0 von 5 (Bewertungen: 2)" in after.text
    refused = await client.post(
        f"/veranstaltungen/{event_id}/rueckmeldungen",
        data={"registration_id": first, "rating": "1"},
        headers=HTML,
    )
    assert refused.status_code == 409 and "Papierbogen ersetzt sie nicht" in refused.text
    empty = await client.post(
        f"/veranstaltungen/{event_id}/rueckmeldungen", data={"rating": "9"}, headers=HTML
    )
    assert empty.status_code == 422 and re.search(
        r'id="f-registration_id-error">.*?von wem', empty.text, re.S
    )


async def test_no_feedback_form_before_the_end_or_for_who_stayed_away(client: httpx.AsyncClient) -> None:
    event_id, (_first, _second, away) = await took_place(client)
    link = await link_of(client, "person3@verein.example")  # the one who stayed away
    page = await client.get(link, headers=ANONYMOUS)
    assert "Wie war die Veranstaltung?" not in page.text
    await client.post(f"/events/{event_id}/complete")
    page = await client.get(link, headers=ANONYMOUS)
    assert "nicht als anwesend erfasst, darum gibt es keine Teilnahmebescheinigung" in page.text
    sent = await client.post(f"{link}/rueckmeldung", data={"rating": "5"}, headers=ANONYMOUS)
    assert sent.status_code == 409 and "teilgenommen" in sent.text
    assert (await client.get(f"/events/{event_id}/feedback")).json()["count"] == 0
    unknown = await client.post("/oeffentlich/anmeldung/not-a-token/rueckmeldung", data={"rating": "5"})
    assert unknown.status_code == 404 and away
