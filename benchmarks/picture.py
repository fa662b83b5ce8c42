"""The performance picture: six clients, three vault latencies, three inventory sizes.

For each latency (2, 20, 100 ms) one ``credchain dev-server`` process (TLS, ``--latency-ms``)
holds the largest inventory; for each N (500, 2,000, 10,000) an account ``scan-N`` may view
exactly the first N secrets, so a scan of N assets runs against N secrets (the account sees no
others: what prefetch lists). The clients, each case in a fresh child process so that its peak
RSS (``VmHWM``) is its own:

- **python-tss-sdk**, the loop its README documents (``scan_comparison.tss_sdk_lookup``):
  ``search_secrets`` then ``get_secret``, one asset after the other, no keep-alive.
- **raw 16**: a hand-written keep-alive ``requests.Session`` (``scan_comparison.raw_lookup``),
  one search with ``extendedFields`` per asset, 16 threads.
- **credchain sequential**: ``Resolver.resolve`` in a loop.
- **credchain fixed 16** / **adaptive**: ``resolve_many(concurrency=16)`` and
  ``resolve_many(concurrency="adaptive", max_concurrency=16)``, searching per asset.
- **credchain prefetch**: ``resolve_many(concurrency=16, prefetch=True)`` with the entry's
  ``prefetch = true``: one paged listing, then every asset answered from the index.

The sequential clients (python-tss-sdk, credchain sequential) resolve an evenly spread sample of
min(N, 300) assets: the indexed search makes their per-asset cost independent of N. The other
clients run all N. python-tss-sdk and the raw client log in as the admin, credchain as ``scan-N``;
a search by name costs the same whoever asks.

Per-asset latency is the time from the moment the client takes a query to the moment its answer
is in the caller's hands. Sequential: one call. Concurrent: from the moment the query is pulled
from the (lazy) input to the moment its result is handed back; ``resolve_many`` reads at most
2 x concurrency ahead, and the raw client is given the same window (32 in flight, collected with
``wait(FIRST_COMPLETED)`` as ``Scan.run`` does). So p50/p99 include the wait for a thread in
that window, never the whole queue. Prefetch's listing happens before the first query is pulled:
it is in the assets/s and in ``listing_s``, not in p50/p99.

Vault requests (every route but the token's) and grants are read from ``/_dev/stats``, reset
before each case. Tokens are fetched before the clock starts (python-tss-sdk's on its first
call). Results go to ``benchmarks/results/picture.json``; a markdown table is printed.

    .venv/bin/python benchmarks/picture.py [--latencies 2,20,100] [--sizes 500,2000,10000]
        [--sample 300] [--skip SIZE@LATENCY,...] [--json benchmarks/results/picture.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

from devserver_process import DevServerProcess
from scan_comparison import dataset

HERE = Path(__file__).resolve().parent
WIDTH = 16
#: label, sequential? -- in the order of the table
CLIENTS: dict[str, tuple[str, bool]] = {
    "tss-sdk": ("python-tss-sdk, documented loop", True),
    "raw-16": ("raw requests.Session, 16 threads", False),
    "sequential": ("credchain resolve, sequential", True),
    "fixed-16": ("credchain resolve_many, fixed 16", False),
    "adaptive": ("credchain resolve_many, adaptive (max 16)", False),
    "prefetch": ("credchain resolve_many, prefetch", False),
}


def name(i: int) -> str:
    return f"asset-{i:05d}.bench.example.com"


def account(size: int) -> tuple[str, str]:
    return f"scan-{size}", f"scan-{size}-pw"


def inventory(sizes: list[int]) -> dict[str, Any]:
    """``scan_comparison.dataset`` of the largest size, with an account per size that may view
    exactly the first ``size`` secrets."""
    data = dataset(max(sizes))
    data["users"] = [dict(zip(("username", "password"), account(n), strict=True)) for n in sizes]
    for i, secret in enumerate(data["secrets"]):
        secret["permissions"] = [account(n)[0] for n in sizes if i < n]
    return data


def sample(size: int, count: int) -> list[str]:
    """``count`` names spread evenly over the first ``size``."""
    count = min(size, count)
    return [name(i * size // count) for i in range(count)]


# -- one case, in a child process ----------------------------------------------------------------


def peak_rss_mib() -> float:
    """This process's peak RSS since its ``exec``: ``VmHWM``. Not ``ru_maxrss``, which Linux
    carries over ``execve`` from the forked parent (here, one holding the whole dataset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


Timed = tuple[list[float], float, float]  # per-asset latencies, seconds in all, listing seconds


def _timed_sequential(lookup: Callable[[str], None], names: list[str]) -> Timed:
    latencies = []
    begun = time.perf_counter()
    for asset in names:
        started = time.perf_counter()
        lookup(asset)
        latencies.append(time.perf_counter() - started)
    return latencies, time.perf_counter() - begun, 0.0


def _timed_window(lookup: Callable[[str], None], names: list[str]) -> Timed:
    """``lookup`` on ``WIDTH`` threads, at most 2 x ``WIDTH`` in flight, as ``Scan.run`` does."""
    latencies = []
    source = iter(names)
    begun = time.perf_counter()
    with ThreadPoolExecutor(WIDTH) as pool:
        pending: dict[Future[None], float] = {}
        while True:
            while len(pending) < 2 * WIDTH and (asset := next(source, None)) is not None:
                pending[pool.submit(lookup, asset)] = time.perf_counter()
            if not pending:
                return latencies, time.perf_counter() - begun, 0.0
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            now = time.perf_counter()
            for future in finished:
                future.result()
                latencies.append(now - pending.pop(future))


def _credchain(case: dict[str, Any], names: list[str]) -> Timed:
    from credchain import AssetQuery, ChainEntry, Resolver
    from credchain.devserver import thycotic_table
    from credchain.provider import ProviderContext
    from credchain_thycotic import ThycoticProvider, ThycoticSettings

    client = case["client"]
    username, password = account(case["size"])
    table = thycotic_table(
        case["info"],
        username=username,
        password=password,
        pool_size=WIDTH,
        token_cache=False,
        prefetch=client == "prefetch",
    )
    home = Path(tempfile.mkdtemp(prefix="credchain-picture-"))
    provider = ThycoticProvider(
        ThycoticSettings.model_validate(table), ProviderContext("vault", home)
    )
    resolver = Resolver([ChainEntry("vault", provider, type="thycotic")])
    provider.credchain_authenticate()  # the grant is not what is measured
    if client == "sequential":

        def lookup(asset: str) -> None:
            assert resolver.resolve(AssetQuery(asset_name=asset)) is not None

        return _timed_sequential(lookup, names)

    pulled: dict[int, float] = {}
    listing_done: list[float] = []

    def queries() -> Iterator[AssetQuery]:
        for index, asset in enumerate(names):
            now = time.perf_counter()
            if not listing_done:
                listing_done.append(now)
            pulled[index] = now
            yield AssetQuery(asset_name=asset)

    concurrency: Any = "adaptive" if client == "adaptive" else WIDTH
    started = time.perf_counter()
    latencies = []
    for result in resolver.resolve_many(
        queries(), concurrency=concurrency, max_concurrency=WIDTH, prefetch=client == "prefetch"
    ):
        latencies.append(time.perf_counter() - pulled.pop(result.index))
        assert result.credential is not None, result.error
    elapsed = time.perf_counter() - started
    resolver.close()
    return latencies, elapsed, listing_done[0] - started


def run_case(case: dict[str, Any]) -> dict[str, Any]:
    """One client over its assets, in this (fresh) process: timings and peak RSS."""
    client, size = case["client"], case["size"]
    names = sample(size, case["sample"]) if CLIENTS[client][1] else [name(i) for i in range(size)]
    if client == "tss-sdk":
        from scan_comparison import tss_sdk_lookup

        latencies, elapsed, listing = _timed_sequential(tss_sdk_lookup(case["info"]), names)
    elif client == "raw-16":
        from scan_comparison import raw_lookup

        latencies, elapsed, listing = _timed_window(raw_lookup(case["info"], WIDTH), names)
    else:
        latencies, elapsed, listing = _credchain(case, names)
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    return {
        "assets": len(names),
        "seconds": elapsed,
        "p50_ms": 1000 * quantiles[49],
        "p99_ms": 1000 * quantiles[98],
        "listing_s": listing,
        "rss_mib": peak_rss_mib(),
    }


# -- the matrix, in this process -----------------------------------------------------------------


def _child(case: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--case"],
        input=json.dumps(case),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"case {case['client']} N={case['size']} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def _baseline_rss() -> float:
    """Peak RSS of a child that imports what every case imports and does nothing."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import scan_comparison, credchain_thycotic, "
        "picture; print(picture.peak_rss_mib())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(HERE)], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def table(results: dict[str, Any]) -> str:
    lines = [
        "| latency | N | client | assets run | assets/s | requests/asset | grants "
        "| p50 ms | p99 ms | peak RSS MiB |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in results["rows"]:
        sampled = " (sample)" if row["assets"] < row["size"] else ""
        listing = f" (listing {row['listing_s']:.2f} s)" if row["client"] == "prefetch" else ""
        lines.append(
            f"| {row['latency_ms']:g} ms | {row['size']:,} | {CLIENTS[row['client']][0]}{listing} "
            f"| {row['assets']:,}{sampled} | {row['assets_per_s']:,.0f} "
            f"| {row['requests_per_asset']:.4g} | {row['grants']} | {row['p50_ms']:.1f} "
            f"| {row['p99_ms']:.1f} | {row['rss_mib']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--latencies", default="2,20,100")
    parser.add_argument("--sizes", default="500,2000,10000")
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--skip", default="", help="SIZE@LATENCY,... cases not to run")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "picture.json")
    parser.add_argument("--case", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.load(sys.stdin))))
        return

    latencies = [float(x) for x in args.latencies.split(",")]
    sizes = [int(x) for x in args.sizes.split(",")]
    clients = args.clients.split(",")
    skip = {tuple(float(x) for x in item.split("@")) for item in args.skip.split(",") if item}
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "load_average_start": os.getloadavg(),
        },
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "sample": args.sample,
        "width": WIDTH,
        "baseline_rss_mib": _baseline_rss(),
        "rows": [],
    }
    begun = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "picture.json"
        data.write_text(json.dumps(inventory(sizes)))
        for latency in latencies:
            flags = ("--data", str(data), "--latency-ms", f"{latency:g}")
            with DevServerProcess(*flags) as server:
                for size in sizes:
                    if (size, latency) in skip:
                        continue
                    for client in clients:
                        server.reset()
                        case = {"client": client, "size": size, "sample": args.sample}
                        row = _child({**case, "info": server.info})
                        stats = server.stats()
                        api = sum(n for r, n in stats["requests"].items() if "oauth2" not in r)
                        row.update(
                            client=client,
                            size=size,
                            latency_ms=latency,
                            assets_per_s=row["assets"] / row["seconds"],
                            requests=api,
                            requests_per_asset=api / row["assets"],
                            grants=sum(stats["grants"].values()),
                        )
                        results["rows"].append(row)
                        print(
                            f"{latency:g} ms N={size} {client}: {row['assets_per_s']:.0f}/s",
                            file=sys.stderr,
                            flush=True,
                        )
    results["machine"]["load_average_end"] = os.getloadavg()
    results["wall_s"] = time.perf_counter() - begun
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))
    print(f"\n{results['wall_s']:.0f} s in all; results in {args.json}")


if __name__ == "__main__":
    main()
