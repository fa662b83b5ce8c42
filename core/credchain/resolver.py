"""The resolver: walks the admin's chain, in order, until an entry finds the asset's credential.

For each entry it calls the provider's hooks (``credchain.hookspecs``) through callers restricted
to that entry, built once here, so pluggy's own call order never decides the chain order.
Cross-cutting plugins given as ``plugins=`` see every entry's calls and may wrap them.

Three outcomes, never mixed up: a credential ends the walk; ``None`` goes on to the next entry;
an error follows the entry's ``on_error`` — ``next`` or ``stop``; by default
``ProviderUnavailable`` goes on and ``ProviderError`` stops. When the walk ends with no
credential, ``resolve`` raises ``CredentialNotFound`` if every entry answered "not here", or
the first entry's error if one failed (a vault that was down is not "not found"). Either way
the error carries the ``trace``.

``from_config`` skips, with a warning, an entry with ``on_error = "next"`` that cannot be
built (its provider fails to load, a ``_env`` variable is unset, its settings are invalid): it is
in ``Resolver.skipped`` and the rest of the chain serves. Other entries fail the build.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import pluggy

from credchain import hookspecs
from credchain.cache import Cache, SharedAnswers, chain_namespace, open_cache
from credchain.config import OnError, load_config
from credchain.errors import (
    ChainDisabled,
    ConfigError,
    CredchainError,
    CredentialNotFound,
    PluginLoadError,
    ProviderError,
    ProviderUnavailable,
    QueryError,
)
from credchain.models import AssetQuery, SafeCredential
from credchain.plugins import build_provider, load_provider_classes
from credchain.provider import Prefetched, Prefetches, ProviderContext
from credchain.scan import Concurrency, Resolution, Scan
from credchain.tls import TLSPolicy
from credchain.trace import Outcome, Trace, TraceStep, collect_notes

__all__ = ["ChainEntry", "Resolver", "SkippedEntry", "close_providers", "release"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChainEntry:
    """One named entry of the chain: a provider instance and its error policy."""

    name: str
    provider: object
    on_error: OnError | None = None
    type: str = ""

    @property
    def type_name(self) -> str:
        return self.type or type(self.provider).__name__


@dataclass(frozen=True)
class SkippedEntry:
    """A chain entry ``from_config`` left out, and why (its ``on_error`` is ``next``)."""

    name: str
    type: str
    error: CredchainError

    def __str__(self) -> str:
        return f'entry {self.name!r} skipped (on_error = "next"): {self.error}'


class _Step:
    """A chain entry with its four hook callers, restricted to its provider."""

    __slots__ = ("_tls_lock", "authenticate", "entry", "extract", "lookup", "tls", "verify_tls")

    def __init__(self, entry: ChainEntry, pm: pluggy.PluginManager, others: list[object]) -> None:
        self.entry = entry
        hook = "credchain_"
        self.verify_tls = pm.subset_hook_caller(hook + "verify_tls", others)
        self.authenticate = pm.subset_hook_caller(hook + "authenticate", others)
        self.lookup = pm.subset_hook_caller(hook + "lookup", others)
        self.extract = pm.subset_hook_caller(hook + "extract_credentials", others)
        self.tls: TLSPolicy | None = None
        self._tls_lock: threading.Lock | None = threading.Lock()

    def implemented(self) -> list[str]:
        """The names of the hooks the entry's own provider implements, in calling order."""
        callers = {
            "verify_tls": self.verify_tls,
            "authenticate": self.authenticate,
            "lookup": self.lookup,
            "extract_credentials": self.extract,
        }
        provider = self.entry.provider
        return [
            name
            for name, caller in callers.items()
            if any(impl.plugin is provider for impl in caller.get_hookimpls())
        ]

    def run(self, query: AssetQuery) -> SafeCredential | None:
        name = self.entry.name
        lock = self._tls_lock
        if lock is not None:
            with lock:
                if self._tls_lock is not None:
                    self.tls = self.verify_tls(entry=name)
                    self._tls_lock = None
        auth = self.authenticate(entry=name, renew=False)
        record = self.lookup(entry=name, query=query, auth=auth)
        if record is None:
            return None
        credential = self.extract(entry=name, query=query, record=record)
        if credential is None:
            return None
        if not isinstance(credential, SafeCredential):
            raise ProviderError(
                f"extract_credentials returned {type(credential).__name__}, not a SafeCredential"
            )
        return (
            credential
            if credential.source == name
            else credential.model_copy(update={"source": name})
        )


