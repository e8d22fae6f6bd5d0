"""Commands: what a person or program asks the events service to do (imperative names).

Organisations arrive already looked up (`OrganisationRef`): whether one exists and is active is the
handler's question to the replica of the directory; which kind may host or speak is the domain's rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.contracts.directory import District, OrganisationKind
from shared.contracts.events import EventFormat, FundingLine, Topic


@dataclass(frozen=True)
class OrganisationRef:
    """An organisation named by id; kind and name are filled in when the handler looked it up."""

    id: str
    kind: OrganisationKind | None = None
    name: str = ""


@dataclass(frozen=True)
class EventPlan:
    """Everything that describes an event except its places (capacity has rules of its own)."""

    title: str
    format: EventFormat
    topics: tuple[Topic, ...]
    funding_line: FundingLine
    starts_at: datetime
    ends_at: datetime
    registration_deadline: datetime
    online: bool = False
    venue: str | None = None
    district: District | None = None
    description: str | None = None
    network_id: str | None = None
    host: OrganisationRef | None = None
    speakers: tuple[OrganisationRef, ...] = ()


@dataclass(frozen=True)
class DraftEvent:
    plan: EventPlan
    capacity: int


@dataclass(frozen=True)
class ChangeEventDetails:
    """Only the named fields of the plan change (`EventPlan` field names; None clears an optional one)."""

    event_id: str
    changes: Mapping[str, Any]
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeCapacity:
    event_id: str
    capacity: int
    expected_version: int | None = None


@dataclass(frozen=True)
class Register:
    """A person registers, usually on behalf of an organisation.

    `late` lets staff register someone after the deadline (a registration by phone on the day); the
    public form never sets it. The token is the secret of the person's cancellation link.
    """

    event_id: str
    name: str
    email: str
    organisation_id: str | None = None
    phone: str | None = None
    late: bool = False
    consent: str | None = None  # the wording the person agreed to on the public form
    registration_id: str = ""
    cancel_token: str = field(default="", repr=False)


CORRECTABLE = ("name", "email", "phone", "organisation_id")


@dataclass(frozen=True)
class CorrectRegistration:
    """Staff correct who registered: only the named fields change (`CORRECTABLE`; None clears the phone
    or the organisation). The organisation arrives looked up, as in `Register`. `expected_version`: the
    event's version the person saw (their form, If-Match), so that of two corrections made at once the
    later is refused instead of silently undoing the earlier; None means no check. `cancel_token`: a
    fresh secret for the personal link (made by the handler, as for `Register`), taken when the address
    changes, since the mistyped address, maybe a stranger's, was sent the old link."""

    event_id: str
    registration_id: str
    changes: Mapping[str, str | None]
    expected_version: int | None = None
    cancel_token: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        unknown = set(self.changes) - set(CORRECTABLE)
        if unknown:
            raise ValueError(f"not correctable: {sorted(unknown)}")
