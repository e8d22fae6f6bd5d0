"""Schema evolution: old event versions are turned into the current shape on read, never rewritten."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]


class Upcasters:
    """A registry of one-step upcasters, keyed by event type and the schema version they read."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register the function turning `from_version` data into `from_version + 1`."""

        def decorator(fn: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._steps:
                raise ValueError(f"upcaster for {event_type} v{from_version} is registered twice")
            self._steps[key] = fn
            return fn

        return decorator

    def outdated(self) -> frozenset[tuple[str, int]]:
        """Every (event type, schema version) that an upcaster reads: versions no longer current."""
        return frozenset(self._steps)

    def upcast(self, event_type: str, schema_version: int, data: Data) -> tuple[int, Data]:
        """Apply every registered step in order; returns the version reached and the data."""
        while (step := self._steps.get((event_type, schema_version))) is not None:
            data = step(dict(data))
            schema_version += 1
        return schema_version, data
