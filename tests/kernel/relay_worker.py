"""A relay in a process of its own, so a test can kill it with SIGKILL in the middle of a batch."""

from __future__ import annotations

import asyncio
import sys

from shared.bus.connection import Bus
from shared.bus.relay import OutboxRelay
from shared.db import make_engine


async def main(database_url: str, nats_url: str, batch_size: int) -> None:
    engine = make_engine(database_url)
    bus = Bus(nats_url, "relay-worker", ("kernel",))
    bus.start()
    await bus.ready.wait()
    relay = OutboxRelay(engine, bus, batch_size=batch_size, ack_timeout=60)
    print("ready", flush=True)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
