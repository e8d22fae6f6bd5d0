"""Which people are told what after a decision: pure, from the events the decision recorded.

The handler writes one notice per entry into the mail outbox in the same transaction as the events, so a
notice exists exactly when its reason was stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.events.domain.model import Details, Event
from shared.contracts.events import (
    EventCancelled,
    EventDetailsChanged,
    EventStatus,
    RegistrationCancelled,
    RegistrationConfirmed,
    RegistrationCorrected,
    RegistrationPromoted,
    RegistrationStatus,
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
    DETAILS_CHANGED = "details_changed"  # the time or the place of a published event changed


# What a registrant plans their day around: a change of any of these is worth an e-mail; a new title,
# description or topic is not (the event page shows those).
WHEN_AND_WHERE = frozenset({"starts_at", "ends_at", "online", "venue", "district"})


@dataclass(frozen=True)
class NoticeDue:
    kind: NoticeKind
    registration_id: str
    position: int | None = None  # the place on the waitlist
    previous: Details | None = None  # before a change of time or place: what the person planned for


def moved(before: Details, after: Details) -> bool:
    """Whether a registrant would plan their day differently: another minute or place (a time stored with
    seconds and saved again from a form, to the minute, has not moved)."""

    def minute(moment: datetime) -> datetime:
        return moment.replace(second=0, microsecond=0)

    return (
        minute(before.starts_at) != minute(after.starts_at)
        or minute(before.ends_at) != minute(after.ends_at)
        or (before.online, before.venue, before.district) != (after.online, after.venue, after.district)
    )


def notices_for(
    event: Event,
    recorded: Sequence[DomainEvent],
    previous: Details | None = None,
    now: datetime | None = None,
) -> list[NoticeDue]:
    """`event` is the aggregate after the decision; `recorded` what the decision appended; `previous`
    the description before it, when the decision changed the description; `now` the time of the
    decision: once the event is over, a record put right (its venue, an address) mails nobody."""
    assert event.details is not None
    over = now is not None and now >= event.details.ends_at
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
            case RegistrationCorrected() if (
                "email" in change.changed and event.status == EventStatus.PUBLISHED and not over
            ):
                # the address was mistyped, so the confirmation (with the personal link) never arrived:
                # it goes again, to the corrected address
                registration = event.registrations[change.registration_id]
                if registration.status == RegistrationStatus.CONFIRMED:
                    due.append(NoticeDue(NoticeKind.CONFIRMATION, registration.id))
                elif registration.status == RegistrationStatus.WAITLISTED:
                    position = event.waitlist_position(registration.id)
                    due.append(NoticeDue(NoticeKind.WAITLIST, registration.id, position))
            case EventDetailsChanged() if (
                previous is not None
                and event.status == EventStatus.PUBLISHED
                and WHEN_AND_WHERE & set(change.changed)
                and moved(previous, event.details)
                and not (now is not None and now >= previous.ends_at)
            ):
                # a draft has nobody to tell; after publication everyone holding a place or waiting is
                due.extend(
                    NoticeDue(NoticeKind.DETAILS_CHANGED, r.id, event.waitlist_position(r.id), previous)
                    for r in event.registrations.values()
                    if r.active
                )
    # whoever is erased (now or before) is told nothing more: there is no key left to seal a notice with
    return [d for d in due if not event.registrations[d.registration_id].erased]
