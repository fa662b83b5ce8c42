"""Overhead of ``Resolver.resolve`` through trivial in-memory providers, in microseconds.

Compares: calling the provider's hooks by hand (the floor), one chain entry, and a chain whose
first two entries answer "not here". Bounded: a fixed number of calls; nothing touches the
network. Run: ``python benchmarks/resolve_overhead.py [--calls N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.testing.providers import NotHereProvider, StaticProvider

QUERY = AssetQuery(asset_name="web-01")


def per_call_us(func: Callable[[], object], calls: int, repeats: int = 5) -> tuple[float, float]:
    """(best, median) microseconds per call over ``repeats`` runs of ``calls`` calls."""
    for _ in range(min(calls, 1000)):
        func()
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(calls):
            func()
        runs.append((time.perf_counter() - started) / calls * 1e6)
    return min(runs), statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()

    static = StaticProvider.of({"web-01": {"username": "svc", "password": "bench"}})

    def by_hand() -> object:
        record = static.credchain_lookup(QUERY)
        assert record is not None
        return static.credchain_extract_credentials(record)

    one = Resolver([ChainEntry("static", static)])
    three = Resolver(
        [
            ChainEntry("a", NotHereProvider()),
            ChainEntry("b", NotHereProvider()),
            ChainEntry("static", StaticProvider.of({"web-01": {"username": "s", "password": "b"}})),
        ]
    )
    rows = [
        ("hooks called by hand (floor)", per_call_us(by_hand, args.calls)),
        ("resolve, 1-entry chain", per_call_us(lambda: one.resolve(QUERY), args.calls)),
        ("resolve, 3-entry chain (2 miss)", per_call_us(lambda: three.resolve(QUERY), args.calls)),
        ("explain, 3-entry chain", per_call_us(lambda: three.explain(QUERY), args.calls)),
    ]
    print(f"{'case':<34} {'best µs':>9} {'median µs':>10}   ({args.calls} calls x 5)")
    for name, (best, median) in rows:
        print(f"{name:<34} {best:>9.1f} {median:>10.1f}")


if __name__ == "__main__":
    main()
