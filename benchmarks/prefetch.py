"""Inventory prefetch against per-asset search: assets/s and vault requests per asset.

Starts one ``credchain dev-server`` (its own process) holding N secrets with the given added
latency, then resolves N assets (one per secret) with ``Resolver.resolve_many`` at the same
concurrency, twice on the same inventory: a thycotic entry searching per asset, and one with
``prefetch = true``. Each mode has its own resolver and a token before the clock starts; the
prefetch mode's time includes its listing. Vault requests are what the server counted. The
answers of both modes are compared. Bounded: two scans of N assets.

    .venv/bin/python benchmarks/prefetch.py [--secrets 10000] [--latency-ms 20]
        [--concurrency 16] [--restricted-every 0]

``--restricted-every K`` makes every K-th secret need a comment (read one by one either way).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from devserver_process import DevServerProcess

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import thycotic_table
from credchain.provider import ProviderContext
from credchain_thycotic import ThycoticProvider, ThycoticSettings


def _dataset(count: int, restricted_every: int) -> dict[str, Any]:
    secrets = []
    for i in range(count):
        secret: dict[str, Any] = {
            "name": f"asset-{i:05d}.bench.example.com",
            "templateId": 2,
            "items": {"username": f"svc-{i}", "password": f"pw-{i}"},
        }
        if restricted_every and i % restricted_every == 0:
            secret["requiresComment"] = True
        secrets.append(secret)
    return {"admin": {"username": "admin", "password": "bench-admin-pw"}, "secrets": secrets}


def _scan(
    server: DevServerProcess, home: Path, queries: list[AssetQuery], concurrency: int, **extra: Any
) -> tuple[float, int, dict[int, Any]]:
    table = thycotic_table(
        server.info, pool_size=concurrency, token_cache=False, comment="bench", **extra
    )
    provider = ThycoticProvider(
        ThycoticSettings.model_validate(table),
        ProviderContext("prefetch" if extra.get("prefetch") else "search", home),
    )
    with Resolver([ChainEntry("vault", provider, type="thycotic")]) as resolver:
        provider.credchain_authenticate()  # the grant is not what is measured
        server.reset()
        started = time.perf_counter()
        answers = {
            r.index: (r.outcome, r.credential.to_safe_dict() if r.credential else None)
            for r in resolver.resolve_many(queries, concurrency=concurrency)
        }
        elapsed = time.perf_counter() - started
    served = sum(server.stats()["requests"].values())
    return elapsed, served, answers


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--secrets", type=int, default=10_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--restricted-every", type=int, default=0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "data.json"
        data.write_text(json.dumps(_dataset(args.secrets, args.restricted_every)))
        queries = [
            AssetQuery(asset_name=f"asset-{i:05d}.bench.example.com") for i in range(args.secrets)
        ]
        flags = ("--data", str(data), "--latency-ms", str(args.latency_ms))
        with DevServerProcess(*flags) as server:
            print(
                f"{args.secrets} assets, {args.secrets} secrets, {args.latency_ms:g} ms latency, "
                f"concurrency {args.concurrency}"
            )
            print(f"{'mode':>18} {'seconds':>8} {'assets/s':>9} {'requests':>9} {'req/asset':>10}")
            results = {}
            for mode, extra in (("per-asset search", {}), ("prefetch", {"prefetch": True})):
                elapsed, served, answers = _scan(server, root, queries, args.concurrency, **extra)
                results[mode] = (elapsed, answers)
                rate = len(queries) / elapsed
                print(
                    f"{mode:>18} {elapsed:>8.2f} {rate:>9.0f} {served:>9} "
                    f"{served / len(queries):>10.4f}"
                )
        (search_s, search_answers), (prefetch_s, prefetch_answers) = results.values()
        same = search_answers == prefetch_answers
        print(f"speed-up {search_s / prefetch_s:.1f}x; answers identical: {same}")
        if not same:
            raise SystemExit("the two modes answered differently")


if __name__ == "__main__":
    main()
