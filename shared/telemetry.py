"""Traces, metrics and logs, the same in every service.

- Traces: OpenTelemetry. Exported over OTLP only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; otherwise the
  API's no-op tracer costs next to nothing. The trace context travels in the event's metadata and in the
  NATS headers, so one trace runs from a request in one service to a projection in another.
- Metrics: Prometheus text on `/metrics`, one registry per app (several apps can share a test process).
- Logs: one JSON object per line, with the trace and span id of the current span. The access log is ours
  (uvicorn's is off): it names the route template (`/oeffentlich/anmeldung/{token}`), never the raw path or
  query string, because some paths carry a secret (a personal link) or a name; spans carry `http.route` alone.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import CollectorRegistry, Gauge, Histogram

if TYPE_CHECKING:  # FastAPI < 0.165 has no telemetry module; the config is a plain dict at runtime
    from fastapi.telemetry import TelemetryConfig

TRACER = "ikmo"


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER)


def configure_tracing(service: str) -> TracerProvider | None:
    """Install an OTLP-exporting provider when an endpoint is configured; leave the no-op one otherwise."""
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": f"ikmo-{service}"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return provider


class JsonLogFormatter(logging.Formatter):
    """A log line as JSON with the ids of the current span, so logs and traces can be joined."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            entry["trace_id"] = f"{ctx.trace_id:032x}"
            entry["span_id"] = f"{ctx.span_id:016x}"
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Add the JSON handler to the root logger once; other handlers (a test's capture) stay."""
    root = logging.getLogger()
    if not any(isinstance(h.formatter, JsonLogFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter(service))
        root.addHandler(handler)
    root.setLevel(level.upper())


# FastAPI's own OpenTelemetry (0.165+) records url.path, url.query and rejected input values: off, our
# middleware makes the server span by route template. (Older FastAPI keeps the key in `app.extra`.)
FASTAPI_TELEMETRY_OFF: TelemetryConfig = {
    "tracing": False,
    "metrics": False,
    "logs": False,
    "operation_spans": False,
}

ACCESS_LOG = logging.getLogger("ikmo.access")


def log_access(method: str, route: str, status: int, seconds: float) -> None:
    """One access line per request: the route template, so no token, name or query string reaches the log."""
    ACCESS_LOG.info(
        "%s %s %s",
        method,
        route,
        status,
        extra={
            "fields": {
                "http.request.method": method,
                "http.route": route,
                "http.response.status_code": status,
                "duration_ms": round(seconds * 1000, 1),
            }
        },
    )


def route_template(scope: Mapping[str, Any]) -> str:
    """The matched route's path template, or "unmatched" (a 404 path may carry anything)."""
    return str(getattr(scope.get("route"), "path", "unmatched"))


class Metrics:
    """The service's Prometheus metrics; gauges that need I/O are refreshed when scraped."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_latency = Histogram(
            "ikmo_http_request_duration_seconds",
            "HTTP request latency by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "ikmo_outbox_backlog",
            "Events committed but not yet acknowledged by JetStream",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "ikmo_consumer_lag",
            "Messages waiting for or being processed by a durable consumer",
            ["consumer"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "ikmo_dead_letters",
            "Messages of this service's consumers in the dead-letter stream",
            ["consumer"],
            registry=self.registry,
        )
        self.nats_connected = Gauge(
            "ikmo_nats_connected", "1 while connected to NATS", registry=self.registry
        )
