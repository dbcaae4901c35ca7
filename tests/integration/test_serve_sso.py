"""Single sign-on to the console through a real OpenID provider on loopback, served for real.

The provider (``oidc_provider.py``) runs in a thread; ``officehub serve`` runs as a
subprocess whose officehub.yaml points ``serve.oidc`` at it, the client secret by
environment variable. Each test walks the browser's path by hand: the console sends it to
the provider, the provider back to the console with a code, the console exchanges the code
and checks the ID token.
"""

from __future__ import annotations

import html
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import yaml

from officehub.canonical_model.errors import NotFound
from officehub.config import load_project
from officehub.engine import open_store
from officehub.services import accounts
from officehub.services.accounts import User
from tests.conftest import copy_demo_config
from tests.integration.oidc_provider import OidcProvider, Person
from tests.integration.served import Console, Served, add_users, audit_entries, free_port, serve

pytestmark = pytest.mark.slow

CLIENT_ID = "officehub-console"
SECRET_ENV = "OFFICEHUB_TEST_SSO_SECRET"
LABEL = "Sign in with the office directory"
_PROBLEM = re.compile(r'<p class="problem" role="alert">([^<]+)')


def configured(folder: Path, oidc: dict | None) -> Path:
    """``folder``'s officehub.yaml with ``serve.oidc`` set (or removed)."""
    path = folder / "officehub.yaml"
    config = yaml.safe_load(path.read_text())
    config["serve"].pop("oidc", None)
    # Every test signs in from 127.0.0.1: the per-address limit is tested on a server of its own.
    config["serve"]["login_attempts_per_minute"] = 10_000
    if oidc is not None:
        config["serve"]["oidc"] = oidc
    path.write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return folder


def oidc_settings(issuer: str) -> dict:
    return {"issuer": issuer, "client_id": CLIENT_ID, "client_secret": {"env": SECRET_ENV}, "label": LABEL,
            "roles_claim": "roles"}


@pytest.fixture(scope="module")
def client_secret() -> str:
    return secrets.token_urlsafe(24)


@pytest.fixture(scope="module")
def provider(client_secret: str) -> Iterator[OidcProvider]:
    running = OidcProvider(CLIENT_ID, client_secret).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory, provider: OidcProvider) -> Path:
    folder = configured(copy_demo_config(tmp_path_factory.mktemp("sso") / "demo"), oidc_settings(provider.issuer))
    add_users(folder, {"clash": ["viewer"]})
    return folder


@pytest.fixture(scope="module")
def served(estate: Path, client_secret: str) -> Iterator[Served]:
    server = serve(estate, env={SECRET_ENV: client_secret})
    yield server
    server.stop()


@pytest.fixture
def person() -> Person:
    """Someone new to the console, with a role the provider gives."""
    tag = secrets.token_hex(4)
    return Person(subject=f"subject-{tag}", login=f"sso-user-{tag}", name="Single Sign-On Tester",
                  email=f"sso-user-{tag}@example.org", roles=["steward", "provider-only-role"])


def to_provider(console: Console, next_path: str = "/") -> str:
    """Start single sign-on; returns where the provider sends the browser back (the callback with a code)."""
    start = console.get(f"/login/sso?next={quote(next_path)}")
    assert start.status_code == 303, start.text
    at_provider = console.http.get(start.headers["location"])
    assert at_provider.status_code == 302, at_provider.text
    return at_provider.headers["location"]


def sign_in(console: Console, next_path: str = "/") -> httpx.Response:
    """The whole round trip; returns the console's answer to the callback."""
    return console.http.get(to_provider(console, next_path))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(query=urlencode({**dict(parse_qsl(parts.query)), **changes})))


def problem(response: httpx.Response) -> str:
    found = _PROBLEM.search(response.text)
    assert found, response.text
    return html.unescape(found.group(1))


def assert_refused(console: Console, response: httpx.Response, status: int = 401) -> str:
    """``response`` is the sign-in page with a problem, and the browser is not signed in."""
    assert response.status_code == status, response.text
    assert 'action="/login"' in response.text and "Traceback" not in response.text
    after = console.get("/")
    assert after.status_code == 303 and after.headers["location"].startswith("/login")
    return problem(response)


def account(folder: Path, login: str) -> User:
    store = open_store(load_project(folder))
    try:
        return accounts.by_login(store, login)
    finally:
        store.close()


def no_account(folder: Path, login: str) -> bool:
    try:
        account(folder, login)
    except NotFound:
        return True
    return False




# -- the sign-in page -------------------------------------------------------------------------------------


