"""``--rate-limit``: a token bucket per account, answering 429 with Retry-After when empty."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner
from conftest import Client

from credchain.devserver import SCANNER_PASSWORD, DevServer
from credchain.devserver.cli import dev_server
from credchain.devserver.ratelimit import RateLimit

Factory = Callable[..., DevServer]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_admits_a_burst_then_refuses() -> None:
    clock = Clock()
    limit = RateLimit(10, burst=3, clock=clock)
    assert [limit.take("admin") for _ in range(4)] == [0, 0, 0, 1]


def test_the_bucket_refills_at_the_rate() -> None:
    clock = Clock()
    limit = RateLimit(10, burst=2, clock=clock)
    limit.take("a"), limit.take("a")
    clock.now += 0.1  # one token at 10/s
    assert limit.take("a") == 0
    assert limit.take("a") == 1


def test_retry_after_is_whole_seconds_until_a_token() -> None:
    clock = Clock()
    limit = RateLimit(0.25, burst=1, clock=clock)  # one token every 4 s
    assert limit.take("a") == 0
    assert limit.take("a") == 4
    clock.now += 2.5
    assert limit.take("a") == 2  # 1.5 s left, rounded up


def test_a_refused_request_takes_no_token() -> None:
    clock = Clock()
    limit = RateLimit(10, burst=1, clock=clock)
    limit.take("a")
    assert all(limit.take("a") for _ in range(5))
    clock.now += 0.1
    assert limit.take("a") == 0


def test_each_account_has_its_own_bucket() -> None:
    limit = RateLimit(1, burst=1, clock=Clock())
    assert (limit.take("admin"), limit.take("scanner"), limit.take("admin")) == (0, 0, 1)


@pytest.mark.parametrize(("rate", "burst"), [(0, None), (-1, None), (float("inf"), None), (5, 0.5)])
def test_bad_limits_are_refused(rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError, match="rate_limit"):
        RateLimit(rate, burst)


def test_over_the_limit_the_server_answers_429_with_retry_after(
    secret_server_factory: Factory,
) -> None:
    clock = Clock()
    server = secret_server_factory(rate_limit=2, rate_limit_burst=2, clock=clock)
    admin = Client(server).login()
    statuses = [admin.get("api/v1/secrets").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    refused = admin.get("api/v1/secrets")
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["errorCode"] == "API_TooManyRequests"


def test_the_server_recovers_once_the_bucket_refills(secret_server_factory: Factory) -> None:
    clock = Clock()
    server = secret_server_factory(rate_limit=1, rate_limit_burst=1, clock=clock)
    admin = Client(server).login()
    assert [admin.get("api/v1/secrets").status_code for _ in range(2)] == [200, 429]
    clock.now += 1.0
    assert admin.get("api/v1/secrets").status_code == 200


def test_429s_are_counted_per_account_in_stats(secret_server_factory: Factory) -> None:
    server = secret_server_factory(rate_limit=1, rate_limit_burst=1, clock=Clock())
    admin = Client(server).login()
    scanner = Client(server).login("scanner", SCANNER_PASSWORD)
    for _ in range(3):
        admin.get("api/v1/secrets")
    scanner.get("api/v1/secrets")  # its own bucket: admitted
    assert server.get_stats()["throttled"] == {server.admin_username: 2}
    assert admin.control("GET", "stats").json()["throttled"] == {server.admin_username: 2}


def test_token_grants_are_not_limited(secret_server_factory: Factory) -> None:
    server = secret_server_factory(rate_limit=1, rate_limit_burst=1, clock=Clock())
    assert all(Client(server).login().token for _ in range(3))


def test_without_a_limit_nothing_is_throttled(secret_server: DevServer, admin: Client) -> None:
    assert all(admin.get("api/v1/secrets").status_code == 200 for _ in range(20))
    assert secret_server.get_stats()["throttled"] == {}


def test_the_cli_takes_rate_limit_options() -> None:
    result = CliRunner().invoke(dev_server, ["--help"])
    assert "--rate-limit R" in result.output and "--rate-limit-burst N" in result.output
    refused = CliRunner().invoke(dev_server, ["--rate-limit", "0"])
    assert refused.exit_code == 2
