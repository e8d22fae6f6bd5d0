"""The embedded sign-in: passwords, the cookie, where people are sent afterwards, guessing, discovery."""

from __future__ import annotations

import json
import logging
import stat
from dataclasses import replace
from pathlib import Path

import httpx
import jwt
import pytest
from argon2 import PasswordHasher

from shared.auth.access import SESSION_COOKIE
from shared.auth.issuer import Issuer
from shared.auth.login import (
    DEFAULT_ISSUER,
    FailedLoginLimiter,
    LoginConfig,
    allowed_origins,
    create_login_app,
    jwks_path,
    mint_for_script,
    safe_redirect,
)
from shared.auth.principal import Role
from shared.auth.users import DEMO_ACCOUNTS, DEMO_ORGANISATION_ID, UserStore, demo_password, users_path
from shared.auth.verify import TokenVerifier
from shared.web.clientaddress import parse_networks
from tests.web.conftest import BASE, SERVICE_URLS, Clock, fast_hasher

ORIGINS = allowed_origins([*SERVICE_URLS.values(), BASE])

WRONG_DE = "Der Benutzername oder das Passwort ist nicht korrekt."
WRONG_EN = "The user name or the password is not correct."


# -- redirect safety ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/",
        "/login?x=1",
        "http://127.0.0.1:8101/organisations?district=Neuk%C3%B6lln",
        "http://127.0.0.1:8103",
        "HTTP://127.0.0.1:8102/events",
        f"{BASE}/",
    ],
)
def test_a_next_url_on_this_app_or_a_configured_service_is_followed(target: str) -> None:
    assert safe_redirect(target, ORIGINS, default="/default") == target


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https://evil.example/",
        "http://127.0.0.1:8101@evil.example/",
        "http://user:pw@127.0.0.1:8101/",
        "http://127.0.0.1:9999/",
        "https://127.0.0.1:8101/",  # another scheme is another origin
        "http:evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        " //evil.example",
        "/\t/evil.example",
        "\x00/evil",
        "relative/path",
        "",
        "/" + "a" * 3000,
    ],
)
def test_anything_that_leaves_for_another_host_is_replaced_by_the_default(target: str) -> None:
    assert safe_redirect(target, ORIGINS, default="/default") == "/default"


# -- users and passwords -----------------------------------------------------------------------------------


