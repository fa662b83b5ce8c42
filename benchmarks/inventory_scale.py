"""Peak memory and rate of ``credchain resolve --inventory`` as the inventory grows.

Starts one ``credchain dev-server`` holding N secrets, then runs ``credchain resolve
--inventory`` as its own process on inventories of increasing length (the first lines of the
same asset list) and reads that process's peak RSS from the kernel (``wait4``). Flat memory
means the peak does not grow with the inventory. Bounded: a fixed list of sizes.

    .venv/bin/python benchmarks/inventory_scale.py [--secrets 10000] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import tomli_w
from devserver_process import DevServerProcess

from credchain.devserver import thycotic_table


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--secrets", type=int, default=10_000)
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        names = [f"asset-{i:05d}.bench.example.com" for i in range(args.secrets)]
        data = {
            "admin": {"username": "admin", "password": "bench-admin-pw"},
            "secrets": [
                {"name": name, "templateId": 2, "items": {"username": "svc", "password": f"pw-{i}"}}
                for i, name in enumerate(names)
            ],
        }
        (root / "data.json").write_text(json.dumps(data))
        with DevServerProcess("--data", str(root / "data.json")) as server:
            vault = thycotic_table(
                server.info,
                password=None,
                password_env="BENCH_VAULT_PW",
                pool_size=args.concurrency,
            )
            config = {"chain": ["vault"], "providers": {"vault": {"type": "thycotic", **vault}}}
            (root / "credchain.toml").write_text(tomli_w.dumps(config))
            (root / "credchain.toml").chmod(0o600)
            env = {**os.environ, "BENCH_VAULT_PW": "bench-admin-pw", "CREDCHAIN_HOME": str(root)}
            print(f"dev server with {args.secrets} secrets; concurrency {args.concurrency}")
            print(f"{'inventory lines':>16} {'seconds':>8} {'assets/s':>9} {'peak RSS MiB':>13}")
            for size in sizes:
                inventory = root / f"inv-{size}.csv"
                with inventory.open("w", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow(["asset_name", "ip_address", "cmdb_id"])
                    for i in range(size):
                        writer.writerow([names[i % len(names)], "", ""])
                started = time.perf_counter()
                scan = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "credchain",
                        "resolve",
                        "--inventory",
                        str(inventory),
                        "--output",
                        os.devnull,
                        "--concurrency",
                        str(args.concurrency),
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                )
                _, status, usage = os.wait4(scan.pid, 0)
                elapsed = time.perf_counter() - started
                if status != 0:
                    raise SystemExit(
                        f"the scan failed: {scan.stderr.read().decode() if scan.stderr else ''}"
                    )
                peak_mib = usage.ru_maxrss / 1024  # Linux reports KiB
                print(f"{size:>16} {elapsed:>8.1f} {size / elapsed:>9.0f} {peak_mib:>13.1f}")


if __name__ == "__main__":
    main()
