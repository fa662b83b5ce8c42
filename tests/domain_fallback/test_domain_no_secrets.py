"""Planted passwords never show in traces, errors, logs, reprs, candidates or the token cache."""

from __future__ import annotations

from pathlib import Path

import pytest
from domain_helpers import ALL_SECRETS, DATASET, make_provider

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.errors import CredchainError
from credchain.home import TOKEN_CACHE_DIR as CACHE_DIR
from credchain.testing.secrets import assert_no_secrets

QUERIES = [
    {"asset_name": "web-01.corp.example.com", "ip_address": "10.0.0.5"},
    {"asset_name": "db-01.lab.example.com"},
    {"asset_name": "ws-9.corp.example.com"},
    {"asset_name": "ws-9.lab.example.com"},
    {"asset_name": "ws-9.dmz.example.com"},
    {"ip_address": "10.9.9.9", "domain": "OTHER"},
]


@pytest.mark.parametrize("username", ["svc-scan", "svc-audit", "break-glass", None])
def test_no_secret_anywhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, username: str | None
) -> None:
    caplog.set_level("DEBUG")
    captured: list[str] = []
    with DevServer(data=DATASET) as server:
        settings = {"privilege_password_field": "Privilege Password", "default_domain": "CORP"}
        if username:
            settings.update(username=username, fallback_to_local=True)  # type: ignore[arg-type]
        provider = make_provider(server, tmp_path, **settings)
        with Resolver([ChainEntry("windows", provider, type="domain-fallback")]) as resolver:
            for query in QUERIES:
                asset = AssetQuery(**query)
                try:
                    credential = resolver.resolve(asset)
                    captured += [repr(credential), str(credential), str(credential.detail)]
                except CredchainError as exc:
                    captured += [str(exc), repr(exc), str(exc.trace)]
                trace = resolver.explain(asset)
                captured += [str(trace), repr(trace.to_dict())]
                captured.append(repr(provider.candidates(asset)))
                try:
                    captured.append(repr(provider.credchain_lookup(asset)))
                except CredchainError as exc:
                    captured.append(repr(exc))
                captured += [repr(provider), repr(provider.settings)]
    for path in (tmp_path / CACHE_DIR).iterdir():
        captured.append(path.read_text())
    captured.append(caplog.text)
    assert_no_secrets("\n".join(captured), ALL_SECRETS)
