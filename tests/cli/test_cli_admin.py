"""``status``, ``enable``, ``disable``, ``chain`` and ``configure-thycotic``: the config's flags."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import add_args, mode, run

from credchain.configstore import LastTest
from credchain.devserver import DevServer

WriteConfig = Callable[[dict[str, object]], Path]
DOC: dict[str, object] = {
    "chain": ["primary"],
    "providers": {
        "primary": {
            "type": "thycotic",
            "url": "https://vault.example.com",
            "username": "svc-credchain",
            "password_env": "VAULT_PW",  # status and disable never need it; unset, it is broken
            "comment": "kept",
        }
    },
}


def test_status_not_configured_without_a_file(home: Path) -> None:
    code, out, _ = run("status")
    assert code == 0 and out.splitlines()[0] == "Not configured"


@pytest.fixture
def vault_pw(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAULT_PW", "not-used-by-status")


def test_status_enabled_shows_the_chain(
    home: Path, write_config: WriteConfig, vault_pw: None
) -> None:
    write_config(DOC)
    code, out, _ = run("status")
    assert code == 0
    assert out.splitlines()[0] == "Enabled"
    assert "primary" in out and "https://vault.example.com" in out
    assert "Last test: none" in out


def test_disable_then_enable_rewrite_only_the_flag(
    home: Path, write_config: WriteConfig, vault_pw: None
) -> None:
    path = write_config(DOC)
    assert run("disable")[:2] == (0, "Disabled\n")
    assert run("status")[1].splitlines()[0] == "Disabled"
    assert tomllib.loads(path.read_text()) == {**DOC, "enabled": False}
    assert mode(path) == 0o600
    assert run("enable")[:2][0] == 0
    assert tomllib.loads(path.read_text()) == {**DOC, "enabled": True}
    assert run("status")[1].splitlines()[0] == "Enabled"


def test_enable_warns_when_the_configuration_does_not_load(
    home: Path, write_config: WriteConfig
) -> None:
    write_config({**DOC, "enabled": False})
    code, out, err = run("enable")
    assert code == 0 and out == "Enabled, but broken: resolve will fail\n"
    assert "warning" in err and "VAULT_PW" in err


def test_enable_without_configuration_says_what_to_do(home: Path) -> None:
    code, _, err = run("enable")
    assert code == 1 and "Not configured: run 'credchain add'" in err
    assert "integrations/custom/thycotic" in err


def test_enable_with_only_a_custom_script_enables_it(home: Path) -> None:
    from credchain_custom_script import script_path, write_template

    write_template(script_path(home))
    code, out, _ = run("enable")
    assert code == 0 and "Enabled" in out
    doc = tomllib.loads((home / "credchain.toml").read_text())
    assert doc == {"enabled": True, "chain": ["custom-script"]}


def test_disable_without_configuration_is_harmless(home: Path) -> None:
    code, out, _ = run("disable")
    assert code == 0 and "Not configured" in out
    assert not (home / "credchain.toml").exists()


def test_status_shows_the_last_test_and_json(home: Path, write_config: WriteConfig) -> None:
    from credchain.configstore import ConfigStore

    write_config(DOC)
    ConfigStore.find().record_test(
        LastTest.now(ok=False, summary="x: not found", entry=None, query={"asset_name": "x"})
    )
    assert "Last test: FAILED at" in run("status")[1]
    data = json.loads(run("status", "--json")[1])
    assert data["status"] == "Enabled"
    assert data["chain"] == [
        {"name": "primary", "type": "thycotic", "where": "https://vault.example.com"}
    ]
    assert data["last_test"]["ok"] is False


# -- chain ------------------------------------------------------------------------------------


def test_chain_show_lists_entries_in_order(home: Path, write_config: WriteConfig) -> None:
    write_config({**DOC, "chain": ["primary", "custom-script"]})
    code, out, _ = run("chain", "show")
    assert code == 0
    assert out.index("primary") < out.index("custom-script")


def test_chain_set_validates_and_saves(home: Path, write_config: WriteConfig) -> None:
    path = write_config(DOC)
    code, out, _ = run("chain", "set", "custom-script", "primary")
    assert code == 0 and "custom-script -> primary" in out
    doc = tomllib.loads(path.read_text())
    assert doc["chain"] == ["custom-script", "primary"]
    assert doc["providers"] == DOC["providers"]


def test_chain_set_refuses_an_unknown_name(home: Path, write_config: WriteConfig) -> None:
    path = write_config(DOC)
    code, _, err = run("chain", "set", "primary", "vaultx")
    assert code == 1
    assert "'vaultx' is neither a [providers.NAME] table" in err and "thycotic" in err
    assert tomllib.loads(path.read_text())["chain"] == ["primary"]


def test_chain_set_refuses_an_uninstalled_type(home: Path, write_config: WriteConfig) -> None:
    write_config({"chain": [], "providers": {"x": {"type": "nope"}}})
    code, _, err = run("chain", "set", "x")
    assert code == 1 and "type 'nope', which is not installed" in err


def test_chain_set_refuses_duplicates(home: Path, write_config: WriteConfig) -> None:
    write_config(DOC)
    code, _, err = run("chain", "set", "primary", "primary")
    assert code == 2 and "appears twice" in err


# -- configure-thycotic -----------------------------------------------------------------------


def test_configure_thycotic_help_lists_the_options(home: Path) -> None:
    code, out, _ = run("configure-thycotic", "--help")
    assert code == 0
    for option in ("status", "add", "enable", "disable", "test-thycotic-script"):
        assert option in out
    assert "[default: add]" in out


def test_configure_thycotic_status_enable_disable(
    home: Path, write_config: WriteConfig, vault_pw: None
) -> None:
    write_config(DOC)
    assert run("configure-thycotic", "-o", "disable")[1] == "Disabled\n"
    assert run("configure-thycotic", "-o", "status")[1].splitlines()[0] == "Disabled"
    assert run("configure-thycotic", "-o", "enable")[1] == "Enabled\n"


def test_configure_thycotic_refuses_an_unknown_option(home: Path) -> None:
    code, _, err = run("configure-thycotic", "-o", "remove")
    assert code == 2 and "test-thycotic-script" in err


def test_configure_thycotic_without_o_is_add(home: Path) -> None:
    code, out, _ = run("configure-thycotic", stdin="")
    assert code == 1 and "Thycotic URL" in out  # add asked the first question


def test_configure_thycotic_passes_further_options_to_add(
    home: Path, secret_server: DevServer
) -> None:
    code, out, err = run("configure-thycotic", "-o", *add_args(secret_server))
    assert code == 0, err
    assert "Saved" in out
    assert run("configure-thycotic", "-o", "status")[1].splitlines()[0] == "Enabled"
