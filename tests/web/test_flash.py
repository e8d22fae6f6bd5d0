"""Flash messages: signed, shown once, carried over a redirect nobody looked at, ignored when forged."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse
from itsdangerous import URLSafeTimedSerializer

from shared.web.flash import (
    FLASH_COOKIE,
    FlashMessage,
    FlashMiddleware,
    FlashSerializer,
    consume_flashes,
    flash,
    load_or_create_secret,
)


def test_round_trip_keeps_kind_and_both_languages() -> None:
    serializer = FlashSerializer("secret")
    messages = [FlashMessage("success", "Saved.", "Gespeichert."), FlashMessage("error", "No.", "Nein.")]
    assert serializer.loads(serializer.dumps(messages)) == messages
    assert messages[0].role == "status" and messages[1].role == "alert"
    assert messages[0].text("de") == "Gespeichert." and messages[0].text("en") == "Saved."


def test_a_forged_or_foreign_or_old_cookie_means_no_message() -> None:
    serializer = FlashSerializer("secret")
    value = serializer.dumps([FlashMessage("success", "Saved.", "Gespeichert.")])
    assert FlashSerializer("another secret").loads(value) == []
    assert serializer.loads(value[:-2] + ("A" if value[-2] != "A" else "B") + value[-1]) == []
    assert serializer.loads("garbage") == [] and serializer.loads(None) == []
    unsigned_shape = URLSafeTimedSerializer("secret", salt="ikmo.flash").dumps({"not": "a list"})
    assert serializer.loads(unsigned_shape) == []
    assert serializer.loads(value, max_age=-1) == []


def test_a_secret_is_required() -> None:
    with pytest.raises(ValueError):
        FlashSerializer("")


def test_the_embedded_secret_is_made_once_and_kept_private(tmp_path: Any) -> None:
    first = load_or_create_secret(tmp_path)
    assert len(first) >= 32 and load_or_create_secret(tmp_path) == first
    assert (tmp_path / "auth" / "web-secret").stat().st_mode & 0o077 == 0


def make_app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(FlashMiddleware, secret_key="secret")

    @app.post("/save")
    async def save(request: Request) -> RedirectResponse:
        flash(request, "success", "You have been signed out.")  # a catalogue msgid, translated now
        return RedirectResponse("/hop", status_code=303)

    @app.get("/hop")
    async def hop() -> RedirectResponse:
        return RedirectResponse("/show", status_code=303)  # shows nothing: the message travels on

    @app.get("/show")
    async def show(request: Request) -> PlainTextResponse:
        return PlainTextResponse(
            "|".join(f"{m.kind}:{m.message_de}:{m.message}" for m in consume_flashes(request))
        )

    return app


async def test_shown_once_after_any_number_of_redirects() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t", follow_redirects=True) as client:
        shown = await client.post("/save")
        assert shown.text == "success:Sie wurden abgemeldet.:You have been signed out."
        assert FLASH_COOKIE not in client.cookies
        assert (await client.get("/show")).text == ""


async def test_a_page_without_messages_sets_no_cookie() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/show")
        assert "set-cookie" not in response.headers
