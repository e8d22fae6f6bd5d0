"""The event aggregate on its own: given events, when a command, then events (or a refusal). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.events.domain.commands import EventPlan, OrganisationRef, Register
from services.events.domain.model import Event, plan_of, token_hash
from services.events.domain.notices import NoticeKind, notices_for
from shared.contracts.directory import District, OrganisationKind
from shared.contracts.events import (
    CancellationReason,
    CancelledBy,
    EventCancellationNoted,
    EventCancelled,
    EventCapacityChanged,
    EventFormat,
    EventStatus,
    FundingLine,
    RegistrationCancelled,
    RegistrationPromoted,
    RegistrationRecorded,
    RegistrationStatus,
    RegistrationWaitlisted,
    Topic,
)
from shared.errors import DomainRuleViolation, InvalidInput, NotFound

START = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)
BEFORE = START - timedelta(days=10)
PLAN = EventPlan(
    title="Vereinsgründung Schritt für Schritt",
    format=EventFormat.QUALIFICATION_SEMINAR,
    topics=(Topic.FOUNDING_AN_ASSOCIATION, Topic.ASSOCIATION_AND_LABOUR_LAW),
    funding_line=FundingLine.SENATE_IKMO,
    starts_at=START,
    ends_at=START + timedelta(hours=6),
    registration_deadline=START - timedelta(days=2),
    venue="VIA, Petersburger Str. 92",
    district=District.FRIEDRICHSHAIN_KREUZBERG,
)


def published(capacity: int = 2) -> Event:
    event = Event.draft("e1", PLAN, capacity)
    event.publish()
    event.mark_saved()
    return event


def person(n: int, **changes: object) -> Register:
    cmd = Register(
        event_id="e1",
        name=f"Person {n}",
        email=f"person{n}@verein.example",
        registration_id=f"r{n}",
        cancel_token=f"secret-{n}",
    )
    return replace(cmd, **changes)  # type: ignore[arg-type]


def types(event: Event) -> list[str]:
    return [type(e).__name__ for e in event.pending_events]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": " a "}, "title"),
        ({"topics": ()}, "topics"),
        ({"ends_at": START}, "ends_at"),
        ({"registration_deadline": START + timedelta(minutes=1)}, "registration_deadline"),
        ({"starts_at": datetime(2026, 3, 12, 9, 0)}, "starts_at"),
        ({"venue": None}, "venue"),
        ({"district": None}, "district"),
        ({"format": EventFormat.NETWORK_MEETING}, "network_id"),
        ({"format": EventFormat.LABOUR_MARKET_TALK}, "host_organisation_id"),
        ({"description": "x" * 4001}, "description"),
    ],
)
def test_a_plan_is_refused_field_by_field(changes: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Event.draft("e1", replace(PLAN, **changes), 20)
    assert field in [p.field for p in refused.value.each]
    assert all(p.message_de != p.message_en for p in refused.value.each)  # people read German first


def test_every_field_at_fault_is_named_at_once() -> None:
    wrong = replace(PLAN, title="", topics=(), venue=None, district=None, ends_at=START - timedelta(hours=1))
    with pytest.raises(InvalidInput) as refused:
        Event.draft("e1", wrong, 20)
    assert [p.field for p in refused.value.each] == ["title", "topics", "ends_at", "venue", "district"]
    unreadable = replace(PLAN, starts_at=datetime(2026, 3, 12, 9, 0), ends_at=START - timedelta(hours=1))
    with pytest.raises(InvalidInput) as refused:  # no comparison with a time that cannot be read
        Event.draft("e1", unreadable, 20)
    assert [p.field for p in refused.value.each] == ["starts_at"]


def test_online_needs_neither_venue_nor_district_and_capacity_has_bounds() -> None:
    online = Event.draft("e1", replace(PLAN, online=True, venue=None, district=None), 30)
    assert online.details is not None and online.details.online
    for capacity in (0, 1001):
        with pytest.raises(InvalidInput) as refused:
            Event.draft("e1", PLAN, capacity)
        assert refused.value.field == "capacity"


def test_an_arbeitsmarktgespraech_is_hosted_by_an_mo_with_labour_market_speakers() -> None:
    mo = OrganisationRef("yaar", OrganisationKind.MO, "Yaar e.V.")
    jobcenter = OrganisationRef("jc", OrganisationKind.LABOUR_MARKET_ACTOR, "Jobcenter")
    office = OrganisationRef("ba", OrganisationKind.DISTRICT_OFFICE, "Bezirksamt Neukölln")
    talk = replace(PLAN, format=EventFormat.LABOUR_MARKET_TALK, host=mo)
    with pytest.raises(InvalidInput) as no_speaker:
        Event.draft("e1", talk, 20)
    assert no_speaker.value.field == "speaker_organisation_ids"
    with pytest.raises(InvalidInput) as wrong_kind:
        Event.draft("e1", replace(talk, speakers=(jobcenter, office)), 20)
    assert "Bezirksamt Neukölln" in wrong_kind.value.message_de
    with pytest.raises(InvalidInput) as office_hosts:
        Event.draft("e1", replace(talk, host=office, speakers=(jobcenter,)), 20)
    assert office_hosts.value.field == "host_organisation_id"
    event = Event.draft("e1", replace(talk, speakers=(jobcenter, jobcenter)), 20)
    assert event.details is not None
    assert event.details.host_organisation_id == "yaar"
    assert event.details.speaker_organisation_ids == ("jc",)  # named twice, kept once


def test_draft_published_completed_or_cancelled() -> None:
    event = Event.draft("e1", PLAN, 20)
    with pytest.raises(DomainRuleViolation):
        event.complete(START + timedelta(days=1))  # a draft did not take place
    event.publish()
    event.publish()  # sent twice: nothing more happens
    assert types(event) == ["EventDrafted", "EventPublished"]
    with pytest.raises(DomainRuleViolation, match="not begun"):
        event.complete(START - timedelta(minutes=1))
    event.complete(START + timedelta(hours=7))
    assert event.status == EventStatus.COMPLETED
    for refused in (
        lambda: event.cancel(CancellationReason.TOO_FEW_REGISTRATIONS),
        event.publish,
        lambda: event.change_capacity(30, BEFORE),
    ):
        with pytest.raises(DomainRuleViolation):
            refused()
    cancelled = published()
    cancelled.cancel(CancellationReason.SPEAKER_UNAVAILABLE)
    assert cancelled.pending_events == [
        EventCancelled(event_id="e1", reason=CancellationReason.SPEAKER_UNAVAILABLE)
    ]  # no note: nothing else is recorded
    assert cancelled.cancellation_reason == CancellationReason.SPEAKER_UNAVAILABLE


def test_a_cancellation_names_a_category_and_keeps_the_teams_note_apart() -> None:
    event = published()
    event.cancel("too_few_registrations", "  Neuer Termin im Herbst.\r\nRaum ist reserviert.  ")
    assert event.pending_events == [
        EventCancelled(event_id="e1", reason=CancellationReason.TOO_FEW_REGISTRATIONS),
        EventCancellationNoted(event_id="e1", note="Neuer Termin im Herbst.\nRaum ist reserviert."),
    ]
    assert not EventCancellationNoted.public and EventCancelled.public  # the note never leaves
    assert event.cancellation_note == "Neuer Termin im Herbst.\nRaum ist reserviert."
    event.mark_saved()
    event.cancel(CancellationReason.OTHER)  # sent twice: nothing more happens
    assert event.pending_events == []


def test_a_cancellation_without_a_known_category_or_with_a_long_note_is_refused() -> None:
    event = published()
    with pytest.raises(InvalidInput) as unknown:
        event.cancel("Die Referentin ist erkrankt")
    assert unknown.value.field == "reason" and "Grund der Absage" in unknown.value.message_de
    with pytest.raises(InvalidInput) as long:
        event.cancel(CancellationReason.OTHER, "x" * 501)
    assert long.value.field == "note"
    assert "höchstens 500 Zeichen (sie hat 501)" in long.value.message_de
    assert "at most 500 characters" in long.value.message_en
    assert event.pending_events == [] and event.status == EventStatus.PUBLISHED  # nothing of it
    for fine in ("x" * 500, "\r\n".join(["y" * 99] * 5)):  # a form's line break counts as one
        again = published()
        again.cancel(CancellationReason.OTHER, fine)
        assert len(again.pending_events) == 2


def test_changing_details_records_only_what_changed() -> None:
    event = published()
    assert event.details is not None
    event.change_details(plan_of(event.details))
    assert event.pending_events == []  # a form sent unchanged records nothing
    event.change_details(plan_of(event.details, {"title": "Vereinsgründung kompakt", "venue": "Online-Raum"}))
    [changed] = event.pending_events
    assert changed.changed == ["title", "venue"]  # type: ignore[attr-defined]


def test_places_while_free_then_the_waitlist_in_order() -> None:
    event = published(capacity=2)
    for n in range(1, 5):
        event.register(person(n), BEFORE)
    assert [type(e).__name__ for e in event.pending_events[1::2]] == [
        "RegistrationConfirmed",
        "RegistrationConfirmed",
        "RegistrationWaitlisted",
        "RegistrationWaitlisted",
    ]
    assert [e.position for e in event.pending_events if isinstance(e, RegistrationWaitlisted)] == [1, 2]
    assert event.waitlist == ["r3", "r4"]
    recorded = event.pending_events[0]
    assert isinstance(recorded, RegistrationRecorded)
    assert recorded.cancel_token_hash == token_hash("secret-1") != "secret-1"


def test_a_second_registration_of_the_same_address_is_refused_kindly() -> None:
    event = published(capacity=1)
    event.register(person(1), BEFORE)
    event.register(person(2), BEFORE)
    with pytest.raises(DomainRuleViolation) as again:
        event.register(person(3, email="  PERSON1@Verein.example "), BEFORE)
    assert "schon angemeldet und hat einen Platz" in again.value.message_de
    with pytest.raises(DomainRuleViolation) as waiting:
        event.register(person(4, email="person2@verein.example"), BEFORE)
    assert "steht auf der Warteliste" in waiting.value.message_de
    event.cancel_registration("r1", CancelledBy.PARTICIPANT, BEFORE)
    event.register(person(5, email="person1@verein.example"), BEFORE)  # after cancelling: welcome again
    assert event.registrations["r5"].status == RegistrationStatus.WAITLISTED


def test_registration_only_while_published_and_before_the_deadline_except_for_staff() -> None:
    draft = Event.draft("e1", PLAN, 5)
    with pytest.raises(DomainRuleViolation, match="not open yet"):
        draft.register(person(1), BEFORE)
    event = published()
    late = PLAN.registration_deadline + timedelta(seconds=1)
    with pytest.raises(DomainRuleViolation, match="deadline"):
        event.register(person(1), late)
    event.register(person(1, late=True), late)  # staff, on the phone
    for problem, field in (
        ({"name": "A"}, "name"),
        ({"name": "Aylin " + "D" * 200}, "name"),  # too long is said so, not "please give your name"
        ({"email": "aylin.at.verein"}, "email"),
        ({"phone": "call me"}, "phone"),
    ):
        with pytest.raises(InvalidInput) as refused:
            event.register(person(9, **problem), BEFORE)
        assert refused.value.field == field
        if problem.get("name", "").startswith("Aylin"):
            assert "höchstens 200 Zeichen" in refused.value.message_de
            assert "At most 200" in refused.value.message_en


def test_a_cancelled_place_goes_to_the_first_on_the_waitlist_at_once() -> None:
    event = published(capacity=2)
    for n in range(1, 6):
        event.register(person(n), BEFORE)
    event.mark_saved()
    assert event.cancel_registration("r2", CancelledBy.PARTICIPANT, BEFORE)
    assert event.pending_events == [
        RegistrationCancelled(
            event_id="e1",
            registration_id="r2",
            organisation_id=None,
            was=RegistrationStatus.CONFIRMED,
            by=CancelledBy.PARTICIPANT,
        ),
        RegistrationPromoted(event_id="e1", registration_id="r3", organisation_id=None),
    ]
    event.mark_saved()
    event.cancel_registration("r5", CancelledBy.STAFF, BEFORE)  # a waiting one leaves: nobody moves up
    assert types(event) == ["RegistrationCancelled"]
    assert not event.cancel_registration("r5", CancelledBy.STAFF, BEFORE)  # the link clicked twice
    assert event.waitlist == ["r4"]
    with pytest.raises(NotFound):
        event.cancel_registration("nobody", CancelledBy.STAFF, BEFORE)


def test_more_places_promote_in_waitlist_order_and_fewer_than_confirmed_are_refused() -> None:
    event = published(capacity=1)
    for n in range(1, 5):
        event.register(person(n), BEFORE)
    event.mark_saved()
    event.change_capacity(3, BEFORE)
    assert event.pending_events == [
        EventCapacityChanged(event_id="e1", capacity=3, previous_capacity=1),
        RegistrationPromoted(event_id="e1", registration_id="r2", organisation_id=None),
        RegistrationPromoted(event_id="e1", registration_id="r3", organisation_id=None),
    ]
    with pytest.raises(DomainRuleViolation, match="3 places are confirmed"):
        event.change_capacity(2, BEFORE)


def test_notices_follow_what_was_decided() -> None:
    event = published(capacity=1)
    event.register(person(1), BEFORE)
    event.register(person(2), BEFORE)
    event.register(person(3), BEFORE)
    assert [(n.kind, n.registration_id, n.position) for n in notices_for(event, event.pending_events)] == [
        (NoticeKind.CONFIRMATION, "r1", None),
        (NoticeKind.WAITLIST, "r2", 1),
        (NoticeKind.WAITLIST, "r3", 2),
    ]
    event.mark_saved()
    event.cancel_registration("r1", CancelledBy.PARTICIPANT, BEFORE)
    assert [(n.kind, n.registration_id) for n in notices_for(event, event.pending_events)] == [
        (NoticeKind.CANCELLATION, "r1"),
        (NoticeKind.PROMOTION, "r2"),
    ]
    event.mark_saved()
    event.cancel(CancellationReason.VENUE_UNAVAILABLE)
    assert [(n.kind, n.registration_id) for n in notices_for(event, event.pending_events)] == [
        (NoticeKind.EVENT_CANCELLED, "r2"),
        (NoticeKind.EVENT_CANCELLED, "r3"),
    ]  # r1 had cancelled already: not told again


def test_erasing_someone_with_a_place_passes_it_on_and_tells_them_nothing() -> None:
    event = published(capacity=1)
    event.register(person(1), BEFORE)
    event.register(person(2), BEFORE)
    event.mark_saved()
    event.erase_registration("r1", BEFORE)
    event.erase_registration("r1", BEFORE)  # twice: nothing more
    assert types(event) == ["RegistrationCancelled", "RegistrationPromoted", "RegistrationErased"]
    assert [(n.kind, n.registration_id) for n in notices_for(event, event.pending_events)] == [
        (NoticeKind.PROMOTION, "r2")
    ]  # no cancellation notice to the erased person
    event.mark_saved()
    event.erase_registration("r2", BEFORE)  # after the event, or without a place: only the erasure
    assert types(event)[-1] == "RegistrationErased" and event.registrations["r2"].erased


def test_the_aggregate_rebuilt_from_its_events_is_the_same() -> None:
    event = Event.draft("e1", PLAN, 2)
    event.publish()
    for n in range(1, 6):
        event.register(person(n, organisation_id="yaar"), BEFORE)
    event.cancel_registration("r1", CancelledBy.PARTICIPANT, BEFORE)
    event.change_capacity(3, BEFORE)
    rebuilt = Event.rebuild("e1", event.pending_events)
    assert rebuilt.version == event.version == len(event.pending_events)
    assert rebuilt.waitlist == event.waitlist == ["r5"]
    assert {r.id: r.status for r in rebuilt.registrations.values()} == {
        r.id: r.status for r in event.registrations.values()
    }
    assert rebuilt.registrations["r2"].organisation_id == "yaar"
    assert rebuilt.capacity == 3 and len(rebuilt.confirmed) == 3


@pytest.mark.parametrize(
    "email", ["x,y@verein.example", "a<b@verein.example", '"a"@verein.example', "a@x..de"]
)
def test_an_address_a_mail_header_would_misread_is_refused(email: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        published().register(person(1, email=email), BEFORE)
    assert refused.value.field == "email"
