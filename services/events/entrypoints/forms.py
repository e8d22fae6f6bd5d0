"""What every page of the events service does with a form: choices in the page's language, and the
errors of a refused command placed beside their fields (the API's own messages, never different ones)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.events import handlers
from services.events.labels import VOCABULARY, label, local, moment, month, timespan
from shared.errors import IkmoError, InvalidInput
from shared.web.errors import field_errors

Errors = list[dict[str, str]]


def options(vocabulary: str, lang: str) -> list[tuple[str, str]]:
    """(value, label) pairs of a vocabulary in the page's language, in the vocabulary's order."""
    return [(str(value), de if lang == "de" else en) for value, (de, en) in VOCABULARY[vocabulary].items()]


def errors_of(problem: ValidationError | IkmoError) -> Errors:
    if isinstance(problem, ValidationError):
        return field_errors([dict(e) for e in problem.errors()])
    field = problem.field if isinstance(problem, InvalidInput) and problem.field else "request"
    return [{"field": field, "message": problem.message_en, "message_de": problem.message_de}]


def status_of(problem: ValidationError | IkmoError) -> int:
    """422 for what the person typed, 409 for a stale form or a rule of the event's state."""
    return 422 if isinstance(problem, ValidationError) else problem.status_code


def shown(event: dict[str, Any], lang: str) -> dict[str, Any]:
    """An event with what a page prints: labels, times in Berlin, whether registration is open."""
    deadline_passed = local(event["registration_deadline"]) < handlers.utc_now()
    return {
        **event,
        "format_label": label(event["format"], lang),
        "topic_labels": [label(t, lang) for t in event["topics"]],
        "funding_label": label(event["funding_line"], lang),
        "district_label": label(event["district"], lang) if event["district"] else "",
        "when": timespan(event["starts_at"], event["ends_at"], lang),
        "deadline": moment(event["registration_deadline"], lang),
        "month": month(event["starts_at"], lang),
        "open": event["status"] == "published" and not deadline_passed,
        "deadline_passed": deadline_passed,
        "full": event["free_places"] == 0,
    }
