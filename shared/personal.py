"""Marking personal data in event models. Pure: domain events import this, the vault acts on it.

A field declared with `personal()` is sealed per person in the log and may never appear in a public
(bus) event; the event names the field holding the person's pseudonymous id in `personal_subject`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

PERSONAL_MARK = "x-personal"
ERASED = "[gelöscht]"  # what people see in place of an erased person's data (German first)


def personal(**kwargs: Any) -> Any:
    """Declare a pydantic field as personal data: sealed in the log, never allowed on the bus."""
    extra = dict(kwargs.pop("json_schema_extra", None) or {})
    extra[PERSONAL_MARK] = True
    return Field(json_schema_extra=extra, **kwargs)


def personal_fields(model: type[BaseModel]) -> list[str]:
    fields = []
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and extra.get(PERSONAL_MARK):
            fields.append(name)
    return fields


def personal_paths(schema: Any, path: str = "") -> list[str]:
    """Paths in a JSON Schema whose node is marked personal (for the public-contract test)."""
    if isinstance(schema, dict):
        found = [path or "/"] if schema.get(PERSONAL_MARK) else []
        for key, value in schema.items():
            found += personal_paths(value, f"{path}/{key}")
        return found
    if isinstance(schema, list):
        return [p for i, value in enumerate(schema) for p in personal_paths(value, f"{path}/{i}")]
    return []
