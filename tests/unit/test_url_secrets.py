"""No credential rides in a URL in any form, and no URL is shown with its user name or query."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from officehub.canonical_model.errors import RetriableError
from officehub.config import ConfigError, load_project
from officehub.connectors.rest.config import RestConfig
from officehub.connectors.sftp.config import SftpConfig
from officehub.connectors.sql.config import SqlConfig
from officehub.connectors.sql.errors import translate
from officehub.connectors.urls import display_url
from officehub.store.hub import HubStore

SECRET = "Zq9-hunter2"

#: Every way a password was seen to slip into a database URL.
CREDENTIAL_URLS = [
    f"postgresql+psycopg://app:{SECRET}@db.example:5432/crm",
    f"postgresql+psycopg://app%3A{SECRET}@db.example:5432/crm",
    f"postgresql+psycopg://app@db.example/crm?password={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?passwd={SECRET}",
    f"mysql+pymysql://app@db.example/crm?pwd={SECRET}",
    f"mysql+pymysql://app@db.example/crm?charset=utf8mb4&pass={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?sslpassword={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?client_secret={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?access_token={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?PassWord={SECRET}",
    f"postgresql+psycopg://app@db.example/crm?pass%77ord={SECRET}",
    f"mssql+pyodbc://db.example/crm?odbc_connect=DRIVER%3Dx%3BUID%3Dapp%3BPWD%3D{SECRET}",
]


def _refusal(model: type, **settings: object) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(settings)
    return str(info.value)


@pytest.mark.parametrize("url", CREDENTIAL_URLS)
def test_every_credential_form_in_a_database_url_is_refused_without_echoing_it(url: str) -> None:
    message = _refusal(SqlConfig, url=url)
    assert "by reference" in message and SECRET not in message


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://app@db.example:5432/crm?sslmode=require&passfile=/etc/officehub/pgpass",
    "mysql+pymysql://app@db.example/crm?charset=utf8mb4",
    "postgresql+psycopg://app%40tenant@db.example/crm",
    "sqlite:///data/crm.db",
])
def test_urls_without_a_credential_are_accepted(url: str) -> None:
    assert SqlConfig(url=url).url == url


@pytest.mark.parametrize("url", CREDENTIAL_URLS[:4])
def test_the_hub_store_url_is_refused_at_check_with_file_and_line(tmp_path: Path, url: str) -> None:
    (tmp_path / "officehub.yaml").write_text(f"hub:\n  name: test\n  store: '{url}'\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_project(tmp_path)
    [issue] = info.value.issues
    assert (issue.file, issue.line) == ("officehub.yaml", 3) and "hub.store" in issue.message
    assert SECRET not in str(issue) and SECRET not in str(info.value)


def test_a_displayed_url_shows_scheme_host_port_and_database_only() -> None:
    url = f"postgresql+psycopg://app:{SECRET}@db.example:6432/crm?sslmode=require&application_name=x"
    assert display_url(url) == "postgresql+psycopg://db.example:6432/crm"
    assert display_url(sa.make_url(url)) == "postgresql+psycopg://db.example:6432/crm"
    assert display_url("postgresql://app@[::1]/crm") == "postgresql://[::1]/crm"
    assert display_url(f"no url {SECRET}") == "(unparseable URL)"


def test_a_driver_error_quoting_the_user_or_an_option_is_blanked() -> None:
    url = "postgresql+psycopg://crm_reader@db.example:5432/crm?sslmode=verify-full&connect_timeout=2"
    driver = Exception('connection to server at "db.example", port 5432 failed: FATAL:  role "crm_reader" '
                       'does not exist; invalid sslmode value: "verify-full"')
    error = translate(sa.exc.OperationalError("SELECT 1", {}, driver), "crm", None, url)
    text = error.describe()
    assert "crm_reader" not in text and "verify-full" not in text
    assert "port 5432" in text and "at postgresql+psycopg://db.example:5432/crm" in text


def test_the_hub_store_names_its_database_without_user_or_options(tmp_path: Path) -> None:
    store = HubStore(f"postgresql+psycopg://hub_owner@127.0.0.1:1/hub?application_name={SECRET}", tmp_path)
    try:
        with pytest.raises(RetriableError) as info:
            store.upgrade()
    finally:
        store.close()
    text = str(info.value)
    assert "postgresql+psycopg://127.0.0.1:1/hub" in text
    assert "hub_owner" not in text and SECRET not in text


# -- the REST connector ----------------------------------------------------------------------------

REST = {"streams": {"contacts": {"path": "/contacts"}}}


@pytest.mark.parametrize("base_url", [
    f"https://app:{SECRET}@api.vendor.example/v2",
    f"https://app%3A{SECRET}@api.vendor.example/v2",
    f"https://api.vendor.example/v2?api_key={SECRET}",
    f"https://api.vendor.example/v2#access_token={SECRET}",
])
def test_a_rest_base_url_with_a_credential_is_refused(base_url: str) -> None:
    message = _refusal(RestConfig, base_url=base_url, **REST)
    assert "base_url" in message and SECRET not in message


@pytest.mark.parametrize("settings", [
    {"streams": {"contacts": {"path": f"/contacts?token={SECRET}"}}},
    {"streams": {"contacts": {"path": "/contacts", "params": {"api_key": SECRET}}}},
    {"streams": {"contacts": {"path": "/contacts", "headers": {"X-Auth-Token": SECRET}}}},
    {"check_path": f"/ping?access_token={SECRET}", **REST},
    {"auth": {"type": "oauth2_client_credentials", "client_id": "hub", "client_secret": {"env": "S"},
              "token_url": f"https://hub:{SECRET}@login.vendor.example/token"}, **REST},
    {"streams": {"contacts": {"path": "/contacts", "write": {
        "upsert": {"method": "PUT", "path": f"/contacts/{{id}}?secret={SECRET}"}}}}},
])
def test_rest_paths_params_and_headers_with_a_credential_are_refused(settings: dict) -> None:
    message = _refusal(RestConfig, base_url="https://api.vendor.example/v2", **settings)
    assert "auth" in message and SECRET not in message


def test_ordinary_rest_paths_and_params_are_accepted() -> None:
    config = RestConfig.model_validate({"base_url": "https://api.vendor.example/v2", "streams": {
        "contacts": {"path": "/contacts?status=active", "params": {"per_page": "50"}}}})
    assert config.streams["contacts"].params == {"per_page": "50"}


# -- the SFTP connector ----------------------------------------------------------------------------

SFTP = {"port": 22, "username": "hub", "password": {"env": "SFTP_PASSWORD"},
        "host_key_fingerprint": "SHA256:" + "A" * 43, "streams": {}}


@pytest.mark.parametrize("host", [
    f"hub:{SECRET}@sftp.example", f"sftp://sftp.example/?password={SECRET}", f"hub%3A{SECRET}@sftp.example",
    "sftp.example/incoming",
])
def test_an_sftp_host_carrying_more_than_a_host_is_refused(host: str) -> None:
    message = _refusal(SftpConfig, **{**SFTP, "host": host})
    assert "host name or IP address only" in message and SECRET not in message


def test_an_sftp_user_name_holding_a_password_is_refused() -> None:
    message = _refusal(SftpConfig, **{**SFTP, "host": "sftp.example", "username": f"hub:{SECRET}"})
    assert "by reference" in message and SECRET not in message


@pytest.mark.parametrize("host", ["sftp.example.org", "files_01", "10.0.0.7", "::1", "[fe80::1]"])
def test_ordinary_sftp_hosts_are_accepted(host: str) -> None:
    assert SftpConfig.model_validate({**SFTP, "host": host}).host == host
