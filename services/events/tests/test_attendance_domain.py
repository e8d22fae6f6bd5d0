"""Attendance on the pure aggregate: who may be checked in, from when, twice, undone; and what a check-in
changes about cancelling and erasing. No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.events.domain.model import Event
from services.events.tests.test_domain import BEFORE, PLAN, START, person, published, types
from shared.contracts.events import (
    CancellationReason,
    CancelledBy,
    RegistrationAttendanceWithdrawn,
    RegistrationAttended,
    RegistrationStatus,
)
from shared.errors import DomainRuleViolation, NotFound

ON_THE_DAY = START - timedelta(hours=2)  # 07:00 UTC, 08:00 in Berlin: the doors open before the start
DAY_BEFORE = START - timedelta(days=1)


def full_event() -> Event:
    """Two places: r1 and r2 confirmed (r1 for an organisation), r3 on the waitlist."""
    event = published(capacity=2)
    event.register(person(1, organisation_id="org-yaar"), DAY_BEFORE - timedelta(days=5))
    event.register(person(2), DAY_BEFORE - timedelta(days=5))
    event.register(person(3), DAY_BEFORE - timedelta(days=5))
    event.mark_saved()
    return event


def test_a_confirmed_person_is_checked_in_on_the_day_and_a_second_tap_changes_nothing() -> None:
    event = full_event()
    assert event.check_in("r1", ON_THE_DAY) is True
    assert event.pending_events == [
        RegistrationAttended(event_id="e1", registration_id="r1", organisation_id="org-yaar")
    ]
    assert event.check_in("r1", ON_THE_DAY + timedelta(minutes=1)) is False  # a colleague tapped too
    assert len(event.pending_events) == 1
    assert [r.id for r in event.attendees] == ["r1"]


def test_check_in_opens_on_the_event_day_in_berlin_not_before() -> None:
    event = full_event()
    with pytest.raises(DomainRuleViolation) as early:
        event.check_in("r1", DAY_BEFORE)
    assert "am Tag der Veranstaltung (12.03.2026)" in early.value.message_de
    assert event.pending_events == []
    # Starting at 00:30 in Berlin is still the 11th in UTC: the day is Berlin's.
    night = replace(PLAN, starts_at=datetime(2026, 3, 11, 23, 30, tzinfo=UTC))
    night = replace(
        night, ends_at=night.starts_at + timedelta(hours=2), registration_deadline=night.starts_at
    )
    late = Event.draft("e2", night, 5)
    late.publish()
    late.register(replace(person(1), event_id="e2"), DAY_BEFORE - timedelta(days=5))
    with pytest.raises(DomainRuleViolation):
        late.check_in("r1", datetime(2026, 3, 11, 22, 59, tzinfo=UTC))  # 23:59 on the 11th in Berlin
    assert late.check_in("r1", datetime(2026, 3, 11, 23, 0, tzinfo=UTC))  # midnight: the 12th


def test_only_confirmed_places_are_checked_in() -> None:
    event = full_event()
    with pytest.raises(DomainRuleViolation) as waiting:
        event.check_in("r3", ON_THE_DAY)
    assert "Warteliste" in waiting.value.message_de
    event.cancel_registration("r2", CancelledBy.PARTICIPANT, ON_THE_DAY)  # r3 moves up and may come in now
    event.mark_saved()
    with pytest.raises(DomainRuleViolation) as cancelled:
        event.check_in("r2", ON_THE_DAY)
    assert "storniert" in cancelled.value.message_de
    assert event.check_in("r3", ON_THE_DAY)
    with pytest.raises(NotFound):
        event.check_in("nobody", ON_THE_DAY)


def test_nobody_is_checked_in_at_a_draft_or_cancelled_event_and_nobody_erased() -> None:
    draft = Event.draft("e1", PLAN, 5)
    cancelled = full_event()
    cancelled.cancel(CancellationReason.SPEAKER_UNAVAILABLE)
    cancelled.mark_saved()
    with pytest.raises(DomainRuleViolation, match="published or completed"):
        cancelled.check_in("r1", ON_THE_DAY)
    with pytest.raises(NotFound):
        draft.check_in("r1", ON_THE_DAY)  # a draft has nobody registered
    erased = full_event()
    erased.complete(START + timedelta(hours=7))
    erased.erase_registration("r1", ON_THE_DAY)
    erased.mark_saved()
    with pytest.raises(DomainRuleViolation, match="erased"):
        erased.check_in("r1", START + timedelta(days=1))
    assert erased.check_in("r2", START + timedelta(days=1))  # after completion, from the paper list


def test_a_check_in_by_mistake_is_undone() -> None:
    event = full_event()
    assert event.undo_check_in("r1") is False  # nothing to undo
    event.check_in("r1", ON_THE_DAY)
    event.mark_saved()
    assert event.undo_check_in("r1") is True
    assert event.pending_events == [
        RegistrationAttendanceWithdrawn(event_id="e1", registration_id="r1", organisation_id="org-yaar")
    ]
    assert event.attendees == []
    assert event.check_in("r1", ON_THE_DAY)  # and checked in again


def test_who_was_checked_in_keeps_the_place_and_the_event_is_completed_not_cancelled() -> None:
    event = full_event()
    event.check_in("r1", ON_THE_DAY)
    event.mark_saved()
    with pytest.raises(DomainRuleViolation, match="undo it first"):
        event.cancel_registration("r1", CancelledBy.PARTICIPANT, ON_THE_DAY)
    with pytest.raises(DomainRuleViolation, match="took place"):
        event.cancel(CancellationReason.ORGANISATIONAL)
    event.erase_registration(
        "r1", ON_THE_DAY
    )  # erasure always works; the attendance stays counted, r3 still waits
    assert types(event) == ["RegistrationErased"]
    assert event.registrations["r1"].status == RegistrationStatus.CONFIRMED
    assert event.waitlist == ["r3"] and len(event.attendees) == 1


DURING = START + timedelta(minutes=30)


def test_once_begun_nobody_moves_up_by_a_cancellation_and_the_link_cancels_nothing() -> None:
    event = full_event()
    with pytest.raises(DomainRuleViolation) as too_late:
        event.cancel_registration("r2", CancelledBy.PARTICIPANT, DURING)
    assert "schon begonnen" in too_late.value.message_de
    assert event.pending_events == []
    assert event.cancel_registration("r2", CancelledBy.STAFF, DURING)  # phoned in: staff take it off
    assert types(event) == ["RegistrationCancelled"]  # no promotion notice for something running
    assert event.waitlist == ["r3"] and event.free_places == 1
    event.mark_saved()
    event.change_capacity(3, DURING)  # more places at the door: they wait for who is here
    assert types(event) == ["EventCapacityChanged"] and event.free_places == 2


def test_at_the_door_a_waitlisted_person_takes_a_free_place_and_walk_ins_need_one() -> None:
    event = full_event()
    with pytest.raises(DomainRuleViolation) as full:
        event.check_in("r3", DURING)
    assert "kein Platz frei" in full.value.message_de
    with pytest.raises(DomainRuleViolation) as no_place:
        event.register(person(4, late=True), DURING)
    assert "alle Plätze sind vergeben" in no_place.value.message_de
    assert event.pending_events == []
    event.change_capacity(4, DURING)
    event.mark_saved()
    assert event.check_in("r3", DURING)
    assert types(event) == ["RegistrationPromoted", "RegistrationAttended"]
    assert event.registrations["r3"].status == RegistrationStatus.CONFIRMED and event.waitlist == []
    event.mark_saved()
    event.register(person(4, late=True), DURING)  # a walk-in, registered by staff onto the last place
    assert types(event) == ["RegistrationRecorded", "RegistrationConfirmed"]
    assert event.free_places == 0


def test_before_the_start_a_waitlisted_person_at_the_door_waits_for_the_waitlist_order() -> None:
    event = full_event()
    event.change_capacity(3, ON_THE_DAY)  # still before the start: r3, first in line, moves up
    assert types(event) == ["EventCapacityChanged", "RegistrationPromoted"]
    event.register(person(4), BEFORE)
    event.mark_saved()
    with pytest.raises(DomainRuleViolation, match="no place is free"):
        event.check_in("r4", ON_THE_DAY)
