"""One lookup, its requests, retries, reads and waits included, ends by its deadline.

``read_timeout`` bounds one socket read; ``deadline`` bounds the whole lookup; ``retry_after_max``
is the longest ``Retry-After`` credchain waits. Past them: ``ProviderUnavailable``. Each test
has a hang guard (``timeout``); none measures time.
"""

from __future__ import annotations

import pytest
from thycotic_helpers import MakeResolver

from credchain import AssetQuery, Resolver
from credchain.devserver import DevServer
from credchain.errors import ProviderUnavailable

WEB = AssetQuery(asset_name="web-01.corp.example.com")
SEARCH = "GET api/v1/secrets"


def warm(server: DevServer, make_resolver: MakeResolver, **settings: object) -> Resolver:
    """A resolver that holds a token already, with the server's counters zeroed."""
    resolver = make_resolver(server, **settings)
    resolver.resolve(WEB)
    server.reset_stats()
    return resolver


def searches(server: DevServer) -> int:
    return server.get_stats()["requests"].get(SEARCH, 0)


@pytest.mark.timeout(20)
def test_a_trickling_answer_is_cut_at_the_deadline(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = warm(secret_server, make_resolver, read_timeout=2.0, deadline=1.5)
    secret_server.add_fault(f"trickle:{SEARCH}:delay=0.5")  # never 2 s without a byte
    with pytest.raises(ProviderUnavailable, match=r"within the 1\.5 s deadline"):
        resolver.resolve(WEB)


@pytest.mark.timeout(20)
def test_a_trickling_token_answer_is_cut_at_the_deadline(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    secret_server.add_fault("trickle:oauth2/token:delay=0.5")
    resolver = make_resolver(secret_server, read_timeout=2.0, deadline=1.5, token_cache=False)
    with pytest.raises(ProviderUnavailable, match=r"within the 1\.5 s deadline"):
        resolver.resolve(WEB)


@pytest.mark.timeout(20)
def test_a_server_silent_past_the_deadline_is_given_up(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = warm(secret_server, make_resolver, read_timeout=10.0, deadline=1.0)
    secret_server.add_fault(f"slow:{SEARCH}:delay=5")
    with pytest.raises(ProviderUnavailable, match=r"within the 1 s deadline"):
        resolver.resolve(WEB)


@pytest.mark.timeout(20)
def test_a_retry_after_longer_than_the_cap_is_not_waited_for(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = warm(secret_server, make_resolver)  # retry_after_max: the default, 5 s
    secret_server.add_fault(f"429:{SEARCH}:retry_after=25")
    with pytest.raises(ProviderUnavailable, match=r"Retry-After: 25.*retry_after_max = 5"):
        resolver.resolve(WEB)
    assert searches(secret_server) == 1  # given up at once, not retried before it was due


@pytest.mark.timeout(20)
def test_a_wait_that_would_pass_the_deadline_is_not_started(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = warm(secret_server, make_resolver, retry_after_max=10.0, deadline=2.0)
    secret_server.add_fault(f"503:{SEARCH}:retry_after=3")
    with pytest.raises(ProviderUnavailable, match=r"Retry-After: 3.*2 s deadline"):
        resolver.resolve(WEB)
    assert searches(secret_server) == 1


@pytest.mark.timeout(20)
def test_a_retry_after_within_the_cap_and_the_deadline_is_waited_for(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = warm(secret_server, make_resolver, retry_after_max=2.0, deadline=10.0)
    secret_server.add_fault(f"429:{SEARCH}:count=1,retry_after=1")
    assert resolver.resolve(WEB).username == "svc-scan"
    assert searches(secret_server) == 2


def test_the_deadline_settings_reach_the_session(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    resolver = make_resolver(secret_server, deadline=12.5, retry_after_max=0.5)
    http = resolver.chain[0].provider.client.account.http  # type: ignore[attr-defined]
    assert (http.settings.deadline, http.settings.retry_after_max) == (12.5, 0.5)


@pytest.mark.timeout(20)
def test_the_deadline_bounds_the_whole_lookup_not_each_request(
    secret_server: DevServer, make_resolver: MakeResolver
) -> None:
    # A check-out secret costs a search and a read; each is within the deadline, both are not.
    secret_server.add_secret(
        "slow-pair.lab", {"username": "u", "password": "pw-slow"}, check_out_enabled=True
    )
    resolver = warm(secret_server, make_resolver, read_timeout=10.0, deadline=1.6)
    secret_server.add_fault("slow:GET api/v1/secrets*:delay=1")
    with pytest.raises(ProviderUnavailable, match=r"within the 1\.6 s deadline"):
        resolver.resolve(AssetQuery(asset_name="slow-pair.lab"))
    assert secret_server.get_stats()["requests"] == {SEARCH: 1, "GET api/v1/secrets/{id}": 1}
