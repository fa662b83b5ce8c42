"""Who is asking: callers identified by the kernel over real sockets, and the policy on them."""

from __future__ import annotations

import grp
import hashlib
import os
import pwd
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from credchain.agent.callers import (
    AllowedExecutable,
    Caller,
    CallerPolicy,
    ExecutableDigests,
    caller_of,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the agent is Linux-only")

OWN_EXECUTABLE = os.readlink("/proc/self/exe")
#: a child that connects to the abstract Unix socket named by argv[1] and waits to be dropped
CONNECT = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "s.connect('\\0' + sys.argv[1])\n"
    "s.recv(1)\n"
)

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="starting a child as nobody needs root (CI runs the suite as root)"
)


def _nobody() -> tuple[int, int]:
    try:
        return pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
    except KeyError:
        pytest.skip("this system has no user nobody or no group nogroup")


@contextmanager
def listening() -> Iterator[tuple[socket.socket, str]]:
    """A listening Unix socket in the abstract namespace (no file a child would need to reach)."""
    name = f"credchain-test-{uuid.uuid4().hex}"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind("\0" + name)
        server.listen()
        server.settimeout(30)
        yield server, name
    finally:
        server.close()


@contextmanager
def connected_child(argv: Sequence[str], **popen: object) -> Iterator[tuple[Caller, int]]:
    """Start ``argv`` + [socket name], accept its connection: its ``Caller`` and its pid."""
    with listening() as (server, name):
        child = subprocess.Popen(
            [*argv, name],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **popen,
        )
        try:
            connection, _ = server.accept()
            with connection:
                yield caller_of(connection), child.pid
        finally:
            child.kill()
            child.wait(timeout=30)


def python_child(**popen: object):
    """The test's own Python connecting to the socket."""
    return connected_child([sys.executable, "-c", CONNECT], **popen)


def curl_child(curl: str = "curl", **popen: object):
    """curl connecting to the socket: an executable any user may run, unlike the test's Python."""
    found = shutil.which(curl) if os.sep not in curl else curl
    if found is None:
        pytest.skip("curl is needed to connect as another user or from a copied executable")
    return connected_child(
        [found, "-s", "-m", "30", "http://agent/", "--abstract-unix-socket"], **popen
    )


@pytest.fixture
def curl_copy(tmp_path: Path) -> Path:
    """A copy of curl at a path of its own, to run and hash."""
    found = shutil.which("curl")
    if found is None:
        pytest.skip("curl is needed as a small executable to copy and run")
    copy = tmp_path / "bin" / "scanner"
    copy.parent.mkdir()
    shutil.copy2(os.path.realpath(found), copy)
    return copy


@contextmanager
def running(argv: Sequence[str]) -> Iterator[int]:
    """A process running ``argv``, killed at the end: its pid."""
    child = subprocess.Popen(argv)
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait(timeout=30)


@pytest.fixture
def sleep_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "sleep"
    shutil.copy2(os.path.realpath(shutil.which("sleep") or "/bin/sleep"), copy)
    return copy


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- identifying the caller ---------------------------------------------------------------


def test_a_socketpair_peer_is_this_process() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs:
        caller = caller_of(ours)
    assert caller == Caller(
        uid=os.geteuid(), gid=os.getegid(), pid=os.getpid(), executable=OWN_EXECUTABLE
    )


def test_a_child_that_connects_is_identified_by_its_pid_and_executable() -> None:
    with python_child() as (caller, pid):
        assert caller.pid == pid
        assert caller.executable == OWN_EXECUTABLE
        assert (caller.uid, caller.gid, caller.address) == (os.geteuid(), os.getegid(), None)


def test_a_copied_executable_is_reported_at_its_own_path(curl_copy: Path) -> None:
    with curl_child(str(curl_copy)) as (caller, _):
        assert caller.executable == str(curl_copy)


@needs_root
def test_a_child_running_as_nobody_is_reported_as_nobody() -> None:
    uid, gid = _nobody()
    with curl_child(user=uid, group=gid) as (caller, pid):
        assert (caller.uid, caller.gid, caller.pid) == (uid, gid, pid)


