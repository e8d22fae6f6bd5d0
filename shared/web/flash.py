"""One-time messages after a redirect ("Gespeichert."), kept in a signed cookie, shown once.

A cookie rather than a server-side session, because the services share nothing but the browser: a message
set by the login page on one port is shown by the directory on another (cookies ignore ports), as long as
both were given the same secret key. The cookie is signed, not encrypted: it must never carry personal data.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.i18n import gettext_for

FLASH_COOKIE = "ikmo_flash"
FLASH_MAX_AGE = 600  # a message older than ten minutes is no longer about what the person just did
SECRET_FILE = "web-secret"
_SALT = "ikmo.flash"
_MAX_MESSAGES = 5

Kind = Literal["success", "error", "info"]


@dataclass(frozen=True)
class FlashMessage:
    kind: Kind
    message: str  # English
    message_de: str

    def text(self, lang: str) -> str:
        return self.message_de if lang == "de" else self.message

    @property
    def role(self) -> str:
        """Errors interrupt (alert); everything else is announced politely (status)."""
        return "alert" if self.kind == "error" else "status"


class FlashSerializer:
    """Signs and reads the cookie value; a bad or old signature simply means "no messages"."""

    def __init__(self, secret_key: str) -> None:
        if not secret_key:
            raise ValueError("flash messages need a secret key")
        self._serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)

    def dumps(self, messages: list[FlashMessage]) -> str:
        return self._serializer.dumps([[m.kind, m.message, m.message_de] for m in messages[-_MAX_MESSAGES:]])

    def loads(self, value: str | None, max_age: int = FLASH_MAX_AGE) -> list[FlashMessage]:
        if not value:
            return []
        try:
            raw = self._serializer.loads(value, max_age=max_age)
        except BadSignature:
            return []
        out = []
        for item in raw if isinstance(raw, list) else []:
            if isinstance(item, list) and len(item) == 3 and item[0] in ("success", "error", "info"):
                out.append(FlashMessage(item[0], str(item[1]), str(item[2])))
        return out


class _FlashState:
    def __init__(self, incoming: list[FlashMessage]) -> None:
        self.incoming = incoming
        self.outgoing: list[FlashMessage] = []
        self.consumed = False


def _state(connection: HTTPConnection) -> _FlashState:
    state = connection.scope.get("state", {}).get("ikmo_flash")
    if state is None:
        raise RuntimeError("FlashMiddleware is not installed (call shared.web.install_web)")
    assert isinstance(state, _FlashState)
    return state


def flash(request: Request, kind: Kind, message: str, message_de: str | None = None) -> None:
    """Queue a message for the next page. Without `message_de`, `message` is a msgid translated now."""
    german = message_de if message_de is not None else gettext_for("de")(message)
    english = message if message_de is not None else gettext_for("en")(message)
    _state(request).outgoing.append(FlashMessage(kind, english, german))


def consume_flashes(request: Request) -> list[FlashMessage]:
    """The messages to show on this page; they are gone from the cookie once this response is sent."""
    state = _state(request)
    state.consumed = True
    return list(state.incoming)


class FlashMiddleware:
    """Reads the cookie before the app runs, rewrites or deletes it when the response starts."""

    def __init__(self, app: ASGIApp, secret_key: str, secure: bool = False) -> None:
        self.app = app
        self.serializer = FlashSerializer(secret_key)
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        had_cookie = FLASH_COOKIE in connection.cookies
        state = _FlashState(self.serializer.loads(connection.cookies.get(FLASH_COOKIE)))
        scope.setdefault("state", {})["ikmo_flash"] = state

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Messages nobody showed (a redirect in between) travel on; shown ones are dropped.
                keep = ([] if state.consumed else state.incoming) + state.outgoing
                headers = MutableHeaders(scope=message)
                if keep:
                    headers.append("set-cookie", self._cookie(self.serializer.dumps(keep), FLASH_MAX_AGE))
                elif had_cookie:
                    headers.append("set-cookie", self._cookie("", 0))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, value: str, max_age: int) -> str:
        parts = [f"{FLASH_COOKIE}={value}", "Path=/", f"Max-Age={max_age}", "HttpOnly", "SameSite=Lax"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts)


def load_or_create_secret(data_dir: Path) -> str:
    """The embedded default's web secret: made once in the data folder, shared by every local service."""
    path = data_dir / "auth" / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        # Made before, or by another service starting at the same moment: wait until it is written.
        for _ in range(50):
            existing = path.read_text().strip()
            if existing:
                return existing
            time.sleep(0.02)
        raise RuntimeError(f"{path} is empty: delete it to make a new web secret") from None
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    return secret
