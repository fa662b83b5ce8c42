"""The resolver walks the chain in order; found ends it, None goes on, errors follow on_error."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import SecretStr

from credchain import AssetQuery, ChainEntry, Resolver, SafeCredential
from credchain.errors import (
    ChainDisabled,
    ConfigError,
    CredentialNotFound,
    PluginLoadError,
    ProviderError,
    ProviderUnavailable,
    TokenExpired,
)
from credchain.hookspecs import hookimpl
from credchain.provider import note
from credchain.testing.distributions import write_distribution
from credchain.testing.providers import FailingProvider, NotHereProvider, StaticProvider
from credchain.testing.secrets import assert_no_secrets
from credchain.tls import TLSPolicy

WEB = AssetQuery(asset_name="web-01")
PLANTED = "planted-Secret-9f2c"


def static(**credentials: dict[str, str]) -> StaticProvider:
    return StaticProvider.of(credentials)


def web_static(password: str = PLANTED) -> StaticProvider:
    return static(**{"web-01": {"username": "svc", "password": password}})


def nothere() -> NotHereProvider:
    return NotHereProvider()


def test_first_entry_that_finds_it_wins() -> None:
    resolver = Resolver(
        [
            ChainEntry("a", nothere()),
            ChainEntry("b", web_static("b-pw")),
            ChainEntry("c", web_static()),
        ]
    )
    credential = resolver.resolve(WEB)
    assert credential.password.get_secret_value() == "b-pw"
    assert credential.source == "b"


def test_chain_order_is_the_admins_not_pluggys() -> None:
    first, second = web_static("first"), web_static("second")
    resolver = Resolver([ChainEntry("one", first), ChainEntry("two", second)])
    assert resolver.resolve(WEB).password.get_secret_value() == "first"
    resolver = Resolver([ChainEntry("two", second), ChainEntry("one", first)])
    assert resolver.resolve(WEB).password.get_secret_value() == "second"


def test_not_found_carries_the_trace() -> None:
    resolver = Resolver([ChainEntry("a", nothere()), ChainEntry("b", web_static())])
    with pytest.raises(CredentialNotFound) as caught:
        resolver.resolve(AssetQuery(asset_name="db-09"))
    trace = caught.value.trace
    assert trace is not None
    assert [(s.entry, s.outcome) for s in trace.steps] == [("a", "not_found"), ("b", "not_found")]
    assert "db-09" in str(caught.value)


def test_resolve_accepts_safe_query_data() -> None:
    resolver = Resolver([ChainEntry("b", web_static())])
    assert (
        resolver.resolve({"asset_name": "web-01", "ip_address": None, "cmdb_id": None}).username
        == "svc"
    )


def test_unavailable_goes_on_by_default() -> None:
    down = FailingProvider(ProviderUnavailable("vault timed out"))
    resolver = Resolver([ChainEntry("vault", down), ChainEntry("lab", web_static())])
    assert resolver.resolve(WEB).source == "lab"
    outcomes = [(s.entry, s.outcome) for s in resolver.explain(WEB).steps]
    assert outcomes == [("vault", "unavailable"), ("lab", "found")]


def test_provider_error_stops_by_default() -> None:
    broken = FailingProvider(ProviderError("access denied to secret 12"))
    later = web_static()
    resolver = Resolver([ChainEntry("vault", broken), ChainEntry("lab", later)])
    with pytest.raises(ProviderError, match=r"^vault: access denied to secret 12") as caught:
        resolver.resolve(WEB)
    assert caught.value.trace is not None
    assert [s.entry for s in caught.value.trace.steps] == ["vault"]


@pytest.mark.parametrize(
    ("error", "on_error", "goes_on"),
    [
        (ProviderUnavailable("down"), "stop", False),
        (ProviderUnavailable("down"), "next", True),
        (ProviderError("denied"), "next", True),
        (ProviderError("denied"), "stop", False),
    ],
)
def test_on_error_policy(error: Exception, on_error: str, goes_on: bool) -> None:
    resolver = Resolver(
        [
            ChainEntry("vault", FailingProvider(error), on_error=on_error),
            ChainEntry("lab", web_static()),
        ]  # type: ignore[arg-type]
    )
    if goes_on:
        assert resolver.resolve(WEB).source == "lab"
    else:
        with pytest.raises(type(error)):
            resolver.resolve(WEB)


def test_a_failure_then_not_found_reports_the_failure_not_not_found() -> None:
    resolver = Resolver(
        [
            ChainEntry("vault", FailingProvider(ProviderUnavailable("down"))),
            ChainEntry("b", nothere()),
        ]
    )
    with pytest.raises(ProviderUnavailable, match=r"^vault: down") as caught:
        resolver.resolve(WEB)
    assert caught.value.trace is not None and len(caught.value.trace.steps) == 2


def test_a_provider_bug_is_an_error_not_a_crash() -> None:
    class Buggy:
        @hookimpl
        def credchain_lookup(self) -> None:
            raise KeyError(PLANTED)

    resolver = Resolver([ChainEntry("buggy", Buggy())])
    with pytest.raises(ProviderError, match="provider bug: unexpected KeyError") as caught:
        resolver.resolve(WEB)
    assert PLANTED not in str(caught.value)


def test_wrong_return_type_from_extract_is_an_error() -> None:
    class Wrong:
        @hookimpl
        def credchain_lookup(self) -> str:
            return "record"

        @hookimpl
        def credchain_extract_credentials(self) -> dict[str, str]:
            return {"username": "u"}

    with pytest.raises(ProviderError, match="not a SafeCredential"):
        Resolver([ChainEntry("w", Wrong())]).resolve(WEB)


class CountingVault:
    """A provider with a token that expires once, and a TLS check, counting calls."""

    def __init__(self) -> None:
        self.tls_checks = 0
        self.grants = 0
        self.lock = threading.Lock()

    @hookimpl
    def credchain_verify_tls(self) -> TLSPolicy:
        with self.lock:
            self.tls_checks += 1
        return TLSPolicy(fingerprint_sha256="ab" * 32)

    @hookimpl
    def credchain_authenticate(self, renew: bool) -> str:
        if renew or not self.grants:
            with self.lock:
                self.grants += 1
        return f"token-{self.grants}"

    @hookimpl
    def credchain_lookup(self, query: AssetQuery, auth: str) -> str:
        note(f"searched with {auth}")
        return query.label()

    @hookimpl
    def credchain_extract_credentials(self, record: str) -> SafeCredential:
        return SafeCredential(username=record, password=SecretStr(PLANTED), detail="secret 7")


def test_lookup_gets_the_token_authenticate_returned() -> None:
    vault = CountingVault()
    resolver = Resolver([ChainEntry("vault", vault)])
    reason = resolver.explain(WEB).steps[0].reason
    assert reason.startswith("secret 7") and "token-1" in reason


def test_token_expired_is_not_retried_by_the_resolver() -> None:
    # The provider's client renews a refused token once; its TokenExpired is final.
    class Refusing(CountingVault):
        @hookimpl
        def credchain_lookup(self) -> str:
            raise TokenExpired("token refused")

    vault = Refusing()
    resolver = Resolver([ChainEntry("vault", vault)])
    with pytest.raises(TokenExpired):
        resolver.resolve(WEB)
    assert vault.grants == 1


def test_verify_tls_runs_once_per_entry_across_threads() -> None:
    vault = CountingVault()
    resolver = Resolver([ChainEntry("vault", vault)])
    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda i: resolver.resolve(AssetQuery(asset_name=f"h{i}")), range(200))
        )
    assert {r.username for r in results} == {f"h{i}" for i in range(200)}
    assert vault.tls_checks == 1


def test_verify_tls_failure_is_retried_on_the_next_walk() -> None:
    class FlakyTLS:
        calls = 0

        @hookimpl
        def credchain_verify_tls(self) -> None:
            FlakyTLS.calls += 1
            if FlakyTLS.calls == 1:
                raise ProviderUnavailable("handshake timed out")

        @hookimpl
        def credchain_lookup(self) -> None:
            return None

    resolver = Resolver([ChainEntry("v", FlakyTLS())])
    with pytest.raises(ProviderUnavailable):
        resolver.resolve(WEB)
    with pytest.raises(CredentialNotFound):
        resolver.resolve(WEB)
    assert FlakyTLS.calls == 2


def test_each_entry_only_sees_its_own_hooks() -> None:
    seen: list[str] = []

    class Recorder:
        def __init__(self, name: str) -> None:
            self.name = name

        @hookimpl
        def credchain_lookup(self) -> None:
            seen.append(self.name)

    Resolver([ChainEntry("a", Recorder("a")), ChainEntry("b", Recorder("b"))]).explain(WEB)
    assert seen == ["a", "b"]


def test_cross_cutting_wrapper_sees_every_entry() -> None:
    calls: list[tuple[str, bool]] = []

    class Audit:
        @hookimpl(wrapper=True)
        def credchain_lookup(self, entry: str) -> Generator[None, object, object]:
            result = yield
            calls.append((entry, result is not None))
            return result

    Resolver(
        [ChainEntry("a", nothere()), ChainEntry("b", web_static())], plugins=[Audit()]
    ).resolve(WEB)
    assert calls == [("a", False), ("b", True)]


def test_misspelt_hook_is_refused_at_start() -> None:
    class Typo:
        @hookimpl
        def credchain_lookpu(self) -> None:
            return None

    with pytest.raises(PluginLoadError, match="credchain_lookpu"):
        Resolver([ChainEntry("t", Typo())])


def test_duplicate_entry_names_are_refused() -> None:
    with pytest.raises(ConfigError, match="unique"):
        Resolver([ChainEntry("a", nothere()), ChainEntry("a", nothere())])


def test_disabled_resolver_refuses() -> None:
    with pytest.raises(ChainDisabled, match="credchain enable"):
        Resolver([ChainEntry("a", web_static())], enabled=False).resolve(WEB)


def test_trace_times_come_from_the_injected_clock() -> None:
    ticks = iter(range(100))
    resolver = Resolver([ChainEntry("a", nothere())], clock=lambda: float(next(ticks)))
    assert resolver.explain(WEB).steps[0].elapsed_ms == 1000.0


def test_no_secret_in_traces_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    vault = CountingVault()
    resolver = Resolver([ChainEntry("vault", vault), ChainEntry("lab", web_static())])
    credential = resolver.resolve(WEB)
    shown = [
        repr(credential),
        str(credential),
        str(resolver.explain(WEB)),
        str(resolver.explain(WEB).to_dict()),
    ]
    with pytest.raises(CredentialNotFound) as caught:
        Resolver([ChainEntry("lab", web_static())]).resolve(AssetQuery(asset_name="nope"))
    shown += [str(caught.value), repr(caught.value), caplog.text]
    assert_no_secrets("\n".join(shown), [PLANTED])


# -- from_config -------------------------------------------------------------------------------


@pytest.fixture
def test_providers(site: Path) -> Path:
    write_distribution(
        site,
        "credchain-test-providers",
        "1.0",
        {
            "nothere": "credchain.testing.providers:NotHereProvider",
            "static": "credchain.testing.providers:StaticProvider",
        },
    )
    return site


def test_from_config_builds_the_chain_in_order(
    test_providers: Path, write_config: Callable[[dict[str, object]], Path]
) -> None:
    write_config(
        {
            "chain": ["empty", "lab"],
            "providers": {
                "empty": {"type": "nothere"},
                "lab": {
                    "type": "static",
                    "on_error": "next",
                    "credentials": {"web-01": {"username": "svc", "password": PLANTED}},
                },
            },
        }
    )
    with Resolver.from_config() as resolver:
        assert [(e.name, e.type, e.on_error) for e in resolver.chain] == [
            ("empty", "nothere", None),
            ("lab", "static", "next"),
        ]
        credential = resolver.resolve(WEB)
    assert (credential.source, credential.password.get_secret_value()) == ("lab", PLANTED)


def test_from_config_unknown_provider_lists_installed(
    test_providers: Path, write_config: Callable[[dict[str, object]], Path]
) -> None:
    write_config({"chain": ["nothere", "vaultx"]})
    with pytest.raises(PluginLoadError, match=r"'vaultx'.*nothere.*static"):
        Resolver.from_config()


def test_from_config_tolerant_skips_missing(
    test_providers: Path, write_config: Callable[[dict[str, object]], Path]
) -> None:
    write_config({"chain": ["vaultx", "nothere"]})
    resolver = Resolver.from_config(tolerant=True)
    assert [e.name for e in resolver.chain] == ["nothere"]
    assert [f.name for f in resolver.load_failures] == ["vaultx"]


def test_from_config_empty_chain_is_an_error(
    home: Path, write_config: Callable[[dict[str, object]], Path]
) -> None:
    write_config({"chain": []})
    with pytest.raises(ConfigError, match="chain is empty"):
        Resolver.from_config()


def test_plain_secret_in_shared_file_is_warned_about(
    test_providers: Path,
    write_config: Callable[[dict[str, object]], Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    class_path = write_config(
        {
            "chain": ["lab"],
            "providers": {
                "lab": {
                    "type": "static",
                    "credentials": {"h": {"username": "u", "password": PLANTED}},
                }
            },
        }
    )
    class_path.chmod(0o644)
    with caplog.at_level(logging.WARNING):
        Resolver.from_config()
    assert "credentials" in caplog.text and "plain text" in caplog.text
    assert PLANTED not in caplog.text
