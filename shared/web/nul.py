"""No NUL character gets in: PostgreSQL text cannot hold one (asyncpg raises, the request would end in a
500), SQLite would keep it silently, and no person means one. Refused before anything is decided, for every
route of every service, with a message a person understands."""

from __future__ import annotations

import re

from fastapi import Request

from shared.errors import InvalidInput, NotFound

# `\u0000` in a JSON string, unless its backslash is itself escaped (`\\u0000` is the six characters)
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_FORM = "application/x-www-form-urlencoded"


def nul_in_body(content_type: str, body: bytes) -> bool:
    """Whether a form or JSON body carries a NUL, raw or encoded as the format encodes it."""
    if b"\x00" in body:
        return True
    if content_type.startswith(_FORM):
        return b"%00" in body
    if "json" in content_type:
        return _JSON_NUL.search(body) is not None
    return False


async def refuse_nul(request: Request) -> None:
    """App-wide dependency: 404 for a NUL in the path (no such page), 422 for one in the query or body."""
    if "\x00" in request.url.path:
        raise NotFound("There is no such page.", "Diese Seite gibt es nicht.")
    if b"%00" in request.scope.get("query_string", b""):  # the raw query: a NUL arrives only encoded
        raise _refused()
    if request.method in ("POST", "PUT", "PATCH") and nul_in_body(
        request.headers.get("content-type", ""), await request.body()
    ):
        raise _refused()


def _refused() -> InvalidInput:
    return InvalidInput(
        "The input contains a NUL character (\\0), which no field may hold. Please remove it and send "
        "again; nothing was saved.",
        "Die Eingabe enthält ein Nullzeichen (\\0), das in keinem Feld stehen darf. Bitte entfernen Sie "
        "es und senden Sie erneut; gespeichert wurde nichts.",
    )
