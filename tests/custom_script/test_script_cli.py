"""``credchain script init`` and ``credchain script check``, and the provider built from config."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from credchain import AssetQuery, Resolver
from credchain.cli import main
from credchain.errors import ConfigError
from credchain_custom_script import SCRIPT_NAME, CustomScriptProvider, check_script, script_path
from credchain_custom_script.template import TEMPLATE


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_init_writes_a_private_template_that_passes_the_check(home) -> None:
    result = run("script", "init")
    assert result.exit_code == 0, result.output
    path = script_path(home)
    assert path.read_text() == TEMPLATE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert check_script(path, timeout=5).ok


def test_init_refuses_to_overwrite_without_force(home) -> None:
    path = script_path(home)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text("# mine\n")
    result = run("script", "init")
    assert result.exit_code == 1
    assert "exists; use --force to replace it" in result.output
    assert path.read_text() == "# mine\n"
    assert run("script", "init", "--force").exit_code == 0
    assert path.read_text() == TEMPLATE


def test_init_writes_where_the_config_says(home, write_config) -> None:
    write_config(
        {"chain": ["script"], "providers": {"script": {"type": "custom-script", "script": "r.py"}}}
    )
    assert run("script", "init").exit_code == 0
    assert (home / "integrations/custom/thycotic/r.py").exists()


def test_check_reports_a_valid_script(home) -> None:
    run("script", "init")
    result = run("script", "check")
    assert result.exit_code == 0, result.output
    assert "valid; get_password_from_thycotic at line" in result.output


def test_check_reports_an_invalid_script_with_the_reason(home) -> None:
    result = run("script", "check")
    assert result.exit_code == 1
    assert f"invalid script {script_path(home)}: no script at" in result.output


def test_check_with_a_query_runs_the_script_and_masks_passwords(home, tmp_path) -> None:
    path = tmp_path / "s.py"
    path.write_text(
        "import base64\n"
        "def get_password_from_thycotic(q):\n"
        "    if q['asset_name'] != 'web-01':\n"
        "        return None\n"
        "    return {'username': 'svc', 'password': base64.b64encode(b'planted-Pw-11').decode()}\n"
    )
    path.chmod(0o600)
    result = run("script", "check", "--script", str(path), "--asset-name", "web-01")
    assert result.exit_code == 0, result.output
    assert "web-01: username 'svc', password ********, privilegePassword (none)" in result.output
    assert "planted-Pw-11" not in result.output
    result = run("script", "check", "--script", str(path), "--asset-name", "db-01")
    assert result.exit_code == 3
    assert "db-01: not here" in result.output


def test_the_provider_is_built_from_config_by_entry_point(home, write_config) -> None:
    (home / "integrations/custom/thycotic").mkdir(parents=True, mode=0o700)
    path = home / "integrations/custom/thycotic" / SCRIPT_NAME
    path.write_text(
        "def get_password_from_thycotic(q):\n"
        "    return {'username': q['asset_name'], 'password': 'cHc='}\n"
    )
    path.chmod(0o600)
    write_config(
        {
            "chain": ["script"],
            "providers": {"script": {"type": "custom-script", "workers": 1, "timeout": 5}},
        }
    )
    with Resolver.from_config() as resolver:
        credential = resolver.resolve(AssetQuery(asset_name="web-01"))
    assert (credential.username, credential.source) == ("web-01", "script")


@pytest.mark.parametrize(
    ("settings", "key"),
    [({"workers": 0}, "workers"), ({"timeout": -1}, "timeout"), ({"scirpt": "x.py"}, "scirpt")],
)
def test_bad_settings_are_config_errors_naming_the_key(home, write_config, settings, key) -> None:
    write_config(
        {"chain": ["script"], "providers": {"script": {"type": "custom-script", **settings}}}
    )
    with pytest.raises(ConfigError, match=f"providers.script.{key}"):
        Resolver.from_config()


def test_the_package_exports_what_it_lists() -> None:
    import credchain_custom_script

    for name in credchain_custom_script.__all__:
        assert getattr(credchain_custom_script, name) is not None


def test_providers_lists_custom_script_with_its_description() -> None:
    result = run("providers")
    assert result.exit_code == 0, result.output
    assert "custom-script" in result.output
    assert "get_password_from_thycotic" in result.output


def test_a_script_setting_with_a_nul_byte_is_a_config_error_naming_it(tmp_path) -> None:
    from credchain.config import EntryConfig
    from credchain.plugins import build_provider
    from credchain.provider import ProviderContext

    entry = EntryConfig("s", "custom-script", settings={"script": "a\x00b.py"})
    with pytest.raises(ConfigError, match=r"providers\.s\.script.*NUL"):
        build_provider(entry, CustomScriptProvider, ProviderContext("s", tmp_path))
