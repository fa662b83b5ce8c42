"""The fault matrix: every dev-server fault at 10 % during a 500-asset scan, for each Secret
Server provider.

What each run must show:

- every asset gets its own credential or a clear error of its own: never another asset's
  credential, never a "provider bug";
- the requests stay within the retry policy: at most ``(retries + 1)`` attempts per call, twice
  for a refused token, per vault call of the lookup;
- each walk that failed (those carry their trace and its times) ended within its deadlines: the
  login's and the lookup's, with room for a wait behind another thread's login (a bound that
  catches a hang, not a speed figure).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.config import Config, EntryConfig
from credchain.devserver import DevServer
from credchain.devserver.datafile import Dataset, SecretSpec
from credchain.errors import CredchainError
from credchain.provider import ProviderContext
from credchain_domain_fallback import DomainFallbackProvider, DomainFallbackSettings
from credchain_thycotic import ThycoticProvider, ThycoticSettings

ASSETS = 500
RATE = 0.1
WINDOWS = 6003  # the dev server's Windows Account template: machine, username, password
#: a short read timeout, so "slower than the timeout" happens; the deadline bounds a lookup
HTTP = {"retries": 2, "read_timeout": 0.5, "deadline": 2.0, "retry_after_max": 5.0}
#: per vault call: urllib3's attempts, and twice that when the token is refused
ATTEMPTS_PER_CALL = (HTTP["retries"] + 1) * 2
CALLS_PER_LOOKUP = 1  # one search: it returns every mapped field of these secrets
SECRETS = "api/v1/secrets*"
FAULTS = {
    "reset": f"reset:{SECRETS}:rate={RATE}",
    "500": f"500:{SECRETS}:rate={RATE}",
    "503": f"503:{SECRETS}:rate={RATE},retry_after=1",
    "429 with Retry-After": f"429:{SECRETS}:rate={RATE},retry_after=1",
    "HTML 200": f"html:{SECRETS}:rate={RATE}",
    "truncated JSON": f"truncated:{SECRETS}:rate={RATE}",
    "slower than the timeout": f"slow:{SECRETS}:rate={RATE},delay=1",
    "trickle": f"trickle:{SECRETS}:rate={RATE},delay=0.05",
    "tokens revoked": f"revoke-tokens:{SECRETS}:rate={RATE}",
    "certificate swapped": f"swap-cert:{SECRETS}:rate={RATE}",
}

NAMES = [f"asset-{i:03d}.matrix.example" for i in range(ASSETS)]
#: asset -> (username, password); every password unique and random
EXPECTED = {
    name: (f"user-{i:03d}", f"pw-{i:03d}-{secrets.token_hex(6)}") for i, name in enumerate(NAMES)
}


def dataset() -> Dataset:
    return Dataset(
        secrets=[
            SecretSpec(
                id=1000 + i,
                name=name,
                template_id=WINDOWS,
                items={
                    "machine": name,
                    "username": EXPECTED[name][0],
                    "password": EXPECTED[name][1],
                },
            )
            for i, name in enumerate(NAMES)
        ]
    )


@pytest.fixture(scope="module")
def server() -> Iterator[DevServer]:
    with DevServer(data=dataset()) as running:
        yield running


def thycotic(server: DevServer, home: Path) -> ThycoticProvider:
    settings = ThycoticSettings.model_validate(server.thycotic_table(token_cache=False, **HTTP))
    return ThycoticProvider(settings, ProviderContext("thycotic", home))


def domain_fallback(server: DevServer, home: Path) -> DomainFallbackProvider:
    table = server.thycotic_table(token_cache=False, **HTTP)
    config = Config(
        path=None,
        home=home,
        chain=("windows",),
        providers={"primary": EntryConfig("primary", "thycotic", settings=table)},
    )
    settings = DomainFallbackSettings.model_validate({"connection": "primary"})
    return DomainFallbackProvider(settings, ProviderContext("windows", home, config=config))


PROVIDERS: dict[str, Callable[[DevServer, Path], object]] = {
    "thycotic": thycotic,
    "domain-fallback": domain_fallback,
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("kind", list(PROVIDERS))
def test_each_asset_gets_its_own_credential_or_its_own_clear_error(
    server: DevServer, tmp_path: Path, kind: str, fault: str
) -> None:
    server.reset()
    provider = PROVIDERS[kind](server, tmp_path)
    with Resolver([ChainEntry(kind, provider, type=kind)]) as resolver:
        server.add_fault(FAULTS[fault])
        queries = (AssetQuery(asset_name=name) for name in NAMES)
        results = list(resolver.resolve_many(queries, concurrency=16))
        server.clear_faults()

    assert sorted(r.index for r in results) == list(range(ASSETS))
    found = 0
    for result in results:
        assert result.query is not None
        name = result.query.asset_name
        assert name is not None
        if result.credential is not None:
            found += 1
            credential = result.credential
            assert (credential.username, credential.password.get_secret_value()) == EXPECTED[name]
            continue
        error = result.error
        assert isinstance(error, CredchainError), (name, error)
        message = str(error)
        assert message and "provider bug" not in message, message
        for other, (_, password) in EXPECTED.items():
            assert password not in message, (name, other)
    assert found > 0, f"{fault}: nothing resolved at a {RATE:.0%} fault rate"

    stats = server.get_stats()
    api = sum(n for route, n in stats["requests"].items() if route.startswith("GET api/v1/"))
    assert api <= ASSETS * CALLS_PER_LOOKUP * ATTEMPTS_PER_CALL

    login, lookup = HTTP["deadline"], HTTP["deadline"]
    bound_ms = (2 * login + lookup + 2.0) * 1000  # a wait behind one other login, and slack
    walks = [step.elapsed_ms for r in results if r.trace for step in r.trace.steps]
    slowest = max(walks, default=0.0)
    assert slowest <= bound_ms, f"{fault}: a walk took {slowest:.0f} ms"
