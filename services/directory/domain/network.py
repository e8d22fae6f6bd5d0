"""The network aggregate: organisations working together on a topic, members joining and leaving over time.

Rules (German and English messages):
- a name has 2 to 200 characters; at least one coordinating organisation;
- an organisation is a member at most once at a time (it may leave and join again later);
- no one joins before the network was founded; only a member can leave, and not before it joined;
- whether an organisation may join at all (it exists, it is not archived) is the organisation's state: the
  handler checks it with the Organisation aggregate before calling `join`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.directory.domain.model import valid_name
from shared.contracts.directory import NetworkFounded, NetworkMemberJoined, NetworkMemberLeft
from shared.domain import Aggregate, DomainEvent
from shared.errors import DomainRuleViolation, InvalidInput

TOPIC_MAX = 500


@dataclass
class Period:
    joined_on: date
    left_on: date | None = None


class Network(Aggregate):
    stream_prefix = "network"

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.name = ""
        self.founded_on: date | None = None
        self.coordinators: tuple[str, ...] = ()
        self.periods: dict[str, list[Period]] = {}

    # -- decisions ---------------------------------------------------------------------------------------

    @classmethod
    def found(
        cls, network_id: str, name: str, topic: str | None, coordinators: tuple[str, ...], founded_on: date
    ) -> Network:
        unique = tuple(dict.fromkeys(coordinators))
        if not unique:
            raise InvalidInput(
                "Name at least one coordinating organisation.",
                "Bitte mindestens eine koordinierende Organisation angeben.",
                field="coordinators",
            )
        cleaned_topic = " ".join(topic.split()) if topic else None
        if cleaned_topic and len(cleaned_topic) > TOPIC_MAX:
            raise InvalidInput(
                f"The topic may have at most {TOPIC_MAX} characters.",
                f"Das Thema darf höchstens {TOPIC_MAX} Zeichen haben.",
                field="topic",
            )
        network = cls(network_id)
        network._record(
            NetworkFounded(
                network_id=network_id,
                name=valid_name(name),
                topic=cleaned_topic or None,
                coordinators=list(unique),
                founded_on=founded_on,
            )
        )
        return network

    def is_member(self, organisation_id: str) -> bool:
        periods = self.periods.get(organisation_id, [])
        return bool(periods) and periods[-1].left_on is None

    def join(self, organisation_id: str, joined_on: date) -> None:
        if self.is_member(organisation_id):
            raise DomainRuleViolation(
                "This organisation is already a member of the network.",
                "Diese Organisation ist bereits Mitglied des Netzwerks.",
            )
        if self.founded_on is not None and joined_on < self.founded_on:
            raise InvalidInput(
                f"No one can join before the network was founded ({self.founded_on:%d.%m.%Y}).",
                f"Ein Beitritt ist erst ab der Gründung des Netzwerks ({self.founded_on:%d.%m.%Y}) möglich.",
                field="joined_on",
            )
        periods = self.periods.get(organisation_id, [])
        if periods and periods[-1].left_on is not None and joined_on < periods[-1].left_on:
            raise InvalidInput(
                f"It can join again only from the day it left ({periods[-1].left_on:%d.%m.%Y}).",
                f"Erneuter Beitritt erst nach dem Austritt am {periods[-1].left_on:%d.%m.%Y} möglich.",
                field="joined_on",
            )
        self._record(
            NetworkMemberJoined(network_id=self.id, organisation_id=organisation_id, joined_on=joined_on)
        )

    def leave(self, organisation_id: str, left_on: date) -> None:
        if not self.is_member(organisation_id):
            raise DomainRuleViolation(
                "This organisation is not a member of the network.",
                "Diese Organisation ist kein Mitglied des Netzwerks.",
            )
        joined_on = self.periods[organisation_id][-1].joined_on
        if left_on < joined_on:
            raise InvalidInput(
                f"It cannot leave before it joined ({joined_on:%d.%m.%Y}).",
                f"Der Austritt kann nicht vor dem Beitritt ({joined_on:%d.%m.%Y}) liegen.",
                field="left_on",
            )
        self._record(NetworkMemberLeft(network_id=self.id, organisation_id=organisation_id, left_on=left_on))

    # -- state -------------------------------------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        match event:
            case NetworkFounded():
                self.name = event.name
                self.founded_on = event.founded_on
                self.coordinators = tuple(event.coordinators)
                for organisation_id in event.coordinators:
                    self.periods[organisation_id] = [Period(event.founded_on)]
            case NetworkMemberJoined():
                self.periods.setdefault(event.organisation_id, []).append(Period(event.joined_on))
            case NetworkMemberLeft():
                self.periods[event.organisation_id][-1].left_on = event.left_on