def test_a_tcp_caller_has_an_address_and_no_uid() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        connection, _ = server.accept()
        with client, connection:
            host, port = client.getsockname()
            assert caller_of(connection) == Caller(address=f"{host}:{port}")


def test_an_ipv6_caller_address_is_bracketed() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 on this system")
    try:
        server = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError as exc:
        pytest.skip(f"cannot listen on ::1: {exc}")
    with server:
        client = socket.create_connection(server.getsockname()[:2])
        connection, _ = server.accept()
        with client, connection:
            port = client.getsockname()[1]
            assert caller_of(connection) == Caller(address=f"[::1]:{port}")


def test_to_audit_leaves_out_what_is_unknown() -> None:
    assert Caller(uid=0, pid=12).to_audit() == {"uid": 0, "pid": 12}
    assert Caller(address="127.0.0.1:5000").to_audit() == {"address": "127.0.0.1:5000"}


def test_a_unix_socket_without_so_peercred_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(socket, "SO_PEERCRED")
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs, pytest.raises(NotImplementedError, match=r"SO_PEERCRED.*Linux"):
        caller_of(ours)


# --- the policy: uid and groups -------------------------------------------------------------


def test_our_own_uid_is_allowed() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX)
    with ours, theirs:
        assert CallerPolicy([os.geteuid()]).refusal(caller_of(ours)) is None


def test_a_caller_without_peer_credentials_is_refused() -> None:
    policy = CallerPolicy([os.geteuid()])
    assert policy.refusal(Caller(address="127.0.0.1:5000")) == "the kernel gave no peer credentials"


@needs_root
def test_another_uid_is_refused() -> None:
    uid, gid = _nobody()
    with curl_child(user=uid, group=gid) as (caller, _):
        assert CallerPolicy([os.geteuid()]).refusal(caller) == f"uid {uid} is not allowed"


@needs_root
def test_another_uid_in_an_allowed_primary_group_is_allowed() -> None:
    uid, gid = _nobody()
    with curl_child(user=uid, group=gid) as (caller, _):
        assert CallerPolicy([os.geteuid()], gids=[gid]).refusal(caller) is None


@needs_root
def test_another_uid_in_an_allowed_supplementary_group_is_allowed() -> None:
    uid, gid = _nobody()
    with curl_child(user=uid, group=gid, extra_groups=[4242]) as (caller, _):
        assert CallerPolicy([os.geteuid()], gids=[4242]).refusal(caller) is None
        assert CallerPolicy([os.geteuid()], gids=[4243]).refusal(caller) == (
            f"uid {uid} is not allowed"
        )


# --- the policy: executables ----------------------------------------------------------------


def test_an_executable_not_listed_is_refused() -> None:
    policy = CallerPolicy([os.geteuid()], executables=[AllowedExecutable("/usr/bin/true")])
    with python_child() as (caller, _):
        assert policy.refusal(caller) == f"executable {OWN_EXECUTABLE} is not allowed"


def test_a_listed_executable_without_a_digest_is_allowed() -> None:
    policy = CallerPolicy([os.geteuid()], executables=[AllowedExecutable(OWN_EXECUTABLE)])
    with python_child() as (caller, _):
        assert policy.refusal(caller) is None


def test_a_listed_symlink_matches_the_executable_it_points_to(tmp_path: Path) -> None:
    link = tmp_path / "python3"
    link.symlink_to(OWN_EXECUTABLE)
    policy = CallerPolicy([os.geteuid()], executables=[AllowedExecutable(str(link))])
    with python_child() as (caller, _):
        assert policy.refusal(caller) is None


def test_an_executable_with_its_listed_sha256_is_allowed(curl_copy: Path) -> None:
    allowed = AllowedExecutable(str(curl_copy), sha256=sha256_of(curl_copy))
    policy = CallerPolicy([os.geteuid()], executables=[allowed])
    with curl_child(str(curl_copy)) as (caller, _):
        assert policy.refusal(caller) is None


def test_an_executable_with_another_sha256_is_refused(curl_copy: Path) -> None:
    allowed = AllowedExecutable(str(curl_copy), sha256="0" * 64)
    policy = CallerPolicy([os.geteuid()], executables=[allowed])
    with curl_child(str(curl_copy)) as (caller, _):
        assert policy.refusal(caller) == f"executable {curl_copy} does not match its SHA-256"


