"""The agent's state: the loaded configuration (a ``Generation``), its thread pool, audit and
metrics, and how a reload swaps one generation for the next without dropping a request.

A generation is one configuration: a ``Resolver``, one ``Scan`` kept for the process (the cache
and single-flight shared by every request), what its entries read ahead (``prefetch = true``,
held for the generation's life and read again by the entry after its ``prefetch_ttl``), the
``[agent]`` settings and caller policy. A
request takes the current generation for its whole life; a reload builds the next one in a
worker thread, swaps it in, and closes the old one when its last request is done. A config
that does not load keeps the old generation and says why.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import logging
import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from credchain.agent.audit import AuditLog
from credchain.agent.callers import CallerPolicy
from credchain.agent.metrics import AgentMetrics
from credchain.agent.settings import AgentSettings, agent_settings, read_token
from credchain.config import Config, load_config
from credchain.errors import ConfigError, CredchainError
from credchain.provider import CountsRequests, Prefetched
from credchain.resolver import Resolver, release
from credchain.scan import Resolution

__all__ = ["Agent", "Generation", "load_generation"]

log = logging.getLogger(__name__)

#: settings a reload cannot change in a running process
RESTART_ONLY = (
    "socket",
    "socket_group",
    "listen",
    "tls_cert",
    "tls_key",
    "threads",
    "audit_log",
    "audit_max_bytes",
    "audit_backups",
)


_VERSION = importlib.metadata.version("credchain")


def _timestamp(at: float | None = None) -> str:
    moment = datetime.now(UTC) if at is None else datetime.fromtimestamp(at, UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(eq=False)
class Generation:
    """One loaded configuration and the requests using it."""

    config: Config
    settings: AgentSettings
    resolver: Resolver
    policy: CallerPolicy
    token: str | None
    loaded_at: str = field(default_factory=_timestamp)
    in_flight: int = 0
    retired: bool = False

    def __post_init__(self) -> None:
        s = self.settings
        self.scan = self.resolver.scan(
            concurrency=s.max_concurrency,
            cache_ttl=s.cache_ttl,
            negative_ttl=s.negative_ttl or None,
        )
        self.prefetched: list[Prefetched] = self.resolver.prefetch()

    def close(self) -> None:
        """Release what was read ahead, then close the providers."""
        release(self.prefetched)
        self.resolver.close()

    def vault_requests(self) -> dict[tuple[str, str], int]:
        counts: dict[tuple[str, str], int] = {}
        for entry in self.resolver.chain:
            if isinstance(entry.provider, CountsRequests):
                for kind, count in entry.provider.vault_requests().items():
                    counts[entry.name, kind] = count
        return counts


class Agent:
    """The configured chain served to local callers; built by ``credchain agent``."""

    def __init__(
        self,
        config_path: str | os.PathLike[str] | None = None,
        *,
        overrides: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._config_path = config_path
        self._overrides = dict(overrides or {})
        self._environ = dict(os.environ if environ is None else environ)
        self.started = time.monotonic()
        self.current = self._load()
        #: the settings the process was started with (sockets, pool and log are bound to them)
        self.started_with = s = self.current.settings
        self.pool = ThreadPoolExecutor(s.threads, thread_name_prefix="credchain-agent")
        self.audit = AuditLog(
            s.audit_path(self.current.config.home),
            max_bytes=s.audit_max_bytes,
            backups=s.audit_backups,
        )
        #: vault counts as last read, and what counters that restarted had reached
        self._seen: dict[tuple[str, str], int] = {}
        self._restarted: dict[tuple[str, str], int] = {}
        #: the 429s of the generations closed since start
        self._retired_throttled: dict[str, int] = {}
        self.metrics = AgentMetrics(self.vault_requests, self.throttled)
        #: each chain entry's last answer: (outcome, time.time(), reason of a failure)
        self.entry_state: dict[str, tuple[str, float, str | None]] = {}
        self._reloading = asyncio.Lock()

    # -- generations ----------------------------------------------------------------------------

    def _load(self) -> Generation:
        return load_generation(self._config_path, self._overrides, self._environ)

    def acquire(self) -> Generation:
        generation = self.current
        generation.in_flight += 1
        return generation

    def release(self, generation: Generation) -> None:
        generation.in_flight -= 1
        if generation.retired and generation.in_flight == 0:
            self._close(generation)

    def _close(self, generation: Generation) -> None:
        for entry, count in generation.scan.congestion.answers(429).items():
            self._retired_throttled[entry] = self._retired_throttled.get(entry, 0) + count
        self.pool.submit(generation.close)

    def vault_requests(self) -> dict[tuple[str, str], int]:
        """Vault attempts by (entry, kind) since start, across reloads."""
        return self._counted(self.current)

    def _counted(self, generation: Generation) -> dict[tuple[str, str], int]:
        """Totals that never go down: a provider's counter that restarted from zero (a reload
        that made a new vault account; one kept is shared, its count goes on) is added on."""
        for key, count in generation.vault_requests().items():
            if count < self._seen.get(key, 0):
                self._restarted[key] = self._restarted.get(key, 0) + self._seen[key]
            self._seen[key] = count
        return {key: self._restarted.get(key, 0) + count for key, count in self._seen.items()}

    def throttled(self) -> dict[str, int]:
        """Vault answers 429 by entry since start, across reloads."""
        counts = dict(self._retired_throttled)
        for entry, count in self.current.scan.congestion.answers(429).items():
            counts[entry] = counts.get(entry, 0) + count
        return counts

    async def reload(self, why: str) -> dict[str, Any]:
        """Load the config again and swap it in; ``ConfigError`` (old config kept) if it fails.

        A reload over HTTP is audited by the request; a signal's (``via`` SIGHUP) here.
        """
        async with self._reloading:
            loop = asyncio.get_running_loop()
            try:
                fresh = await loop.run_in_executor(self.pool, self._load)
            except CredchainError as exc:
                self.metrics.reloads.labels("refused").inc()
                log.warning("reload (%s) refused, keeping the running config: %s", why, exc)
                if why == "SIGHUP":
                    self.audit.write("reload", outcome="refused", reason=str(exc), via=why)
                error = exc if isinstance(exc, ConfigError) else ConfigError(str(exc))
                raise error from None
            self._counted(self.current)  # the last of the old counts, then the new ones
            old, self.current = self.current, fresh
            self._counted(fresh)
            kept = [
                key
                for key in RESTART_ONLY
                if getattr(self.started_with, key) != getattr(fresh.settings, key)
            ]
            old.retired = True
            if old.in_flight == 0:
                self._close(old)
            names = {entry.name for entry in fresh.resolver.chain}
            self.entry_state = {k: v for k, v in self.entry_state.items() if k in names}
            self.metrics.reloads.labels("ok").inc()
            note = f"; restart to apply {', '.join(kept)}" if kept else ""
            log.warning("reload (%s): reloaded the configuration%s", why, note)
            if why == "SIGHUP":
                self.audit.write("reload", outcome="ok", via=why, reason=note[2:] or None)
            return {"status": "reloaded", "loaded_at": fresh.loaded_at, "restart_needed": kept}

    # -- what requests report -------------------------------------------------------------------

    def observe(self, resolution: Resolution, seconds: float) -> None:
        """Metrics and each entry's last state after one resolution."""
        self.metrics.resolved(resolution, seconds)
        if resolution.cached or resolution.trace is None:
            return
        at = time.time()
        for step in resolution.trace.steps:
            failed = step.outcome in ("unavailable", "error")
            self.entry_state[step.entry] = (step.outcome, at, step.reason if failed else None)

    def health(self) -> dict[str, object]:
        generation = self.current
        entries: list[dict[str, object]] = []
        failing = False
        for entry in generation.resolver.chain:
            state = self.entry_state.get(entry.name)
            last: dict[str, object] | None = None
            if state is not None:
                outcome, at, reason = state
                last = {"outcome": outcome, "at": _timestamp(at)}
                if reason is not None:
                    last["reason"], failing = reason, True
            entries.append({"name": entry.name, "type": entry.type_name, "last": last})
        return {
            "status": "degraded" if failing else "ok",
            "version": _VERSION,
            "pid": os.getpid(),
            "uptime_s": round(time.monotonic() - self.started, 3),
            "config": str(generation.config.path),
            "loaded_at": generation.loaded_at,
            "enabled": generation.resolver.enabled,
            "entries": entries,
        }

    def close(self) -> None:
        """After the server has stopped: finish the pool's work, close providers and the log."""
        self.pool.shutdown(wait=True)
        self.current.close()
        self.audit.close()


def load_generation(
    config_path: str | os.PathLike[str] | None,
    overrides: Mapping[str, Any],
    environ: Mapping[str, str],
) -> Generation:
    """Read the config and build a generation (blocking: call it off the event loop)."""
    config = load_config(config_path, environ=environ)
    settings = agent_settings(config, **overrides)
    policy = settings.policy()
    token = None
    if settings.token_file is not None:
        token = read_token(settings.anchored(config.home, settings.token_file))
    resolver = Resolver.from_config(config.path, environ=environ)
    return Generation(config, settings, resolver, policy, token)
