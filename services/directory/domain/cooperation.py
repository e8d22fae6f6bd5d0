"""A cooperation of an MO (or refugee initiative) with a district office, a specialist service or a
labour-market actor, in one field of work: active from its start until it ends.

Rules: the MO side must be an MO or refugee initiative, the partner an administration or service of those
three kinds; both exist and are not archived; the same pair does not cooperate twice in the same field at
the same time (the handler checks the read model in the same transaction); no end before the start.
"""

from __future__ import annotations

from datetime import date

from shared.contracts.directory import (
    COOPERATING_KINDS,
    COOPERATION_PARTNER_KINDS,
    CooperationEnded,
    CooperationStarted,
    FieldOfWork,
    OrganisationKind,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput


class Cooperation(Aggregate):
    stream_prefix = "cooperation"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.started_on: date | None = None
        self.ended = False

    @classmethod
    def start(
        cls,
        cooperation_id: str,
        organisation: tuple[str, OrganisationKind],
        partner: tuple[str, OrganisationKind],
        field_of_work: FieldOfWork,
        started_on: date,
    ) -> Cooperation:
        if organisation[1] not in COOPERATING_KINDS:
            raise InvalidInput(
                "Only an MO or a refugee initiative enters a cooperation here.",
                "Eine Kooperation geht hier nur eine MO oder Geflüchteteninitiative ein.",
                field="organisation_id",
            )
        if partner[1] not in COOPERATION_PARTNER_KINDS:
            raise InvalidInput(
                "The partner must be a district office, a specialist service or a labour-market actor.",
                "Partner muss ein Bezirksamt, ein Fachdienst oder ein Arbeitsmarktakteur sein.",
                field="partner_id",
            )
        cooperation = cls(cooperation_id)
        cooperation._record(
            CooperationStarted(
                cooperation_id=cooperation_id,
                organisation_id=organisation[0],
                partner_id=partner[0],
                field_of_work=field_of_work,
                started_on=started_on,
            )
        )
        return cooperation

    def end(self, ended_on: date) -> None:
        if self.ended:
            raise DomainRuleViolation(
                "This cooperation has already ended.", "Diese Kooperation ist bereits beendet."
            )
        assert self.started_on is not None
        if ended_on < self.started_on:
            raise InvalidInput(
                f"The end cannot lie before the start ({self.started_on:%d.%m.%Y}).",
                f"Das Ende kann nicht vor dem Beginn ({self.started_on:%d.%m.%Y}) liegen.",
                field="ended_on",
            )
        self._record(CooperationEnded(cooperation_id=self.id, ended_on=ended_on))

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CooperationStarted():
                self.started_on = event.started_on
            case CooperationEnded():
                self.ended = True
