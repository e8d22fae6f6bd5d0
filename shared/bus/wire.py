"""NATS publish frames built once and handed to nats-py's write buffer in bulk, for the outbox relay.

`Client.publish` encodes a message's headers anew on every call (a regular expression per key, a strip, a
translate and two encodes per header: ~16 µs for the dozen CloudEvents headers of one event, a quarter of
the relay's time per message). The relay sends thousands of messages with the same few keys, so it builds
each `HPUB` frame itself, byte for byte as nats-py would (`tests/kernel/test_wire.py` compares the two),
and appends a run of frames to the client's pending buffer at once, waking the client's flusher as
`publish` does.

This leans on three private parts of nats-py's `Client` (`_send_command`, `_flush_queue`,
`_flush_pending`), which have kept their shape since nats-py 2.0; the test above fails if they change.
"""

from __future__ import annotations

import re

from nats import errors
from nats.aio.client import Client

_CRLF = "\r\n"
# The same rules as nats-py: a header key is an RFC 7230 token, line breaks in values become spaces
# (a CR or LF there would end the header block early and let a value inject protocol).
_HEADER_KEY = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_NO_NEWLINES = str.maketrans({"\r": " ", "\n": " "})
# Whitespace would end a subject early, a CR or LF would inject protocol (nats-py refuses both too).
_SUBJECT_INVALID = re.compile(r"[\s]")


class Frames:
    """Builds HPUB frames for a reply prefix; keys and subjects are checked once each, not per message."""

    __slots__ = ("_clean_keys", "_keys", "_max_payload", "_reply_prefix", "_subjects")

    def __init__(self, reply_prefix: str, max_payload: int) -> None:
        check_subject(reply_prefix)
        self._reply_prefix = reply_prefix.encode()
        self._max_payload = max_payload
        self._keys: dict[str, str] = {}  # key as given -> as sent ("" for an empty one: skipped)
        self._clean_keys: set[str] = set()  # valid keys sent as given
        self._subjects: dict[str, bytes] = {}

    def hpub(self, subject: str, reply_suffix: int, headers: dict[str, str], payload: bytes) -> bytes:
        """`HPUB <subject> <reply prefix><suffix> <header bytes> <total bytes>` + headers + payload."""
        subject_bytes = self._subjects.get(subject)
        if subject_bytes is None:
            check_subject(subject)
            subject_bytes = self._subjects[subject] = subject.encode()
        block = self.header_block(headers)
        size = len(block)
        if size + len(payload) > self._max_payload:
            # The server would close the connection over it (nats-py checks the payload alone).
            raise errors.MaxPayloadError
        return b"HPUB %b %b%d %d %d\r\n%b%b\r\n" % (
            subject_bytes,
            self._reply_prefix,
            reply_suffix,
            size,
            size + len(payload),
            block,
            payload,
        )

    def header_block(self, headers: dict[str, str]) -> bytes:
        """The `NATS/1.0` header block, as nats-py encodes a headers dict.

        Usually every key is one seen before and every value is clean (no surrounding whitespace, no line
        break); then the block is joined in one go, with the line breaks counted to prove it. Anything
        else takes the careful way, which strips and cleans each value as nats-py does.
        """
        if self._clean_keys.issuperset(headers):
            values = list(headers.values())
            if list(map(str.strip, values)) == values:
                text = "\r\n".join(map(": ".join, headers.items()))
                lines = len(headers) - 1
                if text.count("\n") == lines and text.count("\r") == lines:
                    return b"NATS/1.0\r\n%b\r\n\r\n" % text.encode()
        return self._careful_header_block(headers)

    def _careful_header_block(self, headers: dict[str, str]) -> bytes:
        lines = ["NATS/1.0\r\n"]
        keys = self._keys
        for k, v in headers.items():
            key = keys.get(k)
            if key is None:
                key = keys[k] = _checked_key(k)
                if key and key == k:
                    self._clean_keys.add(k)
            if key:
                lines.append(f"{key}: {v.strip().translate(_NO_NEWLINES)}\r\n")
        lines.append(_CRLF)
        return "".join(lines).encode()


def _checked_key(k: str) -> str:
    key = k.strip()
    if key and not _HEADER_KEY.fullmatch(key):
        raise errors.BadHeaderError(key)
    return key


def check_subject(subject: str) -> None:
    if not subject or _SUBJECT_INVALID.search(subject):
        raise errors.BadSubjectError


async def send(nc: Client, frames: list[bytes], payload_bytes: int) -> None:
    """Queue complete frames on the connection and wake its flusher; refuse while not connected.

    `publish` would buffer during a reconnect; the relay rather ends its pass (the rows stay in the
    outbox) and sends them again once the bus is back, so a dead connection's buffer never holds them.
    """
    if nc.is_closed:
        raise errors.ConnectionClosedError
    if nc.is_draining_pubs:
        raise errors.ConnectionDrainingError
    if not nc.is_connected:
        raise errors.ConnectionReconnectingError
    nc.stats["out_msgs"] += len(frames)
    nc.stats["out_bytes"] += payload_bytes
    await nc._send_command(b"".join(frames))
    if nc._flush_queue is not None and nc._flush_queue.empty():
        await nc._flush_pending()
