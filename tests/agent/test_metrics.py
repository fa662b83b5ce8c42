"""The agent's metrics: the plain tallies it keeps per request read as prometheus-client's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from credchain.agent.metrics import _SECONDS, AgentMetrics

ROUTES = st.sampled_from(["/v1/resolve", "/v1/health", "other"])
SECONDS = st.one_of(
    st.sampled_from(_SECONDS),  # on a bucket's bound: counted in it (``le``)
    st.floats(min_value=0, max_value=60, allow_nan=False),
)


def samples(text: bytes, prefix: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            if sample.name.startswith(prefix) and not sample.name.endswith("_created"):
                found[sample.name, frozenset(sample.labels.items())] = sample.value
    return found


@given(st.lists(st.tuples(ROUTES, st.sampled_from([200, 404]), SECONDS), max_size=30))
def test_requests_read_as_prometheus_clients_counter_and_histogram(
    answers: list[tuple[str, int, float]],
) -> None:
    ours = AgentMetrics(dict)
    registry = CollectorRegistry()
    requests = Counter("credchain_agent_requests", "", ["route", "status"], registry=registry)
    seconds = Histogram(
        "credchain_agent_request_seconds", "", ["route"], buckets=_SECONDS, registry=registry
    )
    for route, status, took in answers:
        ours.answered(route, status, took)
        requests.labels(route, str(status)).inc()
        seconds.labels(route).observe(took)
    prefix = "credchain_agent_request"
    theirs = samples(generate_latest(registry), prefix)
    mine = samples(ours.render(), prefix)
    assert mine.keys() == theirs.keys()
    for key, value in theirs.items():
        assert mine[key] == value or abs(mine[key] - value) < 1e-9, key


def test_in_flight_counts_requests_started_and_not_ended() -> None:
    metrics = AgentMetrics(dict)
    metrics.started()
    metrics.started()
    metrics.ended()
    assert samples(metrics.render(), "credchain_agent_in_flight") == {
        ("credchain_agent_in_flight", frozenset()): 1.0
    }
