"""A committee (Beirat, Gremium, Arbeitsgruppe) of a district or of Berlin, and the MOs holding seats in it
over time, each optionally represented by one of its contact persons.

Rules (German and English messages):
- a name of 2 to 200 characters; a topic of at most 500;
- only an MO or a refugee initiative takes a seat: this is about their representation;
- an organisation holds at most one seat at a time; it may take one again from the day it gave it up;
- only a seat holder vacates, and not before it took the seat;
- a dissolved committee takes no new seats; dissolving ends every seat still held, not before it began.
Whether the organisation exists and is not archived, and whether the representative is a current contact
of that organisation, is their aggregates' state: the handler checks it before calling `take_seat`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.directory.domain.model import valid_name
from shared.contracts.directory import (
    COOPERATING_KINDS,
    CommitteeDissolved,
    CommitteeKind,
    CommitteeRecorded,
    CommitteeSeatTaken,
    CommitteeSeatVacated,
    District,
    OrganisationKind,
)
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

TOPIC_MAX = 500
SEAT_HOLDING_KINDS = COOPERATING_KINDS  # MOs and refugee initiatives


@dataclass
class Seat:
    taken_on: date
    representative_id: str | None
    vacated_on: date | None = None


class Committee(Aggregate):
    stream_prefix = "committee"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.name = ""
        self.dissolved_on: date | None = None
        self.seats: dict[str, list[Seat]] = {}

    # -- decisions ---------------------------------------------------------------------------------------

    @classmethod
    def record(
        cls,
        committee_id: str,
        name: str,
        kind: CommitteeKind,
        district: District | None,
        topic: str | None = None,
    ) -> Committee:
        cleaned_topic = " ".join(topic.split()) if topic else None
        if cleaned_topic and len(cleaned_topic) > TOPIC_MAX:
            raise InvalidInput(
                f"The topic may have at most {TOPIC_MAX} characters.",
                f"Das Thema darf höchstens {TOPIC_MAX} Zeichen haben.",
                field="topic",
            )
        committee = cls(committee_id)
        committee._record(
            CommitteeRecorded(
                committee_id=committee_id,
                name=valid_name(name),
                kind=kind,
                district=district,
                topic=cleaned_topic or None,
            )
        )
        return committee

    def holds_seat(self, organisation_id: str) -> bool:
        seats = self.seats.get(organisation_id, [])
        return bool(seats) and seats[-1].vacated_on is None

    def current_seats(self) -> dict[str, Seat]:
        return {org: seats[-1] for org, seats in self.seats.items() if seats[-1].vacated_on is None}

    def take_seat(
        self,
        organisation: tuple[str, OrganisationKind],
        representative_id: str | None,
        taken_on: date,
    ) -> None:
        organisation_id, kind = organisation
        self._ensure_not_dissolved()
        if kind not in SEAT_HOLDING_KINDS:
            raise InvalidInput(
                "Only an MO or a refugee initiative takes a seat here.",
                "Einen Sitz nimmt hier nur eine MO oder Geflüchteteninitiative ein.",
                field="organisation_id",
            )
        if self.holds_seat(organisation_id):
            raise DomainRuleViolation(
                "This organisation already holds a seat in the committee.",
                "Diese Organisation hat bereits einen Sitz in diesem Gremium.",
            )
        seats = self.seats.get(organisation_id, [])
        if seats and seats[-1].vacated_on is not None and taken_on < seats[-1].vacated_on:
            vacated = seats[-1].vacated_on
            raise InvalidInput(
                f"It can take a seat again only from the day it gave it up ({vacated:%d.%m.%Y}).",
                f"Ein neuer Sitz ist erst ab der Aufgabe des alten am {vacated:%d.%m.%Y} möglich.",
                field="taken_on",
            )
        self._record(
            CommitteeSeatTaken(
                committee_id=self.id,
                organisation_id=organisation_id,
                representative_id=representative_id,
                taken_on=taken_on,
            )
        )

    def vacate_seat(self, organisation_id: str, vacated_on: date) -> None:
        if not self.holds_seat(organisation_id):
            raise DomainRuleViolation(
                "This organisation holds no seat in the committee.",
                "Diese Organisation hat keinen Sitz in diesem Gremium.",
            )
        taken_on = self.seats[organisation_id][-1].taken_on
        if vacated_on < taken_on:
            raise InvalidInput(
                f"The seat cannot end before it began ({taken_on:%d.%m.%Y}).",
                f"Der Sitz kann nicht vor seinem Beginn ({taken_on:%d.%m.%Y}) enden.",
                field="vacated_on",
            )
        self._record(
            CommitteeSeatVacated(committee_id=self.id, organisation_id=organisation_id, vacated_on=vacated_on)
        )

    def dissolve(self, dissolved_on: date) -> None:
        self._ensure_not_dissolved()
        latest = max((seat.taken_on for seat in self.current_seats().values()), default=None)
        if latest is not None and dissolved_on < latest:
            raise InvalidInput(
                f"A seat began on {latest:%d.%m.%Y}; the committee cannot end before that.",
                f"Ein Sitz begann am {latest:%d.%m.%Y}; das Gremium kann nicht davor enden.",
                field="dissolved_on",
            )
        self._record(CommitteeDissolved(committee_id=self.id, dissolved_on=dissolved_on))

    def _ensure_not_dissolved(self) -> None:
        if self.dissolved_on is not None:
            raise DomainRuleViolation(
                f"This committee was dissolved on {self.dissolved_on:%d.%m.%Y}.",
                f"Dieses Gremium wurde am {self.dissolved_on:%d.%m.%Y} aufgelöst.",
            )

    # -- state -------------------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case CommitteeRecorded():
                self.name = event.name
            case CommitteeSeatTaken():
                self.seats.setdefault(event.organisation_id, []).append(
                    Seat(event.taken_on, event.representative_id)
                )
            case CommitteeSeatVacated():
                self.seats[event.organisation_id][-1].vacated_on = event.vacated_on
            case CommitteeDissolved():
                self.dissolved_on = event.dissolved_on
                for seat in self.current_seats().values():
                    seat.vacated_on = event.dissolved_on
