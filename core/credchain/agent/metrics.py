"""The agent's Prometheus metrics, in a registry of its own, served at ``GET /metrics``.

| metric                                   | labels          | what                              |
|------------------------------------------|-----------------|-----------------------------------|
| ``credchain_agent_requests_total``       | route, status   | HTTP requests answered            |
| ``credchain_agent_request_seconds``      | route           | time to answer (histogram)        |
| ``credchain_agent_in_flight``            |                 | requests being answered now       |
| ``credchain_resolutions_total``          | entry, outcome  | assets resolved, by chain entry   |
| ``credchain_resolution_seconds``         | outcome         | time of one resolution (histogram)|
| ``credchain_cache_hits_total``           |                 | answers served from the cache     |
| ``credchain_refused_callers_total``      | why             | callers refused: policy or token  |
| ``credchain_reloads_total``              | outcome         | config reloads: ok or refused     |
| ``credchain_vault_requests_total``       | entry, kind     | HTTP attempts sent to the vault   |
| ``credchain_vault_grants_total``         | entry           | token grants (kind ``token``)     |
| ``credchain_vault_throttled_total``      | entry           | vault answers 429 (rate limit)    |

Plus the standard ``process_*`` metrics (resident memory, open file descriptors, CPU).
``entry`` of a resolution is the entry that found the asset or whose failure ended the walk
(``none`` when no entry answered). Vault counts survive config reloads.

There is no width gauge: the agent answers its callers' requests as they come, at most
``threads`` at once (and ``max_concurrency`` per resolve-many stream); it does not choose a
width of its own. A rising ``credchain_vault_throttled_total`` says the callers together ask
more than the vault allows (see docs/scanner-integration.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from credchain.scan import Resolution

__all__ = ["AgentMetrics", "ThrottledCounts", "VaultCounts"]

#: ``{(entry, kind): attempts}``, read at each scrape
VaultCounts = Callable[[], Mapping[tuple[str, str], int]]
#: ``{entry: answers 429}``, read at each scrape
ThrottledCounts = Callable[[], Mapping[str, int]]

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _VaultCollector(Collector):
    def __init__(self, counts: VaultCounts, throttled: ThrottledCounts) -> None:
        self._counts = counts
        self._throttled = throttled

    def collect(self) -> Iterator[CounterMetricFamily]:
        requests = CounterMetricFamily(
            "credchain_vault_requests", "HTTP attempts sent to the vault", labels=["entry", "kind"]
        )
        grants = CounterMetricFamily(
            "credchain_vault_grants", "Token grants sent to the vault", labels=["entry"]
        )
        for (entry, kind), count in sorted(self._counts().items()):
            requests.add_metric([entry, kind], count)
            if kind == "token":
                grants.add_metric([entry], count)
        throttled = CounterMetricFamily(
            "credchain_vault_throttled",
            "Vault answers 429 (too many requests)",
            labels=["entry"],
        )
        for entry, count in sorted(self._throttled().items()):
            throttled.add_metric([entry], count)
        yield requests
        yield grants
        yield throttled


class AgentMetrics:
    """Every metric of one agent; ``render()`` is the ``/metrics`` body."""

    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self, vault_counts: VaultCounts, throttled: ThrottledCounts = lambda: {}) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        registry.register(_VaultCollector(vault_counts, throttled))
        self.requests = Counter(
            "credchain_agent_requests",
            "HTTP requests answered",
            ["route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "credchain_agent_request_seconds",
            "Time to answer a request",
            ["route"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.in_flight = Gauge(
            "credchain_agent_in_flight", "Requests being answered", registry=registry
        )
        self.resolutions = Counter(
            "credchain_resolutions",
            "Assets resolved, by chain entry and outcome",
            ["entry", "outcome"],
            registry=registry,
        )
        self.resolution_seconds = Histogram(
            "credchain_resolution_seconds",
            "Time of one resolution",
            ["outcome"],
            buckets=_SECONDS,
            registry=registry,
        )
        self.cache_hits = Counter(
            "credchain_cache_hits", "Answers served from the cache", registry=registry
        )
        self.refused = Counter(
            "credchain_refused_callers", "Callers refused", ["why"], registry=registry
        )
        self.reloads = Counter(
            "credchain_reloads", "Configuration reloads", ["outcome"], registry=registry
        )

    def resolved(self, resolution: Resolution, seconds: float) -> None:
        outcome = resolution.outcome
        self.resolutions.labels(resolution.source or "none", outcome).inc()
        self.resolution_seconds.labels(outcome).observe(seconds)
        if resolution.cached:
            self.cache_hits.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
