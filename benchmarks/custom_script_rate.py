"""Resolutions per second through the custom-script provider and a trivial script.

Each resolution is a full ``Resolver.resolve``: the file check (owner, mode), a round trip to a
worker process over its pipes, the script call and the output validation. Bounded: a fixed
number of resolutions (default 5,000 from 8 threads) in a temporary home; the workers are
stopped at the end. Run: ``python benchmarks/custom_script_rate.py [--calls N] [--threads T]
[--workers W]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.provider import ProviderContext
from credchain_custom_script import CustomScriptProvider, CustomScriptSettings, script_path

SCRIPT = """\
import base64

def get_password_from_thycotic(query_data):
    password = "pw-" + query_data["asset_name"]
    return {"username": "svc", "password": base64.b64encode(password.encode()).decode()}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        path = script_path(home)
        path.parent.mkdir(parents=True, mode=0o700)
        path.write_text(SCRIPT)
        path.chmod(0o600)
        settings = CustomScriptSettings(workers=args.workers, timeout=10)
        provider = CustomScriptProvider(settings, ProviderContext(entry="script", home=home))
        with Resolver([ChainEntry("script", provider, type="custom-script")]) as resolver:
            queries = [AssetQuery(asset_name=f"asset-{n % 500}") for n in range(args.calls)]
            for query in queries[: args.workers * 20]:  # start the workers outside the clock
                resolver.resolve(query)
            latencies: list[float] = []
            lock = threading.Lock()

            def one(query: AssetQuery) -> None:
                started = time.perf_counter()
                credential = resolver.resolve(query)
                elapsed = time.perf_counter() - started
                assert credential.password.get_secret_value() == f"pw-{query.asset_name}"
                with lock:
                    latencies.append(elapsed)

            started = time.perf_counter()
            with ThreadPoolExecutor(args.threads) as pool:
                list(pool.map(one, queries))
            wall = time.perf_counter() - started

    cuts = statistics.quantiles(latencies, n=100)
    print(
        f"{args.calls} resolutions, {args.threads} threads, {args.workers} workers, "
        f"{os.cpu_count()} CPUs: {args.calls / wall:,.0f} per second; "
        f"latency p50 {cuts[49] * 1000:.2f} ms, p99 {cuts[98] * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
