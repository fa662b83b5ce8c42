"""A script that hangs, raises, exits or crashes costs one lookup an error, never the scanner."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.errors import ScriptError
from credchain.provider import ProviderContext
from credchain.testing.secrets import assert_no_secrets
from credchain_custom_script import SCRIPT_NAME, CustomScriptProvider, CustomScriptSettings

PLANTED = "planted-Pw-3b9c"

#: answers pw-<asset>; misbehaves on purpose for some asset names
SCRIPT = f"""
import base64, ctypes, os, subprocess, sys, time

def get_password_from_thycotic(query_data):
    asset = query_data["asset_name"]
    if asset.startswith("hang"):
        time.sleep(60)
    if asset.startswith("spawn"):
        child = subprocess.Popen(["sleep", "60"])
        with open(asset.split(":", 1)[1], "w") as out:
            out.write(str(child.pid))
        time.sleep(60)
    if asset.startswith(("leave", "orphan")):
        child = subprocess.Popen(["sleep", "60"])
        with open(asset.split(":", 1)[1], "w") as out:
            out.write(str(child.pid))
    if asset.startswith(("exit", "orphan")):
        os._exit(7)
    if asset.startswith("sysexit"):
        sys.exit(3)
    if asset.startswith("segv"):
        ctypes.string_at(0)
    if asset.startswith("raise"):
        raise ValueError("{PLANTED}")
    print("{PLANTED}")
    password = "pw-" + asset
    return {{"username": "svc-" + asset, "password": base64.b64encode(password.encode()).decode()}}
"""


def install(home: Path, body: str = SCRIPT) -> Path:
    directory = home / "integrations" / "custom" / "thycotic"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / SCRIPT_NAME
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o600)
    return path


def worker_children() -> list[tuple[int, str]]:
    """(pid, state) of this process's children that are script workers, or zombies of any."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == os.getpid() and (
            state == "Z" or b"credchain_custom_script.worker" in cmdline
        ):
            found.append((int(entry.name), state))
    return found


def make(home: Path, *, workers: int = 2, timeout: float = 0.5) -> CustomScriptProvider:
    settings = CustomScriptSettings(workers=workers, timeout=timeout)
    return CustomScriptProvider(settings, ProviderContext(entry="script", home=home))


@pytest.fixture
def provider(home: Path) -> Iterator[CustomScriptProvider]:
    install(home)
    provider = make(home)
    yield provider
    provider.close()


def resolver_for(provider: CustomScriptProvider) -> Resolver:
    return Resolver([ChainEntry("script", provider, type="custom-script")])


def password_of(resolver: Resolver, asset: str) -> str:
    return resolver.resolve(AssetQuery(asset_name=asset)).password.get_secret_value()


@pytest.mark.parametrize(
    ("asset", "message"),
    [
        ("hang", r"did not answer within 0\.5 s; its worker was stopped"),
        ("exit", r"ended its worker during the call \(exit status 7\)"),
        ("segv", r"ended its worker during the call \(killed by SIGSEGV\)"),
        ("sysexit", r"called sys\.exit\(\) at line \d+"),
        (
            "raise",
            r"raised ValueError at line \d+ \(its message is not shown; credchain --debug shows it",
        ),
    ],
)
def test_a_misbehaving_call_is_one_clear_error_and_the_next_call_works(
    provider, caplog, asset, message
) -> None:
    resolver = resolver_for(provider)
    caplog.set_level(logging.DEBUG)
    assert password_of(resolver, "web-01") == "pw-web-01"
    with pytest.raises(ScriptError, match=message) as caught:
        resolver.resolve(AssetQuery(asset_name=asset))
    assert str(provider.script) in str(caught.value)
    assert password_of(resolver, "web-02") == "pw-web-02"
    assert_no_secrets(str(caught.value) + str(caught.value.trace) + caplog.text, [PLANTED])


def test_a_hang_is_cut_at_the_timeout(provider) -> None:
    started = time.monotonic()
    with pytest.raises(ScriptError, match="did not answer"):
        resolver_for(provider).resolve(AssetQuery(asset_name="hang"))
    assert time.monotonic() - started < 5


