"""One NATS connection per process that keeps trying: the service works while NATS is away.

The first connect is retried with backoff in the background; afterwards nats-py reconnects by itself.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

from shared.bus.cloudevents import stream_name

log = logging.getLogger(__name__)

DLQ_STREAM = "IKMO_DLQ"
DLQ_SUBJECT_PREFIX = "ikmo.dlq"


def inbox_prefix_for(user: str | None) -> str:
    """Replies (JetStream acks, API answers, pulled messages) arrive under `_INBOX.<user>.`, which is all
    the NATS configuration in `infra/nats/` lets that user subscribe to: no user can read another's replies.
    """
    return f"_INBOX.{user}" if user else "_INBOX"


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


class Bus:
    """Holds the connection and JetStream context; `ready` is set once connected and streams exist.

    `user`/`password` log in to a NATS server that requires it (`infra/nats/`); a user named in the URL
    (`nats://directory:secret@host:4222`) works as well. Without either the connection is anonymous.
    """

    def __init__(
        self,
        url: str,
        name: str,
        streams: tuple[str, ...] = (),
        *,
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str | None = None,
    ) -> None:
        self.url = url
        self.name = name
        self.streams = streams
        self.user = user
        self._password = password
        self.inbox_prefix = inbox_prefix or inbox_prefix_for(user or urlsplit(url).username)
        self.nc: Client | None = None
        self.js: JetStreamContext | None = None
        self.ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self.nc is not None and self.nc.is_connected

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_forever(), name=f"bus-connect-{self.name}")

    async def _connect_forever(self) -> None:
        delay = 0.2
        while True:
            try:
                self.nc = await nats.connect(
                    self.url,
                    name=self.name,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=1,
                    connect_timeout=2,
                    error_cb=self._on_error,
                    inbox_prefix=self.inbox_prefix,
                    **self._credentials(),
                )
                self.js = self.nc.jetstream()
                for service in self.streams:
                    await ensure_stream(self.js, service)
                await ensure_dlq_stream(self.js)
                self.ready.set()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "NATS at %s not reachable yet (%s); retrying in %.1fs",
                    _without_password(self.url),
                    exc,
                    delay,
                )
                if self.nc is not None:
                    await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _credentials(self) -> dict[str, str]:
        if self.user is None:
            return {}
        return {"user": self.user, "password": self._password or ""}

    async def _on_error(self, exc: Exception) -> None:
        log.debug("NATS connection error: %s", exc)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.close()


async def _ensure(js: JetStreamContext, config: StreamConfig) -> None:
    try:
        await js.add_stream(config)
    except BadRequestError:
        # Exists with other settings: bring it to the declared ones.
        await js.update_stream(config)


async def ensure_stream(js: JetStreamContext, service: str) -> None:
    """Declare the service's stream `IKMO_<SERVICE>` over `ikmo.<service>.>` (idempotent)."""
    await _ensure(
        js,
        StreamConfig(
            name=stream_name(service),
            subjects=[f"ikmo.{service}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            duplicate_window=120.0,
        ),
    )


async def ensure_dlq_stream(js: JetStreamContext) -> None:
    await _ensure(
        js,
        StreamConfig(
            name=DLQ_STREAM,
            subjects=[f"{DLQ_SUBJECT_PREFIX}.>"],
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
        ),
    )
