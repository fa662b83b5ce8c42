"""The script's source, opened once and checked: a worker runs exactly the bytes checked here.

A script is code the scanner runs with its own rights, so like ssh and sudo credchain refuses a
file that someone else could have changed or replaced:

- each directory from ``/`` down to the script's is opened relative to the one before and
  checked on its descriptor: owned by the user running credchain or root, and not writable by
  group or others unless sticky (like ``/tmp``). A symbolic link on the directory path is
  followed, and where it points is checked the same way (the link itself sits in a directory
  already checked, so no one else can change it);
- the script itself is opened without following a symbolic link (``O_NOFOLLOW``), and the open
  file is checked: a regular file, owned by that user or root, not writable by group or
  others, at most ``MAX_SCRIPT`` bytes; its bytes are read from that same descriptor.

Workers are sent these bytes, never the path, so nothing can be swapped between check and load.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from credchain_custom_script.protocol import MAX_SCRIPT

__all__ = ["MAX_SCRIPT", "ScriptRefused", "ScriptSource", "read_script"]

#: symbolic links followed on the directory path before giving up (Linux's own limit)
MAX_LINKS = 40
# O_PATH (Linux): a directory needs search permission only, as in an ordinary path lookup
_DIRECTORY = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO put there in a race must not hang; reads of a file ignore it
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class ScriptRefused(Exception):
    """The script must not run; ``reason`` says why (names, modes and uids, never content)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ScriptSource:
    """The checked bytes of the script at ``path``; ``digest`` names this version to workers."""

    path: Path
    code: bytes = field(repr=False)
    digest: str

    def encoded(self) -> str:
        """The bytes as the protocol carries them (base64)."""
        return base64.b64encode(self.code).decode("ascii")


def read_script(path: Path, *, uid: int | None = None) -> ScriptSource:
    """Open ``path`` once, check it and its directories, and return its bytes.

    ``uid`` is the user running credchain (default: the effective uid). Raises ``ScriptRefused``.
    """
    me = os.geteuid() if uid is None else uid
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        directory = _open_directories(absolute.parent, me)
        try:
            code = _read_file(directory, absolute.name, path, me)
        finally:
            os.close(directory)
    except FileNotFoundError:
        raise ScriptRefused(_missing(path)) from None
    except OSError as exc:
        raise ScriptRefused(f"cannot read the script: {exc.strerror}") from None
    return ScriptSource(path, code, hashlib.sha256(code).hexdigest())


def _open_directories(directory: Path, me: int) -> int:
    """A descriptor of ``directory``, reached from ``/`` one checked directory at a time."""
    pending = list(reversed(directory.parts[1:]))  # a stack: the next component is last
    walked: list[str] = []  # where the walk is, for messages (links resolved)
    fd = os.open("/", _DIRECTORY)
    links = 0
    try:
        _check_directory(fd, walked, me, parent=not pending)
        while pending:
            part = pending.pop()
            try:
                child = os.open(part, _DIRECTORY, dir_fd=fd)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR) or not _is_link(part, fd):
                    raise
                links += 1
                if links > MAX_LINKS:
                    raise ScriptRefused("too many symbolic links on its path") from None
                target = Path(os.readlink(part, dir_fd=fd))
                pending.extend(reversed(target.parts[1:] if target.is_absolute() else target.parts))
                if target.is_absolute():
                    fd, previous = os.open("/", _DIRECTORY), fd
                    os.close(previous)
                    walked.clear()
                continue
            fd, previous = child, fd
            os.close(previous)
            if part != "..":
                walked.append(part)
            elif walked:
                walked.pop()
            _check_directory(fd, walked, me, parent=not pending)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(name: str, dir_fd: int) -> bool:
    return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)


def _check_directory(fd: int, walked: list[str], me: int, *, parent: bool) -> None:
    st = os.fstat(fd)
    owner_ok = st.st_uid in (me, 0)
    writable = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not st.st_mode & stat.S_ISVTX
    if owner_ok and not writable:
        return
    where = "/" + "/".join(walked)
    which = "its directory" if parent else f"the directory {where} above it"
    if not owner_ok:
        raise ScriptRefused(
            f"{which} is owned by uid {st.st_uid}, not by uid {me} running credchain (or "
            "root): that user could replace the script"
        )
    raise ScriptRefused(
        f"{which} is writable by group or others (mode {_mode(st)}): anyone could "
        f"replace the script; chmod go-w {where}"
    )


def _read_file(dir_fd: int, name: str, path: Path, me: int) -> bytes:
    # lstat first so that neither a link nor a device is opened; fstat below is what counts
    st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(name, dir_fd=dir_fd)
        raise ScriptRefused(
            f"it is a symbolic link; point the setting at the real file (it links to {target})"
        )
    if not stat.S_ISREG(st.st_mode):
        raise ScriptRefused("not a regular file")
    try:
        fd = os.open(name, _FILE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # replaced by a link since the lstat
            raise ScriptRefused(
                "it is a symbolic link; point the setting at the real file"
            ) from None
        raise
    try:
        st = os.fstat(fd)
        _check_file(st, path, me)
        code = _read_at_most(fd, MAX_SCRIPT + 1)
    finally:
        os.close(fd)
    if len(code) > MAX_SCRIPT:
        raise ScriptRefused(_too_large())
    return code


def _check_file(st: os.stat_result, path: Path, me: int) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise ScriptRefused("not a regular file")
    if st.st_uid not in (me, 0):
        raise ScriptRefused(
            f"the file is owned by uid {st.st_uid}, not by uid {me} running credchain: "
            "refusing to run code another user can change"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise ScriptRefused(
            f"the file is writable by group or others (mode {_mode(st)}): "
            f"refusing to run it; chmod go-w {path}"
        )
    if st.st_size > MAX_SCRIPT:
        raise ScriptRefused(_too_large())


def _read_at_most(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    missing = size
    while missing:
        chunk = os.read(fd, missing)
        if not chunk:
            break
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _too_large() -> str:
    return f"the file is larger than {MAX_SCRIPT // (1 << 20)} MiB: that is not a script"


def _mode(st: os.stat_result) -> str:
    return f"{stat.S_IMODE(st.st_mode):04o}"


def _missing(path: Path) -> str:
    found = sorted(p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else []
    if not found:
        return f"no script at {path}"
    return (
        f"no script at {path}; found {', '.join(found)}: the file must be named {path.name} "
        "(or set the provider's 'script' setting)"
    )
