"""Checking bearer tokens: signature against a JWKS (a file or an OIDC provider's URL), issuer, audience,
expiry. A token signed by an unknown key triggers one JWKS refresh (key rotation), not one per request.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
from jwt import PyJWKSet

from shared.auth.principal import Principal
from shared.errors import IkmoError


class Unauthenticated(IkmoError):
    status_code = 401
    code = "unauthenticated"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Please sign in ({reason}).",
            f"Bitte melden Sie sich an ({reason}).",
        )
        self.reason = reason


class Forbidden(IkmoError):
    status_code = 403
    code = "forbidden"

    def __init__(self) -> None:
        super().__init__(
            "Your role does not allow this.",
            "Ihre Rolle erlaubt diese Aktion nicht.",
        )


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_source: str,
        client_id: str | None = None,
        min_refresh_interval: float = 10.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.jwks_source = jwks_source
        self.client_id = client_id
        self.min_refresh_interval = min_refresh_interval
        self._keys: PyJWKSet | None = None
        self._loaded_at = 0.0

    async def _load(self) -> PyJWKSet:
        if self.jwks_source.startswith(("http://", "https://")):
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(self.jwks_source)
                response.raise_for_status()
                data: dict[str, Any] = response.json()
        else:
            data = json.loads(await asyncio.to_thread(Path(self.jwks_source).read_text))
        self._loaded_at = time.monotonic()
        return PyJWKSet.from_dict(data)

    async def _key(self, kid: str | None) -> Any:
        if self._keys is None:
            self._keys = await self._load()
        for attempt in range(2):
            for key in self._keys.keys:
                if kid is None or key.key_id == kid:
                    return key.key
            # An unknown key id may mean the provider rotated its keys: reload, but not on every request.
            stale = time.monotonic() - self._loaded_at > self.min_refresh_interval
            if attempt == 0 and stale:
                self._keys = await self._load()
        raise Unauthenticated("unknown signing key")

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthenticated("malformed token") from exc
        key = await self._key(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid token") from exc
        return Principal.from_claims(claims, self.client_id)
