"""Which people are told what after a decision: pure, from the events the decision recorded.

The handler writes one notice per entry into the mail outbox in the same transaction as the events, so a
notice exists exactly when its reason was stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.events.domain.model import Event
from shared.contracts.events import (
    EventCancelled,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationPromoted,
    RegistrationWaitlisted,
)
from shared.domain import DomainEvent


class NoticeKind(StrEnum):
    CONFIRMATION = "confirmation"  # you have a place
    WAITLIST = "waitlist"  # the event is full, you are on the waitlist
    PROMOTION = "promotion"  # a place became free: it is yours
    CANCELLATION = "cancellation"  # your registration was cancelled
    EVENT_CANCELLED = "event_cancelled"  # the event will not take place
    ALREADY_REGISTERED = "already_registered"  # someone used the public form again: your link, once more


@dataclass(frozen=True)
class NoticeDue:
    kind: NoticeKind
    registration_id: str
    position: int | None = None  # the place on the waitlist


def notices_for(event: Event, recorded: Sequence[DomainEvent]) -> list[NoticeDue]:
    """`event` is the aggregate after the decision; `recorded` what the decision appended."""
    due: list[NoticeDue] = []
    for change in recorded:
        match change:
            case RegistrationConfirmed():
                due.append(NoticeDue(NoticeKind.CONFIRMATION, change.registration_id))
            case RegistrationWaitlisted():
                due.append(NoticeDue(NoticeKind.WAITLIST, change.registration_id, change.position))
            case RegistrationPromoted():
                due.append(NoticeDue(NoticeKind.PROMOTION, change.registration_id))
            case RegistrationCancelled():
                due.append(NoticeDue(NoticeKind.CANCELLATION, change.registration_id))
            case EventCancelled():
                # Cancelling the event leaves registrations as they were: everyone still active is told.
                due.extend(
                    NoticeDue(NoticeKind.EVENT_CANCELLED, r.id)
                    for r in event.registrations.values()
                    if r.active
                )
    # whoever is erased (now or before) is told nothing more: there is no key left to seal a notice with
    return [d for d in due if not event.registrations[d.registration_id].erased]