def test_a_crashed_worker_is_replaced(provider) -> None:
    resolver = resolver_for(provider)
    password_of(resolver, "web-01")
    before = provider.worker_pids
    with pytest.raises(ScriptError):
        resolver.resolve(AssetQuery(asset_name="exit"))
    password_of(resolver, "web-01")
    assert provider.worker_pids != before or len(before) > 1


def dies(pid: int, within: float = 5.0) -> bool:
    """Whether process ``pid`` is gone, or dead and waiting for init to reap it, in time."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True  # gone and reaped
        if state == "Z":
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def test_processes_the_script_started_die_with_a_hung_worker(provider, tmp_path) -> None:
    pid_file = tmp_path / "sleep.pid"
    with pytest.raises(ScriptError, match="did not answer"):
        resolver_for(provider).resolve(AssetQuery(asset_name=f"spawn:{pid_file}"))
    assert dies(int(pid_file.read_text())), "the script's child process outlived its worker"


def test_processes_the_script_started_die_with_a_crashed_worker(provider, tmp_path) -> None:
    pid_file = tmp_path / "sleep.pid"
    with pytest.raises(ScriptError, match=r"ended its worker during the call \(exit status 7\)"):
        resolver_for(provider).resolve(AssetQuery(asset_name=f"orphan:{pid_file}"))
    assert dies(int(pid_file.read_text())), "the script's child process outlived its worker"


def test_processes_the_script_started_die_when_the_provider_is_closed(provider, tmp_path) -> None:
    pid_file = tmp_path / "sleep.pid"
    assert password_of(resolver_for(provider), f"leave:{pid_file}") == f"pw-leave:{pid_file}"
    pid = int(pid_file.read_text())
    assert not dies(pid, within=0)  # the call is over and its child still runs
    provider.close()
    assert dies(pid), "the script's child process outlived the provider's close()"
    assert worker_children() == []


def test_workers_start_on_first_use_and_close_stops_them(home) -> None:
    install(home)
    provider = make(home)
    assert provider.worker_pids == []
    password_of(resolver_for(provider), "web-01")
    pids = provider.worker_pids
    assert len(pids) == 1
    provider.close()
    assert provider.worker_pids == []
    assert worker_children() == []
    with pytest.raises(ScriptError, match="closed"):
        resolver_for(provider).resolve(AssetQuery(asset_name="web-01"))


def test_an_edited_script_is_picked_up_without_a_restart(home, provider) -> None:
    resolver = resolver_for(provider)
    assert password_of(resolver, "web-01") == "pw-web-01"
    pids = provider.worker_pids
    install(home, SCRIPT.replace('"pw-" + asset', '"v2-" + asset'))
    assert password_of(resolver, "web-01") == "v2-web-01"
    # in place, same size: the mtime tells
    path = provider.script
    path.write_text(path.read_text().replace('"v2-"', '"v3-"'))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 1_000_000))
    assert password_of(resolver, "web-01") == "v3-web-01"
    assert provider.worker_pids == pids


def test_an_edit_that_keeps_the_size_and_the_mtime_is_picked_up_too(home, provider) -> None:
    resolver = resolver_for(provider)
    assert password_of(resolver, "web-01") == "pw-web-01"
    path = provider.script
    before = path.stat()
    path.write_text(path.read_text().replace('"pw-"', '"v2-"'))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert password_of(resolver, "web-01") == "v2-web-01"  # the checked bytes tell


def test_calls_beyond_the_pool_size_wait_for_a_worker(home) -> None:
    install(home)
    provider = make(home, workers=1, timeout=5)
    resolver = resolver_for(provider)
    try:
        with ThreadPoolExecutor(8) as pool:
            passwords = list(pool.map(lambda n: password_of(resolver, f"a{n}"), range(40)))
        assert passwords == [f"pw-a{n}" for n in range(40)]
        assert len(provider.worker_pids) == 1
    finally:
        provider.close()


def test_many_threads_share_the_pool_while_some_calls_hang_or_crash(home, caplog) -> None:
    install(home)
    provider = make(home, workers=4, timeout=1.0)
    resolver = resolver_for(provider)
    caplog.set_level(logging.DEBUG)
    bad = {17: "hang", 61: "exit", 90: "segv", 133: "hang", 170: "raise", 201: "exit"}
    bad |= {222: "hang", 250: "segv", 277: "sysexit"}
    assets = [f"{bad[n]}-{n}" if n in bad else f"asset-{n}" for n in range(300)]

    def attempt(asset: str) -> tuple[str, str]:
        try:
            return asset, password_of(resolver, asset)
        except ScriptError as exc:
            return asset, f"error: {exc}"

    try:
        with ThreadPoolExecutor(16) as pool:
            results = dict(pool.map(attempt, assets))
    finally:
        provider.close()
    for n, asset in enumerate(assets):
        if n in bad:
            assert results[asset].startswith("error: script: script "), results[asset]
        else:
            assert results[asset] == f"pw-{asset}"
    assert worker_children() == []
    assert_no_secrets(caplog.text + repr(results), [PLANTED])


def test_workers_start_without_importing_credchain() -> None:
    code = (
        "import sys, credchain_custom_script.worker; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('credchain', 'pydantic')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.strip() == "[]"


def test_nothing_secret_is_in_a_workers_command_line(provider) -> None:
    password_of(resolver_for(provider), "web-01")
    (pid,) = provider.worker_pids
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
    assert argv[1:] == [b"-m", b"credchain_custom_script.worker", str(provider.script).encode()]


def test_close_during_a_call_ends_that_call_and_leaves_no_process(home) -> None:
    install(home)
    provider = make(home, workers=1, timeout=30)
    resolver = resolver_for(provider)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(resolver.resolve, AssetQuery(asset_name="hang"))
        deadline = time.monotonic() + 10
        while not provider.worker_pids and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)  # the call is in the script now
        provider.close()
        with pytest.raises(ScriptError, match="closed"):
            pending.result(timeout=10)
    assert worker_children() == []


def test_a_worker_killed_while_idle_costs_no_lookup(provider) -> None:
    resolver = resolver_for(provider)
    password_of(resolver, "web-01")
    (pid,) = provider.worker_pids
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert password_of(resolver, "web-02") == "pw-web-02"
    assert pid not in provider.worker_pids


ENVIRONMENT = """
import base64, os

