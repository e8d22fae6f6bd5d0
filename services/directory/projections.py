"""The organisations read model: a row per organisation and its facets (districts, fields, languages).

Updated inline in the append's transaction; rebuilt from the log by `ikmo rebuild directory`. Search
runs on a folded copy of the name and website (case and German umlauts folded: "Paritaetischer" and
"Paritätischer" find the same), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from shared.store import RecordedEvent

metadata = MetaData()

organisations = Table(
    "organisations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("legal_form", String(40), nullable=False),
    Column("website", Text, nullable=True),
    Column("public_profile", Boolean, nullable=False),
    Column("archived", Boolean, nullable=False, default=False),
    Column("version", Integer, nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("search_text", Text, nullable=False),
)

organisation_facets = Table(
    "organisation_facets",
    metadata,
    Column(
        "organisation_id", String(36), ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("facet", String(20), primary_key=True),  # district | field_of_work | language
    Column("value", String(40), primary_key=True),
)

FACETS = {"district": "districts", "field_of_work": "fields_of_work", "language": "languages"}
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def fold(text: str) -> str:
    """Lower case, German umlauts spelled out, other accents dropped: what people type when searching."""
    spelled = text.casefold().translate(_UMLAUTS)
    return "".join(c for c in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(c))


class OrganisationsProjection:
    name = "organisations"
    metadata = metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        match event.type.removeprefix("ikmo.directory.organisation."):
            case "registered":
                await conn.execute(
                    insert(organisations).values(
                        id=data["organisation_id"],
                        name=data["name"],
                        kind=data["kind"],
                        legal_form=data["legal_form"],
                        website=data["website"],
                        public_profile=data["public_profile"],
                        archived=False,
                        version=event.version,
                        registered_at=event.recorded_at,
                        updated_at=event.recorded_at,
                        search_text=fold(f"{data['name']} {data['website'] or ''}"),
                    )
                )
                await self._facets(conn, data)
            case "profile_updated" | "duplicate_absorbed":  # a merge's survivor: its combined profile
                await self._touch(
                    conn,
                    event,
                    name=data["name"],
                    website=data["website"],
                    public_profile=data["public_profile"],
                    search_text=fold(f"{data['name']} {data['website'] or ''}"),
                )
                await self._facets(conn, data)
            case "legal_form_changed":
                await self._touch(conn, event, legal_form=data["legal_form"])
            case "archived":
                await self._touch(conn, event, archived=True)
            case "merged":  # a merged-away duplicate takes part in nothing more (where to: merge_projection)
                await self._touch(conn, event, archived=True)

    async def _touch(self, conn: AsyncConnection, event: RecordedEvent, **values: object) -> None:
        await conn.execute(
            update(organisations)
            .where(organisations.c.id == event.data["organisation_id"])
            .values(version=event.version, updated_at=event.recorded_at, **values)
        )

    async def _facets(self, conn: AsyncConnection, data: dict) -> None:
        org_id = data["organisation_id"]
        await conn.execute(delete(organisation_facets).where(organisation_facets.c.organisation_id == org_id))
        rows = [
            {"organisation_id": org_id, "facet": facet, "value": value}
            for facet, key in FACETS.items()
            for value in data[key]
        ]
        if rows:
            await conn.execute(insert(organisation_facets), rows)


# -- networks: one row per network, one per membership period ----------------------------------------------

network_metadata = MetaData()  # its own, so rebuilding one read model never drops the other's tables

networks = Table(
    "networks",
    network_metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("topic", Text, nullable=True),
    Column("founded_on", Date, nullable=False),
    Column("version", Integer, nullable=False),
)

network_memberships = Table(
    "network_memberships",
    network_metadata,
    Column("network_id", String(36), ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True),
    Column("organisation_id", String(36), primary_key=True),
    Column("since_version", Integer, primary_key=True),  # the network's version that began this period
    Column("joined_on", Date, nullable=False),
    Column("left_on", Date, nullable=True),
    Column("coordinator", Boolean, nullable=False, default=False),
)


class NetworksProjection:
    name = "networks"
    metadata = network_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        match event.type.removeprefix("ikmo.directory.network."):
            case "founded":
                founded_on = date.fromisoformat(data["founded_on"])
                await conn.execute(
                    insert(networks).values(
                        id=data["network_id"],
                        name=data["name"],
                        topic=data["topic"],
                        founded_on=founded_on,
                        version=event.version,
                    )
                )
                rows = [
                    {
                        "network_id": data["network_id"],
                        "organisation_id": org,
                        "since_version": event.version,
                        "joined_on": founded_on,
                        "coordinator": True,
                    }
                    for org in data["coordinators"]
                ]
                await conn.execute(insert(network_memberships), rows)
            case "member_joined":
                await conn.execute(
                    insert(network_memberships).values(
                        network_id=data["network_id"],
                        organisation_id=data["organisation_id"],
                        since_version=event.version,
                        joined_on=date.fromisoformat(data["joined_on"]),
                        coordinator=False,
                    )
                )
                await self._version(conn, event)
            case "member_left":
                m = network_memberships.c
                await conn.execute(
                    update(network_memberships)
                    .where(
                        m.network_id == data["network_id"],
                        m.organisation_id == data["organisation_id"],
                        m.left_on.is_(None),
                    )
                    .values(left_on=date.fromisoformat(data["left_on"]))
                )
                await self._version(conn, event)

    async def _version(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        await conn.execute(
            update(networks).where(networks.c.id == event.data["network_id"]).values(version=event.version)
        )


# -- contact persons: the personal fields stay sealed here too, and are opened only when read ---------------

contact_metadata = MetaData()

contacts = Table(
    "contacts",
    contact_metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),
    Column("role", String(20), nullable=True),
    Column("consent", Boolean, nullable=False, default=False),
    Column("personal", JSON, nullable=False),  # {"name": sealed, "email": sealed|None, "phone": sealed|None}
    Column("removed", Boolean, nullable=False, default=False),
    Column("erased", Boolean, nullable=False, default=False),
)


class ContactsProjection:
    name = "contacts"
    metadata = contact_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        match event.type.removeprefix("ikmo.directory.contact."):
            case "recorded":
                personal = {key: data.get(key) for key in ("name", "email", "phone")}
                await conn.execute(
                    insert(contacts).values(
                        id=data["contact_id"], organisation_id=data["organisation_id"], personal=personal
                    )
                )
            case "assigned" | "changed":
                await self._set(conn, data, role=data["role"], consent=data["consent"])
            case "removed":
                await self._set(conn, data, removed=True)
            case "erased":
                await self._set(conn, data, erased=True)

    async def _set(self, conn: AsyncConnection, data: dict, **values: object) -> None:
        await conn.execute(update(contacts).where(contacts.c.id == data["contact_id"]).values(**values))


# -- mentoring --------------------------------------------------------------------------------------------

mentoring_metadata = MetaData()

mentorings = Table(
    "mentorings",
    mentoring_metadata,
    Column("id", String(36), primary_key=True),
    Column("mentor_id", String(36), nullable=False, index=True),
    Column("mentee_id", String(36), nullable=False, index=True),
    Column("focus_areas", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("proposed_at", DateTime(timezone=True), nullable=False),
    Column("started_on", Date, nullable=True),
    Column("ended_on", Date, nullable=True),
    Column("reason", Text, nullable=True),
    Column("version", Integer, nullable=False),
)


class MentoringsProjection:
    name = "mentorings"
    metadata = mentoring_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        step = event.type.removeprefix("ikmo.directory.mentoring.")
        if step == "proposed":
            await conn.execute(
                insert(mentorings).values(
                    id=data["mentoring_id"],
                    mentor_id=data["mentor_id"],
                    mentee_id=data["mentee_id"],
                    focus_areas=data["focus_areas"],
                    status="proposed",
                    proposed_at=event.recorded_at,
                    version=event.version,
                )
            )
            return
        values: dict[str, object] = {"version": event.version}
        match step:
            case "started":
                values |= {"status": "active", "started_on": date.fromisoformat(data["started_on"])}
            case "completed":
                values |= {"status": "completed", "ended_on": date.fromisoformat(data["ended_on"])}
            case "ended_early":
                values |= {
                    "status": "ended_early",
                    "ended_on": date.fromisoformat(data["ended_on"]),
                    "reason": data["reason"],
                }
            case _:
                return
        await conn.execute(update(mentorings).where(mentorings.c.id == data["mentoring_id"]).values(**values))


# -- cooperations -----------------------------------------------------------------------------------------

cooperation_metadata = MetaData()

cooperations = Table(
    "cooperations",
    cooperation_metadata,
    Column("id", String(36), primary_key=True),
    Column("organisation_id", String(36), nullable=False, index=True),
    Column("partner_id", String(36), nullable=False, index=True),
    Column("field_of_work", String(40), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)


class CooperationsProjection:
    name = "cooperations"
    metadata = cooperation_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        data = event.data
        match event.type.removeprefix("ikmo.directory.cooperation."):
            case "started":
                await conn.execute(
                    insert(cooperations).values(
                        id=data["cooperation_id"],
                        organisation_id=data["organisation_id"],
                        partner_id=data["partner_id"],
                        field_of_work=data["field_of_work"],
                        started_on=date.fromisoformat(data["started_on"]),
                        version=event.version,
                    )
                )
            case "ended":
                await conn.execute(
                    update(cooperations)
                    .where(cooperations.c.id == data["cooperation_id"])
                    .values(ended_on=date.fromisoformat(data["ended_on"]), version=event.version)
                )


# -- Teilhabecheck: one row per analysis, one per finding or recommendation ----------------------------------

teilhabe_metadata = MetaData()

teilhabechecks = Table(
    "teilhabechecks",
    teilhabe_metadata,
    Column("id", String(36), primary_key=True),
    Column("district", String(40), nullable=False),
    Column("social_space", String(200), nullable=False),
    Column("started_on", Date, nullable=False),
    Column("phases_completed", Integer, nullable=False, default=0),
    Column("finished_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
)

teilhabe_items = Table(
    "teilhabe_items",
    teilhabe_metadata,
    Column("check_id", String(36), ForeignKey("teilhabechecks.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True),  # the analysis's version that recorded it: its order
    Column("kind", String(20), nullable=False),  # finding | recommendation
    Column("item_id", String(36), nullable=True),  # a recommendation's id
    Column("phase", String(20), nullable=False),
    Column("text", Text, nullable=False),
    Column("addressee", String(200), nullable=True),
    Column("adoption", String(20), nullable=True),
    Column("adoption_on", Date, nullable=True),
    Column("adoption_note", Text, nullable=True),
)


class TeilhabechecksProjection:
    name = "teilhabechecks"
    metadata = teilhabe_metadata

    async def apply(self, conn: AsyncConnection, event: RecordedEvent) -> None:
        if not event.type.startswith("ikmo.directory.teilhabecheck."):
            return
        data = event.data
        step = event.type.removeprefix("ikmo.directory.teilhabecheck.")
        check_id = data["check_id"]
        if step == "started":
            await conn.execute(
                insert(teilhabechecks).values(
                    id=check_id,
                    district=data["district"],
                    social_space=data["social_space"],
                    started_on=date.fromisoformat(data["started_on"]),
                    phases_completed=0,
                    version=event.version,
                )
            )
            return
        item = {"check_id": check_id, "version": event.version}
        match step:
            case "finding_recorded":
                await conn.execute(
                    insert(teilhabe_items).values(
                        **item, kind="finding", phase=data["phase"], text=data["text"]
                    )
                )
            case "recommendation_made":
                await conn.execute(
                    insert(teilhabe_items).values(
                        **item,
                        kind="recommendation",
                        item_id=data["recommendation_id"],
                        phase="recommendations",
                        text=data["text"],
                        addressee=data["addressee"],
                        adoption="open",
                    )
                )
            case "recommendation_followed_up":
                await conn.execute(
                    update(teilhabe_items)
                    .where(
                        teilhabe_items.c.check_id == check_id,
                        teilhabe_items.c.item_id == data["recommendation_id"],
                    )
                    .values(
                        adoption=data["adoption"],
                        adoption_on=date.fromisoformat(data["on"]),
                        adoption_note=data["note"],
                    )
                )
            case "phase_completed":
                values: dict[str, object] = {"phases_completed": teilhabechecks.c.phases_completed + 1}
                if data["phase"] == "recommendations":
                    values["finished_on"] = date.fromisoformat(data["completed_on"])
                await conn.execute(
                    update(teilhabechecks).where(teilhabechecks.c.id == check_id).values(**values)
                )
        await conn.execute(
            update(teilhabechecks).where(teilhabechecks.c.id == check_id).values(version=event.version)
        )
