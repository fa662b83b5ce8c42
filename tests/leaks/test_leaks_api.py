"""The Python API: answers, failures, a whole scan, reprs and a script worker's environment.

Scanned: the text, repr and traceback of every exception, traces (``explain`` and the errors'),
reprs of the resolver, its chain entries, providers, settings, credentials and scan results, the
log records at DEBUG, the files under the home and what a script worker finds in its
environment. The only way out for a secret is ``SafeCredential.to_safe_dict()``.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from pathlib import Path

import pytest
from leak_helpers import (
    CLIENT_ASSET,
    DOMAIN_ASSET,
    ENV_ASSET,
    ENV_VAR,
    MISSING,
    PLANTED,
    SCRIPT_ASSET,
    SCRIPT_ENV,
    SCRIPT_GARBAGE,
    SCRIPT_NO_USERNAME,
    SCRIPT_RAISES,
    VAULT_ASSET,
    Plant,
    credential_canaries,
    scan,
    scan_files,
    write_home,
)

from credchain import AssetQuery, Resolver
from credchain.config import load_config
from credchain.errors import CredchainError
from credchain.models import encode_base64

FOUND = (VAULT_ASSET, CLIENT_ASSET, ENV_ASSET, DOMAIN_ASSET, SCRIPT_ASSET)
SEARCH = "GET api/v1/secrets"


@pytest.fixture
def resolver(leak_home: Path) -> Iterator[Resolver]:
    with Resolver.from_config(leak_home / "credchain.toml") as built:
        yield built


def shown(resolver: Resolver) -> dict[str, str]:
    """What a caller may print of a resolver: its repr and those of its parts."""
    found = {"repr of the resolver": repr(resolver), "repr of the chain": repr(resolver.chain)}
    for entry in resolver.chain:
        provider = entry.provider
        found[f"repr of provider {entry.name}"] = repr(provider)
        found[f"str of provider {entry.name}"] = str(provider)
        settings = getattr(provider, "settings", None)
        found[f"repr of settings of {entry.name}"] = repr(settings)
        found[f"str of settings of {entry.name}"] = str(settings)
    return found


def described(error: BaseException) -> dict[str, str]:
    """An exception as a caller may log it: text, repr, traceback, and its trace."""
    found = {
        "text of the error": str(error),
        "repr of the error": repr(error),
        "traceback of the error": "".join(traceback.format_exception(error)),
    }
    trace = getattr(error, "trace", None)
    if trace is not None:
        found["trace of the error"] = f"{trace}\n{trace!r}\n{json.dumps(trace.to_dict())}"
    return found


@pytest.mark.parametrize("asset", FOUND)
def test_an_answer_shows_its_secrets_through_to_safe_dict_only(
    asset: str, plant: Plant, resolver: Resolver, leak_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    query = AssetQuery(asset_name=asset)
    credential = resolver.resolve(query)
    safe = credential.to_safe_dict()
    shown_values = [safe["password"], *filter(None, [safe.get("privilegePassword")])]
    assert shown_values == [encode_base64(value) for value in credential_canaries(asset)]
    trace = resolver.explain(query)
    captures = {
        "repr of the credential": repr(credential),
        "str of the credential": str(credential),
        "JSON of the credential": credential.model_dump_json(),
        "explain": f"{trace}\n{trace!r}\n{json.dumps(trace.to_dict())}",
        **shown(resolver),
    }
    for where, text in captures.items():
        scan(f"{where} of {asset}", text, plant.planted())
    scan(f"log of resolving {asset}", caplog.text, plant.planted())
    scan_files(leak_home, plant)


FAILURES = {
    "not found": (MISSING, None, "good"),
    "script raises": (SCRIPT_RAISES, None, "good"),
    "script answers no base64": (SCRIPT_GARBAGE, None, "good"),
    "script answers no username": (SCRIPT_NO_USERNAME, None, "good"),
    "script does not load": (SCRIPT_ASSET, None, "broken script"),
    "login refused": (VAULT_ASSET, None, "wrong password"),
    "500 on the search": (VAULT_ASSET, f"500:{SEARCH}", "good"),
    "HTML on the search": (VAULT_ASSET, f"html:{SEARCH}", "good"),
    "truncated search": (VAULT_ASSET, f"truncated:{SEARCH}", "good"),
    "a route that revokes every token": (VAULT_ASSET, f"revoke-tokens:{SEARCH}", "good"),
    "truncated token grant": (VAULT_ASSET, "truncated:POST oauth2/token", "revoked"),
}


@pytest.mark.parametrize(("asset", "fault", "variant"), FAILURES.values(), ids=FAILURES.keys())
def test_a_failure_shows_no_secret(
    asset: str,
    fault: str | None,
    variant: str,
    plant: Plant,
    home: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if variant == "wrong password":
        path = write_home(home, plant, vault_password=PLANTED["wrong vault password"])
    else:
        path = write_home(
            home, plant, script="broken.py" if variant == "broken script" else "leak.py"
        )
    with Resolver.from_config(path) as resolver:
        if variant == "revoked":
            resolver.resolve(AssetQuery(asset_name=VAULT_ASSET))
            plant.server.revoke_tokens()
        if fault is not None:
            plant.server.add_fault(fault)
        query = AssetQuery(asset_name=asset)
        with pytest.raises(CredchainError) as caught:
            resolver.resolve(query)
        trace = resolver.explain(query)
        captures = {
            **described(caught.value),
            "explain": f"{trace}\n{trace!r}",
            **shown(resolver),
        }
    for where, text in captures.items():
        scan(f"{where} for {asset}", text, plant.planted())
    scan(f"log of failing {asset}", caplog.text, plant.planted())
    scan_files(home, plant)


@pytest.mark.parametrize("fault", [None, f"truncated:{SEARCH}:rate=0.5"])
def test_a_whole_scan_shows_no_secret_but_in_its_credentials(
    fault: str | None, plant: Plant, resolver: Resolver, caplog: pytest.LogCaptureFixture
) -> None:
    if fault is not None:
        plant.server.add_fault(fault)
    assets = [*FOUND, SCRIPT_RAISES, SCRIPT_GARBAGE, MISSING] * 2
    results = list(resolver.resolve_many([{"asset_name": a} for a in assets], concurrency=4))
    assert len(results) == len(assets)
    for result in results:
        assert result.query is not None
        asset = result.query.asset_name or ""
        if result.credential is not None:
            safe = result.credential.to_safe_dict()
            assert safe["password"] == encode_base64(credential_canaries(asset)[0])
        captures = {"repr of the result": repr(result)}
        if result.error is not None:
            captures.update(described(result.error))
        for where, text in captures.items():
            scan(f"{where} for {asset} in a scan", text, plant.planted())
    scan("log of a scan", caplog.text, plant.planted())


def test_a_script_worker_does_not_get_the_vault_password_of_the_environment(
    plant: Plant, resolver: Resolver
) -> None:
    with pytest.raises(CredchainError):  # the script wrote its environment and said "not here"
        resolver.resolve(AssetQuery(asset_name=SCRIPT_ENV))
    environ = json.loads(plant.env_dump.read_text())
    assert "PATH" in environ and "CREDCHAIN_HOME" in environ
    assert ENV_VAR not in environ
    scan("environment of a script worker", plant.env_dump.read_text(), plant.planted())


def test_the_loaded_configuration_shows_no_secret_in_its_repr(
    plant: Plant, leak_home: Path
) -> None:
    config = load_config(leak_home / "credchain.toml")
    scan("repr of the configuration", repr(config), plant.planted())
    for name, entry in config.providers.items():
        scan(f"repr of the config entry {name}", repr(entry), plant.planted())
