"""Fidelity: Delinea's own python-tss-sdk works against the dev server, unchanged."""

from __future__ import annotations

import json

import pytest
from delinea.secrets.server import (
    PasswordGrantAuthorizer,
    SecretServer,
    SecretServerClientError,
)

from credchain.devserver import SCANNER_PASSWORD, DevServer, demo_password

WEB01 = "web-01.corp.example.com"


@pytest.fixture
def sdk(secret_server: DevServer, monkeypatch: pytest.MonkeyPatch) -> SecretServer:
    # The SDK has no TLS options; its README says to set REQUESTS_CA_BUNDLE.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(secret_server.ca_cert))
    authorizer = PasswordGrantAuthorizer(
        secret_server.url, secret_server.admin_username, secret_server.admin_password
    )
    return SecretServer(secret_server.url, authorizer)


def test_sdk_search_then_get_secret(sdk: SecretServer) -> None:
    found = json.loads(
        sdk.search_secrets({"filter.searchText": WEB01, "filter.isExactMatch": "true"})
    )
    secret = sdk.get_secret(found["records"][0]["id"])
    fields = {item["slug"]: item["itemValue"] for item in secret["items"]}
    assert fields["username"] == "svc-scan"
    assert fields["privilege-password"] == demo_password(WEB01 + ":root")


def test_sdk_get_secret_by_path_fetches_file_attachment(sdk: SecretServer) -> None:
    secret = sdk.get_secret_by_path(f"/Infrastructure/Unix/{WEB01} root")
    assert secret["name"] == f"{WEB01} root"
    key = {item["slug"]: item["itemValue"] for item in secret["items"]}["private-key"]
    # python-tss-sdk puts the requests.Response of the file download in itemValue (its #78)
    assert key.content.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")


def test_sdk_reports_access_denied_as_client_error(
    secret_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(secret_server.ca_cert))
    authorizer = PasswordGrantAuthorizer(secret_server.url, "scanner", SCANNER_PASSWORD)
    with pytest.raises(SecretServerClientError) as caught:
        SecretServer(secret_server.url, authorizer).get_secret(1)
    assert caught.value.message == "Access Denied"


def test_sdk_bad_password_is_a_client_error(
    secret_server: DevServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(secret_server.ca_cert))
    authorizer = PasswordGrantAuthorizer(secret_server.url, "admin", "wrong")
    with pytest.raises(SecretServerClientError) as caught:
        SecretServer(secret_server.url, authorizer).get_secret(1)
    assert caught.value.message == "invalid_grant"
