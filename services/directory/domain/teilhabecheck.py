"""The Teilhabecheck (written by TBB): an analysis of one social space in a district, in four phases that
follow each other: inventory of participation structures, talks with MOs, exchange with the administration,
written recommendations. Then the recommendations' adoption is followed up.

Rules (German and English): no phase is skipped or completed twice, and none ends before the one before
it; findings belong to the phase the analysis is in; recommendations are written in the last phase, which
cannot end without one; a follow-up names a recommendation that exists (else: not found) and is not dated
before the analysis began (the same follow-up sent twice records nothing); texts are 3 to 2000 characters.
"""

from __future__ import annotations

from datetime import date

from shared.contracts.directory import (
    Adoption,
    District,
    TeilhabecheckStarted,
    TeilhabeFindingRecorded,
    TeilhabePhase,
    TeilhabePhaseCompleted,
    TeilhabeRecommendationFollowedUp,
    TeilhabeRecommendationMade,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput, NotFound

PHASES = tuple(TeilhabePhase)
PHASE_DE = {
    TeilhabePhase.INVENTORY: "Bestandsaufnahme",
    TeilhabePhase.MO_TALKS: "Gespräche mit MO",
    TeilhabePhase.ADMINISTRATION: "Austausch mit der Verwaltung",
    TeilhabePhase.RECOMMENDATIONS: "Empfehlungen",
}
PHASE_EN = {
    TeilhabePhase.INVENTORY: "inventory of participation structures",
    TeilhabePhase.MO_TALKS: "talks with MOs",
    TeilhabePhase.ADMINISTRATION: "exchange with the administration",
    TeilhabePhase.RECOMMENDATIONS: "written recommendations",
}


def valid_text(text: str, field: str = "text", low: int = 3, high: int = 2000) -> str:
    cleaned = text.strip()
    if not low <= len(cleaned) <= high:
        raise InvalidInput(
            f"Write {low} to {high} characters.", f"Bitte {low} bis {high} Zeichen schreiben.", field=field
        )
    return cleaned


class Teilhabecheck(Aggregate):
    stream_prefix = "teilhabecheck"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.completed: list[TeilhabePhase] = []
        self.started_on: date | None = None
        self.last_completed_on: date | None = None
        # each recommendation's latest follow-up: (adoption, on, note); (open, None, None) until followed up
        self.recommendations: dict[str, tuple[Adoption, date | None, str | None]] = {}

    @property
    def phase(self) -> TeilhabePhase | None:
        """The phase it is in; None once all four are completed."""
        return PHASES[len(self.completed)] if len(self.completed) < len(PHASES) else None

    @classmethod
    def start(cls, check_id: str, district: District, social_space: str, started_on: date) -> Teilhabecheck:
        check = cls(check_id)
        space = valid_text(social_space, "social_space", 2, 200)
        check._record(
            TeilhabecheckStarted(
                check_id=check_id, district=district, social_space=space, started_on=started_on
            )
        )
        return check

    def record_finding(self, text: str) -> None:
        phase = self._ongoing()
        self._record(TeilhabeFindingRecorded(check_id=self.id, phase=phase, text=valid_text(text)))

    def complete_phase(self, phase: TeilhabePhase, on: date) -> None:
        current = self._ongoing()
        if phase is not current:
            raise DomainRuleViolation(
                f"No phase may be skipped: the analysis is in the phase “{PHASE_EN[current]}”.",
                f"Keine Phase darf übersprungen werden: Die Analyse ist in der Phase „{PHASE_DE[current]}“.",
            )
        assert self.started_on is not None
        if on < self.started_on:
            raise InvalidInput(
                "A phase cannot end before the analysis began.",
                "Eine Phase kann nicht vor Beginn der Analyse enden.",
                field="completed_on",
            )
        if self.last_completed_on is not None and on < self.last_completed_on:
            before = f"{self.last_completed_on:%d.%m.%Y}"
            raise InvalidInput(
                f"A phase cannot end before the one before it (completed on {before}).",
                f"Eine Phase kann nicht vor der vorigen enden (abgeschlossen am {before}).",
                field="completed_on",
            )
        if phase is TeilhabePhase.RECOMMENDATIONS and not self.recommendations:
            raise DomainRuleViolation(
                "Write at least one recommendation before completing the last phase.",
                "Bitte mindestens eine Empfehlung schreiben, bevor die letzte Phase abgeschlossen wird.",
            )
        self._record(TeilhabePhaseCompleted(check_id=self.id, phase=phase, completed_on=on))

    def recommend(self, recommendation_id: str, text: str, addressee: str | None) -> None:
        if self._ongoing() is not TeilhabePhase.RECOMMENDATIONS:
            raise DomainRuleViolation(
                "Recommendations are written in the last phase.",
                "Empfehlungen werden in der letzten Phase geschrieben.",
            )
        cleaned = addressee.strip() if addressee else None
        self._record(
            TeilhabeRecommendationMade(
                check_id=self.id,
                recommendation_id=recommendation_id,
                text=valid_text(text),
                addressee=cleaned or None,
            )
        )

    def follow_up(self, recommendation_id: str, adoption: Adoption, on: date, note: str | None) -> None:
        if recommendation_id not in self.recommendations:  # the id is in the address: 404, like the analysis
            raise NotFound(
                f"There is no recommendation {recommendation_id} in this analysis.",
                f"Die Empfehlung {recommendation_id} gibt es in dieser Analyse nicht.",
            )
        assert self.started_on is not None
        if on < self.started_on:
            raise InvalidInput(
                "A follow-up cannot be dated before the analysis began.",
                "Ein Stand kann nicht vor Beginn der Analyse datiert sein.",
                field="on",
            )
        cleaned = (note.strip() if note else None) or None
        if self.recommendations[recommendation_id] == (adoption, on, cleaned):
            return  # the same form sent twice
        self._record(
            TeilhabeRecommendationFollowedUp(
                check_id=self.id,
                recommendation_id=recommendation_id,
                adoption=adoption,
                on=on,
                note=cleaned,
            )
        )

    def _ongoing(self) -> TeilhabePhase:
        if self.phase is None:
            raise DomainRuleViolation(
                "All phases of this analysis are completed.", "Alle Phasen dieser Analyse sind abgeschlossen."
            )
        return self.phase

    def apply(self, event: DomainEvent) -> None:
        match event:
            case TeilhabecheckStarted():
                self.started_on = event.started_on
            case TeilhabePhaseCompleted():
                self.completed.append(event.phase)
                self.last_completed_on = event.completed_on
            case TeilhabeRecommendationMade():
                self.recommendations[event.recommendation_id] = (Adoption.OPEN, None, None)
            case TeilhabeRecommendationFollowedUp():
                self.recommendations[event.recommendation_id] = (event.adoption, event.on, event.note)
