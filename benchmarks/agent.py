"""``credchain agent`` against the in-process resolver and ``credchain resolve --json`` per call.

At each dev-server latency (2 ms and 20 ms by default), in one run, on one dev server process:

- in-process ``Resolver.resolve``, sequential, and ``resolve_many(concurrency=16)``;
- the agent asked by a persistent Node.js client (``agent_load.mjs``), sequential, then 16
  concurrent keep-alive connections;
- ``credchain resolve --json`` started once per asset (a sample of ``--cli-samples`` assets).

Each row gives the CPU time each process spent per asset (the client: this process in-process,
Node for the agent; the agent; the dev server): on 2 cores, the sum bounds the throughput of the
wide cases.

A "floor" row per latency: the same Node client against a server that does nothing but wait as
long as one in-process resolution took, then answer ``{}``. It is the cost of the hop between
two processes on this machine whatever the server does, so the best sequential ratio any agent
could reach here is in-process / floor.

Then the agent's own cost: a chain of one trivial in-memory provider, asked sequentially by the
Node client; its round trip against ``Resolver.resolve`` in-process on the same provider, and
against the floor server answering at once.

Vault requests per asset and grants come from the dev server's ``/_dev/stats``. Bounded: every
case resolves a fixed list, then everything stops.

    .venv/bin/python benchmarks/agent.py [--assets 1000] [--latencies 2,20] [--cli-samples 20]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
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


class CpuClock:
    """CPU seconds (user + system) spent by this process, its waited children and ``pids``."""

    def __init__(self, **pids: int) -> None:
        self.pids = pids
        self.started = self.read()

    def read(self) -> dict[str, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        seconds = {
            "self": own.ru_utime + own.ru_stime,
            "children": children.ru_utime + children.ru_stime,
        }
        ticks = os.sysconf("SC_CLK_TCK")
        for name, pid in self.pids.items():
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[name] = (int(fields[11]) + int(fields[12])) / ticks
        return seconds

    def spent(self) -> dict[str, float]:
        """CPU seconds since this clock was made, by process."""
        now = self.read()
        return {name: now[name] - self.started[name] for name in now}


@contextmanager
def waiting_server(path: Path, seconds: float) -> Iterator[None]:
    """A server on a Unix socket that answers every POST with ``{}`` after ``seconds``."""

    class Wait(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(seconds)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

        def address_string(self) -> str:
            return "unix"

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = True

    server = Server(str(path), Wait)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        path.unlink(missing_ok=True)


def write_home(home: Path, document: dict[str, Any]) -> None:
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = home / "credchain.toml"
    path.write_bytes(tomli_w.dumps(document).encode())
    path.chmod(0o600)


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


@dataclass
class Case:
    """One row: its runs' wall seconds, CPU seconds by process, and the client's round trips."""

    label: str
    count: int
    seconds: list[float] = field(default_factory=list)
    cpu: list[dict[str, float]] = field(default_factory=list)
    trips: list[dict[str, Any]] = field(default_factory=list)
    requests: float = 0.0
    grants: int = 0

    def row(self, latency_ms: float, extra: str = "") -> str:
        seconds = statistics.median(self.seconds)
        cpu = " + ".join(
            f"{name} {statistics.median(run[name] for run in self.cpu) / self.count * 1000:.2f}"
            for name in (self.cpu[0] if self.cpu else {})
        )
        trip = ""
        if self.trips:
            p50 = statistics.median(t["p50_us"] for t in self.trips) / 1000
            p99 = statistics.median(t["p99_us"] for t in self.trips) / 1000
            trip = f"p50 {p50:.2f} ms, p99 {p99:.2f} ms"
        return (
            f"| {latency_ms:g} ms | {self.label} | {self.count / seconds:,.0f} | "
            f"{seconds / self.count * 1000:.2f} | {self.requests:.2f} | {self.grants} | {cpu} | "
            f"{'; '.join(x for x in (trip, extra) if x)} |"
        )


def one_latency(
    latency_ms: float, assets: int, cli_samples: int, rounds: int, work: Path
) -> list[str]:
    """Every case at one latency, ``rounds`` times in turn; each row the median of its runs."""
    data = work / f"bench-{latency_ms:g}.json"
    data.write_text(json.dumps(dataset(assets)))
    names = [f"asset-{i:05d}.bench.example.com" for i in range(assets)]
    queries = work / "queries.jsonl"
    queries.write_text("".join(json.dumps({"asset_name": n}) + "\n" for n in names))
    asked = [AssetQuery(asset_name=n) for n in names]
    sample = names[:cli_samples]
    sequential = Case("in-process `Resolver.resolve`, sequential", assets)
    many = Case("in-process `resolve_many(16)`", assets)
    agent_sequential = Case("agent, Node.js client, sequential", assets)
    agent_wide = Case("agent, 16 Node.js connections", assets)
    floor = Case("floor: Node.js client, a server that only waits", assets)
    cli = Case("`credchain resolve --json` per asset", len(sample))
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
        config = str(home / "credchain.toml")
        env = {**os.environ, "CREDCHAIN_HOME": str(home)}
        vault = {"vault": server.process.pid}

        def measured(case: Case, run: Callable[[], object], client: str, **pids: int) -> None:
            """``client`` is ``self`` (this process) or ``children`` (Node, the CLI)."""
            server.reset()
            clock = CpuClock(**pids, **vault)
            case.seconds.append(timed(run))
            spent = clock.spent()
            case.cpu.append(
                {"client": spent[client]} | {name: spent[name] for name in [*pids, "vault"]}
            )
            stats = server.stats()
            api = sum(n for route, n in stats["requests"].items() if "oauth2" not in route)
            case.requests = api / case.count
            case.grants = sum(stats["grants"].values())

        def in_process(case: Case, walk: Callable[[Resolver], object]) -> None:
            with Resolver.from_config(config, environ=env) as resolver:
                resolver.resolve(asked[0])  # warm: a token, a connection
                measured(case, lambda: walk(resolver), "self")

        def through(case: Case, socket: Path, connections: int, **pids: int) -> None:
            def run() -> None:
                case.trips.append(node_load(socket, queries, connections))

            measured(case, run, "children", **pids)
            case.seconds[-1] = case.trips[-1]["seconds"]  # the client's own clock

        def per_call() -> None:
            command = [sys.executable, "-m", "credchain", "resolve", "--json", "--config", config]
            for name in sample:
                subprocess.run(
                    [*command, "--asset-name", name], env=env, capture_output=True, check=True
                )

        with AgentProcess(home) as agent:
            node_load(agent.socket_path, queries, 1, 1)  # warm: a token, connections
            pid = agent.process.pid
            for _ in range(rounds):
                in_process(sequential, lambda r: [r.resolve(q) for q in asked])
                in_process(many, lambda r: list(r.resolve_many(asked, concurrency=16)))
                through(agent_sequential, agent.socket_path, 1, agent=pid)
                through(agent_wide, agent.socket_path, 16, agent=pid)
                wait = sequential.seconds[-1] / assets
                with waiting_server(work / "floor.sock", wait):
                    through(floor, work / "floor.sock", 1)
                measured(cli, per_call, "children")
    wait_ms = statistics.median(sequential.seconds) / assets * 1000
    best = statistics.median(sequential.seconds) / statistics.median(floor.seconds)
    return [
        sequential.row(latency_ms),
        many.row(latency_ms),
        agent_sequential.row(latency_ms),
        agent_wide.row(latency_ms),
        floor.row(latency_ms, f"waits {wait_ms:.2f} ms; best sequential ratio {best:.2f}x"),
        cli.row(latency_ms),
    ]


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
        clock = CpuClock(agent=agent.process.pid)
        result = node_load(agent.socket_path, queries, 1, calls)
        agent_cpu = clock.spent()["agent"] / calls * 1e6
    with waiting_server(work / "floor.sock", 0.0):
        floor = node_load(work / "floor.sock", queries, 1, calls)
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
        f"| trivial provider | the agent's CPU per request | {agent_cpu:.0f} µs |",
        f"| floor | Node.js round trip to a server that answers at once, p50 | "
        f"{floor['p50_us']:.0f} µs |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--latencies", default="2,20")
    parser.add_argument("--cli-samples", type=int, default=20)
    parser.add_argument("--overhead-calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of every case, in turn")
    args = parser.parse_args()
    if not Path(NODE).is_absolute():
        raise SystemExit("benchmarks/agent.py needs Node.js (node) on the PATH")
    work = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    try:
        print(f"{args.assets} assets per case; TLS dev server; 2 cores shared by everything")
        print(
            "| latency | client | assets/s | ms/asset | req/asset | grants "
            "| CPU ms/asset | round trip |"
        )
        print("|---|---|---:|---:|---:|---:|---|---|")
        for latency in (float(x) for x in args.latencies.split(",")):
            for row in one_latency(latency, args.assets, args.cli_samples, args.rounds, work):
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
