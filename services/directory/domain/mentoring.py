"""Mentoring: an established MO accompanies a starting one. proposed → active → completed, or ended early
(from proposed or active).

Rules (German and English messages): no organisation mentors itself; 1 to 10 focus areas of at most 100
characters each (they are public); each step only from the state before it; an end not before the start.
Whether both organisations exist and are active (when proposed and when it begins), and that a pair has
one open mentoring at a time, is checked by the handler with their aggregates and the read model.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from shared.contracts.directory import (
    MentoringCompleted,
    MentoringEndedEarly,
    MentoringProposed,
    MentoringStarted,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

FOCUS_MAX = 10
FOCUS_LENGTH_MAX = 100


class MentoringStatus(StrEnum):
    PROPOSED = "proposed"
    ACTIVE = "active"
    COMPLETED = "completed"
    ENDED_EARLY = "ended_early"


class Mentoring(Aggregate):
    stream_prefix = "mentoring"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.status = MentoringStatus.PROPOSED
        self.started_on: date | None = None
        self.mentor_id = ""
        self.mentee_id = ""

    @classmethod
    def propose(
        cls, mentoring_id: str, mentor_id: str, mentee_id: str, focus_areas: tuple[str, ...]
    ) -> Mentoring:
        if mentor_id == mentee_id:
            raise InvalidInput(
                "An organisation cannot mentor itself.",
                "Eine Organisation kann sich nicht selbst begleiten.",
                field="mentee_id",
            )
        focus = list(dict.fromkeys(" ".join(f.split()) for f in focus_areas if f.strip()))
        if not focus or len(focus) > FOCUS_MAX:
            raise InvalidInput(
                f"Name 1 to {FOCUS_MAX} focus areas.",
                f"Bitte 1 bis {FOCUS_MAX} Schwerpunkte angeben.",
                field="focus_areas",
            )
        if any(len(f) > FOCUS_LENGTH_MAX for f in focus):
            raise InvalidInput(
                f"A focus area has at most {FOCUS_LENGTH_MAX} characters.",
                f"Ein Schwerpunkt hat höchstens {FOCUS_LENGTH_MAX} Zeichen.",
                field="focus_areas",
            )
        mentoring = cls(mentoring_id)
        mentoring._record(
            MentoringProposed(
                mentoring_id=mentoring_id, mentor_id=mentor_id, mentee_id=mentee_id, focus_areas=focus
            )
        )
        return mentoring

    def start(self, started_on: date) -> None:
        self._expect(MentoringStatus.PROPOSED, "start", "beginnen")
        self._record(MentoringStarted(mentoring_id=self.id, started_on=started_on))

    def complete(self, ended_on: date) -> None:
        self._expect(MentoringStatus.ACTIVE, "be completed", "abgeschlossen werden")
        self._not_before_start(ended_on)
        self._record(MentoringCompleted(mentoring_id=self.id, ended_on=ended_on))

    def end_early(self, ended_on: date, reason: str | None) -> None:
        if self.status not in (MentoringStatus.PROPOSED, MentoringStatus.ACTIVE):
            raise DomainRuleViolation(
                "This mentoring has already ended.", "Diese Begleitung ist bereits beendet."
            )
        self._not_before_start(ended_on)
        cleaned = " ".join(reason.split()) if reason else None
        self._record(MentoringEndedEarly(mentoring_id=self.id, ended_on=ended_on, reason=cleaned or None))

    def _expect(self, status: MentoringStatus, what_en: str, what_de: str) -> None:
        if self.status is not status:
            raise DomainRuleViolation(
                f"Only a {status.value.replace('_', ' ')} mentoring can {what_en}.",
                f"Nur eine Begleitung im Stand „{STATUS_DE[status]}“ kann {what_de}.",
            )

    def _not_before_start(self, ended_on: date) -> None:
        if self.started_on is not None and ended_on < self.started_on:
            raise InvalidInput(
                f"The end cannot lie before the start ({self.started_on:%d.%m.%Y}).",
                f"Das Ende kann nicht vor dem Beginn ({self.started_on:%d.%m.%Y}) liegen.",
                field="on",  # the day of the step, as the API and the form call it
            )

    def apply(self, event: DomainEvent) -> None:
        match event:
            case MentoringProposed():
                self.mentor_id, self.mentee_id = event.mentor_id, event.mentee_id
            case MentoringStarted():
                self.status = MentoringStatus.ACTIVE
                self.started_on = event.started_on
            case MentoringCompleted():
                self.status = MentoringStatus.COMPLETED
            case MentoringEndedEarly():
                self.status = MentoringStatus.ENDED_EARLY


STATUS_DE = {
    MentoringStatus.PROPOSED: "vorgeschlagen",
    MentoringStatus.ACTIVE: "aktiv",
    MentoringStatus.COMPLETED: "abgeschlossen",
    MentoringStatus.ENDED_EARLY: "vorzeitig beendet",
}
