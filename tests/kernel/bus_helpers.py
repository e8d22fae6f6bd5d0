"""Helpers for kernel tests that look at what reached JetStream."""

from __future__ import annotations

from shared.testing import stream_count, stream_messages

__all__ = ["assert_once_and_in_order", "stream_count", "stream_messages"]


def assert_once_and_in_order(messages: list[tuple[dict[str, str], bytes]], expected_ids: set[str]) -> None:
    """Every expected event exactly once, and per aggregate (ce-subject) in version (ce-sequence) order."""
    ids = [h["ce-id"] for h, _ in messages]
    assert len(ids) == len(set(ids)), "an event reached the stream twice"
    assert set(ids) == expected_ids
    last: dict[str, int] = {}
    for headers, _ in messages:
        subject, seq = headers["ce-subject"], int(headers["ce-sequence"])
        assert seq > last.get(subject, 0), f"{subject}: version {seq} after {last.get(subject)}"
        last[subject] = seq