class Resolver:
    """Resolves an asset's credential through an ordered chain of providers; thread-safe."""

    def __init__(
        self,
        entries: Sequence[ChainEntry],
        *,
        plugins: Sequence[object] = (),
        enabled: bool = True,
        clock: Callable[[], float] = time.perf_counter,
        shared: SharedAnswers | None = None,
    ) -> None:
        names = [entry.name for entry in entries]
        if len(set(names)) != len(names):
            raise ConfigError(f"chain entry names must be unique: {names}", key="chain")
        self._pm = pluggy.PluginManager(hookspecs.PROJECT)
        self._pm.add_hookspecs(hookspecs)
        for entry in entries:
            self._pm.register(entry.provider, name=entry.name)
        for plugin in plugins:
            self._pm.register(plugin)
        try:
            self._pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise PluginLoadError(str(exc), name=str(exc.plugin)) from None
        providers = [entry.provider for entry in entries]
        self._steps = tuple(
            _Step(entry, self._pm, [p for p in providers if p is not entry.provider])
            for entry in entries
        )
        self.enabled = enabled
        self._clock = clock
        #: answers shared with other processes (``[cache]``, ``credchain.cache``), used by scans
        self.shared = shared
        #: the ``[cache]`` opened by ``from_config``, closed with the resolver
        self.cache: Cache | None = None
        #: entries ``from_config`` left out of the chain (see the module docstring)
        self.skipped: list[SkippedEntry] = []

    @property
    def load_failures(self) -> list[PluginLoadError]:
        """The provider load errors among ``skipped``."""
        return [s.error for s in self.skipped if isinstance(s.error, PluginLoadError)]

    @classmethod
    def from_config(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        tolerant: bool = False,
        environ: Mapping[str, str] | None = None,
    ) -> Resolver:
        """Build the resolver the admin configured (see ``credchain.config`` for the search).

        ``tolerant`` skips every entry that cannot be built, whatever its ``on_error``.
        """
        env = dict(os.environ if environ is None else environ)
        config = load_config(path, environ=env)
        if not config.chain:
            raise ConfigError("the chain is empty", path=str(config.path), key="chain")
        # Every entry's own policy decides below whether its load failure is fatal.
        loaded = load_provider_classes(
            [config.entry(name).type for name in config.chain], tolerant=True, warn=False
        )
        load_errors = {error.name: error for error in loaded.failures}
        entries: list[ChainEntry] = []
        cache = open_cache(config)
        skipped: list[SkippedEntry] = []
        try:
            for name in config.chain:
                entry_config = config.entry(name)
                try:
                    provider_class = loaded.classes.get(entry_config.type)
                    if provider_class is None:
                        raise load_errors[entry_config.type]
                    context = ProviderContext(
                        entry=name, home=config.home, config=config, environ=env, cache=cache
                    )
                    provider = build_provider(
                        entry_config, provider_class, context, config_path=str(config.path)
                    )
                except CredchainError as exc:
                    if not (tolerant or entry_config.on_error == "next"):
                        raise
                    skipped.append(SkippedEntry(name, entry_config.type, exc))
                    log.warning("%s", skipped[-1])
                    continue
                entries.append(ChainEntry(name, provider, entry_config.on_error, entry_config.type))
            shared = (
                SharedAnswers(cache, chain_namespace(config))
                if cache.shared and cache.answers
                else None
            )
            resolver = cls(entries, enabled=config.enabled, shared=shared)
        except BaseException:
            close_providers(entries)  # what was built before the failure holds sessions
            cache.close()
            raise
        resolver.cache = cache
        resolver.skipped = skipped
        return resolver

    @property
    def chain(self) -> tuple[ChainEntry, ...]:
        return tuple(step.entry for step in self._steps)

    def resolve(self, query: AssetQuery | Mapping[str, object]) -> SafeCredential:
        """The asset's credential from the first entry that has it.

        Raises ``CredentialNotFound`` (with ``trace``) when no entry has it, or an entry's
        ``ProviderUnavailable``/``ProviderError`` as described in the module docstring.
        """
        credential, error, _ = self._answer(self._query(query))
        if error is not None:
            raise error
        assert credential is not None
        return credential

    def resolve_many(
        self,
        queries: Iterable[AssetQuery | Mapping[str, object] | QueryError],
        *,
        concurrency: Concurrency = 8,
        max_concurrency: int = 16,
        cache_ttl: float = 300.0,
        negative_ttl: float | None = None,
        progress: Callable[[int, Resolution], None] | None = None,
        prefetch: bool = True,
    ) -> Iterator[Resolution]:
        """Resolve a whole scan; yields a ``Resolution`` per query **as each completes**.

        At most ``concurrency`` walks run at once and the input is read lazily, so an iterator of
        any length keeps memory flat. ``concurrency="adaptive"`` runs as many as the vault takes,
        from 1 to ``max_concurrency``: fewer when it answers 429 or 503 or slows down.
        Identical queries share one walk; answers are cached for ``cache_ttl`` seconds, "not
        found" for ``negative_ttl`` (off by default). Errors do not stop the scan: each is in
        its ``Resolution``. ``progress(done, resolution)`` is called before each is yielded.
        See ``credchain.scan``.

        Entries that read ahead (``Prefetches``, e.g. a thycotic entry with ``prefetch = true``)
        do so when the first result is asked for, and release it when the last is yielded.
        ``prefetch=False`` asks every entry per asset.
        """
        scan = self.scan(
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            cache_ttl=cache_ttl,
            negative_ttl=negative_ttl,
        )
        return self.run_scan(scan, queries, progress, prefetch=prefetch)

    def run_scan(
        self,
        scan: Scan,
        queries: Iterable[AssetQuery | Mapping[str, object] | QueryError],
        progress: Callable[[int, Resolution], None] | None = None,
        *,
        prefetch: bool = True,
    ) -> Iterator[Resolution]:
        """``resolve_many`` on a ``Scan`` of the caller's (from ``scan()``), whose ``width`` and
        ``congestion`` it can read as the scan goes and after."""
        if not self.enabled:
            raise ChainDisabled("credchain is disabled (run 'credchain enable')")
        results = scan.run(queries, progress)
        return self._prefetching(results) if prefetch else results

    def _prefetching(self, results: Iterator[Resolution]) -> Iterator[Resolution]:
        handles = self.prefetch()
        try:
            yield from results
        finally:
            release(handles)

    def prefetch(self) -> list[Prefetched]:
        """Let each entry that can read ahead do so (``Prefetches``); ``release`` the handles
        when the run is over. An entry whose read-ahead fails is asked per asset instead."""
        handles: list[Prefetched] = []
        for entry in self.chain:
            if not isinstance(entry.provider, Prefetches):
                continue
            try:
                handle = entry.provider.prefetch()
            except Exception:  # a provider's bug costs the read-ahead, not the scan
                log.warning(
                    "entry %s: prefetch failed; asking per asset", entry.name, exc_info=True
                )
                continue
            if handle is not None:
                handles.append(handle)
        return handles

    def scan(
        self,
        *,
        concurrency: Concurrency = 8,
        max_concurrency: int = 16,
        cache_ttl: float = 300.0,
        negative_ttl: float | None = None,
        cache_size: int = 4096,
    ) -> Scan:
        """A ``Scan`` over this chain whose cache and single-flight last as long as it is kept
        (``resolve_many`` makes one per call; ``credchain agent`` keeps one per config)."""
        return Scan(
            self._answer,
            concurrency=concurrency,
            max_concurrency=max_concurrency,
            cache_ttl=cache_ttl,
            negative_ttl=negative_ttl,
            cache_size=cache_size,
            shared=self.shared,
        )

    def explain(self, query: AssetQuery | Mapping[str, object]) -> Trace:
        """The trace of a walk for ``query``: entries, outcomes, reasons, times; no secret."""
        return self._walk(self._query(query))[1]

    def log_in(self, entry: str) -> list[str]:
        """Call ``entry``'s ``verify_tls`` and ``authenticate(renew=True)`` hooks, as a walk would
        before its lookup (``credchain test`` does, for providers that are not ``Checks``).

        Returns the names of those the provider implements; raises what a hook raises.
        """
        step = next((step for step in self._steps if step.entry.name == entry), None)
        if step is None:
            raise KeyError(entry)
        called = [hook for hook in step.implemented() if hook in ("verify_tls", "authenticate")]
        step.verify_tls(entry=entry)
        step.authenticate(entry=entry, renew=True)
        return called

    def close(self) -> None:
        """Close every provider that has a ``close`` method, then the cache."""
        close_providers(self.chain)
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Resolver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _answer(
        self, query: AssetQuery
    ) -> tuple[SafeCredential | None, CredchainError | None, Trace]:
        """One walk as the caller sees it: the credential, or the error to raise, and the trace."""
        try:
            credential, trace, failure = self._walk(query)
        except ChainDisabled as exc:
            exc.trace = Trace(query=query.to_query_data())
            return None, exc, exc.trace
        if credential is not None:
            return credential, None, trace
        if failure is None:
            failure = CredentialNotFound(
                f"no credential for {query.label()!r} in the chain: {trace}", trace=trace
            )
        failure.trace = trace
        return None, failure, trace

    @staticmethod
    def _query(query: AssetQuery | Mapping[str, object]) -> AssetQuery:
        return query if isinstance(query, AssetQuery) else AssetQuery.from_query_data(query)

    def _walk(
        self, query: AssetQuery
    ) -> tuple[SafeCredential | None, Trace, CredchainError | None]:
        if not self.enabled:
            raise ChainDisabled("credchain is disabled (run 'credchain enable')")
        trace = Trace(query=query.to_query_data())
        first_failure: CredchainError | None = None
        for step in self._steps:
            entry = step.entry
            started = self._clock()
            with collect_notes() as notes:
                outcome: Outcome
                failure: CredchainError | None = None
                credential: SafeCredential | None = None
                try:
                    credential = step.run(query)
                except ProviderUnavailable as exc:
                    outcome, failure = "unavailable", exc
                except ProviderError as exc:
                    outcome, failure = "error", exc
                except CredchainError as exc:
                    outcome, failure = "error", ProviderError(str(exc))
                except Exception as exc:  # a provider's bug must not take the scanner down
                    log.debug("entry %s raised", entry.name, exc_info=True)
                    outcome = "error"
                    failure = ProviderError(
                        f"provider bug: unexpected {type(exc).__name__} (see the debug log)"
                    )
                else:
                    outcome = "not_found" if credential is None else "found"
            if failure is not None:
                reason = str(failure)
            elif credential is not None:
                reason = credential.detail or "found"
            else:
                reason = "not here"
            if notes:
                reason = f"{reason} ({'; '.join(notes)})"
            elapsed_ms = (self._clock() - started) * 1000.0
            trace.steps.append(TraceStep(entry.name, entry.type_name, outcome, reason, elapsed_ms))
            log.debug("entry %s: %s in %.1f ms", entry.name, outcome, elapsed_ms)
            if credential is not None:
                return credential, trace, None
            if failure is not None:
                if not str(failure).startswith(f"{entry.name}: "):
                    failure = _prefixed(failure, entry.name)
                default: OnError = "next" if outcome == "unavailable" else "stop"
                if (entry.on_error or default) == "stop":
                    return None, trace, failure
                first_failure = first_failure or failure
        return None, trace, first_failure


def close_providers(entries: Iterable[ChainEntry]) -> None:
    """Call ``close()`` on each entry's provider that has one (``Provider`` does)."""
    for entry in entries:
        close = getattr(entry.provider, "close", None)
        if callable(close):
            close()


def release(handles: Iterable[Prefetched]) -> None:
    """Release what ``Resolver.prefetch`` read ahead."""
    for handle in handles:
        try:
            handle.release()
        except Exception:
            log.warning("releasing a prefetch failed", exc_info=True)


def _prefixed(error: CredchainError, entry: str) -> CredchainError:
    """The same error, its message prefixed with the chain entry's name."""
    error.args = (f"{entry}: {error}", *error.args[1:])
    return error
