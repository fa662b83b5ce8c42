"""Reading and writing the admin's configuration: the one place commands change files in the home.

``ConfigStore`` loads the raw TOML document (so a rewrite keeps every setting it does not touch),
and saves it, with any companion files (``thycotic_mapping.json``), in one ``transaction``:

1. take an exclusive lock on ``.lock`` in the home (concurrent admin commands queue);
2. sweep temporary files left by a writer that was killed (the lock proves it is gone);
3. write every file to a temporary file beside it, mode 0600, and fsync it;
4. rename them into place (the config file last) and fsync the directory.

A process killed before step 4 leaves the previous configuration intact. The window inside step 4
is a few renames of files that are already on disk. The home is 0700.

Test hook: with ``CREDCHAIN_TEST_PAUSE_BEFORE_COMMIT=PATH`` in the environment, a transaction
creates ``PATH`` after step 3 and sleeps, so a test can kill the process mid-write
(``tests/cli/test_cli_atomicity.py``). It does nothing else and is never set in production.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import tomli_w

from credchain.config import MAX_CONFIG_BYTES, find_config, parse_toml
from credchain.errors import ConfigError
from credchain.files import ensure_private_dir, home_lock, read_text_capped
from credchain.home import LAST_TEST_FILE

__all__ = [
    "PAUSE_ENV",
    "ConfigStore",
    "LastTest",
    "Transaction",
]

PAUSE_ENV = "CREDCHAIN_TEST_PAUSE_BEFORE_COMMIT"
_TMP_SUFFIX = ".tmp"


@dataclass(frozen=True)
class LastTest:
    """The result of the last ``credchain test`` or ``add`` sanity test; no secret in it."""

    at: str
    ok: bool
    summary: str
    entry: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    #: the last query that passed (the ``add`` sanity value at first): what ``test`` retries
    known_good: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {
            "at": self.at,
            "ok": self.ok,
            "summary": self.summary,
            "entry": self.entry,
            "query": dict(self.query),
            "known_good": dict(self.known_good),
        }

    @classmethod
    def now(
        cls,
        *,
        ok: bool,
        summary: str,
        entry: str | None,
        query: Mapping[str, str | None],
        previous: LastTest | None = None,
    ) -> LastTest:
        """A result stamped now; a failed one keeps ``previous``'s known-good query."""
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        clean = {key: value for key, value in query.items() if value}
        good = clean if ok and clean else (dict(previous.known_good) if previous else {})
        return cls(at=stamp, ok=ok, summary=summary, entry=entry, query=clean, known_good=good)


def _private_parents(directory: Path, home: Path) -> None:
    """Create ``directory`` and its missing parents below ``home``, each 0700."""
    missing = []
    while not directory.exists() and directory != home and directory != directory.parent:
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        ensure_private_dir(path)


class Transaction:
    """Files staged for one atomic save; see the module docstring."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._staged: list[tuple[Path, Path]] = []

    def stage(self, path: Path, data: bytes | str) -> None:
        """Write ``data`` to a durable temporary file beside ``path`` (renamed on commit)."""
        payload = data.encode() if isinstance(data, str) else data
        _private_parents(path.parent, self.home)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TMP_SUFFIX)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._staged.append((Path(tmp), path))

    def _commit(self) -> None:
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            Path(pause).touch()
            time.sleep(60)
        directories = set()
        for tmp, path in self._staged:
            os.replace(tmp, path)
            directories.add(path.parent)
        for directory in directories:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._staged.clear()

    def _abort(self) -> None:
        for tmp, _ in self._staged:
            tmp.unlink(missing_ok=True)
        self._staged.clear()


class ConfigStore:
    """The admin's config file and the home around it."""

    def __init__(self, path: Path, home: Path) -> None:
        self.path = path
        self.home = home

    @classmethod
    def find(
        cls, path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
    ) -> ConfigStore:
        """The store for ``--config`` or the default place (rules of ``credchain.config``)."""
        config_path, home = find_config(path, environ)
        return cls(config_path, home)

    # -- reading ---------------------------------------------------------------------------

    def exists(self) -> bool:
        return self.path.is_file()

    def load(self) -> dict[str, Any]:
        """The raw TOML document; ``{}`` when there is no file yet."""
        try:
            text = read_text_capped(self.path, MAX_CONFIG_BYTES, "the configuration")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", path=str(self.path)) from None
        return parse_toml(text, path=str(self.path))

    def last_test(self) -> LastTest | None:
        """The stored last test result, or ``None`` (missing or unreadable)."""
        try:
            data = json.loads((self.home / LAST_TEST_FILE).read_text(encoding="utf-8"))
            query = data.get("query") or {}
            good = data.get("known_good") or {}
            return LastTest(
                at=str(data["at"]),
                ok=bool(data["ok"]),
                summary=str(data["summary"]),
                entry=data.get("entry"),
                query={str(k): str(v) for k, v in query.items()},
                known_good={str(k): str(v) for k, v in good.items()},
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None

    # -- writing ---------------------------------------------------------------------------

    def ensure_home(self) -> Path:
        """Create the home (0700), or tighten an existing one we own."""
        return ensure_private_dir(self.home)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Stage files in the block; they replace the old ones together when it ends cleanly."""
        self.ensure_home()
        if self.path.parent != self.home:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with home_lock(self.home):
            self._sweep()
            txn = Transaction(self.home)
            try:
                yield txn
                txn._commit()
            finally:
                txn._abort()

    def stage_config(self, txn: Transaction, document: Mapping[str, Any]) -> None:
        """Stage the config document (TOML, mode 0600)."""
        txn.stage(self.path, tomli_w.dumps(dict(document)))

    def save(self, document: Mapping[str, Any]) -> None:
        """Replace the config file with ``document`` atomically."""
        with self.transaction() as txn:
            self.stage_config(txn, document)

    def update(self, **changes: Any) -> dict[str, Any]:
        """Load, set top-level keys, save; returns the saved document."""
        with self.transaction() as txn:
            document = self.load()
            document.update(changes)
            self.stage_config(txn, document)
        return document

    def set_enabled(self, enabled: bool) -> dict[str, Any]:
        return self.update(enabled=enabled)

    def set_chain(self, names: Sequence[str]) -> dict[str, Any]:
        return self.update(chain=list(names))

    def record_test(self, result: LastTest) -> None:
        """Store ``result`` as ``last_test.json`` (atomic, 0600)."""
        with self.transaction() as txn:
            txn.stage(self.home / LAST_TEST_FILE, json.dumps(result.to_dict(), indent=2) + "\n")

    def _sweep(self) -> None:
        """Remove temporary files a killed writer left (we hold the lock, so it is gone).

        Only the files transactions write: other writers in the home (caches) are not ours.
        """
        patterns = [
            (self.path.parent, f".{self.path.name}.*{_TMP_SUFFIX}"),
            (self.home, f".{LAST_TEST_FILE}.*{_TMP_SUFFIX}"),
            (self.home, f"integrations/custom/*/.*.json.*{_TMP_SUFFIX}"),
        ]
        for directory, pattern in patterns:
            for leftover in directory.glob(pattern):
                leftover.unlink(missing_ok=True)


def upsert_provider(
    document: dict[str, Any],
    name: str,
    table: Mapping[str, Any],
    *,
    first: bool = True,
) -> dict[str, Any]:
    """Set ``[providers.NAME]`` to ``table``; put ``name`` in the chain (first) if absent."""
    providers = document.setdefault("providers", {})
    providers[name] = dict(table)
    chain = list(document.get("chain", []))
    if name not in chain:
        chain = [name, *chain] if first else [*chain, name]
    document["chain"] = chain
    return document
