"""Settings refuse placeholder secrets outside development: a forgotten default never reaches production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from shared.settings import Settings

JWKS = "https://id.example/realms/ikmo/protocol/openid-connect/certs"


@pytest.mark.parametrize("secret", [None, "change-me", "short-but-not-a-placeholder"])
def test_production_refuses_a_missing_placeholder_or_short_web_secret(
    tmp_path: Path, secret: str | None
) -> None:
    with pytest.raises(ValidationError, match="IKMO_WEB_SECRET_KEY"):
        Settings(
            data_dir=tmp_path,
            environment="production",
            web_secret_key=None if secret is None else SecretStr(secret),
            jwks_source=JWKS,
        )


def test_production_refuses_a_placeholder_nats_password_and_a_missing_jwks(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        Settings(
            data_dir=tmp_path,
            environment="production",
            web_secret_key=SecretStr("k" * 40),
            nats_user="directory",
            nats_password="change-me",
        )
    assert "IKMO_NATS_PASSWORD" in str(info.value) and "IKMO_JWKS_SOURCE" in str(info.value)


def test_development_runs_on_defaults_and_production_on_real_secrets(tmp_path: Path) -> None:
    dev = Settings(data_dir=tmp_path)
    assert dev.issuer_url == "http://127.0.0.1:8100/realms/ikmo"
    assert dev.jwks() == str(tmp_path.resolve() / "auth" / "jwks.json")
    prod = Settings(
        data_dir=tmp_path,
        environment="production",
        web_secret_key=SecretStr("k" * 40),
        jwks_source=JWKS,
        nats_user="directory",
        nats_password="a-real-long-random-password",
    )
    assert prod.jwks() == JWKS
