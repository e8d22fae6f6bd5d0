"""The advice read model: a row per advice session and a row per process accompaniment.

Its own metadata, so rebuilding it never drops the calendar's tables. The advised person and the minutes stay
in the sealed form they have in the log (the vault opens them when VIA's page shows them), so erasing the key
makes this table unreadable for that session too, without touching it. Totals (sessions, hours) are summed
from the session rows when read, so a corrected duration can never leave a stale total behind.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.store import RecordedEvent

consultation_metadata = MetaData()

consultations = Table(
    "consultations",
    consultation_metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),  # as recorded; merges followed on read
    Column("accompaniment_id", String(36), nullable=True, index=True),
    Column("topics", JSON, nullable=False),
    Column("held_on", Date, nullable=False, index=True),
    Column("duration_minutes", Integer, nullable=False),
    Column("format", String(20), nullable=False),
    Column("funding_line", String(20), nullable=False),
    Column("adviser_id", String(200), nullable=True),
    Column("person_advised", JSON, nullable=True),  # sealed
    Column("minutes", JSON, nullable=True),  # sealed
    Column("erased", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

accompaniments = Table(
    "accompaniments",
    consultation_metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),
    Column("topics", JSON, nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("goal", Text, nullable=True),
    Column("closed_on", Date, nullable=True),
    Column("outcome", String(20), nullable=True),
    Column("note", Text, nullable=True),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

_FACTS = ("organisation_id", "accompaniment_id", "topics", "duration_minutes", "format", "funding_line")


def _facts(data: dict[str, Any]) -> dict[str, Any]:
    return {**{k: data[k] for k in _FACTS}, "held_on": date.fromisoformat(data["held_on"])}


class ConsultationsProjection:
    name = "consultations"
    metadata = consultation_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data, at = event.data, event.recorded_at
        kind = event.type.removeprefix("ikmo.events.")
        match kind:
            case "consultation.recorded":
                await conn.execute(
                    insert(consultations).values(
                        id=data["consultation_id"],
                        **_facts(data),
                        erased=False,
                        version=event.version,
                        recorded_at=at,
                        updated_at=at,
                    )
                )
            case "consultation.corrected":
                await self._consultation(conn, event, **_facts(data))
            case "consultation.noted":
                await self._consultation(
                    conn,
                    event,
                    adviser_id=data["adviser_id"],
                    person_advised=data.get("person_advised"),
                    minutes=data.get("minutes"),
                )
            case "consultation.erased":
                await self._consultation(conn, event, erased=True)
            case "accompaniment.opened":
                await conn.execute(
                    insert(accompaniments).values(
                        id=data["accompaniment_id"],
                        organisation_id=data["organisation_id"],
                        topics=data["topics"],
                        opened_on=date.fromisoformat(data["opened_on"]),
                        version=event.version,
                        updated_at=at,
                    )
                )
            case "accompaniment.goal_noted":
                await self._accompaniment(conn, event, goal=data["goal"])
            case "accompaniment.closed":
                await self._accompaniment(
                    conn, event, closed_on=date.fromisoformat(data["closed_on"]), outcome=data["outcome"]
                )
            case "accompaniment.outcome_noted":
                await self._accompaniment(conn, event, note=data["note"])
            case "accompaniment.session_added" | "accompaniment.session_changed":
                await self._accompaniment(conn, event)
            case _:
                return

    async def _consultation(self, conn: AsyncConnection, event: RecordedEvent, **values: object) -> None:
        await conn.execute(
            update(consultations)
            .where(consultations.c.id == event.data["consultation_id"])
            .values(version=event.version, updated_at=event.recorded_at, **values)
        )

    async def _accompaniment(self, conn: AsyncConnection, event: RecordedEvent, **values: object) -> None:
        await conn.execute(
            update(accompaniments)
            .where(accompaniments.c.id == event.data["accompaniment_id"])
            .values(version=event.version, updated_at=event.recorded_at, **values)
        )
