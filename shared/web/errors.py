"""Error bodies a person understands, in German and English, with one entry per invalid field.

Shape: {"error": code, "message": en, "message_de": de, "fields": [{"field", "message", "message_de"}]}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from shared.errors import VALIDATION_DE, VALIDATION_EN, IkmoError, InvalidInput

# German wording for the pydantic error types people meet in forms.
_GERMAN = {
    "missing": "Dieses Feld ist erforderlich.",
    "string_too_short": "Der Text ist zu kurz.",
    "string_too_long": "Der Text ist zu lang.",
    "string_type": "Bitte einen Text angeben.",
    "string_pattern_mismatch": "Das Format stimmt nicht.",
    "enum": "Dieser Wert ist nicht zulässig.",
    "literal_error": "Dieser Wert ist nicht zulässig.",
    "bool_type": "Bitte ja oder nein angeben.",
    "bool_parsing": "Bitte ja oder nein angeben.",
    "int_parsing": "Bitte eine ganze Zahl angeben.",
    "int_type": "Bitte eine ganze Zahl angeben.",
    "list_type": "Bitte eine Liste angeben.",
    "too_short": "Bitte mindestens einen Eintrag angeben.",
    "too_long": "Zu viele Einträge.",
    "url_parsing": "Bitte eine gültige Webadresse angeben (https://…).",
    "url_scheme": "Die Webadresse muss mit http:// oder https:// beginnen.",
    "uuid_parsing": "Das ist keine gültige Kennung.",
    "extra_forbidden": "Dieses Feld ist unbekannt.",
    "json_invalid": "Die Anfrage ist kein gültiges JSON.",
    "model_attributes_type": "Die Anfrage hat nicht die erwartete Form.",
    "value_error": "Dieser Wert ist ungültig.",
}


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "request"


def field_errors(errors: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        message = str(err.get("msg", "invalid"))
        german = _GERMAN.get(str(err.get("type")))
        if german is None and message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        found = err.get("ctx")
        ctx: Mapping[str, Any] = found if isinstance(found, dict) else {}
        ctx_de = ctx.get("message_de")
        if err.get("type") == "string_too_short" and ctx.get("min_length") == 1:  # nothing typed at all
            message, german = "Please fill in this field.", "Bitte füllen Sie dieses Feld aus."
        out.append(
            {
                "field": _field_name(tuple(err.get("loc", ()))),
                "message": message.removeprefix("Value error, "),
                "message_de": ctx_de or german or _GERMAN["value_error"],
            }
        )
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            status_code=422,
            content={
                "error": "validation_failed",
                "message": VALIDATION_EN,
                "message_de": VALIDATION_DE,
                "fields": field_errors(list(exc.errors())),
            },
        )

    @app.exception_handler(IkmoError)
    async def _domain(_request: Request, exc: IkmoError) -> JSONResponse:
        body: dict[str, Any] = {"error": exc.code, "message": exc.message_en, "message_de": exc.message_de}
        if isinstance(exc, InvalidInput):
            body["fields"] = [
                {"field": one.field or "request", "message": one.message_en, "message_de": one.message_de}
                for one in exc.each
            ]
        return JSONResponse(status_code=exc.status_code, content=body, headers=exc.headers)