def test_the_demo_set_is_written_once_with_argon2_hashes_and_read_back(tmp_path: Path) -> None:
    store = UserStore.load_or_create(tmp_path, hasher=fast_hasher(), organisation_id="org-42")
    path = users_path(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert {u["username"] for u in data["users"]} == {a.username for a in DEMO_ACCOUNTS}
    assert {r for u in data["users"] for r in u["roles"]} == {str(r) for r in Role}
    assert all(u["password_hash"].startswith("$argon2id$") for u in data["users"])
    assert not any(demo_password(u["username"]) in path.read_text() for u in data["users"])

    again = UserStore.load_or_create(tmp_path, hasher=fast_hasher(), organisation_id="other")
    assert len(again) == len(store) == len(DEMO_ACCOUNTS)
    organisation = again.authenticate("organisation", demo_password("organisation"))
    assert organisation is not None and organisation.organisation_id == "org-42"


def test_argon2_verify_accepts_the_password_only(tmp_path: Path) -> None:
    store = UserStore.load_or_create(tmp_path, hasher=PasswordHasher())  # the production profile
    user = store.authenticate("  TBB ", "tbb-demo")
    assert user is not None and user.roles == (Role.TBB,)
    assert store.authenticate("tbb", "TBB-demo") is None
    assert store.authenticate("tbb", "") is None
    assert store.authenticate("nobody", "tbb-demo") is None


def test_production_never_invents_demo_accounts(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        UserStore.load_or_create(tmp_path, allow_demo=False)


# -- rate limit --------------------------------------------------------------------------------------------


def test_five_failures_in_a_minute_pause_that_name_and_address_only(clock: Clock) -> None:
    limiter = FailedLoginLimiter(max_failures=5, window=60.0, clock=clock)
    for _ in range(4):
        limiter.record_failure("via|1.2.3.4")
        clock.now += 1
    assert limiter.retry_after("via|1.2.3.4") == 0
    limiter.record_failure("via|1.2.3.4")
    assert limiter.retry_after("via|1.2.3.4") == pytest.approx(56.0)
    assert limiter.retry_after("via|5.6.7.8") == 0
    assert limiter.retry_after("tbb|1.2.3.4") == 0
    clock.now += 56.5
    assert limiter.retry_after("via|1.2.3.4") == 0  # the oldest failure left the window


def test_the_limiter_forgets_the_oldest_names_when_full(clock: Clock) -> None:
    limiter = FailedLoginLimiter(max_failures=1, window=60.0, clock=clock, max_keys=3)
    for name in "abcd":
        limiter.record_failure(name)
    assert limiter.retry_after("a") == 0 and limiter.retry_after("d") > 0


async def test_after_five_wrong_passwords_even_the_right_one_waits(
    client: httpx.AsyncClient, clock: Clock
) -> None:
    for _ in range(5):
        response = await client.post("/login", data={"username": "via", "password": "guess"})
        assert response.status_code == 401
    blocked = await client.post("/login", data={"username": "via", "password": "via-demo"})
    assert blocked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.text
    assert int(blocked.headers["retry-after"]) > 0
    assert SESSION_COOKIE not in blocked.cookies
    other = await client.post(
        "/login", data={"username": "tbb", "password": "tbb-demo"}, follow_redirects=False
    )
    assert other.status_code == 303
    clock.now += 61
    again = await client.post(
        "/login", data={"username": "via", "password": "via-demo"}, follow_redirects=False
    )
    assert again.status_code == 303


# -- the form and the cookie -------------------------------------------------------------------------------


async def test_a_wrong_password_shows_the_form_again_without_saying_which_part_was_wrong(
    client: httpx.AsyncClient,
) -> None:
    wrong_password = await client.post("/login", data={"username": "via", "password": "nope"})
    unknown_user = await client.post("/login", data={"username": "nobody", "password": "nope"})
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert WRONG_DE in wrong_password.text and WRONG_DE in unknown_user.text
    assert 'value="via"' in wrong_password.text  # the name stays, the password does not
    assert "nope" not in wrong_password.text
    english = await client.post("/login?lang=en", data={"username": "via", "password": "nope"})
    assert WRONG_EN in english.text and english.headers["content-language"] == "en"


async def test_signing_in_sets_an_httponly_lax_cookie_with_a_verifiable_token_and_redirects(
    client: httpx.AsyncClient, login_config: LoginConfig
) -> None:
    target = "http://127.0.0.1:8102/events?x=1"
    response = await client.post(
        "/login", data={"username": "Organisation", "password": "organisation-demo", "next": target}
    )
    assert response.status_code == 303 and response.headers["location"] == target
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    verifier = TokenVerifier(login_config.issuer_url, "ikmo", str(jwks_path(login_config.data_dir)))
    principal = await verifier.verify(client.cookies[SESSION_COOKIE])
    assert principal.roles == {Role.ORGANISATION}
    assert principal.organisation_id == DEMO_ORGANISATION_ID and principal.subject == "organisation"

    start = await client.get("/")
    assert "Sie sind angemeldet als Demo-Verein e.V." in start.text  # the flash message
    assert "Organisationskonto" in start.text and "Abmelden" in start.text


async def test_an_unsafe_next_url_lands_on_the_start_page(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/login?next=https://evil.example/", data={"username": "cld", "password": "cld-demo"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_sign_out_removes_the_cookie_and_says_so(client: httpx.AsyncClient) -> None:
    await client.post("/login", data={"username": "admin", "password": "admin-demo"})
    assert SESSION_COOKIE in client.cookies
    response = await client.post("/logout", headers={"origin": SERVICE_URLS["grants"]})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert SESSION_COOKIE not in client.cookies
    page = await client.get("/login")
    assert "Sie wurden abgemeldet." in page.text


async def test_a_form_posted_from_another_site_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/login",
        data={"username": "via", "password": "via-demo"},
        headers={"origin": "https://evil.example", "accept": "text/html"},
    )
    assert response.status_code == 403 and SESSION_COOKIE not in client.cookies
    assert "Kein Zugriff" in response.text


async def test_the_login_page_cannot_be_framed(client: httpx.AsyncClient) -> None:
    response = await client.get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"


# -- OIDC discovery and scripts ----------------------------------------------------------------------------


async def test_discovery_and_certs_follow_keycloaks_layout(
    client: httpx.AsyncClient, login_config: LoginConfig
) -> None:
    config = (await client.get("/realms/ikmo/.well-known/openid-configuration")).json()
    assert config["issuer"] == f"{BASE}/realms/ikmo" == login_config.issuer_url
    assert config["jwks_uri"] == f"{BASE}/realms/ikmo/protocol/openid-connect/certs"
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    jwks = (await client.get("/realms/ikmo/protocol/openid-connect/certs")).json()
    assert jwks == json.loads(jwks_path(login_config.data_dir).read_text())
    assert "d" not in jwks["keys"][0]  # the public half only

    await client.post("/login", data={"username": "senate", "password": "senate-demo"})
    token = client.cookies[SESSION_COOKIE]
    key = jwt.PyJWKSet.from_dict(jwks).keys[0].key
    claims = jwt.decode(token, key, algorithms=["RS256"], audience="ikmo", issuer=config["issuer"])
    assert claims["realm_access"]["roles"] == ["senate"]


async def test_a_script_token_is_signed_by_the_same_issuer(tmp_path: Path) -> None:
    data = tmp_path / "data"
    token = mint_for_script(data, "tbb")
    org_token = mint_for_script(data, Role.ORGANISATION)
    verifier = TokenVerifier(DEFAULT_ISSUER, "ikmo", str(jwks_path(data)))
    tbb = await verifier.verify(token)
    assert tbb.roles == {Role.TBB} and tbb.subject == "tbb" and tbb.name == "Tarik Bulut"
    organisation = await verifier.verify(org_token)
    assert organisation.organisation_id == DEMO_ORGANISATION_ID
    custom = await verifier.verify(mint_for_script(data, "organisation", "u-7", "org-7"))
    assert (custom.subject, custom.organisation_id) == ("u-7", "org-7")
    # The key stays: a login app started later signs with the one the script used.
    assert Issuer(data / "auth", DEFAULT_ISSUER, "ikmo").kid == verifier_kid(token)


def verifier_kid(token: str) -> str:
    return str(jwt.get_unverified_header(token)["kid"])


def test_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        mint_for_script(tmp_path, "superuser")


def test_the_login_config_comes_from_todays_settings(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from shared.settings import Settings

    settings = Settings(
        data_dir=tmp_path,
        environment="production",
        web_secret_key=SecretStr("x" * 40),
        jwks_source="https://id.example/realms/ikmo/protocol/openid-connect/certs",
    )
    config = LoginConfig.from_settings(settings)
    assert config.issuer_url == DEFAULT_ISSUER and config.audience == "ikmo"
    assert not config.allow_demo_users and config.service_urls["reporting"] == "http://127.0.0.1:8105"


async def test_ikmo_up_can_start_the_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.auth.login import app_from_env

    monkeypatch.setenv("IKMO_DATA_DIR", str(tmp_path))
    transport = httpx.ASGITransport(app=app_from_env())
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8100") as c:
        discovery = (await c.get("/realms/ikmo/.well-known/openid-configuration")).json()
        assert discovery["issuer"] == DEFAULT_ISSUER
        signed_in = await c.post("/login", data={"username": "via", "password": "via-demo"})
        assert signed_in.status_code == 303 and SESSION_COOKIE in c.cookies
    assert users_path(tmp_path).exists() and jwks_path(tmp_path).exists()


async def test_the_access_log_names_the_route_without_its_query_string(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn's access log is off (`ikmo up`); ours leaves out the query (a `next` address, a code)."""
    with caplog.at_level(logging.INFO, logger="ikmo.access"):
        assert (await client.get("/login?next=http://127.0.0.1:8102/secret-path")).status_code == 200
    [line] = [r.getMessage() for r in caplog.records if r.name == "ikmo.access"]
    assert line == "GET /login 200"


async def test_the_failure_pause_counts_the_client_behind_a_trusted_proxy_and_ignores_a_forged_header(
    login_config: LoginConfig, clock: Clock
) -> None:
    behind = replace(login_config, trusted_proxies=parse_networks("127.0.0.1"))
    for config, separate in ((login_config, False), (behind, True)):
        app = create_login_app(config, hasher=fast_hasher(), limiter=FailedLoginLimiter(2, 60.0, clock))
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            for n in range(2):  # someone guessing from one address, a new forged header each time
                wrong = {"username": "via", "password": "guess"}
                await client.post("/login", data=wrong, headers={"X-Forwarded-For": f"203.0.113.{n}"})
            other = await client.post(
                "/login",
                data={"username": "via", "password": "via-demo"},
                headers={"X-Forwarded-For": "198.51.100.7"},
                follow_redirects=False,
            )
        # trusting nobody, the forged headers count as one address; behind the proxy they are three people
        assert other.status_code == (303 if separate else 429), config
