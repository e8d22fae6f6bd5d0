"""What every service's pages and API do with what a person sends: choices in the page's language, the
errors of a refused command beside their fields (the API's own messages, never different ones), and the
version a form or an If-Match header was read at.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Header
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from shared.errors import ConcurrencyError, IkmoError, InvalidInput, InvalidInputs
from shared.web.errors import field_errors
from shared.web.vocabulary import Labels

Errors = list[dict[str, str]]
M = TypeVar("M", bound=BaseModel)

STALE = {
    "field": "request",
    "message": "Someone else changed this meanwhile. Check the current state, then try again.",
    "message_de": "Jemand anderes hat den Eintrag inzwischen geändert. "
    "Prüfen Sie den aktuellen Stand und versuchen Sie es dann erneut.",
}


def options_of(table: Labels, lang: str) -> list[tuple[str, str]]:
    """(value, label) pairs of one vocabulary table in the page's language, in the table's order."""
    return [(str(value), de if lang == "de" else en) for value, (de, en) in table.items()]


def errors_of(problem: ValidationError | IkmoError) -> Errors:
    """A refusal as the list a form shows: one entry per field, or one for the whole request."""
    if isinstance(problem, ValidationError):
        return field_errors([dict(e) for e in problem.errors()])
    if isinstance(problem, ConcurrencyError):  # the store's version numbers mean nothing to a person
        return [STALE]
    if isinstance(problem, InvalidInput):
        return [
            {"field": one.field or "request", "message": one.message_en, "message_de": one.message_de}
            for one in problem.each
        ]
    return [{"field": "request", "message": problem.message_en, "message_de": problem.message_de}]


def refusals_of(invalid: ValidationError) -> list[InvalidInput]:
    """pydantic's refusals as the domain's, so that both can be named to a person in one round."""
    return [InvalidInput(e["message"], e["message_de"], e["field"]) for e in errors_of(invalid)]


def validated(model: type[M], body: dict[str, Any], problems: list[InvalidInput]) -> M:
    """`body` read as `model`, or every refusal at once: those already found (a time that could not be
    read, say) and pydantic's for the other fields."""
    said = {p.field for p in problems}
    parsed = None
    try:
        parsed = model.model_validate(body)
    except ValidationError as invalid:
        problems = [*problems, *(r for r in refusals_of(invalid) if r.field not in said)]
    InvalidInputs.raise_any(problems)
    assert parsed is not None
    return parsed


def status_of(problem: ValidationError | IkmoError) -> int:
    """422 for what the person typed, the refusal's own status (409 for a stale form or a rule) otherwise."""
    return 422 if isinstance(problem, ValidationError) else problem.status_code


def version_of(form: FormData) -> int | None:
    """The version a form was read at (its hidden `version` field); none means no check."""
    raw = str(form.get("version", ""))
    return int(raw) if raw.isdigit() else None


def expected_version(if_match: str | None) -> int | None:
    """`If-Match: "3"` (as sent back from the ETag) -> 3; absent -> no check."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise InvalidInput(
            'If-Match must be the version from the ETag, e.g. "3".',
            'If-Match muss die Version aus dem ETag sein, z. B. "3".',
            field="If-Match",
        )
    return int(value)


IfMatch = Annotated[str | None, Header(alias="If-Match", description='The ETag you read, e.g. "3"')]

__all__ = [
    "STALE",
    "Errors",
    "IfMatch",
    "errors_of",
    "expected_version",
    "options_of",
    "status_of",
    "version_of",
]
