"""Identity and roles: OIDC bearer tokens checked against a JWKS, roles declared on every route."""

from shared.auth.principal import Principal, Role

__all__ = ["Principal", "Role"]
