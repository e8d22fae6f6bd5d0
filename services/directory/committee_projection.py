"""The committees read model: a row per committee, one per seat period (an organisation may hold a seat,
give it up and take one again later).

Its own metadata, so that rebuilding it never drops another read model's tables. Representatives are kept
as contact ids only; their names are opened from the contacts read model when read, so an erased person
reads as erased here too.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Column, Date, ForeignKey, Integer, MetaData, String, Table, Text, insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.store import RecordedEvent

committee_metadata = MetaData()

committees = Table(
    "committees",
    committee_metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("district", String(40), nullable=True),  # None: all of Berlin
    Column("topic", Text, nullable=True),
    Column("dissolved_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)

committee_seats = Table(
    "committee_seats",
    committee_metadata,
    Column("committee_id", String(36), ForeignKey("committees.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", String(36), primary_key=True, index=True),
    Column("since_version", Integer, primary_key=True),  # the committee's version that began this period
    Column("representative_id", String(36), nullable=True),
    Column("taken_on", Date, nullable=False),
    Column("vacated_on", Date, nullable=True),
)


class CommitteesProjection:
    name = "committees"
    metadata = committee_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        match event.type.removeprefix("ikmo.directory.committee."):
            case "recorded":
                await conn.execute(
                    insert(committees).values(
                        id=data["committee_id"],
                        name=data["name"],
                        kind=data["kind"],
                        district=data["district"],
                        topic=data["topic"],
                        version=event.version,
                    )
                )
                return
            case "seat_taken":
                await conn.execute(
                    insert(committee_seats).values(
                        committee_id=data["committee_id"],
                        organisation_id=data["organisation_id"],
                        since_version=event.version,
                        representative_id=data["representative_id"],
                        taken_on=date.fromisoformat(data["taken_on"]),
                    )
                )
            case "seat_vacated":
                await self._end_seats(
                    conn,
                    data["committee_id"],
                    date.fromisoformat(data["vacated_on"]),
                    data["organisation_id"],
                )
            case "dissolved":
                dissolved_on = date.fromisoformat(data["dissolved_on"])
                await self._end_seats(conn, data["committee_id"], dissolved_on)
                await conn.execute(
                    update(committees)
                    .where(committees.c.id == data["committee_id"])
                    .values(dissolved_on=dissolved_on)
                )
            case _:
                return
        await conn.execute(
            update(committees).where(committees.c.id == data["committee_id"]).values(version=event.version)
        )

    async def _end_seats(
        self, conn: AsyncConnection, committee_id: str, on: date, organisation_id: str | None = None
    ) -> None:
        s = committee_seats.c
        conditions = [s.committee_id == committee_id, s.vacated_on.is_(None)]
        if organisation_id is not None:
            conditions.append(s.organisation_id == organisation_id)
        await conn.execute(update(committee_seats).where(*conditions).values(vacated_on=on))
