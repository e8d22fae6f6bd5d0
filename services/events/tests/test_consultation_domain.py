"""Advice sessions and process accompaniments on their own: given events, when a command, then events (or a
refusal). No I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from services.events.domain.consultation import ADVICE_TOPICS, Accompaniment, Consultation
from services.events.domain.consultation_commands import Advice
from shared.contracts.events import (
    AccompanimentClosed,
    AccompanimentOutcome,
    AccompanimentSessionAdded,
    AccompanimentSessionChanged,
    ConsultationCorrected,
    ConsultationErased,
    ConsultationFormat,
    ConsultationNoted,
    ConsultationRecorded,
    Topic,
)
from shared.errors import DomainRuleViolation, InvalidInput

TODAY = date(2026, 11, 30)
ORG = "org-yaar"
ADVICE = Advice(
    organisation_id=ORG,
    topics=(Topic.PROJECT_FUNDING, Topic.CONCEPT_DEVELOPMENT),
    held_on=TODAY - timedelta(days=3),
    duration_minutes=90,
    format=ConsultationFormat.IN_PERSON,
    person_advised="  Leyla   Ahmadi ",
    minutes="Aktionsfonds besprochen.\nNächster Schritt: Kostenplan.",
)


def refused_field(call, *args) -> str:
    with pytest.raises(InvalidInput) as caught:
        call(*args)
    assert caught.value.message_de  # every refusal can be read in German
    return str(caught.value.field)


def recorded(advice: Advice = ADVICE, accompaniment_id: str | None = None) -> Consultation:
    consultation = Consultation.record("c-1", advice, "via-staff", TODAY, accompaniment_id)
    consultation.mark_saved()
    return consultation


def opened(opened_on: date = TODAY - timedelta(days=60)) -> Accompaniment:
    accompaniment = Accompaniment.open(
        "a-1", ORG, (Topic.FOUNDING_AN_ASSOCIATION,), opened_on, "Eintragung ins Vereinsregister", TODAY
    )
    accompaniment.mark_saved()
    return accompaniment


def test_a_session_is_recorded_with_public_facts_and_sealed_notes_apart() -> None:
    consultation = Consultation.record("c-1", ADVICE, "via-staff", TODAY)
    public, private = consultation.pending_events
    assert isinstance(public, ConsultationRecorded) and isinstance(private, ConsultationNoted)
    assert public.public and not private.public
    assert (public.organisation_id, public.topics, public.duration_minutes, public.partner) == (
        ORG,
        [Topic.PROJECT_FUNDING, Topic.CONCEPT_DEVELOPMENT],
        90,
        "via",
    )
    dumped = public.model_dump_json()
    assert "Leyla" not in dumped and "Kostenplan" not in dumped
    assert private.person_advised == "Leyla Ahmadi"  # blanks tidied
    assert private.minutes is not None and "\n" in private.minutes  # the minutes keep their lines
    assert consultation.adviser_id == "via-staff"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"topics": ()}, "topics"),
        ({"topics": (Topic.WELCOME_STRUCTURES,)}, "topics"),  # an event topic, not one of advice
        ({"held_on": TODAY + timedelta(days=1)}, "held_on"),
        ({"held_on": date(2014, 12, 31)}, "held_on"),
        ({"duration_minutes": 4}, "duration_minutes"),
        ({"duration_minutes": 601}, "duration_minutes"),
        ({"person_advised": "L"}, "person_advised"),
        ({"minutes": "x" * 20_001}, "minutes"),
    ],
)
def test_bad_facts_are_refused_by_field(change: dict, field: str) -> None:
    assert refused_field(Consultation.record, "c-1", replace(ADVICE, **change), "via", TODAY) == field


def test_the_catalogue_has_the_seeds_advice_topics() -> None:
    for topic in (
        Topic.PROJECT_FUNDING,
        Topic.CONCEPT_DEVELOPMENT,
        Topic.PROJECT_ADMINISTRATION,
        Topic.VOLUNTEERS,
        Topic.ASSOCIATION_AND_LABOUR_LAW,
        Topic.FOUNDING_AN_ASSOCIATION,
        Topic.VOLUNTARY_SERVICES,
    ):
        assert topic in ADVICE_TOPICS
    assert Consultation.record("c", replace(ADVICE, duration_minutes=5), "v", TODAY).advice is not None
    assert Consultation.record("c", replace(ADVICE, duration_minutes=600, held_on=TODAY), "v", TODAY)


def test_a_correction_records_only_what_changed_and_notes_apart() -> None:
    consultation = recorded()
    assert consultation.correct({"duration_minutes": 90}, TODAY) == []
    assert consultation.pending_events == []
    changed = consultation.correct({"duration_minutes": 120, "minutes": "Neu."}, TODAY)
    assert changed == ["duration_minutes", "minutes"]
    corrected, noted = consultation.pending_events
    assert isinstance(corrected, ConsultationCorrected) and corrected.changed == ["duration_minutes"]
    assert (
        isinstance(noted, ConsultationNoted) and noted.minutes == "Neu." and noted.adviser_id == "via-staff"
    )
    assert consultation.advice is not None and consultation.advice.person_advised == "Leyla Ahmadi"


def test_an_old_record_stays_correctable_unless_its_day_changes() -> None:
    old = recorded(replace(ADVICE, held_on=date(2015, 3, 1)))
    assert old.correct({"minutes": "ergänzt"}, TODAY) == ["minutes"]
    assert refused_field(old.correct, {"held_on": TODAY + timedelta(days=2)}, TODAY) == "held_on"


def test_after_erasure_nothing_personal_is_recorded_again_but_the_facts_stay_correctable() -> None:
    consultation = recorded()
    assert consultation.erase() is True
    assert isinstance(consultation.pending_events[0], ConsultationErased)
    assert consultation.erase() is False  # twice changes nothing
    consultation.mark_saved()
    with pytest.raises(DomainRuleViolation):
        consultation.correct({"person_advised": "Jemand Neues"}, TODAY)
    assert consultation.correct({"format": ConsultationFormat.PHONE}, TODAY) == ["format"]


def test_a_session_of_an_accompaniment_keeps_the_accompaniments_organisation() -> None:
    session = recorded(accompaniment_id="a-1")
    assert refused_field(session.correct, {"organisation_id": "other"}, TODAY) == "organisation_id"
    standalone = recorded()
    assert standalone.correct({"organisation_id": "other"}, TODAY) == ["organisation_id"]


def test_an_accompaniment_needs_a_goal_topics_and_a_sensible_start() -> None:
    start = TODAY - timedelta(days=5)
    for args, field in (
        ((ORG, (), start, "Ziel", TODAY), "topics"),
        ((ORG, (Topic.BOOKKEEPING,), TODAY + timedelta(days=1), "Ziel", TODAY), "opened_on"),
        ((ORG, (Topic.BOOKKEEPING,), start, "  ", TODAY), "goal"),
        ((ORG, (Topic.BOOKKEEPING,), start, "x" * 1001, TODAY), "goal"),
    ):
        assert refused_field(Accompaniment.open, "a", *args) == field


def test_sessions_are_added_inside_the_period_for_the_same_organisation_until_closed() -> None:
    accompaniment = opened()
    start = accompaniment.opened_on
    assert (
        refused_field(accompaniment.add_session, "c-0", ORG, ORG, start - timedelta(days=1), 60) == "held_on"
    )
    assert refused_field(accompaniment.add_session, "c-0", "other", ORG, start, 60) == "organisation_id"
    accompaniment.add_session("c-1", ORG, ORG, start + timedelta(days=1), 60)
    accompaniment.add_session("c-2", ORG, ORG, start + timedelta(days=20), 45)
    accompaniment.add_session("c-2", ORG, ORG, start + timedelta(days=20), 45)  # a retry adds nothing
    assert [type(e) for e in accompaniment.pending_events] == [AccompanimentSessionAdded] * 2
    assert accompaniment.total_minutes == 105
    accompaniment.mark_saved()

    assert (
        refused_field(
            accompaniment.close, start + timedelta(days=19), AccompanimentOutcome.ACHIEVED, "Gut", TODAY
        )
        == "closed_on"
    )
    assert refused_field(accompaniment.close, TODAY, AccompanimentOutcome.ACHIEVED, "", TODAY) == "note"
    accompaniment.close(TODAY - timedelta(days=1), AccompanimentOutcome.ACHIEVED, "Verein eingetragen", TODAY)
    closed = accompaniment.pending_events[0]
    assert isinstance(closed, AccompanimentClosed)
    assert (closed.sessions, closed.total_minutes, closed.organisation_id) == (2, 105, ORG)
    assert not accompaniment.pending_events[1].public  # the note stays in the service

    with pytest.raises(DomainRuleViolation) as caught:
        accompaniment.add_session("c-3", ORG, ORG, TODAY, 30)
    assert "abgeschlossen" in caught.value.message_de
    with pytest.raises(DomainRuleViolation):
        accompaniment.close(TODAY, AccompanimentOutcome.ENDED_EARLY, "Noch einmal", TODAY)


def test_a_corrected_session_stays_inside_a_closed_accompaniments_period() -> None:
    accompaniment = opened()
    accompaniment.add_session("c-1", ORG, ORG, accompaniment.opened_on + timedelta(days=1), 60)
    accompaniment.close(TODAY - timedelta(days=10), AccompanimentOutcome.PARTLY_ACHIEVED, "Teilweise", TODAY)
    accompaniment.mark_saved()
    assert refused_field(accompaniment.change_session, "c-1", TODAY, 60) == "held_on"
    accompaniment.change_session("c-1", accompaniment.opened_on + timedelta(days=1), 60)
    assert accompaniment.pending_events == []  # nothing changed
    accompaniment.change_session("c-1", accompaniment.opened_on + timedelta(days=2), 75)
    assert isinstance(accompaniment.pending_events[0], AccompanimentSessionChanged)
    assert accompaniment.total_minutes == 75


def test_without_a_session_an_accompaniment_can_only_end_early() -> None:
    accompaniment = opened()
    assert (
        refused_field(accompaniment.close, TODAY, AccompanimentOutcome.ACHIEVED, "Ziel erreicht", TODAY)
        == "outcome"
    )
    accompaniment.close(TODAY, AccompanimentOutcome.ENDED_EARLY, "Der Verein hat sich aufgelöst", TODAY)
    assert accompaniment.outcome == AccompanimentOutcome.ENDED_EARLY and not accompaniment.is_open


def test_rebuilt_from_its_events_an_accompaniment_is_the_same() -> None:
    accompaniment = Accompaniment.open(
        "a-1", ORG, (Topic.BOOKKEEPING,), TODAY - timedelta(days=9), "Ziel", TODAY
    )
    accompaniment.add_session("c-1", ORG, ORG, TODAY - timedelta(days=2), 50)
    rebuilt = Accompaniment.rebuild("a-1", accompaniment.pending_events)
    assert (rebuilt.goal, rebuilt.total_minutes, rebuilt.version, rebuilt.is_open) == ("Ziel", 50, 3, True)
    consultation = Consultation.record("c-1", ADVICE, "via-staff", TODAY, "a-1")
    again = Consultation.rebuild("c-1", consultation.pending_events)
    assert again.advice == consultation.advice and again.accompaniment_id == "a-1"