def test_an_unreadable_executable_is_refused_when_executables_are_listed() -> None:
    policy = CallerPolicy([0], executables=[AllowedExecutable("/usr/bin/true")])
    assert policy.refusal(Caller(uid=0, gid=0, pid=1)) == (
        "the executable of pid 1 could not be read"
    )


def test_a_refusal_naming_an_executable_stays_on_one_line() -> None:
    policy = CallerPolicy([os.geteuid()], executables=[AllowedExecutable("/usr/bin/true")])
    caller = Caller(
        uid=os.geteuid(), gid=0, pid=1, executable="/home/user/scanner\nuid 0 is allowed"
    )
    reason = policy.refusal(caller)
    assert reason == "executable /home/user/scanner\\nuid 0 is allowed is not allowed"


@pytest.mark.parametrize(
    ("path", "sha256"),
    [("bin/scanner", None), ("/bin/scanner", "ABC"), ("/bin/scanner", "A" * 64)],
    ids=["relative path", "short digest", "uppercase digest"],
)
def test_an_allowed_executable_must_be_absolute_with_a_lowercase_hex_digest(
    path: str, sha256: str | None
) -> None:
    with pytest.raises(ValueError, match=r"absolute path|64 lowercase hex"):
        AllowedExecutable(path, sha256)


# --- digests ------------------------------------------------------------------------------


def test_a_digest_is_the_sha256_of_the_file_the_process_runs(sleep_copy: Path) -> None:
    with running([str(sleep_copy), "30"]) as pid:
        assert ExecutableDigests().sha256(pid) == sha256_of(sleep_copy)


def test_an_unchanged_executable_is_hashed_once(sleep_copy: Path) -> None:
    digests = ExecutableDigests()
    with running([str(sleep_copy), "30"]) as first, running([str(sleep_copy), "30"]) as second:
        assert digests.sha256(first) == digests.sha256(second) == digests.sha256(first)
    assert digests.hashed == 1


def test_a_changed_executable_is_hashed_again(sleep_copy: Path) -> None:
    digests = ExecutableDigests()
    with running([str(sleep_copy), "30"]) as pid:
        before = digests.sha256(pid)
    with sleep_copy.open("ab") as appended:  # still runs: the ELF loader ignores trailing bytes
        appended.write(b"\0")
    with running([str(sleep_copy), "30"]) as pid:
        after = digests.sha256(pid)
    assert before != after == sha256_of(sleep_copy)
    assert digests.hashed == 2


def test_the_file_run_is_hashed_not_the_one_put_at_its_path_since(
    sleep_copy: Path, tmp_path: Path
) -> None:
    original = sha256_of(sleep_copy)
    with running([str(sleep_copy), "30"]) as pid:
        replacement = tmp_path / "replacement"
        replacement.write_bytes(b"#!/bin/sh\nexit 0\n")
        replacement.replace(sleep_copy)
        assert ExecutableDigests().sha256(pid) == original


def test_a_pid_that_does_not_exist_has_no_digest() -> None:
    pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
    assert ExecutableDigests().sha256(pid_max + 1) is None


def test_the_digest_cache_is_bounded(sleep_copy: Path, tmp_path: Path) -> None:
    other = tmp_path / "other-sleep"
    shutil.copy2(sleep_copy, other)
    other.write_bytes(other.read_bytes() + b"\0")
    digests = ExecutableDigests(max_entries=1)
    with running([str(sleep_copy), "30"]) as first, running([str(other), "30"]) as second:
        digests.sha256(first)
        digests.sha256(second)  # pushes the first out
        digests.sha256(first)
    assert digests.hashed == 3


def test_concurrent_requests_for_one_executable_hash_it_once(sleep_copy: Path) -> None:
    digests = ExecutableDigests()
    results: list[str | None] = []
    with running([str(sleep_copy), "30"]) as pid:
        threads = [
            threading.Thread(target=lambda: results.append(digests.sha256(pid))) for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert results == [sha256_of(sleep_copy)] * 8
    assert digests.hashed == 1
