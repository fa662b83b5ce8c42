"""``credchain test`` and ``providers`` with third-party providers: hooks called, hooks checked.

A provider that is not ``Checks`` has its ``verify_tls`` and ``authenticate(renew=True)`` hooks
called by ``test``; a misspelt hook name is reported by ``providers`` (and the chain refuses the
provider) before any lookup; a bug in a provider's ``check()`` is one line, its traceback only
with ``--debug``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import run

from credchain import Resolver
from credchain.errors import PluginLoadError
from credchain.testing.distributions import write_distribution

WriteConfig = Callable[[dict[str, object]], Path]
PLANTED = "planted-Third-51c0"
MODULE = "cli_third_party"

SOURCE = f'''
from credchain.provider import LoginRefused, Provider, ProviderSettings, hookimpl


class LabSettings(ProviderSettings):
    refuse: bool = False


class LoggingIn(Provider[LabSettings]):
    """Logs in through its authenticate hook."""

    Settings = LabSettings
    calls: list[tuple[str, str, object]] = []

    @hookimpl
    def credchain_verify_tls(self, entry):
        type(self).calls.append(("verify_tls", entry, None))

    @hookimpl
    def credchain_authenticate(self, entry, renew):
        type(self).calls.append(("authenticate", entry, renew))
        if self.settings.refuse:
            raise LoginRefused("the lab vault refused the login of svc-lab")
        return "token"

    @hookimpl
    def credchain_lookup(self, query, auth):
        return None


class Misspelt(Provider[ProviderSettings]):
    """Has a typo in a hook name."""

    @hookimpl
    def credchain_lookpu(self, query):
        return None


class BuggyCheck(Provider[ProviderSettings]):
    """Its check has a bug."""

    def check(self):
        raise ValueError("{PLANTED}")
'''


@pytest.fixture
def third_party(site: Path) -> Iterator[Path]:
    (site / f"{MODULE}.py").write_text(SOURCE)
    write_distribution(
        site,
        "credchain-third-party",
        "2.0",
        {
            "lab": f"{MODULE}:LoggingIn",
            "misspelt": f"{MODULE}:Misspelt",
            "buggy": f"{MODULE}:BuggyCheck",
        },
    )
    yield site
    sys.modules.pop(MODULE, None)


def calls() -> list[tuple[str, str, object]]:
    return list(sys.modules[MODULE].LoggingIn.calls)


def test_test_calls_the_verify_tls_and_authenticate_hooks_of_a_provider_without_check(
    third_party: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["lab"], "providers": {"lab": {"type": "lab"}}})
    code, out, err = run("test")
    assert code == 0, err
    assert "lab (lab): settings valid; verify_tls and authenticate passed" in out
    assert calls()[:2] == [("verify_tls", "lab", None), ("authenticate", "lab", True)]


def test_test_reports_a_login_the_authenticate_hook_refuses(
    third_party: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["lab"], "providers": {"lab": {"type": "lab", "refuse": True}}})
    code, _, err = run("test")
    assert code == 1
    assert "refused the login of svc-lab" in err


def test_providers_reports_a_misspelt_hook_name(third_party: Path) -> None:
    code, out, err = run("providers")
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("misspelt"))
    assert "BROKEN" in line and "credchain_lookpu" in line
    assert "did you mean credchain_lookup?" in line
    assert "'misspelt' failed to load" in err
    listed = {info["name"]: info for info in json.loads(run("providers", "--json")[1])}
    assert "credchain_lookpu" in (listed["misspelt"]["error"] or "")
    assert listed["lab"]["error"] is None


def test_a_misspelt_hook_fails_the_chain_at_load_not_at_the_first_lookup(
    third_party: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["m"], "providers": {"m": {"type": "misspelt"}}})
    with pytest.raises(PluginLoadError, match="credchain_lookpu is not a credchain hook"):
        Resolver.from_config()


def test_a_bug_in_check_is_one_line_without_its_message(
    third_party: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["b"], "providers": {"b": {"type": "buggy"}}})
    code, out, err = run("test")
    assert code == 1
    assert "b: provider bug: unexpected ValueError (run with --debug" in err
    assert "Traceback" not in err and PLANTED not in out + err


def test_a_bug_in_check_shows_its_traceback_with_debug(
    third_party: Path, write_config: WriteConfig
) -> None:
    write_config({"chain": ["b"], "providers": {"b": {"type": "buggy"}}})
    code, _, err = run("--debug", "test")
    assert code == 1
    assert "Traceback" in err and "in check" in err
