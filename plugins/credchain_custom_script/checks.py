"""Where the script is, whether it may run, and ``test-thycotic-script``: load it, try a query.

``try_script`` is not named ``test_script``: pytest would collect it from any test importing it.

The file checks (owner, mode, symbolic links, every directory up to ``/``) are in ``source``:
``file_problem``, ``check_script``, ``try_script`` and the provider's lookups all go through its
``read_script``, so ``credchain script check`` refuses exactly what a lookup refuses.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from credchain.errors import ConfigError, ScriptError
from credchain.home import CUSTOM_DIR
from credchain.models import AssetQuery, SafeCredential
from credchain_custom_script.output import credential_from_reply, invalid_script
from credchain_custom_script.pool import WorkerPool
from credchain_custom_script.source import ScriptRefused, read_script
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
    try:
        return directory / Path(setting).expanduser()
    except RuntimeError:  # "~user/..." of a user this host does not know
        raise ConfigError(f"cannot expand {str(setting)!r}: no such user", key="script") from None


def file_problem(path: Path, *, uid: int | None = None) -> str | None:
    """Why ``path`` must not run, or ``None``; ``uid`` is the user running credchain."""
    try:
        read_script(path, uid=uid)
    except ScriptRefused as refused:
        return refused.reason
    return None


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
    pass_environment: Iterable[str] = (),
) -> ScriptCheck:
    """Check the file (place, owner, mode), then load it in a worker and find the entry point.

    Loading runs the script's top level, in a worker, so an import that hangs or crashes is
    reported like any other problem. ``environ`` is filtered as for the provider's workers.
    """
    pool = WorkerPool(
        path,
        size=1,
        timeout=timeout,
        entry_point=entry_point,
        environ=environ,
        startup_timeout=timeout,
        pass_environment=pass_environment,
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
    pass_environment: Iterable[str] = (),
) -> SafeCredential | None:
    """Run the script once for ``query``, as the provider would: a credential or ``None``.

    Raises ``ScriptError`` for an invalid script, invalid output, an exception, a hang or a crash.
    """
    asset = query if isinstance(query, AssetQuery) else AssetQuery.from_query_data(query)
    pool = WorkerPool(
        path,
        size=1,
        timeout=timeout,
        environ=environ,
        startup_timeout=timeout,
        pass_environment=pass_environment,
    )
    try:
        _load(pool).raise_for_problem()
        reply = pool.call({"op": "call", "query": asset.to_query_data()})
    finally:
        pool.close()
    return credential_from_reply(reply, path)


def _load(pool: WorkerPool) -> ScriptCheck:
    path = pool.script
    try:  # the pool checks the file first, as for every lookup
        reply = pool.call({"op": "load"})
    except ScriptError as exc:
        return ScriptCheck(path, ok=False, reason=str(exc))
    if reply.get("kind") != "loaded":
        return ScriptCheck(path, ok=False, reason=str(reply.get("reason", "it cannot be loaded")))
    line = reply.get("line")
    return ScriptCheck(path, ok=True, entry_point_line=line if isinstance(line, int) else None)
