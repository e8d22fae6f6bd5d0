"""Read models of the events service: the calendar (one row per event) and the registrations.

Updated inline in the append's transaction; rebuilt from the log by `ikmo rebuild events`. Personal values
stay in the sealed form they have in the log (the vault opens them when a page shows them), so erasing a
person's key makes the read model unreadable too, without touching it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.store import RecordedEvent

metadata = MetaData()

calendar = Table(
    "calendar_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("format", String(40), nullable=False),
    Column("topics", JSON, nullable=False),
    Column("funding_line", String(20), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Column("ends_at", DateTime(timezone=True), nullable=False),
    Column("registration_deadline", DateTime(timezone=True), nullable=False),
    Column("online", Boolean, nullable=False),
    Column("venue", Text, nullable=True),
    Column("district", String(40), nullable=True),
    Column("description", Text, nullable=True),
    Column("network_id", String(36), nullable=True),
    Column("host_organisation_id", String(36), nullable=True),
    Column("speaker_organisation_ids", JSON, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=True),  # once public, always in the feed
    Column("cancel_reason", String(40), nullable=True),  # a CancellationReason, never free text
    Column("confirmed", Integer, nullable=False, default=0),
    Column("waitlisted", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_calendar_events_starts_at", "starts_at"),
)

registrations = Table(
    "event_registrations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False, index=True),
    Column("name", JSON, nullable=False),  # sealed
    Column("email", JSON, nullable=False),  # sealed
    Column("phone", JSON, nullable=True),  # sealed
    Column("organisation_id", String(36), nullable=True, index=True),
    Column("status", String(20), nullable=True),
    # The event's version when the registration joined the waitlist: the waitlist's order.
    Column("waitlisted_at_version", Integer, nullable=True),
    Column("promoted", Boolean, nullable=False, default=False),
    Column("cancel_token_hash", String(64), nullable=False, unique=True),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_by", String(20), nullable=True),
    # the wording agreed to on the public form (proof of consent, GDPR Art. 7(1)); None: registered by staff
    Column("consent", Text, nullable=True),
    Column("erased", Boolean, nullable=False, default=False),
)

# Who took part (one row per registration checked in at least once): kept apart from the registrations so
# that it grows with attendance and feedback without touching the waitlist's table.
participation = Table(
    "event_participation",
    metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False, index=True),
    Column("attended", Boolean, nullable=False),
    Column("attended_at", DateTime(timezone=True), nullable=True),
    Column("changed_at", DateTime(timezone=True), nullable=False),
)

# The feedback of those who took part: the rating, and the comment sealed as in the log (erasure shreds it).
feedback = Table(
    "event_feedback",
    metadata,
    Column("registration_id", String(36), primary_key=True),
    Column("event_id", String(36), nullable=False, index=True),
    Column("rating", Integer, nullable=False),
    Column("comment", JSON, nullable=True),  # sealed
    Column("given_by", String(20), nullable=False),
    Column("given_at", DateTime(timezone=True), nullable=False),
)

# VIA's note on why an event was cancelled: a table apart, so that no read of the calendar (the public one
# included) carries it unless it asks for it.
cancellation_notes = Table(
    "event_cancellation_notes",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("note", Text, nullable=False),
    Column("noted_at", DateTime(timezone=True), nullable=False),
)

_DETAILS = (
    "title",
    "format",
    "topics",
    "funding_line",
    "online",
    "venue",
    "district",
    "description",
    "network_id",
    "host_organisation_id",
    "speaker_organisation_ids",
)
_TIMES = ("starts_at", "ends_at", "registration_deadline")


def _details(data: dict[str, Any]) -> dict[str, Any]:
    values = {key: data[key] for key in _DETAILS}
    # In UTC: SQLite keeps a time without its offset, so one stored with +01:00 would read back an hour off.
    values.update({key: datetime.fromisoformat(data[key]).astimezone(UTC) for key in _TIMES})
    return values


class CalendarProjection:
    """The calendar and the registrations: both change with every event of an event's stream."""

    name = "calendar"
    metadata = metadata

    async def apply(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        data = recorded.data
        service, _, kind = recorded.type.removeprefix("ikmo.events.").partition(".")
        if service == "event":
            await self._event(conn, recorded, kind, data)
        elif service == "registration":
            await self._registration(conn, recorded, kind, data)

    async def _event(self, conn: AsyncConnection, recorded: RecordedEvent, kind: str, data: dict) -> None:
        match kind:
            case "drafted":
                await conn.execute(
                    insert(calendar).values(
                        id=data["event_id"],
                        **_details(data),
                        capacity=data["capacity"],
                        status="draft",
                        confirmed=0,
                        waitlisted=0,
                        version=recorded.version,
                        created_at=recorded.recorded_at,
                        updated_at=recorded.recorded_at,
                    )
                )
            case "details_changed":
                await self._touch(conn, recorded, **_details(data))
            case "capacity_changed":
                await self._touch(conn, recorded, capacity=data["capacity"])
            case "published":
                await self._touch(conn, recorded, status="published", published_at=recorded.recorded_at)
            case "cancelled":
                await self._touch(conn, recorded, status="cancelled", cancel_reason=data["reason"])
            case "cancellation_noted":  # right after its cancellation, in the same append
                await conn.execute(
                    insert(cancellation_notes).values(
                        event_id=data["event_id"], note=data["note"], noted_at=recorded.recorded_at
                    )
                )
                await self._touch(conn, recorded)
            case "completed":
                await self._touch(conn, recorded, status="completed")

    async def _registration(
        self,
        conn: AsyncConnection,
        recorded: RecordedEvent,
        kind: str,
        data: dict,
    ) -> None:
        r = registrations.c
        at = recorded.recorded_at
        match kind:
            case "recorded":
                await conn.execute(
                    insert(registrations).values(
                        id=data["registration_id"],
                        event_id=data["event_id"],
                        name=data["name"],
                        email=data["email"],
                        phone=data.get("phone"),
                        status=None,
                        promoted=False,
                        erased=False,
                        cancel_token_hash=data["cancel_token_hash"],
                        consent=data.get("consent"),
                        registered_at=at,
                        changed_at=at,
                    )
                )
                await self._touch(conn, recorded)
            case "confirmed" | "waitlisted" | "promoted" | "cancelled":
                values: dict[str, Any] = {"changed_at": at}
                if kind in ("confirmed", "waitlisted"):
                    values["organisation_id"] = data["organisation_id"]
                if kind == "waitlisted":
                    values["waitlisted_at_version"] = recorded.version
                if kind == "promoted":
                    values["promoted"] = True
                if kind == "cancelled":
                    values["cancelled_by"] = data["by"]
                values["status"] = {"promoted": "confirmed"}.get(kind, kind)
                await conn.execute(
                    update(registrations).where(r.id == data["registration_id"]).values(**values)
                )
                await self._recount(conn, recorded)
            case "corrected":  # sealed as in the log, like the values it replaces
                corrected = {"name": data["name"], "email": data["email"], "phone": data.get("phone")}
                if data.get("cancel_token_hash"):  # a new address got a new link: the old one finds nothing
                    corrected["cancel_token_hash"] = data["cancel_token_hash"]
                await conn.execute(
                    update(registrations)
                    .where(r.id == data["registration_id"])
                    .values(**corrected, changed_at=at)
                )
                await self._touch(conn, recorded)
            case "organisation_corrected":
                await conn.execute(
                    update(registrations)
                    .where(r.id == data["registration_id"])
                    .values(organisation_id=data["organisation_id"], changed_at=at)
                )
                await self._touch(conn, recorded)
            case "erased":
                await conn.execute(
                    update(registrations)
                    .where(r.id == data["registration_id"])
                    .values(erased=True, changed_at=at)
                )
                await self._touch(conn, recorded)
            case "attended" | "attendance_withdrawn":
                await self._per_registration(
                    conn,
                    participation,
                    data,
                    attended=kind == "attended",
                    attended_at=at if kind == "attended" else None,
                    changed_at=at,
                )
                await self._touch(conn, recorded)
            case "feedback_given":
                await self._per_registration(
                    conn, feedback, data, rating=data["rating"], given_by=data["by"], given_at=at
                )
                await self._touch(conn, recorded)
            case "feedback_commented":  # always right after its feedback_given, in the same append
                await self._per_registration(conn, feedback, data, comment=data["comment"])
                await self._touch(conn, recorded)

    async def _per_registration(
        self,
        conn: AsyncConnection,
        table: Table,
        data: dict,
        **values: object,
    ) -> None:
        """Change a registration's row of `table`, making it first if there is none yet."""
        key = table.c.registration_id
        changed = await conn.execute(update(table).where(key == data["registration_id"]).values(**values))
        if not changed.rowcount:
            await conn.execute(
                insert(table).values(
                    registration_id=data["registration_id"], event_id=data["event_id"], **values
                )
            )

    async def _recount(self, conn: AsyncConnection, recorded: RecordedEvent) -> None:
        """Counts from the rows themselves: cheap (one event's registrations) and never drifting."""
        r = registrations.c
        event_id = recorded.data["event_id"]
        rows = (await conn.execute(select(r.status).where(r.event_id == event_id))).scalars().all()
        await self._touch(
            conn,
            recorded,
            confirmed=sum(1 for s in rows if s == "confirmed"),
            waitlisted=sum(1 for s in rows if s == "waitlisted"),
        )

    async def _touch(self, conn: AsyncConnection, recorded: RecordedEvent, **values: object) -> None:
        await conn.execute(
            update(calendar)
            .where(calendar.c.id == recorded.data["event_id"])
            .values(version=recorded.version, updated_at=recorded.recorded_at, **values)
        )
