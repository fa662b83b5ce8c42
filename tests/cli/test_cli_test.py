"""``credchain test``: the stored configuration checked, an asset tried, passwords masked."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli_w
from cli_helpers import ASSET, ASSET_SECRETS, add_args, run

from credchain.configstore import ConfigStore
from credchain.devserver import DevServer
from credchain.secretstore import SecretStore
from credchain.testing.distributions import write_distribution
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[[dict[str, object]], Path]
PLANTED = "planted-Test-77aa"
MAPPING = "integrations/custom/thycotic/thycotic_mapping.json"


@pytest.fixture
def added(secret_server: DevServer, home: Path) -> DevServer:
    code, _, err = run(*add_args(secret_server))
    assert code == 0, err
    return secret_server


def flat(text: str) -> str:
    return " ".join(text.split())


def test_not_configured_exits_1(home: Path) -> None:
    code, _, err = run("test")
    assert code == 1 and "Not configured" in err


def test_checks_the_login_and_retries_the_sanity_asset(added: DevServer) -> None:
    code, out, err = run("test")
    assert code == 0, err
    assert "logged in to" in out and "pinned certificate" in out
    assert ASSET in out and "svc-scan" in out and "********" in out
    assert_no_secrets(out + err, [added.admin.password, *ASSET_SECRETS])
    last = ConfigStore.find().last_test()
    assert last is not None and last.ok and last.query == {"asset_name": ASSET}


def test_not_found_exits_3_with_faq_3_and_keeps_the_known_good_asset(added: DevServer) -> None:
    code, _, err = run("test", "--asset-name", "no-such-asset")
    assert code == 3
    assert "Thycotic field is searchable" in flat(err) and "FAQ 3" in err
    assert "Last test: FAILED" in run("status")[1]
    code, out, _ = run("test")  # retries the asset that passed, not the one that failed
    assert code == 0 and ASSET in out


def test_wrong_field_in_the_mapping_file_gives_faq_2(added: DevServer, home: Path) -> None:
    path = home / MAPPING
    mapping = json.loads(path.read_text())
    mapping["extendedFields"] = ["Pass", "username"]
    path.write_text(json.dumps(mapping))
    code, _, err = run("test", "--asset-name", ASSET)
    assert code == 1
    assert "'Pass'" in err and str(path) in flat(err) and "not a field of the secret" in flat(err)


def test_login_refused_after_the_password_changed(added: DevServer, home: Path) -> None:
    path = home / "credchain.toml"
    doc = tomllib.loads(path.read_text())
    doc["providers"]["thycotic"]["password"] = SecretStore(home).encrypt("rotated-Pw-5")
    path.write_text(tomli_w.dumps(doc))
    code, _, err = run("configure-thycotic", "-o", "test-thycotic-script")
    assert code == 1
    assert "refused the login" in err and "Check the Thycotic username and password" in err


def test_disabled_is_still_tested_with_a_warning(added: DevServer) -> None:
    run("disable")
    code, _, err = run("test")
    assert code == 0 and "Disabled" in err


def test_custom_script_chain_is_checked(home: Path) -> None:
    from credchain_custom_script import script_path, write_template

    write_template(script_path(home))
    assert run("enable")[0] == 0
    code, out, err = run("configure-thycotic", "-o", "test-thycotic-script")
    assert code == 0, err
    assert "custom-script" in out and "is valid" in out


def test_broken_custom_script_gives_faq_6(home: Path) -> None:
    from credchain_custom_script import script_path

    path = script_path(home)
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_text("def something_else(q):\n    return None\n")
    path.chmod(0o600)
    run("enable")
    code, _, err = run("test")
    assert code == 1 and "FAQ 6" in err and "get_password_from_thycotic" in err


# -- one entry --------------------------------------------------------------------------------

CANDIDATES = '''
from credchain.provider import Candidate, Provider, ProviderSettings


class CandidateProvider(Provider[ProviderSettings]):
    """Lists candidates without reading passwords."""

    def candidates(self, query):
        if query.asset_name != "web-01":
            return []
        return [Candidate("domain CORP", 101, "CORP\\\\svc-scan", "svc-scan")]
'''


@pytest.fixture
def entries(site: Path, write_config: WriteConfig) -> Path:
    (site / "cli_candidates.py").write_text(CANDIDATES)
    write_distribution(
        site,
        "credchain-cli-test-providers",
        "1.0",
        {
            "static": "credchain.testing.providers:StaticProvider",
            "listing": "cli_candidates:CandidateProvider",
        },
    )
    return write_config(
        {
            "chain": ["lab", "domains"],
            "providers": {
                "lab": {
                    "type": "static",
                    "credentials": {"web-01": {"username": "svc", "password": PLANTED}},
                },
                "domains": {"type": "listing"},
            },
        }
    )


def test_entry_with_candidates_lists_them_without_passwords(entries: Path) -> None:
    code, out, _ = run("test", "domains", "--asset-name", "web-01")
    assert code == 0
    assert "domain CORP" in out and "101" in out and "CORP\\svc-scan" in out and "svc-scan" in out


def test_entry_with_no_candidate_exits_3(entries: Path) -> None:
    code, _, err = run("test", "domains", "--asset-name", "db-09")
    assert code == 3 and "no candidate" in err


def test_entry_without_candidates_resolves_masked(entries: Path) -> None:
    code, out, err = run("test", "lab", "--asset-name", "web-01")
    assert code == 0
    assert "svc" in out and "********" in out
    assert_no_secrets(out + err, [PLANTED])


def test_entry_needs_a_query_and_a_known_name(entries: Path) -> None:
    assert run("test", "lab")[0] == 2
    code, _, err = run("test", "nope", "--asset-name", "web-01")
    assert code == 2 and "no chain entry 'nope'" in err
