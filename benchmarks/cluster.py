"""Four scanner nodes, one vault: ``[cache] backend = "memory"`` against ``"redis"``.

One dev server (``--latency-ms``, 20 by default) holds an inventory of ``--assets`` secrets
(2,000); every node resolves all of them, at the same time:

- **4 processes**: ``resolve_many(concurrency=16)`` each (``credchain.testing.cluster``),
  released together once all four have loaded their config;
- **4 agents**: ``credchain agent`` each, asked by its own Node.js client over 16 keep-alive
  connections (``agent_load.mjs``), all four clients started together.

Each node has its own home (as separate hosts would) holding the same ``secret.key``. For each
backend: total token grants, total vault API requests (and per distinct asset) from the dev
server's ``/_dev/stats``, failed assets, and the wall time until the last node finished. The
Redis is a real ``redis-server`` on loopback (``credchain.testing.redis``). Bounded: each case
resolves the fixed inventory once per node, then everything stops.

    .venv/bin/python benchmarks/cluster.py [--assets 2000] [--latency-ms 20] [--nodes 4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from agent import node_load, write_home
from devserver_process import DevServerProcess
from scan_comparison import dataset

from credchain.devserver import thycotic_table
from credchain.secretstore import SecretStore
from credchain.testing.agent import AgentProcess
from credchain.testing.cluster import ScanNode
from credchain.testing.redis import RedisServer


def homes(work: Path, nodes: int, document: dict[str, Any]) -> list[Path]:
    made = []
    for index in range(nodes):
        home = work / f"node-{index}"
        write_home(home, document)
        if index == 0:
            SecretStore(home).encrypt("make the key")
        else:
            shutil.copy(work / "node-0" / "secret.key", home / "secret.key")
        made.append(home)
    return made


def processes(nodes: list[Path], queries: Path) -> tuple[float, int]:
    started = [ScanNode(home, queries, concurrency=16) for home in nodes]
    clock = time.perf_counter()
    for node in started:
        node.go()
    results = [node.result() for node in started]
    return time.perf_counter() - clock, sum(r["failed"] + r["not_found"] for r in results)


def agents(nodes: list[Path], queries: Path) -> tuple[float, int]:
    running = [AgentProcess(home) for home in nodes]
    try:
        results: list[dict[str, Any]] = [{} for _ in running]
        gate = threading.Barrier(len(running))

        def load(index: int) -> None:
            gate.wait()
            results[index] = node_load(running[index].socket_path, queries, 16)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(len(running))]
        clock = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - clock, sum(r.get("failures", 0) for r in results)
    finally:
        for agent in running:
            agent.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--nodes", type=int, default=4)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="credchain-cluster-") as scratch:
        work = Path(scratch)
        data = work / "inventory.json"
        data.write_text(json.dumps(dataset(args.assets)))
        queries = work / "queries.jsonl"
        queries.write_text(
            "".join(
                json.dumps({"asset_name": f"asset-{i:05d}.bench.example.com"}) + "\n"
                for i in range(args.assets)
            )
        )
        flags = ("--data", str(data), "--latency-ms", str(args.latency_ms))
        with DevServerProcess(*flags) as server, RedisServer() as redis_server:
            table = thycotic_table(server.info, pool_size=16)
            for backend in ("memory", "redis"):
                cache: dict[str, Any] = {"backend": backend}
                if backend == "redis":
                    cache["url"] = redis_server.url
                for mode, run in (("processes", processes), ("agents", agents)):
                    case = work / f"{backend}-{mode}"
                    document = {
                        "chain": ["vault"],
                        "providers": {"vault": {"type": "thycotic", **table}},
                        "cache": cache,
                        "agent": {"audit_log": "audit.log", "threads": 16},
                    }
                    nodes = homes(case, args.nodes, document)
                    redis_server.stop()
                    redis_server.start()  # empty for each case
                    server.reset()
                    seconds, failed = run(nodes, queries)
                    stats = server.stats()
                    api = sum(n for route, n in stats["requests"].items() if "oauth2" not in route)
                    grants = sum(stats["grants"].values())
                    rows.append(
                        f"| {args.nodes} {mode} | {backend} | {grants} | {api:,} | "
                        f"{api / args.assets:.3f} | {failed} | {seconds:.1f} s |"
                    )
                    print(rows[-1], flush=True)
    print()
    print(
        f"{args.assets:,} assets, {args.latency_ms:g} ms dev-server latency, "
        f"{args.nodes} nodes each resolving all of them"
    )
    print()
    print("| nodes | backend | token grants | vault requests | per asset | failed | wall |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
