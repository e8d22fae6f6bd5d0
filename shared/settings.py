"""One settings class for every service, read from `IKMO_*` environment variables.

Each service gets its own database: `IKMO_<SERVICE>_DATABASE_URL`, else a SQLite file in the data folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.web.clientaddress import IPNetwork, parse_networks

DEFAULT_NATS_PORT = 14222  # not 4222: a machine may already run a NATS of its own there
SERVICE_PORTS = {"directory": 8101, "events": 8102, "grants": 8103, "volunteering": 8104, "reporting": 8105}
AUTH_PORT = 8100  # the embedded sign-in app (shared/auth/login.py); Keycloak in production
NATS_PORT_OFFSET = 10  # with a port base: NATS on base+10, its monitoring on base+11
PLACEHOLDERS = {"", "change-me", "changeme", "secret", "dev", "development", "ikmo-dev-only"}


def _default_service_urls() -> dict[str, str]:
    return {name: f"http://127.0.0.1:{port}" for name, port in SERVICE_PORTS.items()}


def shifted_port(default: int, port_base: int | None) -> int:
    """A port of the sign-in app or a service, moved with `IKMO_PORT_BASE` (base = the sign-in app's)."""
    return default if port_base is None else port_base + default - AUTH_PORT


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IKMO_", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    nats_url: str = f"nats://127.0.0.1:{DEFAULT_NATS_PORT}"
    # The service's NATS user and password when the server requires them (infra/nats/); None: anonymous.
    nats_user: str | None = None
    nats_password: str | None = Field(default=None, repr=False)
    relay_batch_size: int = 500
    log_level: str = "INFO"

    # Identity: tokens are checked against the issuer's JWKS (a file of the embedded issuer, or an URL).
    auth_url: str = f"http://127.0.0.1:{AUTH_PORT}"
    oidc_issuer: str = ""  # empty: <auth_url>/realms/ikmo, as the embedded issuer and Keycloak name it
    oidc_audience: str = "ikmo"
    oidc_client_id: str | None = None  # read client roles from resource_access.<client> as well
    jwks_source: str = ""  # empty: <data_dir>/auth/jwks.json, written by the embedded issuer
    web_secret_key: SecretStr | None = Field(default=None, repr=False)  # signs flash cookies
    service_urls: dict[str, str] = Field(default_factory=_default_service_urls)
    demo_organisation_id: str = "8f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f"
    # Shifts every default port together (`ikmo up --port-base`): sign-in app on it, services on the next
    # ones, NATS on base+10. URLs set explicitly are kept.
    port_base: int | None = Field(default=None, ge=1024, le=65535 - 2 * NATS_PORT_OFFSET)
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated IPs and CIDRs, IPv4 and IPv6);
    # empty: nobody's, the direct peer is the client (see shared/web/clientaddress.py).
    trusted_proxies: str = ""

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        parse_networks(value)  # a typo stops the start rather than trusting nobody (or everybody) silently
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @model_validator(mode="after")
    def _shift_ports(self) -> Settings:
        if self.port_base is None:
            return self
        base = self.port_base
        if "auth_url" not in self.model_fields_set:
            self.auth_url = f"http://127.0.0.1:{base}"
        if "service_urls" not in self.model_fields_set:
            self.service_urls = {
                name: f"http://127.0.0.1:{shifted_port(port, base)}" for name, port in SERVICE_PORTS.items()
            }
        if "nats_url" not in self.model_fields_set:
            self.nats_url = f"nats://127.0.0.1:{base + NATS_PORT_OFFSET}"
        return self

    @model_validator(mode="after")
    def _no_placeholder_secrets_outside_development(self) -> Settings:
        """Outside development a missing or placeholder secret stops the service from starting."""
        if self.environment == "development":
            return self
        problems = []
        secret = self.web_secret_key.get_secret_value() if self.web_secret_key else ""
        if secret.lower() in PLACEHOLDERS or len(secret) < 32:
            problems.append("IKMO_WEB_SECRET_KEY must be a random value of at least 32 characters")
        if self.nats_user and (self.nats_password or "").lower() in PLACEHOLDERS:
            problems.append("IKMO_NATS_PASSWORD must be set to the service's real NATS password")
        if not self.jwks_source and self.environment == "production":
            problems.append("IKMO_JWKS_SOURCE must name the identity provider's JWKS URL")
        if problems:
            raise ValueError(f"refusing to start in {self.environment}: " + "; ".join(problems))
        return self

    @property
    def issuer_url(self) -> str:
        return self.oidc_issuer or self.auth_url.rstrip("/") + "/realms/ikmo"

    def jwks(self) -> str:
        return self.jwks_source or str((self.data_dir / "auth" / "jwks.json").resolve())

    def database_url(self, service: str) -> str:
        explicit = os.environ.get(f"IKMO_{service.upper()}_DATABASE_URL")
        if explicit:
            return explicit
        return f"sqlite+aiosqlite:///{self.data_dir.resolve() / f'{service}.sqlite3'}"
