"""docs/events.md, generated from the event models of every service: `python -m shared.contracts.catalogue`.

A test regenerates it and compares, so the catalogue can neither miss an event nor show an old schema.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

from shared.domain import DomainEvent, json_schema_of
from shared.service import ServiceDefinition
from shared.settings import SERVICE_PORTS

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "events.md"

INTRO = """# Events catalogue

Every event a service publishes on NATS JetStream, with its JSON Schema. Generated from the models in
`shared/contracts/` by `python -m shared.contracts.catalogue`; a test fails when this file is not current.

## On the wire
- Stream `IKMO_<SERVICE>`, subject = event type, e.g. `ikmo.directory.organisation.registered`.
- CloudEvents 1.0 in binary mode: attributes in NATS headers, the JSON below as the payload.

| header | meaning |
|---|---|
| `ce-specversion` | `1.0` |
| `ce-id` | the event id (also `Nats-Msg-Id`: JetStream drops a duplicate within two minutes) |
| `ce-source` | `/ikmo/<service>` |
| `ce-type` | the event type (below) |
| `ce-subject` | the id of the aggregate (e.g. the organisation) |
| `ce-time` | when it was recorded (ISO 8601, UTC) |
| `ce-schemaversion` | the payload's schema version: always the current one (older ones go out upcast) |
| `ce-sequence` | the aggregate's version: per aggregate, events arrive in this order |
| `ce-correlationid`, `ce-causationid` | the request or event that led to it |
| `traceparent`, `tracestate` | W3C trace context of the request that caused it |

Consumers must be idempotent (deduplicate on `ce-id`): delivery is at least once.
Public events never carry personal data; people appear only as pseudonymous ids.
"""


def service_definitions() -> list[ServiceDefinition]:
    """The definitions of the services that exist, in the platform's order."""
    found = []
    for name in SERVICE_PORTS:
        try:
            module = importlib.import_module(f"services.{name}.app")
        except ModuleNotFoundError as missing:
            # A service not built yet has no package (or only its README): skip it, but never
            # hide a real import error inside a service that does exist.
            if missing.name not in (f"services.{name}", f"services.{name}.app"):
                raise
            continue
        found.append(module.definition)
    return found


def public_events(definition: ServiceDefinition) -> list[type[DomainEvent]]:
    return [cls for cls in definition.registry if cls.public]


def render() -> str:
    parts = [INTRO]
    for definition in service_definitions():
        parts.append(f"\n## {definition.name}\n")
        for cls in public_events(definition):
            doc = " ".join((cls.__doc__ or "").split())
            schema = json.dumps(json_schema_of(cls), indent=2, ensure_ascii=False)
            parts.append(
                f"\n### `{cls.event_type}`\n\n{doc}\n\n"
                f"Schema version {cls.schema_version}.\n\n```json\n{schema}\n```\n"
            )
    return "".join(parts)


def main() -> None:
    CATALOGUE.write_text(render(), encoding="utf-8")
    print(f"wrote {CATALOGUE}", file=sys.stderr)


if __name__ == "__main__":
    main()
