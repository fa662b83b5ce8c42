"""Who is asking: the process at the other end of an agent connection, and who may ask.

For a Unix-socket connection the kernel reports the peer's uid, gid and pid (``SO_PEERCRED``,
Linux only); the executable comes from ``/proc/PID/exe``. ``CallerPolicy`` decides on those.
A TCP caller has only an address: it is authenticated elsewhere (the bearer token), and
``CallerPolicy`` refuses it as having no peer credentials.

Known limits, the same as for any path-and-hash check of a local process:

- ``SO_PEERCRED`` is captured when the peer calls ``connect()``; ``/proc`` is read later. A
  caller that has exited by then may have its pid reused by another process, whose executable
  and groups are the ones read.
- The pid is the process that connected. A process that connects and then hands the socket on
  (``fork``, ``SCM_RIGHTS``) or itself ``exec``\\ s an allowed executable passes the executable
  check. The uid is the boundary; the executable check narrows who of that uid may ask.
- For a script the executable is its interpreter (``/usr/bin/python3.11``), not the script.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import struct
import threading
from asyncio.trsock import TransportSocket
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "AllowedExecutable",
    "Caller",
    "CallerPolicy",
    "ExecutableDigests",
    "caller_of",
]

_PROC = "/proc"
#: struct ucred: pid_t pid, uid_t uid, gid_t gid
_UCRED = struct.Struct("iII")
#: what the kernel puts in uid/gid when it has no credentials for the peer
_NO_ID = 0xFFFFFFFF
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Caller:
    """The process at the other end of a connection, as the kernel reports it."""

    uid: int | None = None
    gid: int | None = None
    pid: int | None = None
    #: the path of ``/proc/PID/exe``, already resolved by the kernel (`` (deleted)`` at its end
    #: if the file was removed since it was started), None if unreadable
    executable: str | None = None
    #: ``host:port`` (``[host]:port`` for IPv6) for a TCP caller, None for a Unix socket
    address: str | None = None

    def to_audit(self) -> dict[str, object]:
        """The fields that are known, for the audit log's ``caller``."""
        known = {
            "uid": self.uid,
            "gid": self.gid,
            "pid": self.pid,
            "executable": self.executable,
            "address": self.address,
        }
        return {name: value for name, value in known.items() if value is not None}


def caller_of(sock: socket.socket | TransportSocket) -> Caller:
    """The peer of a connected socket: uid, gid, pid and executable for ``AF_UNIX``, the
    address only for ``AF_INET``/``AF_INET6``, nothing for another family or a gone peer.

    Raises ``NotImplementedError`` for a Unix socket where the platform has no ``SO_PEERCRED``.
    """
    if sock.family == socket.AF_UNIX:
        return _unix_caller(sock)
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            peer = sock.getpeername()
        except OSError:
            return Caller()
        host, port = peer[0], peer[1]
        return Caller(address=f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
    return Caller()


def _unix_caller(sock: socket.socket | TransportSocket) -> Caller:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        raise NotImplementedError(
            "identifying a Unix-socket caller needs SO_PEERCRED, which only Linux provides"
        )
    try:
        pid, uid, gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, option, _UCRED.size))
    except OSError:
        return Caller()
    known_pid = pid if pid > 0 else None
    return Caller(
        uid=uid if uid != _NO_ID else None,
        gid=gid if gid != _NO_ID else None,
        pid=known_pid,
        executable=_executable(known_pid) if known_pid is not None else None,
    )


def _executable(pid: int) -> str | None:
    try:
        return os.readlink(f"{_PROC}/{pid}/exe")
    except OSError:  # gone, a kernel thread, or not ours to inspect (ptrace access)
        return None


def _supplementary_groups(pid: int) -> frozenset[int]:
    """The ``Groups:`` of ``/proc/PID/status``; empty when it cannot be read."""
    try:
        with open(f"{_PROC}/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Groups:"):
                    return frozenset(int(g) for g in line.split()[1:] if g.isdigit())
    except OSError:
        pass
    return frozenset()


@dataclass(frozen=True, slots=True)
class AllowedExecutable:
    """An executable that may ask: its absolute path and, optionally, its SHA-256."""

    path: str
    #: lowercase hex; when given, the caller's executable file must have this SHA-256 too
    sha256: str | None = None

    def __post_init__(self) -> None:
        if not os.path.isabs(self.path):
            raise ValueError(f"an allowed executable must be an absolute path, not {self.path!r}")
        if self.sha256 is not None and not _SHA256_HEX.fullmatch(self.sha256):
            raise ValueError(
                f"the SHA-256 of {self.path} must be 64 lowercase hex digits, not {self.sha256!r}"
            )


_FileIdentity = tuple[int, int, int, int, int]


