"""Typed errors shared by every service, so entrypoints map them to HTTP codes in one place."""

from __future__ import annotations


class IkmoError(Exception):
    """Base of every error a person may see; carries a German and an English message."""

    status_code = 400
    code = "error"

    def __init__(self, message_en: str, message_de: str | None = None) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_de = message_de or message_en


class NotFound(IkmoError):
    """An aggregate or record that does not exist (HTTP 404)."""

    status_code = 404
    code = "not_found"


class ConcurrencyError(IkmoError):
    """The stream moved on since the caller read it: an optimistic-concurrency conflict (HTTP 409)."""

    status_code = 409
    code = "version_conflict"

    def __init__(self, stream_id: str, expected: int, actual: int | None) -> None:
        actual_text = "unknown" if actual is None else str(actual)
        super().__init__(
            f"{stream_id} was changed meanwhile (expected version {expected}, found {actual_text}). "
            "Reload and try again.",
            f"Der Datensatz wurde inzwischen geändert (erwartet Version {expected}, "
            f"gefunden {actual_text}). Bitte neu laden und erneut versuchen.",
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class DomainRuleViolation(IkmoError):
    """A command that the aggregate's current state does not allow (HTTP 409: it conflicts with state)."""

    status_code = 409
    code = "rule_violation"


class InvalidInput(IkmoError):
    """A value the domain rejects although its type was right (HTTP 422), tied to a field when known."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, message_en: str, message_de: str | None = None, field: str | None = None) -> None:
        super().__init__(message_en, message_de)
        self.field = field


class TooManyRequests(IkmoError):
    """A public route asked too often from one address (HTTP 429); the person can simply wait."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"Too many requests. Please try again in {retry_after} seconds.",
            f"Zu viele Anfragen. Bitte versuchen Sie es in {retry_after} Sekunden noch einmal.",
        )
        self.retry_after = retry_after
