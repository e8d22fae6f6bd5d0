"""What the events service reads from the bus: the directory's organisations and networks.

Durable consumer `events-directory` on `IKMO_DIRECTORY`. A merge makes the duplicate's id point to the
survivor, which every lookup follows (replica.py). Idempotent twice over: the kernel's processed-
message record commits with the effect, and each row remembers the directory version it reflects, so a
replay of an older message changes nothing.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from services.events import replica
from shared.bus.cloudevents import ReceivedEvent, stream_name
from shared.bus.consumer import ConsumerSpec

ORGANISATION = "ikmo.directory.organisation."
NETWORK = "ikmo.directory.network."


async def on_directory_event(conn: AsyncConnection, event: ReceivedEvent) -> None:
    data, version, at = event.data, event.sequence, event.time
    match event.type:
        case "ikmo.directory.organisation.registered":
            await replica.register_organisation(
                conn,
                data["organisation_id"],
                data["name"],
                data["kind"],
                bool(data.get("public_profile")),
                version,
                at,
            )
        case "ikmo.directory.organisation.profile_updated":
            await replica.change_organisation(
                conn,
                data["organisation_id"],
                version,
                at,
                name=data["name"],
                public_profile=bool(data.get("public_profile")),
            )
        case "ikmo.directory.organisation.archived":
            await replica.change_organisation(conn, data["organisation_id"], version, at, archived=True)
        case "ikmo.directory.organisation.legal_form_changed":
            await replica.change_organisation(conn, data["organisation_id"], version, at)
        case "ikmo.directory.organisation.merged":  # a duplicate: from now on its id means the survivor
            await replica.change_organisation(
                conn, data["organisation_id"], version, at, merged_into=data["merged_into"]
            )
        case "ikmo.directory.organisation.duplicate_absorbed":  # the survivor, with the duplicate's facets
            await replica.change_organisation(
                conn,
                data["organisation_id"],
                version,
                at,
                name=data["name"],
                public_profile=bool(data.get("public_profile")),
            )
        case "ikmo.directory.network.founded":
            await replica.found_network(conn, data["network_id"], data["name"], version)
        case _:
            pass  # the rest of the directory (members, contacts, …) is not the calendar's business


directory_consumer = ConsumerSpec(
    name="events-directory",
    stream=stream_name("directory"),
    subjects=[ORGANISATION + ">", NETWORK + "founded"],
    handler=on_directory_event,
)
