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

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the response carries besides the body (none but for a few errors)."""
        return {}


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


class StaleRead(ConcurrencyError):
    """What a person decided on (an edit form, a correction) was changed by someone else since they read it:
    refused, never retried, so nobody overwrites a change they have not seen (HTTP 409)."""

    def __init__(self, stream_id: str, seen: int, changed_at: int) -> None:
        super().__init__(stream_id, seen, changed_at)


class InvalidInput(IkmoError):
    """A value the domain rejects although its type was right (HTTP 422), tied to a field when known."""

    status_code = 422
    code = "validation_failed"

    def __init__(self, message_en: str, message_de: str | None = None, field: str | None = None) -> None:
        super().__init__(message_en, message_de)
        self.field = field

    @property
    def each(self) -> list[InvalidInput]:
        """The single refusals inside: this one, or those an `InvalidInputs` gathered."""
        return [self]


VALIDATION_EN = "Some fields are not valid. Please check them."
VALIDATION_DE = "Einige Angaben sind ungültig. Bitte prüfen Sie die markierten Felder."


class InvalidInputs(InvalidInput):
    """Several fields refused at once, so that a person corrects a form in one round, not field by field."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__(VALIDATION_EN, VALIDATION_DE)
        self.problems = problems

    @property
    def each(self) -> list[InvalidInput]:
        return list(self.problems)

    @staticmethod
    def raise_any(problems: list[InvalidInput]) -> None:
        """Nothing when nothing was refused; the refusal itself when one was; else all of them together."""
        if len(problems) == 1:
            raise problems[0]
        if problems:
            raise InvalidInputs(problems)


class TooManyRequests(IkmoError):
    """A public route asked too often from one address (HTTP 429); the person can simply wait."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        if retry_after < 120:
            wait_en, wait_de = f"{retry_after} seconds", f"{retry_after} Sekunden"
        else:  # "in 600 seconds" makes a person count; whole minutes, rounded up, do not
            minutes = -(-retry_after // 60)
            wait_en, wait_de = f"{minutes} minutes", f"{minutes} Minuten"
        super().__init__(
            f"Too many requests from your address in a short time. Please try again in {wait_en}.",
            f"Zu viele Anfragen von Ihrer Adresse in kurzer Zeit. Bitte versuchen Sie es in {wait_de} "
            "noch einmal.",
        )
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}  # seconds, for browsers, scripts and proxies
