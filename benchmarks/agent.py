"""``credchain agent`` against the in-process resolver and ``credchain resolve --json`` per call.

At each dev-server latency (2 ms and 20 ms by default), in one run, on one dev server process:

- in-process ``Resolver.resolve``, sequential, and ``resolve_many(concurrency=16)``;
- the agent asked by a persistent Node.js client (``agent_load.mjs``), sequential, then 16
  concurrent keep-alive connections;
- ``credchain resolve --json`` started once per asset (a sample of ``--cli-samples`` assets).

Then the agent's own cost: a chain of one trivial in-memory provider, asked sequentially by the
Node client; its round trip against ``Resolver.resolve`` in-process on the same provider.

Vault requests per asset and grants come from the dev server's ``/_dev/stats``. Bounded: every
case resolves a fixed list, then everything stops.

    .venv/bin/python benchmarks/agent.py [--assets 1000] [--latencies 2,20] [--cli-samples 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w
from devserver_process import DevServerProcess
from scan_comparison import dataset

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import thycotic_table
from credchain.testing.agent import AgentProcess
from credchain.testing.distributions import write_distribution
from credchain.testing.providers import StaticProvider

HERE = Path(__file__).parent
LOAD = HERE / "agent_load.mjs"
NODE = shutil.which("node") or "node"


def node_load(socket: Path, queries: Path, connections: int, repeat: int = 1) -> dict[str, Any]:
    """Run the Node.js load generator; its JSON summary."""
    done = subprocess.run(
        [NODE, str(LOAD), str(socket), str(queries), str(connections), str(repeat)],
        capture_output=True,
        text=True,
        timeout=3600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    if result["failures"]:
        raise SystemExit(f"the Node client saw {result['failures']} failures")
    return result


def write_home(home: Path, document: dict[str, Any]) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)


def timed(run: Callable[[], None]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def spread(result: dict[str, Any]) -> str:
    return f"p50 {result['p50_us'] / 1000:.2f} ms, p99 {result['p99_us'] / 1000:.2f} ms"


def one_latency(latency_ms: float, assets: int, cli_samples: int, work: Path) -> list[str]:
    data = work / f"bench-{latency_ms:g}.json"
    data.write_text(json.dumps(dataset(assets)))
    names = [f"asset-{i:05d}.bench.example.com" for i in range(assets)]
    queries = work / "queries.jsonl"
    queries.write_text("".join(json.dumps({"asset_name": n}) + "\n" for n in names))
    rows: list[str] = []
    with DevServerProcess("--data", str(data), "--latency-ms", str(latency_ms)) as server:
        table = thycotic_table(server.info, pool_size=16, token_cache=False)
        home = work / f"home-{latency_ms:g}"
        agent_table = {"cache_ttl": 0.0, "audit_log": "audit.log", "threads": 16}
        write_home(
            home,
            {
                "chain": ["vault"],
                "providers": {"vault": {"type": "thycotic", **table}},
                "agent": agent_table,
            },
        )

        def report(label: str, seconds: float, count: int, extra: str = "") -> None:
            stats = server.stats()
            api = sum(n for route, n in stats["requests"].items() if "oauth2" not in route)
            grants = sum(stats["grants"].values())
            rows.append(
                f"| {latency_ms:g} ms | {label} | {count / seconds:,.0f} | "
                f"{seconds / count * 1000:.2f} | {api / count:.2f} | {grants} | {extra} |"
            )
            server.reset()

        config = str(home / "credchain.toml")
        env = {**os.environ, "CREDCHAIN_HOME": str(home)}
        asked = [AssetQuery(asset_name=n) for n in names]

        server.reset()
        with Resolver.from_config(config, environ=env) as resolver:
            resolver.resolve(asked[0])
            server.reset()
            seconds = timed(lambda: [resolver.resolve(q) for q in asked] and None)
        report("in-process `Resolver.resolve`, sequential", seconds, assets)
        with Resolver.from_config(config, environ=env) as resolver:
            resolver.resolve(asked[0])
            server.reset()
            seconds = timed(lambda: list(resolver.resolve_many(asked, concurrency=16)) and None)
        report("in-process `resolve_many(16)`", seconds, assets)

        with AgentProcess(home) as agent:
            node_load(agent.socket_path, queries, 1, 1)  # warm: a token, connections
            server.reset()
            sequential = node_load(agent.socket_path, queries, 1)
            report(
                "agent, Node.js client, sequential",
                sequential["seconds"],
                assets,
                spread(sequential),
            )
            wide = node_load(agent.socket_path, queries, 16)
            report(
                "agent, 16 Node.js connections",
                wide["seconds"],
                assets,
                spread(wide),
            )

        cli = [sys.executable, "-m", "credchain", "resolve", "--json", "--config", config]
        sample = names[:cli_samples]

        def per_call() -> None:
            for name in sample:
                subprocess.run(
                    [*cli, "--asset-name", name], env=env, capture_output=True, check=True
                )

        seconds = timed(per_call)
        report("`credchain resolve --json` per asset", seconds, len(sample))
    return rows


def overhead(calls: int, work: Path) -> list[str]:
    """The agent's cost per request, on a provider that answers from memory."""
    site = work / "site"
    write_distribution(
        site, "bench-static", "1", {"static": "credchain.testing.providers:StaticProvider"}
    )
    credentials = {"web-01": {"username": "svc", "password": "bench"}}
    home = work / "home-static"
    write_home(
        home,
        {
            "chain": ["static"],
            "providers": {"static": {"credentials": credentials}},
            "agent": {"cache_ttl": 0.0, "audit_log": "audit.log"},
        },
    )
    queries = work / "static.jsonl"
    queries.write_text(json.dumps({"asset_name": "web-01"}) + "\n")
    with AgentProcess(home, extra={"PYTHONPATH": str(site)}) as agent:
        node_load(agent.socket_path, queries, 1, 2000)
        result = node_load(agent.socket_path, queries, 1, calls)
    resolver = Resolver([ChainEntry("static", StaticProvider.of(credentials))])
    query = AssetQuery(asset_name="web-01")
    runs = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            resolver.resolve(query)
        runs.append((time.perf_counter() - started) / calls * 1e6)
    in_process = statistics.median(runs)
    return [
        f"| trivial provider | Node.js round trip to the agent, p50 | {result['p50_us']:.0f} µs |",
        f"| trivial provider | Node.js round trip to the agent, p99 | {result['p99_us']:.0f} µs |",
        f"| trivial provider | in-process `Resolver.resolve` | {in_process:.1f} µs |",
        f"| trivial provider | agent overhead (p50 - in-process) | "
        f"{result['p50_us'] - in_process:.0f} µs |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--latencies", default="2,20")
    parser.add_argument("--cli-samples", type=int, default=20)
    parser.add_argument("--overhead-calls", type=int, default=20_000)
    args = parser.parse_args()
    if not Path(NODE).is_absolute():
        raise SystemExit("benchmarks/agent.py needs Node.js (node) on the PATH")
    work = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    try:
        print(f"{args.assets} assets per case; TLS dev server; 2 cores shared by everything")
        print("| latency | client | assets/s | ms/asset | req/asset | grants | round trip |")
        print("|---|---|---:|---:|---:|---:|---|")
        for latency in (float(x) for x in args.latencies.split(",")):
            for row in one_latency(latency, args.assets, args.cli_samples, work):
                print(row, flush=True)
        print()
        print("| case | measure | value |")
        print("|---|---|---:|")
        for row in overhead(args.overhead_calls, work):
            print(row, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
