"""Helpers for the dev-server tests: a small JSON client over real TLS."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from credchain.devserver import SCANNER_PASSWORD, DevServer


class Client:
    """A keep-alive session against one dev server, trusting its CA."""

    def __init__(self, server: DevServer) -> None:
        self.server = server
        self.session = requests.Session()
        # Passed per request: requests lets REQUESTS_CA_BUNDLE in the environment override
        # Session.verify, and CI machines often set it.
        self.verify: str | bool = server.ca_cert or True
        self.token: str | None = None

    def grant(self, **form: str) -> requests.Response:
        url = f"{self.server.url}/oauth2/token"
        return self.session.post(url, data=form, timeout=10, verify=self.verify)

    def login(self, username: str | None = None, password: str | None = None) -> Client:
        username = username or self.server.admin_username
        password = password or self.server.admin_password
        response = self.grant(grant_type="password", username=username, password=password)
        response.raise_for_status()
        self.token = response.json()["access_token"]
        return self

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        url = f"{self.server.url}/{path}"
        return self.session.request(
            method, url, headers=headers, timeout=10, verify=self.verify, **kwargs
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, params=params)

    def post(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("POST", path, json=json, params=params)

    def control(self, method: str, action: str, json: Any = None) -> requests.Response:
        return self.session.request(
            method, f"{self.server.origin}/_dev/{action}", json=json, timeout=10, verify=self.verify
        )


@pytest.fixture
def admin(secret_server: DevServer) -> Client:
    """The admin, logged in to the (reset) session server."""
    return Client(secret_server).login()


@pytest.fixture
def scanner(secret_server: DevServer) -> Client:
    """The demo's non-admin user ``scanner``, who sees only some secrets."""
    return Client(secret_server).login("scanner", SCANNER_PASSWORD)


@pytest.fixture
def anonymous(secret_server: DevServer) -> Client:
    return Client(secret_server)