class ExecutableDigests:
    """SHA-256 of callers' executables, each file hashed once while it is unchanged.

    The file is read through ``/proc/PID/exe`` itself, so what is hashed is the file the process
    runs, even if another file has since been put at its path. Digests are cached by the file's
    device, inode, size, mtime and ctime (ctime cannot be set back by ``touch``): a replaced or
    rewritten file is hashed again. At most ``max_entries`` files are remembered, least recently
    used first out. Thread-safe; concurrent requests for the same file hash it once.
    """

    def __init__(self, *, max_entries: int = 256) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._digests: OrderedDict[_FileIdentity, str] = OrderedDict()
        self._hashing: dict[_FileIdentity, threading.Lock] = {}
        #: how many files were read and hashed, for tests and metrics
        self.hashed = 0

    def sha256(self, pid: int) -> str | None:
        """The lowercase hex SHA-256 of process ``pid``'s executable, None if it cannot be read."""
        try:
            with open(f"{_PROC}/{pid}/exe", "rb") as executable:
                info = os.fstat(executable.fileno())
                identity = (
                    info.st_dev,
                    info.st_ino,
                    info.st_size,
                    info.st_mtime_ns,
                    info.st_ctime_ns,
                )
                with self._lock:
                    digest = self._cached(identity)
                    if digest is not None:
                        return digest
                    gate = self._hashing.setdefault(identity, threading.Lock())
                with gate:
                    return self._hash(identity, executable)
        except OSError:
            return None

    def _cached(self, identity: _FileIdentity) -> str | None:
        digest = self._digests.get(identity)
        if digest is not None:
            self._digests.move_to_end(identity)
        return digest

    def _hash(self, identity: _FileIdentity, executable: io.BufferedReader) -> str:
        with self._lock:
            digest = self._cached(identity)  # another thread hashed it while we waited
        if digest is not None:
            return digest
        try:
            digest = hashlib.file_digest(executable, "sha256").hexdigest()
        finally:
            with self._lock:
                self._hashing.pop(identity, None)
        with self._lock:
            self.hashed += 1
            self._digests[identity] = digest
            while len(self._digests) > self._max_entries:
                self._digests.popitem(last=False)
        return digest


class CallerPolicy:
    """Who may ask, for callers on the agent's Unix socket.

    A caller is allowed when its uid is in ``uids`` or one of its groups is in ``gids`` (the
    primary gid from the kernel, then the supplementary groups in ``/proc/PID/status``) and,
    when ``executables`` is not empty, its executable has the path of one of them and, if that
    one gives a SHA-256, that digest. A configured path is resolved (``os.path.realpath``) when
    the policy is built, so ``/usr/bin/python3`` matches a caller running
    ``/usr/bin/python3.11``. See the module docstring for the limits of these checks.
    """

    def __init__(
        self,
        uids: Iterable[int],
        gids: Iterable[int] = (),
        executables: Iterable[AllowedExecutable] = (),
        *,
        digests: ExecutableDigests | None = None,
    ) -> None:
        self.uids = frozenset(uids)
        self.gids = frozenset(gids)
        allowed: dict[str, list[AllowedExecutable]] = {}
        for entry in executables:
            allowed.setdefault(os.path.realpath(entry.path), []).append(entry)
        self._executables = allowed
        self._digests = digests if digests is not None else ExecutableDigests()

    def describe(self) -> str:
        """Who is allowed, in one line (``credchain agent --check``)."""
        who = [f"uid {', '.join(map(str, sorted(self.uids)))}"] if self.uids else []
        if self.gids:
            who.append(f"gid {', '.join(map(str, sorted(self.gids)))}")
        text = " or ".join(who) or "nobody"
        if self._executables:
            text += f", running {', '.join(sorted(self._executables))}"
        return text

    def refusal(self, caller: Caller) -> str | None:
        """None when ``caller`` may ask, else a one-line reason, safe to log and to return.

        With digests to check it may hash an executable (once per file): call it off the event
        loop.
        """
        if caller.uid is None:
            return "the kernel gave no peer credentials"
        if not self._identity_allowed(caller):
            return f"uid {caller.uid} is not allowed"
        if self._executables:
            return self._executable_refusal(caller)
        return None

    def _identity_allowed(self, caller: Caller) -> bool:
        if caller.uid in self.uids or caller.gid in self.gids:
            return True
        if not self.gids or caller.pid is None:
            return False
        return bool(self.gids & _supplementary_groups(caller.pid))

    def _executable_refusal(self, caller: Caller) -> str | None:
        if caller.executable is None or caller.pid is None:
            return f"the executable of pid {caller.pid} could not be read"
        shown = _one_line(caller.executable)
        entries = self._executables.get(caller.executable)
        if entries is None:
            return f"executable {shown} is not allowed"
        wanted = {entry.sha256 for entry in entries}
        if None in wanted:
            return None
        digest = self._digests.sha256(caller.pid)
        if digest is None:
            return f"executable {shown} could not be read to check its SHA-256"
        if digest not in wanted:
            return f"executable {shown} does not match its SHA-256"
        return None


def _one_line(text: str) -> str:
    """``text`` with what is not printable (newlines, undecodable bytes) escaped."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)
