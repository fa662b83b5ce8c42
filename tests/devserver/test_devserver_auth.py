"""oauth2/token grants, token lifetime, refresh tokens, revocation."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Client

from credchain.devserver import SCANNER_PASSWORD, DevServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_password_grant_returns_bearer_token_with_expiry(anonymous: Client) -> None:
    server = anonymous.server
    body = anonymous.grant(
        grant_type="password", username=server.admin_username, password=server.admin_password
    ).json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1200
    assert body["access_token"] and body["refresh_token"]


def test_password_grant_with_domain(anonymous: Client) -> None:
    form = {"username": "svc-reader", "password": "reader-dev-password"}
    assert anonymous.grant(grant_type="password", domain="CORP", **form).status_code == 200
    assert anonymous.grant(grant_type="password", domain="LAB", **form).status_code == 400


def test_bad_login_is_400_with_string_error(anonymous: Client) -> None:
    response = anonymous.grant(grant_type="password", username="admin", password="wrong")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_unsupported_grant_type(anonymous: Client) -> None:
    response = anonymous.grant(grant_type="implicit")
    assert response.status_code == 400
    assert response.json() == {"error": "unsupported_grant_type"}


def test_client_credentials_grant_acts_as_mapped_user(anonymous: Client) -> None:
    response = anonymous.grant(
        grant_type="client_credentials",
        client_id="scanner-client",
        client_secret="scanner-client-secret",
    )
    anonymous.token = response.json()["access_token"]
    # scanner may not see Windows Account secrets (id 1 is dc-01's Administrator)
    assert anonymous.get("api/v1/secrets/1").json()["errorCode"] == "API_AccessDenied"
    bad = anonymous.grant(grant_type="client_credentials", client_id="x", client_secret="y")
    assert bad.status_code == 400


def test_refresh_token_works_once(anonymous: Client) -> None:
    server = anonymous.server
    first = anonymous.grant(
        grant_type="password", username=server.admin_username, password=server.admin_password
    ).json()
    again = anonymous.grant(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 200
    assert again.json()["refresh_token"] != first["refresh_token"]
    reused = anonymous.grant(grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400


def test_grants_are_counted(anonymous: Client) -> None:
    server = anonymous.server
    token = anonymous.grant(
        grant_type="password", username=server.admin_username, password=server.admin_password
    ).json()
    anonymous.grant(grant_type="refresh_token", refresh_token=token["refresh_token"])
    grants = server.get_stats()["grants"]
    assert grants == {"password": 1, "refresh_token": 1, "client_credentials": 0}


def test_unknown_token_is_401_with_secret_server_message(anonymous: Client) -> None:
    anonymous.token = "not-a-token"
    response = anonymous.get("api/v1/secrets")
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication failed or expired token"


def test_missing_token_is_401(anonymous: Client) -> None:
    assert anonymous.get("api/v1/secrets/1").status_code == 401


def test_token_expires_after_ttl(secret_server_factory: Callable[..., DevServer]) -> None:
    clock = FakeClock()
    client = Client(secret_server_factory(token_ttl=60, clock=clock)).login()
    assert client.get("api/v1/secrets/1").status_code == 200
    clock.now += 61
    response = client.get("api/v1/secrets/1")
    assert response.status_code == 401
    assert response.json()["message"] == "Authentication failed or expired token"


def test_no_refresh_tokens_option(secret_server_factory: Callable[..., DevServer]) -> None:
    server = secret_server_factory(refresh_tokens=False, tls=False)
    body = Client(server).grant(
        grant_type="password", username=server.admin_username, password=server.admin_password
    )
    assert "refresh_token" not in body.json()
    assert server.url.startswith("http://127.0.0.1:")


def test_oauth_expiration_revokes_the_calling_token(scanner: Client) -> None:
    assert scanner.post("api/v1/oauth-expiration").status_code == 200
    assert scanner.get("api/v1/secrets").status_code == 401


def test_revoke_tokens_from_python(scanner: Client) -> None:
    scanner.server.revoke_tokens()
    assert scanner.get("api/v1/secrets").status_code == 401


def test_scanner_password_is_the_documented_one(anonymous: Client) -> None:
    form = {"username": "scanner", "password": SCANNER_PASSWORD}
    assert anonymous.grant(grant_type="password", **form).status_code == 200
