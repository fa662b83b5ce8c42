"""Where the script is, whether it may run, and ``test-thycotic-script``: load it, try a query.

``try_script`` is not named ``test_script``: pytest would collect it from any test importing it.

A script is code the scanner runs with its own rights, so like ssh and sudo credchain refuses a
file that someone else could have changed: one not owned by the user running credchain (or
root), one writable by group or others, or one in a directory writable by group or others.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from credchain.errors import ScriptError
from credchain.home import CUSTOM_DIR
from credchain.models import AssetQuery, SafeCredential
from credchain_custom_script.output import credential_from_reply, invalid_script
from credchain_custom_script.pool import WorkerPool
from credchain_custom_script.worker import ENTRY_POINT

__all__ = [
    "SCRIPT_NAME",
    "ScriptCheck",
    "check_script",
    "file_problem",
    "script_path",
    "try_script",
]

#: the default script file name (SAFE's own name is lost; see docs/custom-script.md)
SCRIPT_NAME = "thycotic_script.py"


def script_path(home: Path, setting: str | os.PathLike[str] | None = None) -> Path:
    """The script's path: ``setting`` (relative to the custom directory) or the default."""
    directory = home / CUSTOM_DIR
    if setting is None:
        return directory / SCRIPT_NAME
    return directory / Path(setting).expanduser()


def _mode(st: os.stat_result) -> str:
    return f"{stat.S_IMODE(st.st_mode):04o}"


def file_problem(path: Path, *, uid: int | None = None) -> str | None:
    """Why ``path`` must not run, or ``None``; ``uid`` is the user running credchain."""
    me = os.geteuid() if uid is None else uid
    try:
        st = path.stat()
    except FileNotFoundError:
        return _missing(path)
    except OSError as exc:
        return f"cannot read the script: {exc.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    if st.st_uid not in (me, 0):
        return (
            f"the file is owned by uid {st.st_uid}, not by uid {me} running credchain: "
            "refusing to run code another user can change"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"the file is writable by group or others (mode {_mode(st)}): "
            f"refusing to run it; chmod go-w {path}"
        )
    parent = path.parent.stat()
    sticky = parent.st_mode & stat.S_ISVTX
    if parent.st_mode & (stat.S_IWGRP | stat.S_IWOTH) and not sticky:
        return (
            f"its directory is writable by group or others (mode {_mode(parent)}): "
            f"anyone could replace the script; chmod go-w {path.parent}"
        )
    return None


def _missing(path: Path) -> str:
    found = sorted(p.name for p in path.parent.glob("*.py")) if path.parent.is_dir() else []
    if not found:
        return f"no script at {path}"
    return (
        f"no script at {path}; found {', '.join(found)}: the file must be named {path.name} "
        "(or set the provider's 'script' setting)"
    )


@dataclass(frozen=True)
class ScriptCheck:
    """The result of ``check_script``: ``ok``, or the ``reason`` the script is invalid."""

    path: Path
    ok: bool
    reason: str | None = None
    #: the entry point's first line, when the script loaded
    entry_point_line: int | None = None

    def raise_for_problem(self) -> None:
        """Raise the ``ScriptError`` ("invalid script ...: reason") when not ``ok``."""
        if not self.ok:
            raise invalid_script(self.path, self.reason or "unknown problem")


def check_script(
    path: Path,
    *,
    timeout: float = 30.0,
    entry_point: str = ENTRY_POINT,
    environ: Mapping[str, str] | None = None,
) -> ScriptCheck:
    """Check the file (place, owner, mode), then load it in a worker and find the entry point.

    Loading runs the script's top level, in a worker, so an import that hangs or crashes is
    reported like any other problem.
    """
    pool = WorkerPool(
        path,
        size=1,
        timeout=timeout,
        entry_point=entry_point,
        environ=environ,
        startup_timeout=timeout,
    )
    try:
        return _load(pool)
    finally:
        pool.close()


def try_script(
    path: Path,
    query: AssetQuery | Mapping[str, object],
    *,
    timeout: float = 30.0,
    environ: Mapping[str, str] | None = None,
) -> SafeCredential | None:
    """Run the script once for ``query``, as the provider would: a credential or ``None``.

    Raises ``ScriptError`` for an invalid script, invalid output, an exception, a hang or a crash.
    """
    asset = query if isinstance(query, AssetQuery) else AssetQuery.from_query_data(query)
    pool = WorkerPool(path, size=1, timeout=timeout, environ=environ, startup_timeout=timeout)
    try:
        _load(pool).raise_for_problem()
        reply = pool.call({"op": "call", "query": asset.to_query_data()})
    finally:
        pool.close()
    return credential_from_reply(reply, path)


def _load(pool: WorkerPool) -> ScriptCheck:
    path = pool.script
    problem = file_problem(path)
    if problem is not None:
        return ScriptCheck(path, ok=False, reason=problem)
    try:
        reply = pool.call({"op": "load"})
    except ScriptError as exc:
        return ScriptCheck(path, ok=False, reason=str(exc))
    if reply.get("kind") != "loaded":
        return ScriptCheck(path, ok=False, reason=str(reply.get("reason", "it cannot be loaded")))
    line = reply.get("line")
    return ScriptCheck(path, ok=True, entry_point_line=line if isinstance(line, int) else None)
