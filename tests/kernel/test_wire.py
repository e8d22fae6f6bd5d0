"""The relay's own publish frames are the very bytes nats-py's `publish` would queue for the same message.

The relay writes frames into nats-py's pending buffer itself (shared/bus/wire.py); nats-py's own encoder,
run on an unconnected client, is the reference. If a nats-py release changes the framing or the private
parts the relay uses, these tests fail.
"""

from __future__ import annotations

import pytest
from nats import errors
from nats.aio.client import Client

from shared.bus.wire import Frames

CLEAN = {
    "Nats-Msg-Id": "0b9c1c3e-4a1e-4c55-9b0c-1f5e3a3c2d11",
    "ce-specversion": "1.0",
    "ce-type": "directory.organisation.registered",
    "ce-time": "2026-12-02T06:04:00.123456+00:00",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
}
UNCLEAN = [
    {**CLEAN, "ce-correlationid": " padded "},  # stripped
    {**CLEAN, "ce-correlationid": "a\tb\u00a0"},  # other whitespace, stripped as str.strip does
    {**CLEAN, "ce-correlationid": "a\r\nPUB x 1\r\nb"},  # a line break inside: turned into spaces
    {**CLEAN, "ce-correlationid": "a\nb"},
    {**CLEAN, " ": "an empty key is skipped", "": "so is this"},
    {" ce-type ": "a key with spaces is stripped"},
    {},
]


async def nats_py_frame(subject: str, reply: str, headers: dict[str, str], payload: bytes) -> bytes:
    nc = Client()  # never connected: publishing only queues the frame, the flusher is not there
    await nc._send_publish(subject, reply, payload, len(payload), headers)
    assert len(nc._pending) == 1
    return bytes(nc._pending[0])


@pytest.mark.parametrize("payload", [b'{"name":"Nachbarschaftshaus \xc3\xa4"}', b""])
async def test_a_frame_is_what_nats_py_would_send(payload: bytes) -> None:
    frames = Frames("_INBOX.svc.relay.abc.", max_payload=1 << 20)
    subject = "ikmo.directory.organisation.registered"
    # The first frame teaches Frames the keys (the careful way); the next ones take the quick way,
    # unless a value or key needs cleaning.
    for suffix, headers in enumerate([CLEAN, CLEAN, *UNCLEAN, CLEAN], start=4711):
        ours = frames.hpub(subject, suffix, headers, payload)
        assert ours == await nats_py_frame(subject, f"_INBOX.svc.relay.abc.{suffix}", headers, payload)


def test_what_would_break_the_protocol_is_refused() -> None:
    frames = Frames("_INBOX.x.", max_payload=200)
    with pytest.raises(errors.BadHeaderError):
        frames.hpub("ikmo.a.b.c", 1, {"bad key": "v"}, b"")
    with pytest.raises(errors.BadSubjectError):
        frames.hpub("ikmo.a.b.c\r\nPUB x 1", 1, {}, b"")
    with pytest.raises(errors.MaxPayloadError):  # headers count: the server would drop the connection
        frames.hpub("ikmo.a.b.c", 1, {"k": "v" * 100}, b"x" * 100)
    with pytest.raises(errors.BadSubjectError):
        Frames("_INBOX x.", max_payload=200)
