"""The embedded default's own small token issuer, so that nothing external is needed to run or test.

It keeps an RSA key in the data folder, publishes its public half as a JWKS file beside it (the services
read that file instead of fetching Keycloak's JWKS URL), and signs tokens with Keycloak's claim shape.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from shared.auth.principal import Role

KEY_FILE = "issuer-key.pem"
JWKS_FILE = "jwks.json"


class Issuer:
    def __init__(self, key_dir: Path, issuer: str, audience: str) -> None:
        self.key_dir = key_dir
        self.issuer = issuer
        self.audience = audience
        self._key = self._load_or_create()
        public_jwk = json.loads(RSAAlgorithm.to_jwk(self._key.public_key()))
        self.kid = public_jwk["kid"] = _thumbprint(public_jwk)
        public_jwk.update({"use": "sig", "alg": "RS256"})
        self._jwks = {"keys": [public_jwk]}
        (key_dir / JWKS_FILE).write_text(json.dumps(self._jwks, indent=2))

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        path = self.key_dir / KEY_FILE
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        self.key_dir.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key

    def jwks(self) -> dict[str, Any]:
        return self._jwks

    def mint(
        self,
        subject: str,
        roles: list[Role] | tuple[Role, ...],
        *,
        name: str = "",
        organisation_id: str | None = None,
        ttl: int = 8 * 3600,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": str(uuid.uuid4()),
            "preferred_username": subject,
            "name": name or subject,
            "realm_access": {"roles": [str(r) for r in roles]},
        }
        if organisation_id:
            claims["ikmo_org"] = organisation_id
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": self.kid})


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an RSA public key: a stable key id."""
    import base64
    import hashlib

    canonical = json.dumps({"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
