"""A scan against a vault that throttles, and one that does not: adaptive width beside fixed 16.

One ``credchain dev-server`` process per case group (TLS, ``--latency-ms``, N secrets), read by
``Resolver.resolve_many`` in this process:

- **rate-limited** (``--rate-limit R``, a token bucket per account answering 429 with
  ``Retry-After``): N assets with ``concurrency="adaptive"`` and with a fixed 16. Wall time
  against the floor N/R, the share of the server's API requests it answered 429, the assets that
  failed, and the width the adaptive scan chose. Target: at most 1.15 x N/R, no failure, at most
  5 % answered 429.
- **no limit**: the same N assets, adaptive and fixed 16, each ``--runs`` times (best and
  median assets/s). Target: adaptive reaches the throughput of fixed 16.

Counts come from the server's ``/_dev/stats``. Bounded: a fixed number of scans, then it stops.

    .venv/bin/python benchmarks/rate_limit.py [--assets 2000] [--rate 100] [--latency-ms 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from devserver_process import DevServerProcess

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import thycotic_table
from credchain.provider import ProviderContext
from credchain.scan import Concurrency, Scan
from credchain_thycotic import ThycoticProvider, ThycoticSettings


def dataset(count: int) -> dict[str, Any]:
    secrets = [
        {
            "name": f"asset-{i:05d}.bench.example.com",
            "templateId": 2,
            "items": {"username": "svc", "password": f"pw-{i}"},
        }
        for i in range(count)
    ]
    return {"admin": {"username": "admin", "password": "bench-admin-pw"}, "secrets": secrets}


def scan(server: DevServerProcess, count: int, concurrency: Concurrency) -> dict[str, Any]:
    """One scan of ``count`` assets through a fresh one-entry chain; what it cost the server."""
    requests.post(f"{server.origin}/_dev/reset", verify=server.info["ca_cert"], timeout=10)
    settings = ThycoticSettings.model_validate(
        thycotic_table(server.info, pool_size=16, token_cache=False)
    )
    home = Path(tempfile.mkdtemp(prefix="credchain-bench-"))
    provider = ThycoticProvider(settings, ProviderContext("vault", home))
    resolver = Resolver([ChainEntry("vault", provider)])
    queries = [AssetQuery(asset_name=f"asset-{i:05d}.bench.example.com") for i in range(count)]
    widths: list[int] = []
    the_scan = resolver.scan(concurrency=concurrency, max_concurrency=16)

    def sample(done: int, _: object) -> None:
        widths.append(the_scan.width.width if the_scan.width is not None else 16)

    started = time.perf_counter()
    failed = sum(r.credential is None for r in resolver.run_scan(the_scan, queries, sample))
    elapsed = time.perf_counter() - started
    resolver.close()
    stats = server.stats()
    api = sum(n for route, n in stats["requests"].items() if "oauth2" not in route)
    throttled = sum(stats["throttled"].values())
    return {
        "seconds": elapsed,
        "assets_per_s": count / elapsed,
        "failed": failed,
        "requests": api,
        "throttled": throttled,
        "share_429": throttled / api if api else 0.0,
        "seen_429": sum(the_scan.congestion.answers(429).values()),
        "width_mean": statistics.fmean(widths) if widths else 0.0,
        "width_peak": _peak(the_scan),
    }


def _peak(the_scan: Scan) -> int:
    return the_scan.width.peak if the_scan.width is not None else the_scan.concurrency


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    results: dict[str, Any] = {"assets": args.assets, "rate": args.rate}
    results["latency_ms"] = args.latency_ms

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench.json"
        data.write_text(json.dumps(dataset(args.assets)))
        base = ("--data", str(data), "--latency-ms", str(args.latency_ms))
        floor = args.assets / args.rate
        print(
            f"{args.assets} assets at a {args.rate:g} req/s limit, latency {args.latency_ms:g} ms"
            f" (floor {floor:.1f} s, target <= {1.15 * floor:.1f} s, <= 5 % 429, 0 failed)"
        )
        print(
            f"{'scan':<14} {'seconds':>8} {'x floor':>8} {'failed':>7} {'requests':>9} "
            f"{'429s':>6} {'429 %':>6} {'width mean':>11} {'peak':>5}"
        )
        with DevServerProcess(*base, "--rate-limit", str(args.rate)) as server:
            limited: tuple[tuple[str, Concurrency], ...] = (
                ("adaptive", "adaptive"),
                ("fixed 16", 16),
            )
            for label, concurrency in limited:
                row = scan(server, args.assets, concurrency)
                results[f"limited {label}"] = row
                print(
                    f"{label:<14} {row['seconds']:>8.2f} {row['seconds'] / floor:>8.2f} "
                    f"{row['failed']:>7} {row['requests']:>9} {row['throttled']:>6} "
                    f"{100 * row['share_429']:>5.1f}% {row['width_mean']:>11.1f} "
                    f"{row['width_peak']:>5}"
                )
        print(f"\nno limit, {args.runs} runs each, alternating: assets/s (best, median), width")
        with DevServerProcess(*base) as server:
            cases: tuple[tuple[str, Concurrency], ...] = (
                ("adaptive", "adaptive"),
                ("fixed 16", 16),
            )
            rows: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in cases}
            for _ in range(args.runs):  # alternating: a load that drifts touches both alike
                for label, concurrency in cases:
                    rows[label].append(scan(server, args.assets, concurrency))
            for label, _ in cases:
                rates = [row["assets_per_s"] for row in rows[label]]
                results[f"unlimited {label}"] = rows[label]
                print(
                    f"{label:<14} best {max(rates):>6.0f}  median {statistics.median(rates):>6.0f}"
                    f"  width {statistics.fmean(r['width_mean'] for r in rows[label]):>5.1f}"
                    f"  failed {sum(r['failed'] for r in rows[label])}"
                )
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
