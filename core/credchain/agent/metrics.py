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

What every request updates (requests, their time, resolutions, cache hits, in flight) is kept
as plain numbers and turned into metric families at each scrape: every update and every scrape
runs on the event loop's thread, so no lock is taken per request, and a request touches a few
dictionary entries instead of prometheus-client's per-sample locks and label checks.
``entry`` of a resolution is the entry that found the asset or whose failure ended the walk
(``none`` when no entry answered). Vault counts survive config reloads.

There is no width gauge: the agent answers its callers' requests as they come, at most
``threads`` at once (and ``max_concurrency`` per resolve-many stream); it does not choose a
width of its own. A rising ``credchain_vault_throttled_total`` says the callers together ask
more than the vault allows (see docs/scanner-integration.md).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from credchain.scan import Resolution

__all__ = ["AgentMetrics", "ThrottledCounts", "VaultCounts"]

#: ``{(entry, kind): attempts}``, read at each scrape
VaultCounts = Callable[[], Mapping[tuple[str, str], int]]
#: ``{entry: answers 429}``, read at each scrape
ThrottledCounts = Callable[[], Mapping[str, int]]

_SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
#: the ``le`` label of each bucket, as prometheus-client writes them
_LE = [*(str(float(b)) for b in _SECONDS), "+Inf"]


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


class _Buckets:
    """One histogram series: the count in each bucket (the last is ``+Inf``) and the sum."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * len(_LE)
        self.total = 0.0


class _Times:
    """A histogram's series by label values."""

    def __init__(self) -> None:
        self.by_labels: dict[tuple[str, ...], _Buckets] = {}

    def observe(self, labels: tuple[str, ...], seconds: float) -> None:
        series = self.by_labels.get(labels)
        if series is None:
            series = self.by_labels[labels] = _Buckets()
        series.counts[bisect.bisect_left(_SECONDS, seconds)] += 1
        series.total += seconds

    def family(self, name: str, documentation: str, label: str) -> HistogramMetricFamily:
        family = HistogramMetricFamily(name, documentation, labels=[label])
        for labels, series in sorted(self.by_labels.items()):
            running, buckets = 0, []
            for le, count in zip(_LE, series.counts, strict=True):
                running += count
                buckets.append((le, float(running)))
            family.add_metric(list(labels), buckets, series.total)
        return family


class _RequestTallies(Collector):
    """What each request updates, as plain numbers (see the module docstring)."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.requests: dict[tuple[str, str], int] = {}
        self.request_seconds = _Times()
        self.resolutions: dict[tuple[str, str], int] = {}
        self.resolution_seconds = _Times()
        self.cache_hits = 0

    def collect(self) -> Iterator[Metric]:
        yield _counters(
            "credchain_agent_requests", "HTTP requests answered", ["route", "status"], self.requests
        )
        yield self.request_seconds.family(
            "credchain_agent_request_seconds", "Time to answer a request", "route"
        )
        yield GaugeMetricFamily(
            "credchain_agent_in_flight", "Requests being answered", value=self.in_flight
        )
        yield _counters(
            "credchain_resolutions",
            "Assets resolved, by chain entry and outcome",
            ["entry", "outcome"],
            self.resolutions,
        )
        yield self.resolution_seconds.family(
            "credchain_resolution_seconds", "Time of one resolution", "outcome"
        )
        yield CounterMetricFamily(
            "credchain_cache_hits", "Answers served from the cache", value=self.cache_hits
        )


def _counters(
    name: str, documentation: str, labels: list[str], counts: dict[tuple[str, str], int]
) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=labels)
    for values, count in sorted(counts.items()):
        family.add_metric(list(values), count)
    return family


class AgentMetrics:
    """Every metric of one agent; ``render()`` is the ``/metrics`` body.

    ``started``, ``ended``, ``answered`` and ``resolved`` are called on the event loop's
    thread only.
    """

    CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

    def __init__(self, vault_counts: VaultCounts, throttled: ThrottledCounts = lambda: {}) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        registry.register(_VaultCollector(vault_counts, throttled))
        self._tallies = tallies = _RequestTallies()
        registry.register(tallies)
        self.refused = Counter(
            "credchain_refused_callers", "Callers refused", ["why"], registry=registry
        )
        self.reloads = Counter(
            "credchain_reloads", "Configuration reloads", ["outcome"], registry=registry
        )

    def started(self) -> None:
        self._tallies.in_flight += 1

    def ended(self) -> None:
        self._tallies.in_flight -= 1

    def answered(self, route: str, status: int, seconds: float) -> None:
        """A request answered: ``route`` is its template, ``status`` its HTTP status."""
        tallies = self._tallies
        key = (route, str(status))
        tallies.requests[key] = tallies.requests.get(key, 0) + 1
        tallies.request_seconds.observe((route,), seconds)

    def resolved(self, resolution: Resolution, seconds: float) -> None:
        tallies = self._tallies
        outcome = resolution.outcome
        key = (resolution.source or "none", outcome)
        tallies.resolutions[key] = tallies.resolutions.get(key, 0) + 1
        tallies.resolution_seconds.observe((outcome,), seconds)
        if resolution.cached:
            tallies.cache_hits += 1

    def render(self) -> bytes:
        return generate_latest(self.registry)