def get_password_from_thycotic(query_data):
    canary = os.environ.get("CREDCHAIN_TEST_CANARY", "(absent)")
    return {
        "username": " ".join(sorted(os.environ)),
        "password": base64.b64encode(canary.encode()).decode(),
    }
"""


def worker_environment(home: Path, **settings: Any) -> tuple[set[str], str]:
    """The names in a worker's environment, and the canary's value there."""
    install(home, ENVIRONMENT)
    provider = CustomScriptProvider(
        CustomScriptSettings(workers=1, timeout=5, **settings),
        ProviderContext(entry="script", home=home),
    )
    try:
        credential = resolver_for(provider).resolve(AssetQuery(asset_name="web-01"))
    finally:
        provider.close()
    return set(credential.username.split()), credential.password.get_secret_value()


def test_a_worker_gets_a_minimal_environment_not_the_scanners(home, monkeypatch) -> None:
    monkeypatch.setenv("CREDCHAIN_TEST_CANARY", PLANTED)
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    names, canary = worker_environment(home)
    assert canary == "(absent)"
    assert "CREDCHAIN_TEST_CANARY" not in names
    assert {"PATH", "CREDCHAIN_HOME", "LC_ALL", "PYTHONPATH"} <= names
    assert names <= {"PATH", "HOME", "LANG", "TZ", "TMPDIR", "PYTHONPATH", "CREDCHAIN_HOME"} | {
        name for name in names if name.startswith("LC_")
    }


def test_variables_named_in_pass_environment_reach_the_worker(home, monkeypatch) -> None:
    monkeypatch.setenv("CREDCHAIN_TEST_CANARY", "let-through")
    names, canary = worker_environment(home, pass_environment=("CREDCHAIN_TEST_CANARY",))
    assert canary == "let-through"
    assert "CREDCHAIN_TEST_CANARY" in names
