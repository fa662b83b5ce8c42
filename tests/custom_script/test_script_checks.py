"""test-thycotic-script: a missing, misnamed, broken or unsafe script is refused with the reason."""

from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.errors import ScriptError
from credchain.provider import ProviderContext
from credchain_custom_script import (
    SCRIPT_NAME,
    CustomScriptProvider,
    CustomScriptSettings,
    check_script,
    script_path,
    try_script,
)
from credchain_custom_script.checks import file_problem

GOOD = """
import base64

def get_password_from_thycotic(query_data):
    if query_data["asset_name"] != "web-01":
        return None
    return {"username": "svc", "password": base64.b64encode(b"pw").decode()}
"""


def custom_dir(home: Path) -> Path:
    directory = home / "integrations" / "custom" / "thycotic"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def install(home: Path, body: str = GOOD, name: str = SCRIPT_NAME, mode: int = 0o600) -> Path:
    path = custom_dir(home) / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    path.chmod(mode)
    return path


def test_the_default_script_is_thycotic_script_py_in_the_custom_directory(home) -> None:
    assert script_path(home) == home / "integrations/custom/thycotic/thycotic_script.py"
    assert script_path(home, "rules.py") == home / "integrations/custom/thycotic/rules.py"
    assert script_path(home, "/opt/x.py") == Path("/opt/x.py")


def test_a_good_script_passes_the_check(home) -> None:
    path = install(home)
    result = check_script(path, timeout=5)
    assert result.ok and result.reason is None and result.entry_point_line == 4
    result.raise_for_problem()


def test_a_missing_script_is_invalid(home) -> None:
    result = check_script(script_path(home), timeout=5)
    assert not result.ok
    assert result.reason == f"no script at {script_path(home)}"
    with pytest.raises(ScriptError, match=r"^invalid script .*thycotic_script\.py: no script at"):
        result.raise_for_problem()


def test_a_script_under_another_name_is_pointed_out(home) -> None:
    install(home, name="my_thycotic.py")
    result = check_script(script_path(home), timeout=5)
    assert not result.ok
    assert "found my_thycotic.py: the file must be named thycotic_script.py" in str(result.reason)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (
            "def get_password(query_data):\n    return None\n",
            "no function 'get_password_from_thycotic'",
        ),
        (
            "get_password_from_thycotic = 42\n",
            "'get_password_from_thycotic' is a int, not a function",
        ),
        ("def get_password_from_thycotic(query_data)\n    return None\n", "syntax error at line 1"),
        (
            "x = 1\nimport no_such_module_here\n",
            "import error at line 2: ModuleNotFoundError ('no_such_module_here')",
        ),
        ("from os import no_such_name\n", "import error at line 1: ImportError"),
        ("raise RuntimeError('planted-Pw')\n", "RuntimeError at line 1 while loading"),
        ("import sys\nsys.exit(2)\n", "SystemExit at line 2 while loading"),
    ],
    ids=[
        "no-entry-point",
        "not-callable",
        "syntax",
        "missing-module",
        "missing-name",
        "raises",
        "exits",
    ],
)
def test_a_broken_script_is_invalid_with_the_reason(home, body, reason) -> None:
    path = install(home, body)
    result = check_script(path, timeout=5)
    assert not result.ok
    assert reason in str(result.reason)
    assert "planted-Pw" not in str(result.reason)


def test_a_script_that_hangs_while_loading_is_invalid(home) -> None:
    path = install(home, "import time\ntime.sleep(60)\n")
    result = check_script(path, timeout=0.5)
    assert not result.ok and "did not load within 0.5 s" in str(result.reason)


def test_a_script_that_kills_its_worker_while_loading_is_invalid(home) -> None:
    path = install(home, "import os\nos._exit(4)\n")
    result = check_script(path, timeout=5)
    assert not result.ok and "did not start (exit status 4)" in str(result.reason)


def test_a_broken_script_fails_each_lookup_with_the_reason(home) -> None:
    install(home, "def get_password_from_thycotic(query_data) return\n")
    settings = CustomScriptSettings(workers=1, timeout=5)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    try:
        resolver = Resolver([ChainEntry("script", provider, type="custom-script")])
        for _ in range(2):
            with pytest.raises(ScriptError, match=r"invalid script .*: syntax error at line 1"):
                resolver.resolve(AssetQuery(asset_name="web-01"))
    finally:
        provider.close()


def test_a_script_writable_by_group_or_others_is_refused(home) -> None:
    for mode in (0o620, 0o602, 0o666):
        path = install(home, mode=mode)
        reason = check_script(path, timeout=5).reason
        assert reason is not None
        assert f"writable by group or others (mode 0{mode:o})" in reason
        assert f"chmod go-w {path}" in reason


def test_a_script_in_a_directory_writable_by_others_is_refused(home) -> None:
    path = install(home)
    path.parent.chmod(0o777)
    try:
        assert "its directory is writable by group or others" in str(file_problem(path))
        path.parent.chmod(0o1777)  # sticky, like /tmp: others cannot replace our file
        assert file_problem(path) is None
    finally:
        path.parent.chmod(0o700)


def test_a_script_owned_by_someone_else_is_refused(home) -> None:
    path = install(home)
    if os.geteuid() == 0:
        os.chown(path, 4242, -1)
        reason = file_problem(path)
        assert reason is not None and "owned by uid 4242, not by uid 0" in reason
    else:
        reason = file_problem(path, uid=os.geteuid() + 1)
        assert reason is not None and f"owned by uid {os.geteuid()}" in reason


