"""Advice sessions (Beratung) and process accompaniments (Prozessbegleitung): the pure rules.

Two aggregates. A consultation is one session for one organisation: its facts (topics, day, duration, format)
are public, who was advised and the minutes are sealed under the consultation's own key, so erasing the
person leaves the session counted. An accompaniment is a series of sessions for one organisation with a
goal, opened, added to, and closed with an outcome or ended early; it keeps the day and duration of each of
its sessions, so its rules (no session once closed, every session inside its period, closing after the last
session) are decided inside its own stream. Recording a session of an accompaniment appends to both streams
in one transaction, so a session and a concurrent closing cannot both win.

Rules (German and English messages, since people read them):
- at least one topic, each from the advice catalogue; a day from 2015 until today (advice is recorded once
  it took place); 5 to 600 minutes; the person advised 2 to 200 characters; minutes up to 20,000;
- a session of an accompaniment is for the accompaniment's organisation, on or after its opening day (and,
  once closed, not after its closing day); no session is added to a closed accompaniment;
- an accompaniment has a goal (3 to 1,000 characters) and is closed once, on or after its last session,
  with a note of 3 to 2,000 characters; "achieved" or "partly achieved" needs at least one session;
- once the person's data is erased, nothing personal can be recorded for that session again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from typing import Any

from services.events.domain.consultation_commands import Advice
from shared.contracts.events import (
    ADVISING_PARTNER,
    AccompanimentClosed,
    AccompanimentGoalNoted,
    AccompanimentOpened,
    AccompanimentOutcome,
    AccompanimentOutcomeNoted,
    AccompanimentSessionAdded,
    AccompanimentSessionChanged,
    ConsultationCorrected,
    ConsultationErased,
    ConsultationNoted,
    ConsultationRecorded,
    Topic,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

# The topics one can be advised on (seeds 001 and 004), in the order the form offers them.
ADVICE_TOPICS: tuple[Topic, ...] = (
    Topic.PROJECT_FUNDING,
    Topic.CONCEPT_DEVELOPMENT,
    Topic.PROJECT_ADMINISTRATION,
    Topic.VOLUNTEERS,
    Topic.ASSOCIATION_AND_LABOUR_LAW,
    Topic.FOUNDING_AN_ASSOCIATION,
    Topic.VOLUNTARY_SERVICES,
    Topic.NEEDS_ASSESSMENT,
    Topic.ASSOCIATION_AS_EMPLOYER,
    Topic.BOOKKEEPING,
    Topic.PROJECT_MANAGEMENT,
    Topic.POLITICAL_PARTICIPATION,
)
EARLIEST = date(2015, 1, 1)  # before VIA's IQ sub-project and the competence centre: a typo
DURATION_MIN, DURATION_MAX = 5, 600
PERSON_MIN, PERSON_MAX = 2, 200
MINUTES_MAX = 20_000
GOAL_MIN, GOAL_MAX = 3, 1000
NOTE_MIN, NOTE_MAX = 3, 2000
PUBLIC_FIELDS = ("organisation_id", "topics", "held_on", "duration_minutes", "format", "funding_line")
NOTE_FIELDS = ("person_advised", "minutes")


def _clean(text: str | None) -> str | None:
    cleaned = " ".join(text.split()) if text else ""
    return cleaned or None


def _text(text: str | None) -> str | None:
    """Free text keeps its lines; only surrounding blanks go."""
    stripped = (text or "").strip()
    return stripped or None


def valid_topics(topics: tuple[Topic, ...]) -> tuple[Topic, ...]:
    chosen = tuple(dict.fromkeys(topics))
    if not chosen:
        raise InvalidInput("Choose at least one topic.", "Bitte mindestens ein Thema wählen.", field="topics")
    other = [t for t in chosen if t not in ADVICE_TOPICS]
    if other:
        raise InvalidInput(
            f"Not a topic of advice: {', '.join(other)}.",
            f"Kein Beratungsthema: {', '.join(other)}.",
            field="topics",
        )
    return chosen


def valid_day(day: date, today: date, field: str, what_de: str = "Der Tag") -> date:
    if day > today:
        raise InvalidInput(
            "The day must not be in the future: advice is recorded once it took place.",
            f"{what_de} darf nicht in der Zukunft liegen: erfasst wird, was stattgefunden hat.",
            field=field,
        )
    if day < EARLIEST:
        raise InvalidInput(
            f"The day must not be before {EARLIEST:%d.%m.%Y}.",
            f"{what_de} darf nicht vor dem {EARLIEST:%d.%m.%Y} liegen.",
            field=field,
        )
    return day


def valid_advice(advice: Advice, today: date, check_day: bool = True) -> Advice:
    """The advice checked field by field; the first problem is raised with its field. `check_day` is off
    when a correction leaves the day as it was (an old record's minutes stay correctable)."""
    topics = valid_topics(advice.topics)
    if check_day:
        valid_day(advice.held_on, today, "held_on")
    if not DURATION_MIN <= advice.duration_minutes <= DURATION_MAX:
        raise InvalidInput(
            f"The duration is {DURATION_MIN} to {DURATION_MAX} minutes.",
            f"Die Dauer beträgt {DURATION_MIN} bis {DURATION_MAX} Minuten.",
            field="duration_minutes",
        )
    person = _clean(advice.person_advised)
    if person is not None and not PERSON_MIN <= len(person) <= PERSON_MAX:
        raise InvalidInput(
            f"The name has {PERSON_MIN} to {PERSON_MAX} characters (or leave it empty).",
            f"Der Name hat {PERSON_MIN} bis {PERSON_MAX} Zeichen (oder bleibt leer).",
            field="person_advised",
        )
    minutes = _text(advice.minutes)
    if minutes is not None and len(minutes) > MINUTES_MAX:
        raise InvalidInput(
            f"The minutes have at most {MINUTES_MAX} characters.",
            f"Das Protokoll hat höchstens {MINUTES_MAX} Zeichen.",
            field="minutes",
        )
    return replace(advice, topics=topics, person_advised=person, minutes=minutes)


def advice_with(advice: Advice, changes: Mapping[str, Any]) -> Advice:
    """The advice with the given fields replaced; a name that is no field is a programming error."""
    unknown = set(changes) - {f.name for f in fields(Advice)}
    if unknown:
        raise ValueError(f"not fields of an advice: {sorted(unknown)}")
    return replace(advice, **changes)


class Consultation(Aggregate):
    stream_prefix = "consultation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.advice: Advice | None = None
        self.accompaniment_id: str | None = None
        self.adviser_id = ""
        self.erased = False

    @classmethod
    def record(
        cls,
        consultation_id: str,
        advice: Advice,
        adviser_id: str,
        today: date,
        accompaniment_id: str | None = None,
    ) -> Consultation:
        checked = valid_advice(advice, today)
        consultation = cls(consultation_id)
        consultation._record(
            ConsultationRecorded(**consultation._facts(checked, accompaniment_id), partner=ADVISING_PARTNER)
        )
        consultation._record(
            ConsultationNoted(
                consultation_id=consultation_id,
                adviser_id=adviser_id,
                person_advised=checked.person_advised,
                minutes=checked.minutes,
            )
        )
        return consultation

    def correct(self, changes: Mapping[str, Any], today: date) -> list[str]:
        """Apply a correction; returns the names of the fields that changed (none: nothing recorded)."""
        assert self.advice is not None
        if self.accompaniment_id and changes.get("organisation_id", self.advice.organisation_id) != (
            self.advice.organisation_id
        ):
            raise InvalidInput(
                "A session of an accompaniment is for the accompaniment's organisation.",
                "Eine Beratung in einer Prozessbegleitung gilt der Organisation der Begleitung.",
                field="organisation_id",
            )
        wanted = advice_with(self.advice, changes)
        new = valid_advice(wanted, today, check_day=wanted.held_on != self.advice.held_on)
        changed = [
            name
            for name in (*PUBLIC_FIELDS, *NOTE_FIELDS)
            if getattr(new, name) != getattr(self.advice, name)
        ]
        notes_changed = [n for n in NOTE_FIELDS if n in changed]
        if self.erased and notes_changed:
            raise DomainRuleViolation(
                "The advised person's data was erased; nothing personal can be recorded for this session.",
                "Die Daten der beratenen Person wurden gelöscht; zu dieser Beratung lässt sich nichts "
                "Persönliches mehr erfassen.",
            )
        public_changed = [n for n in PUBLIC_FIELDS if n in changed]
        if public_changed:
            self._record(
                ConsultationCorrected(
                    **self._facts(new, self.accompaniment_id),
                    partner=ADVISING_PARTNER,
                    changed=public_changed,
                )
            )
        if notes_changed:
            self._record(
                ConsultationNoted(
                    consultation_id=self.id,
                    adviser_id=self.adviser_id,
                    person_advised=new.person_advised,
                    minutes=new.minutes,
                )
            )
        return changed

    def erase(self) -> bool:
        """Erase the advised person and the minutes (the handler deletes the key in the same transaction)."""
        if self.erased:
            return False
        self._record(ConsultationErased(consultation_id=self.id))
        return True

    def _facts(self, advice: Advice, accompaniment_id: str | None) -> dict[str, Any]:
        return {
            "consultation_id": self.id,
            "organisation_id": advice.organisation_id,
            "accompaniment_id": accompaniment_id,
            "topics": list(advice.topics),
            "held_on": advice.held_on,
            "duration_minutes": advice.duration_minutes,
            "format": advice.format,
            "funding_line": advice.funding_line,
        }

    def apply(self, event: DomainEvent) -> None:
        match event:
            case ConsultationRecorded() | ConsultationCorrected():
                before = self.advice
                self.accompaniment_id = event.accompaniment_id
                self.advice = Advice(
                    organisation_id=event.organisation_id,
                    topics=tuple(event.topics),
                    held_on=event.held_on,
                    duration_minutes=event.duration_minutes,
                    format=event.format,
                    funding_line=event.funding_line,
                    person_advised=before.person_advised if before else None,
                    minutes=before.minutes if before else None,
                )
            case ConsultationNoted():
                assert self.advice is not None
                self.adviser_id = event.adviser_id
                self.advice = replace(self.advice, person_advised=event.person_advised, minutes=event.minutes)
            case ConsultationErased():
                self.erased = True


@dataclass(frozen=True)
class Session:
    """What an accompaniment knows of one of its sessions."""

    consultation_id: str
    held_on: date
    duration_minutes: int


class Accompaniment(Aggregate):
    stream_prefix = "accompaniment"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.organisation_id = ""
        self.topics: tuple[Topic, ...] = ()
        self.opened_on = EARLIEST
        self.goal = ""
        self.closed_on: date | None = None
        self.outcome: AccompanimentOutcome | None = None
        self.sessions: dict[str, Session] = {}

    @property
    def is_open(self) -> bool:
        return self.closed_on is None

    @property
    def total_minutes(self) -> int:
        return sum(s.duration_minutes for s in self.sessions.values())

    @classmethod
    def open(
        cls,
        accompaniment_id: str,
        organisation_id: str,
        topics: tuple[Topic, ...],
        opened_on: date,
        goal: str,
        today: date,
    ) -> Accompaniment:
        chosen = valid_topics(topics)
        valid_day(opened_on, today, "opened_on", "Der Beginn")
        cleaned = _text(goal) or ""
        if not GOAL_MIN <= len(cleaned) <= GOAL_MAX:
            raise InvalidInput(
                f"Describe the goal in {GOAL_MIN} to {GOAL_MAX} characters.",
                f"Bitte das Ziel in {GOAL_MIN} bis {GOAL_MAX} Zeichen beschreiben.",
                field="goal",
            )
        accompaniment = cls(accompaniment_id)
        accompaniment._record(
            AccompanimentOpened(
                accompaniment_id=accompaniment_id,
                organisation_id=organisation_id,
                topics=list(chosen),
                opened_on=opened_on,
                partner=ADVISING_PARTNER,
            )
        )
        accompaniment._record(AccompanimentGoalNoted(accompaniment_id=accompaniment_id, goal=cleaned))
        return accompaniment

    def add_session(
        self,
        consultation_id: str,
        organisation_id: str,
        our_organisation_id: str,
        held_on: date,
        minutes: int,
    ) -> None:
        """`our_organisation_id` is the accompaniment's organisation as it is today (merges followed)."""
        if not self.is_open:
            raise DomainRuleViolation(
                "The accompaniment is closed; no session can be added to it.",
                "Die Prozessbegleitung ist abgeschlossen; es kommen keine Beratungen mehr hinzu.",
            )
        if organisation_id != our_organisation_id:
            raise InvalidInput(
                "A session of an accompaniment is for the accompaniment's organisation.",
                "Eine Beratung in einer Prozessbegleitung gilt der Organisation der Begleitung.",
                field="organisation_id",
            )
        self._check_within(held_on)
        if consultation_id in self.sessions:
            return
        self._record(
            AccompanimentSessionAdded(
                accompaniment_id=self.id,
                consultation_id=consultation_id,
                held_on=held_on,
                duration_minutes=minutes,
            )
        )

    def change_session(self, consultation_id: str, held_on: date, minutes: int) -> None:
        session = self.sessions[consultation_id]
        if (session.held_on, session.duration_minutes) == (held_on, minutes):
            return
        self._check_within(held_on)
        self._record(
            AccompanimentSessionChanged(
                accompaniment_id=self.id,
                consultation_id=consultation_id,
                held_on=held_on,
                duration_minutes=minutes,
            )
        )

    def close(self, closed_on: date, outcome: AccompanimentOutcome, note: str, today: date) -> None:
        if not self.is_open:
            raise DomainRuleViolation(
                "The accompaniment is already closed.", "Die Prozessbegleitung ist bereits abgeschlossen."
            )
        valid_day(closed_on, today, "closed_on", "Der Abschluss")
        last = max((s.held_on for s in self.sessions.values()), default=self.opened_on)
        if closed_on < last:
            raise InvalidInput(
                f"The accompaniment ends on or after {last:%d.%m.%Y} (its opening or last session).",
                f"Die Begleitung endet frühestens am {last:%d.%m.%Y} (Beginn oder letzte Beratung).",
                field="closed_on",
            )
        if outcome != AccompanimentOutcome.ENDED_EARLY and not self.sessions:
            raise InvalidInput(
                "Without a single session the goal cannot have been reached: choose “ended early”.",
                "Ohne eine einzige Beratung ist das Ziel nicht erreicht: bitte „vorzeitig beendet“ wählen.",
                field="outcome",
            )
        cleaned = _text(note) or ""
        if not NOTE_MIN <= len(cleaned) <= NOTE_MAX:
            raise InvalidInput(
                f"Describe the outcome (or why it ended) in {NOTE_MIN} to {NOTE_MAX} characters.",
                f"Bitte das Ergebnis (oder den Grund des Endes) in {NOTE_MIN} bis {NOTE_MAX} Zeichen "
                "beschreiben.",
                field="note",
            )
        self._record(
            AccompanimentClosed(
                accompaniment_id=self.id,
                organisation_id=self.organisation_id,
                closed_on=closed_on,
                outcome=outcome,
                sessions=len(self.sessions),
                total_minutes=self.total_minutes,
            )
        )
        self._record(AccompanimentOutcomeNoted(accompaniment_id=self.id, note=cleaned))

    def _check_within(self, held_on: date) -> None:
        if held_on < self.opened_on:
            raise InvalidInput(
                f"The session cannot be before the accompaniment began ({self.opened_on:%d.%m.%Y}).",
                f"Die Beratung kann nicht vor dem Beginn der Begleitung ({self.opened_on:%d.%m.%Y}) liegen.",
                field="held_on",
            )
        if self.closed_on is not None and held_on > self.closed_on:
            raise InvalidInput(
                f"The session cannot be after the accompaniment ended ({self.closed_on:%d.%m.%Y}).",
                f"Die Beratung kann nicht nach dem Ende der Begleitung ({self.closed_on:%d.%m.%Y}) liegen.",
                field="held_on",
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case AccompanimentOpened():
                self.organisation_id = event.organisation_id
                self.topics = tuple(event.topics)
                self.opened_on = event.opened_on
            case AccompanimentGoalNoted():
                self.goal = event.goal
            case AccompanimentSessionAdded() | AccompanimentSessionChanged():
                self.sessions[event.consultation_id] = Session(
                    event.consultation_id, event.held_on, event.duration_minutes
                )
            case AccompanimentClosed():
                self.closed_on = event.closed_on
                self.outcome = event.outcome
            case AccompanimentOutcomeNoted():
                pass
