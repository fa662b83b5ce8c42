"""A long run of ``credchain agent``: memory and file descriptors after a million requests.

A chain of one trivial in-memory provider (no vault: the agent's own code is what runs), asked
by the Node.js load generator in ``--rounds`` rounds of 16 keep-alive connections, each round a
new Node process (so connections come and go). Found, not-found and bad queries are mixed.
After each round: the agent's resident memory (``VmRSS``) and open file descriptors, read from
``/proc``. Growth is measured from the end of the first round (warm: imports, caches, pools).

    .venv/bin/python benchmarks/agent_soak.py [--requests 1000000] [--rounds 10]

Exits 1 when RSS grows by 50 MB or more, or the descriptors grow at all (``tox -e soak``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
from pathlib import Path

from agent import node_load, write_home

from credchain.testing.agent import AgentProcess
from credchain.testing.distributions import write_distribution


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cc-soak-"))
    try:
        site = work / "site"
        write_distribution(
            site, "soak-static", "1", {"static": "credchain.testing.providers:StaticProvider"}
        )
        credentials = {f"host-{i}": {"username": "svc", "password": f"soak-{i}"} for i in range(64)}
        write_home(
            work / "home",
            {
                "chain": ["static"],
                "providers": {"static": {"credentials": credentials}},
                "agent": {"audit_log": "audit.log", "audit_max_bytes": 4 * 1024 * 1024},
            },
        )
        mix = [json.dumps({"asset_name": f"host-{i}"}) for i in range(64)]
        mix += [json.dumps({"asset_name": f"absent-{i}"}) for i in range(8)]
        mix += ['{"asset_name": ""}', "not json", '{"unknown": 1}']
        queries = work / "mix.jsonl"
        queries.write_text("\n".join(mix) + "\n")
        per_round = max(1, args.requests // args.rounds // len(mix))
        print(f"{per_round * len(mix) * args.rounds:,} requests in {args.rounds} rounds")
        print("| round | requests | req/s | RSS MiB | fds | statuses |")
        print("|---:|---:|---:|---:|---:|---|")
        with AgentProcess(work / "home", extra={"PYTHONPATH": str(site)}) as agent:
            pid = agent.process.pid
            first = (0, 0)
            for number in range(1, args.rounds + 1):
                result = node_load(agent.socket_path, queries, 16, per_round)
                rss, fds = rss_kib(pid), descriptors(pid)
                if number == 1:
                    first = (rss, fds)
                rate = result["requests"] / result["seconds"]
                print(
                    f"| {number} | {result['requests']:,} | {rate:,.0f} | {rss / 1024:.1f} | "
                    f"{fds} | {result['statuses']} |",
                    flush=True,
                )
        growth_mb, fd_growth = (rss - first[0]) / 1024, fds - first[1]
        print(f"RSS growth after round 1: {growth_mb:+.1f} MiB; descriptors: {fd_growth:+d}")
        if growth_mb >= 50 or fd_growth > 0:
            raise SystemExit(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
