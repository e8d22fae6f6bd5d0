"""Tokens from the embedded issuer, checked the way tokens from Keycloak are checked."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest

from shared.auth.issuer import JWKS_FILE, Issuer
from shared.auth.principal import Principal, Role
from shared.auth.verify import TokenVerifier, Unauthenticated

ISS = "http://127.0.0.1:8100/realms/ikmo"


@pytest.fixture
def issuer(tmp_path: Path) -> Issuer:
    return Issuer(tmp_path / "issuer", ISS, "ikmo")


def verifier_for(issuer: Issuer) -> TokenVerifier:
    return TokenVerifier(ISS, "ikmo", str(issuer.key_dir / JWKS_FILE))


async def test_a_minted_token_verifies_with_roles_and_organisation(issuer: Issuer) -> None:
    token = issuer.mint("u-17", [Role.ORGANISATION], name="Yaar e.V. Konto", organisation_id="org-9")
    principal = await verifier_for(issuer).verify(token)
    assert principal == Principal("u-17", frozenset({Role.ORGANISATION}), "Yaar e.V. Konto", "org-9")
    assert principal.may_act_for("org-9") and not principal.may_act_for("org-10")


async def test_the_key_survives_a_restart(issuer: Issuer) -> None:
    token = issuer.mint("u-1", [Role.TBB])
    again = Issuer(issuer.key_dir, ISS, "ikmo")
    assert again.kid == issuer.kid
    assert (await verifier_for(again).verify(token)).roles == {Role.TBB}


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda c: {**c, "exp": int(time.time()) - 10}, "token expired"),
        (lambda c: {**c, "aud": "someone-else"}, "invalid token"),
        (lambda c: {**c, "iss": "http://evil.example/realms/ikmo"}, "invalid token"),
    ],
)
async def test_expired_foreign_or_misaddressed_tokens_are_refused(
    issuer: Issuer, mutate, reason: str
) -> None:
    good = issuer.mint("u-1", [Role.VIA])
    claims = jwt.decode(good, options={"verify_signature": False})
    bad = jwt.encode(mutate(claims), issuer._key, algorithm="RS256", headers={"kid": issuer.kid})
    with pytest.raises(Unauthenticated) as info:
        await verifier_for(issuer).verify(bad)
    assert info.value.reason == reason
    assert info.value.status_code == 401


async def test_a_token_signed_by_another_key_is_refused(issuer: Issuer, tmp_path: Path) -> None:
    stranger = Issuer(tmp_path / "stranger", ISS, "ikmo")
    with pytest.raises(Unauthenticated, match="unknown signing key") as info:
        await verifier_for(issuer).verify(stranger.mint("u-1", [Role.ADMIN]))
    assert info.value.message_de.startswith("Bitte melden Sie sich an")
    # Same key id but a forged signature: the signature check catches it.
    forged = jwt.encode(
        jwt.decode(stranger.mint("u-1", [Role.ADMIN]), options={"verify_signature": False}),
        stranger._key,
        algorithm="RS256",
        headers={"kid": issuer.kid},
    )
    with pytest.raises(Unauthenticated):
        await verifier_for(issuer).verify(forged)


async def test_garbage_and_unsigned_tokens_are_refused(issuer: Issuer) -> None:
    with pytest.raises(Unauthenticated, match="malformed"):
        await verifier_for(issuer).verify("not-a-jwt")
    unsigned = jwt.encode(  # "none" signs with no key; PyJWT reads "" as that missing key
        {"sub": "x", "iss": ISS, "aud": "ikmo", "exp": time.time() + 60}, "", algorithm="none"
    )
    with pytest.raises(Unauthenticated):
        await verifier_for(issuer).verify(unsigned)


def test_roles_come_from_keycloak_realm_and_client_claims() -> None:
    claims = {
        "sub": "s",
        "realm_access": {"roles": ["via", "offline_access"]},
        "resource_access": {"ikmo": {"roles": ["senate"]}, "other": {"roles": ["admin"]}},
    }
    assert Principal.from_claims(claims, "ikmo").roles == {Role.VIA, Role.SENATE}
    assert Principal.from_claims(claims).roles == {Role.VIA}