def test_the_sign_in_page_offers_single_sign_on_when_it_is_configured(served: Served) -> None:
    page = Console(served).get("/login?next=/reviews")
    assert page.status_code == 200
    assert 'href="/login/sso?next=/reviews"' in page.text and LABEL in page.text


def test_without_serve_oidc_there_is_no_button_and_no_route(estate: Path, tmp_path: Path) -> None:
    folder = configured(Path(shutil.copytree(estate, tmp_path / "plain", ignore=shutil.ignore_patterns("serve-*"))),
                        None)
    plain = serve(folder)
    try:
        console = Console(plain)
        page = console.get("/login")
        assert page.status_code == 200 and "/login/sso" not in page.text and LABEL not in page.text
        assert console.get("/login/sso").status_code == 404
        assert console.get("/login/sso/callback?code=x&state=y").status_code == 404
    finally:
        plain.stop()


# -- signing in -------------------------------------------------------------------------------------------


def test_a_first_sign_in_makes_the_account_with_the_providers_roles(served: Served, estate: Path,
                                                                  provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    console = Console(served)
    back = sign_in(console, "/reviews")
    assert back.status_code == 303 and back.headers["location"] == "/reviews", back.text
    assert console.get("/reviews").status_code == 200  # a steward's page: the role came from the provider

    asked = provider.authorize_queries[-1]
    assert asked["response_type"] == "code" and asked["client_id"] == CLIENT_ID
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert asked["redirect_uri"] == f"{served.url}/login/sso/callback"

    user = account(estate, person.login)
    assert user.roles == ("steward",) and user.single_sign_on and not user.has_password
    assert (user.display_name, user.email) == (person.name, person.email)
    logins = [e for e in audit_entries(estate, "user.login") if e["subject"] == f"user {user.id}"]
    assert [(e["actor"], e["detail"]["method"]) for e in logins] == [(f"console:{person.login}", "single sign-on")]
    added = [e for e in audit_entries(estate, "user.add") if e["subject"] == f"user {user.id}"]
    assert [e["actor"] for e in added] == [f"sso:{provider.issuer}"]


def test_a_second_sign_in_reuses_the_account_and_takes_its_roles_from_the_claim(
        served: Served, estate: Path, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    assert sign_in(Console(served)).status_code == 303
    first = account(estate, person.login)

    person.roles = ["compliance", "operator"]
    console = Console(served)
    back = sign_in(console)
    assert back.status_code == 303 and back.headers["location"] == "/"
    again = account(estate, person.login)
    assert again.id == first.id and again.roles == ("operator", "compliance")
    assert console.get("/reviews").status_code == 403  # no longer a steward
    changed = [e for e in audit_entries(estate, "user.roles") if e["subject"] == f"user {first.id}"]
    assert [e["detail"]["roles"] for e in changed] == [["operator", "compliance"]]


def test_an_unsafe_next_is_not_followed(served: Served, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    back = sign_in(Console(served), "//evil.example.org/")
    assert back.status_code == 303 and back.headers["location"] == "/"


def test_someone_signed_in_already_goes_straight_on(served: Served, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    console = Console(served)
    assert sign_in(console).status_code == 303
    straight = console.get("/login/sso?next=/audit")
    assert straight.status_code == 303 and straight.headers["location"] == "/audit"


# -- refusals ---------------------------------------------------------------------------------------------


def test_a_wrong_state_is_refused(served: Served, estate: Path, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    console = Console(served)
    back = console.http.get(with_query(to_provider(console), state="not-the-state-that-was-sent"))
    assert "try again" in assert_refused(console, back)
    assert no_account(estate, person.login)


def test_a_callback_in_another_browser_is_refused(served: Served, estate: Path, provider: OidcProvider,
                                                  person: Person) -> None:
    """Someone's own code and state, slipped into another person's browser, sign nobody in there."""
    provider.sign_in_as(person)
    callback = to_provider(Console(served))
    victim = Console(served)
    victim.get("/login")
    assert_refused(victim, victim.http.get(callback))
    assert no_account(estate, person.login)


def test_a_callback_answers_once(served: Served, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    console = Console(served)
    callback = to_provider(console)
    assert console.http.get(callback).status_code == 303
    console.http.post("/logout", data={"csrf_token": console.csrf("/")})
    assert_refused(console, console.http.get(callback))


@pytest.mark.parametrize(("spoil", "sign"), [
    ({}, "foreign"),
    ({}, "none"),
    ({"exp": 1_000_000_000}, None),
    ({"aud": "another-application"}, None),
    ({"aud": [CLIENT_ID, "another-application"]}, None),
    ({"nonce": "not-the-nonce-that-was-sent"}, None),
    ({"iss": "https://impostor.example.org"}, None),
], ids=["tampered signature", "no signature", "expired", "wrong audience", "other party", "wrong nonce",
        "wrong issuer"])
def test_an_id_token_that_fails_a_check_is_refused(served: Served, estate: Path, provider: OidcProvider,
                                                   person: Person, spoil: dict, sign: str | None) -> None:
    provider.sign_in_as(person)
    provider.misbehave(claims=spoil, sign=sign)
    console = Console(served)
    message = assert_refused(console, sign_in(console))
    assert "did not pass the checks" in message
    assert no_account(estate, person.login)


def test_a_disabled_account_is_refused(served: Served, estate: Path, provider: OidcProvider, person: Person) -> None:
    provider.sign_in_as(person)
    assert sign_in(Console(served)).status_code == 303
    store = open_store(load_project(estate))
    try:
        accounts.set_status(store, "user:test-setup", person.login, False)
    finally:
        store.close()
    console = Console(served)
    assert "disabled" in assert_refused(console, sign_in(console))


def test_a_local_account_of_the_same_login_is_not_taken_over(served: Served, estate: Path, provider: OidcProvider,
                                                             person: Person) -> None:
    person.login = "clash"
    provider.sign_in_as(person)
    console = Console(served)
    assert "local account 'clash' exists" in assert_refused(console, sign_in(console))
    assert not account(estate, "clash").single_sign_on


def test_a_person_the_provider_gives_no_officehub_role_is_refused(served: Served, estate: Path,
                                                                  provider: OidcProvider, person: Person) -> None:
    person.roles = None
    provider.sign_in_as(person)
    console = Console(served)
    assert "none of officehub's roles" in assert_refused(console, sign_in(console), status=403)
    person.roles = ["provider-only-role"]
    assert "none of officehub's roles" in assert_refused(console, sign_in(console), status=403)
    assert no_account(estate, person.login)


def test_a_refusal_at_the_provider_is_shown(served: Served, provider: OidcProvider) -> None:
    provider.sign_in_as(None)
    console = Console(served)
    assert "did not sign you in (access_denied)" in assert_refused(console, sign_in(console))


def test_no_code_token_or_secret_reaches_the_servers_log(served: Served, provider: OidcProvider, person: Person,
                                                         client_secret: str) -> None:
    provider.sign_in_as(person)
    assert sign_in(Console(served)).status_code == 303
    logged = served.log.read_text(errors="replace")
    assert "single sign-on refused" in logged  # the earlier tests' refusals, with their reasons
    leaked = [value for value in (*provider.issued_codes, *provider.issued_tokens, client_secret) if value in logged]
    assert not leaked


# -- the provider down ------------------------------------------------------------------------------------


def test_a_provider_that_is_down_gives_a_clear_502(estate: Path, tmp_path: Path, client_secret: str,
                                                   person: Person) -> None:
    own = OidcProvider(CLIENT_ID, client_secret).start()
    folder = configured(Path(shutil.copytree(estate, tmp_path / "down", ignore=shutil.ignore_patterns("serve-*"))),
                        oidc_settings(own.issuer))
    server = serve(folder, env={SECRET_ENV: client_secret})
    try:
        own.sign_in_as(person)
        console = Console(server)
        callback = to_provider(console)
        own.stop()  # down between the person signing in there and coming back
        assert "cannot be reached" in assert_refused(console, console.http.get(callback), status=502)
        assert "cannot be reached" in assert_refused(console, console.get("/login/sso"), status=502)
    finally:
        own.stop()
        server.stop()


def test_an_issuer_nobody_answers_at_gives_a_clear_502_and_starts_are_limited(estate: Path, tmp_path: Path,
                                                                                client_secret: str) -> None:
    folder = configured(Path(shutil.copytree(estate, tmp_path / "nobody", ignore=shutil.ignore_patterns("serve-*"))),
                        oidc_settings(f"http://127.0.0.1:{free_port()}/realms/office"))
    config = yaml.safe_load((folder / "officehub.yaml").read_text())
    config["serve"]["login_attempts_per_minute"] = 2
    (folder / "officehub.yaml").write_text(yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    server = serve(folder, env={SECRET_ENV: client_secret})
    try:
        console = Console(server)
        message = assert_refused(console, console.get("/login/sso?next=/reviews"), status=502)
        assert message.startswith("the single sign-on provider cannot be reached")
        assert console.get("/login/sso").status_code == 502
        assert "too many sign-in attempts" in assert_refused(console, console.get("/login/sso"), status=429)
    finally:
        server.stop()
