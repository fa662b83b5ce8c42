"""A script in a chain after Thycotic, and scripts that reuse the stored Secret Server config.

Integration tests: the dev server over real TLS (the ``secret_server`` fixture).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

from credchain import AssetQuery, Resolver
from credchain.devserver import DevServer, demo_password
from credchain.errors import CredentialNotFound, ScriptError
from credchain_custom_script import SCRIPT_NAME, script_path

ROOT = Path(__file__).resolve().parents[2]
CONTRIB = ROOT / "contrib" / "custom-scripts"
WEB = "web-01.corp.example.com"

FALLBACK = """
import base64

def get_password_from_thycotic(query_data):
    if query_data["asset_name"] != "lab-07":
        return None
    return {"username": "lab", "password": base64.b64encode(b"from-the-script").decode()}
"""


def vault_table(server: DevServer) -> dict[str, object]:
    return {"type": "thycotic", **server.thycotic_table(retries=0)}


def install(home: Path, source: str) -> Path:
    path = script_path(home)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.write_text(source, encoding="utf-8")
    path.chmod(0o600)
    return path


def configure(write_config, server: DevServer, chain: list[str]) -> None:
    write_config(
        {
            "chain": chain,
            "providers": {
                "vault": vault_table(server),
                "script": {"type": "custom-script", "workers": 1, "timeout": 10},
            },
        }
    )


def test_the_chain_falls_through_to_the_script_when_the_vault_has_no_match(
    home, write_config, secret_server
) -> None:
    install(home, FALLBACK)
    configure(write_config, secret_server, ["vault", "script"])
    with Resolver.from_config() as resolver:
        from_vault = resolver.resolve(AssetQuery(asset_name=WEB))
        from_script = resolver.resolve(AssetQuery(asset_name="lab-07"))
        trace = resolver.explain(AssetQuery(asset_name="lab-07"))
    assert (from_vault.source, from_vault.password.get_secret_value()) == (
        "vault",
        demo_password(WEB),
    )
    assert (from_script.source, from_script.password.get_secret_value()) == (
        "script",
        "from-the-script",
    )
    assert [(s.entry, s.outcome) for s in trace.steps] == [
        ("vault", "not_found"),
        ("script", "found"),
    ]


def test_the_secret_server_api_example_reuses_the_stored_configuration(
    home, write_config, secret_server
) -> None:
    install(home, (CONTRIB / "secret_server_api.py").read_text())
    configure(write_config, secret_server, ["script"])  # the vault entry is stored, not chained
    with Resolver.from_config() as resolver:
        standard = resolver.resolve(AssetQuery(asset_name=WEB))
        with pytest.raises(CredentialNotFound):
            resolver.resolve(AssetQuery(asset_name="nowhere-01"))
    assert (standard.username, standard.password.get_secret_value()) == (
        "svc-scan",
        demo_password(WEB),
    )
    assert standard.source == "script"


def test_the_secret_server_api_example_prefers_a_scan_secret(
    home, write_config, secret_server
) -> None:
    install(home, (CONTRIB / "secret_server_api.py").read_text())
    write_config(
        {
            "chain": ["script"],
            "providers": {
                "vault": {**vault_table(secret_server), "exact_match": False},
                "script": {"type": "custom-script", "workers": 1, "timeout": 10},
            },
        }
    )
    secret_server.add_secret(
        f"{WEB} scan", {"machine": WEB, "username": "scan-special", "password": "sp-1"}
    )
    with Resolver.from_config() as resolver:
        credential = resolver.resolve(AssetQuery(asset_name=WEB))
    assert (credential.username, credential.password.get_secret_value()) == ("scan-special", "sp-1")


def test_choose_by_rules_prefers_the_scan_account_then_the_domain_admin(
    home, write_config, secret_server
) -> None:
    install(home, (CONTRIB / "choose_by_rules.py").read_text())
    configure(write_config, secret_server, ["script"])
    with Resolver.from_config() as resolver:
        web = resolver.resolve(AssetQuery(asset_name=WEB))
        dc = resolver.resolve(AssetQuery(asset_name="dc-01.corp.example.com"))
        with pytest.raises(CredentialNotFound):
            resolver.resolve(AssetQuery(asset_name="sw-01.corp.example.com"))
    assert (web.username, web.password.get_secret_value()) == ("svc-scan", demo_password(WEB))
    assert web.privilege_password is not None
    assert web.privilege_password.get_secret_value() == demo_password(WEB + ":root")
    assert (dc.username, dc.password.get_secret_value()) == (
        "Administrator",
        demo_password("CORP\\Administrator"),
    )


def load_contrib(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, CONTRIB / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_choose_by_rules_skips_disabled_secrets() -> None:
    rules = load_contrib("choose_by_rules")
    scan = {"id": 3, "secretTemplateName": "Scan Account", "active": True}
    windows = {"id": 4, "secretTemplateName": "Windows Account", "active": True}
    assert rules.choose([windows, scan]) == ("secret", scan)
    assert rules.choose([{**scan, "active": False}, windows]) == (
        "domain-admin",
        "CORP\\Administrator",
    )
    failed = {**scan, "lastHeartBeatStatus": "Failed"}
    assert rules.choose([failed]) is None
    assert rules.choose([{"id": 9, "secretTemplateName": "Unix Account (SSH)"}]) is None


def test_a_script_that_reuses_a_missing_configuration_fails_clearly(home, write_config) -> None:
    shutil.copy(CONTRIB / "secret_server_api.py", install(home, ""))
    script_path(home).chmod(0o600)
    write_config({"chain": ["script"], "providers": {"script": {"type": "custom-script"}}})
    with (
        Resolver.from_config() as resolver,
        pytest.raises(ScriptError, match=rf"{SCRIPT_NAME} raised ConfigError at line \d+"),
    ):
        resolver.resolve(AssetQuery(asset_name=WEB))


VAULT_PW = "CREDCHAIN_TEST_VAULT_PW"


def configure_password_env(write_config, server: DevServer, script: dict[str, object]) -> None:
    """The stored vault entry takes its password from ``VAULT_PW`` (``password_env``)."""
    vault = {**vault_table(server), "password_env": VAULT_PW}
    del vault["password"]
    script = {"type": "custom-script", "workers": 1, "timeout": 10, **script}
    write_config({"chain": ["script"], "providers": {"vault": vault, "script": script}})


def test_a_vault_password_from_the_environment_is_not_passed_to_the_api(
    home, write_config, secret_server, monkeypatch
) -> None:
    install(home, (CONTRIB / "secret_server_api.py").read_text())
    monkeypatch.setenv(VAULT_PW, secret_server.ready_info()["admin"]["password"])
    configure_password_env(write_config, secret_server, {})
    with (
        Resolver.from_config() as resolver,
        pytest.raises(ScriptError, match=r"raised ConfigError at line \d+"),
    ):
        resolver.resolve(AssetQuery(asset_name=WEB))


def test_a_vault_password_named_in_pass_environment_reaches_the_api(
    home, write_config, secret_server, monkeypatch
) -> None:
    install(home, (CONTRIB / "secret_server_api.py").read_text())
    monkeypatch.setenv(VAULT_PW, secret_server.ready_info()["admin"]["password"])
    configure_password_env(write_config, secret_server, {"pass_environment": [VAULT_PW]})
    with Resolver.from_config() as resolver:
        credential = resolver.resolve(AssetQuery(asset_name=WEB))
    assert credential.password.get_secret_value() == demo_password(WEB)
