"""The merges read model: which record was merged into which, so that a lookup of an absorbed id finds the
survivor and a survivor's page finds the records it took over.

Its own metadata (rebuilding it never drops another read model's tables). The organisations read model
marks a merged record as no longer taking part (`archived`), so every list and choice leaves it out; this
table says why and where it went.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.store import RecordedEvent

merge_metadata = MetaData()

organisation_merges = Table(
    "organisation_merges",
    merge_metadata,
    Column("absorbed_id", String(36), primary_key=True),
    Column("survivor_id", String(36), nullable=False, index=True),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=True),
)


class MergesProjection:
    name = "organisation_merges"
    metadata = merge_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        if event.type != "ikmo.directory.organisation.merged":
            return
        data = event.data
        await conn.execute(
            insert(organisation_merges).values(
                absorbed_id=data["organisation_id"],
                survivor_id=data["merged_into"],
                merged_at=event.recorded_at,
                reason=data["reason"],
            )
        )