def test_an_unsafe_script_is_refused_at_lookup_too(home) -> None:
    install(home, mode=0o666)
    settings = CustomScriptSettings(workers=1, timeout=5)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    try:
        with pytest.raises(ScriptError, match="writable by group or others"):
            Resolver([ChainEntry("script", provider)]).resolve(AssetQuery(asset_name="web-01"))
        assert provider.worker_pids == []  # refused before any worker ran it
    finally:
        provider.close()


def test_try_script_runs_one_query(home) -> None:
    path = install(home)
    credential = try_script(path, {"asset_name": "web-01"}, timeout=5)
    assert credential is not None and credential.password.get_secret_value() == "pw"
    assert try_script(path, AssetQuery(asset_name="db-01"), timeout=5) is None


def test_try_script_raises_for_an_invalid_script(home) -> None:
    path = install(home, "x = 1\n")
    with pytest.raises(ScriptError, match="no function 'get_password_from_thycotic'"):
        try_script(path, {"asset_name": "web-01"}, timeout=5)


def elsewhere(home: Path, body: str = GOOD) -> Path:
    """A safe script outside the custom directory (owner only, in a private directory)."""
    directory = home / "elsewhere"
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "real_script.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o600)
    return path


def test_a_script_that_is_a_symbolic_link_is_refused(home) -> None:
    link = script_path(home)
    custom_dir(home)
    link.symlink_to(elsewhere(home))
    reason = file_problem(link)
    assert reason is not None
    assert "is a symbolic link; point the setting at the real file" in reason
    assert check_script(link, timeout=5).reason == reason


def test_a_script_under_a_group_writable_ancestor_directory_is_refused(home) -> None:
    path = install(home)
    ancestor = home / "integrations"
    ancestor.chmod(0o770)
    reason = file_problem(path)
    assert reason is not None
    assert f"{ancestor} above it is writable by group or others (mode 0770)" in reason
    assert f"chmod go-w {ancestor}" in reason
    ancestor.chmod(0o1770)  # sticky, like /tmp: others cannot replace what is in it
    assert file_problem(path) is None


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory away needs root")
def test_a_script_under_an_ancestor_directory_owned_by_another_user_is_refused(home) -> None:
    path = install(home)
    ancestor = home / "integrations" / "custom"
    os.chown(ancestor, 4242, -1)
    reason = file_problem(path)
    assert reason is not None
    assert f"{ancestor} above it is owned by uid 4242, not by uid 0" in reason


def test_a_symbolic_link_on_the_directory_path_is_followed_and_its_target_checked(home) -> None:
    shared = home / "shared"
    target = shared / "thycotic"
    target.mkdir(parents=True, mode=0o700)
    (target / SCRIPT_NAME).write_text(textwrap.dedent(GOOD), encoding="utf-8")
    (target / SCRIPT_NAME).chmod(0o600)
    (home / "integrations" / "custom").mkdir(parents=True, mode=0o700)
    (home / "integrations" / "custom" / "thycotic").symlink_to(target)
    path = script_path(home)
    assert file_problem(path) is None
    shared.chmod(0o777)  # anyone could now swap the directory the link points to
    reason = file_problem(path)
    assert reason is not None and f"{shared} above it is writable by group or others" in reason


def hostile_symlink(home: Path) -> None:
    custom_dir(home)
    script_path(home).symlink_to(elsewhere(home))


def hostile_ancestor_mode(home: Path) -> None:
    install(home)
    (home / "integrations").chmod(0o775)


def hostile_ancestor_owner(home: Path) -> None:
    install(home)
    if os.geteuid() != 0:
        pytest.skip("giving a directory away needs root")
    os.chown(home / "integrations", 4242, -1)


@pytest.mark.parametrize(
    "make_hostile",
    [hostile_symlink, hostile_ancestor_mode, hostile_ancestor_owner],
    ids=["symlink", "ancestor-mode", "ancestor-owner"],
)
def test_the_check_refuses_what_a_lookup_refuses_for_the_same_reason(home, make_hostile) -> None:
    make_hostile(home)
    path = script_path(home)
    checked = check_script(path, timeout=5)
    settings = CustomScriptSettings(workers=1, timeout=5)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    try:
        with pytest.raises(ScriptError) as caught:
            Resolver([ChainEntry("script", provider)]).resolve(AssetQuery(asset_name="web-01"))
        assert provider.worker_pids == []
    finally:
        provider.close()
    assert not checked.ok
    assert f"invalid script {path}: {checked.reason}" in str(caught.value)


def test_a_worker_runs_the_bytes_that_were_checked_even_if_the_file_is_then_swapped(
    home, monkeypatch
) -> None:
    path = install(home)
    swapped = path.with_name("swapped.tmp")
    swapped.write_text(textwrap.dedent(GOOD).replace('b"pw"', 'b"not-checked"'))
    swapped.chmod(0o600)
    start = subprocess.Popen

    def swap_then_start(*args: Any, **kwargs: Any) -> subprocess.Popen[bytes]:
        if swapped.exists():  # after every check, before the worker reads anything
            os.replace(swapped, path)
        return start(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", swap_then_start)
    settings = CustomScriptSettings(workers=1, timeout=5)
    provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
    try:
        resolver = Resolver([ChainEntry("script", provider)])
        credential = resolver.resolve(AssetQuery(asset_name="web-01"))
    finally:
        provider.close()
    assert not swapped.exists()
    assert credential.password.get_secret_value() == "pw"
