"""A scan of N assets against one dev server: credchain, python-tss-sdk and a raw client.

All three fetch the same N credentials (username and password of a secret named after the
asset) from the same ``credchain dev-server`` process, in one run:

- **python-tss-sdk**, the loop its README documents: ``search_secrets`` for the name, then
  ``get_secret`` for the fields, one asset after the other (it has no session, so no keep-alive).
- **raw requests**: a hand-written ``requests.Session`` client: one token, then one search with
  ``filter.extendedFields`` per asset; sequential, then 16 threads.
- **credchain**: ``Resolver.resolve`` in a loop, then ``resolve_many(concurrency=16)``.

For each: assets per second, vault requests per asset and token grants, read from the server's
``/_dev/stats``. Bounded: N assets per client, then everything stops.

    .venv/bin/python benchmarks/scan_comparison.py [--assets 1000] [--latency-ms 2]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
from devserver_process import DevServerProcess

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import thycotic_table
from credchain.provider import ProviderContext
from credchain_thycotic import ThycoticProvider, ThycoticSettings


def dataset(count: int) -> dict[str, Any]:
    secrets = [
        {
            "name": f"asset-{i:05d}.bench.example.com",
            "templateId": 2,
            "items": {
                "resource": f"10.9.{i // 250}.{i % 250}",
                "username": "svc",
                "password": f"pw-{i}",
            },
        }
        for i in range(count)
    ]
    return {"admin": {"username": "admin", "password": "bench-admin-pw"}, "secrets": secrets}


def tss_sdk_lookup(info: Mapping[str, Any]) -> Callable[[str], None]:
    """One asset the way python-tss-sdk's README does it: search by name, then get the secret."""
    from delinea.secrets.server import PasswordGrantAuthorizer, SecretServer

    os.environ["REQUESTS_CA_BUNDLE"] = info["ca_cert"]
    authorizer = PasswordGrantAuthorizer(info["url"], "admin", "bench-admin-pw")
    client = SecretServer(info["url"], authorizer)

    def one(name: str) -> None:
        found = json.loads(client.search_secrets(query_params={"filter.searchText": name}))
        secret = client.get_secret(found["records"][0]["id"])
        assert any(item["slug"] == "password" for item in secret["items"])

    return one


def tss_sdk(server: DevServerProcess, names: list[str]) -> Callable[[], None]:
    one = tss_sdk_lookup(server.info)

    def run() -> None:
        for name in names:
            one(name)

    return run


def raw_lookup(info: Mapping[str, Any], pool_size: int) -> Callable[[str], None]:
    """One asset by a hand-written keep-alive ``requests.Session`` (token fetched here, once):
    one search with ``filter.extendedFields``. Thread-safe up to ``pool_size`` connections."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment overrides verify
    session.verify = info["ca_cert"]
    session.mount("https://", requests.adapters.HTTPAdapter(pool_maxsize=pool_size))
    url = info["url"]
    form = {"grant_type": "password", "username": "admin", "password": "bench-admin-pw"}
    token = session.post(f"{url}/oauth2/token", data=form, timeout=30).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    def one(name: str) -> None:
        params = {
            "filter.searchText": name,
            "filter.isExactMatch": "true",
            "filter.extendedFields": ["username", "password"],
            "take": 2,
        }
        body = session.get(
            f"{url}/api/v1/secrets", params=params, headers=headers, timeout=30
        ).json()
        assert body["records"][0]["extendedFields"]

    return one


def raw_client(server: DevServerProcess, names: list[str], threads: int) -> Callable[[], None]:
    one = raw_lookup(server.info, threads)

    def run() -> None:
        if threads == 1:
            for name in names:
                one(name)
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(one, names))

    return run


def credchain_client(
    server: DevServerProcess, names: list[str], concurrency: int
) -> Callable[[], None]:
    settings = ThycoticSettings.model_validate(
        thycotic_table(server.info, pool_size=concurrency, token_cache=False)
    )
    home = Path(tempfile.mkdtemp(prefix="credchain-bench-"))
    resolver = Resolver(
        [ChainEntry("thycotic", ThycoticProvider(settings, ProviderContext("thycotic", home)))]
    )
    queries = [AssetQuery(asset_name=name) for name in names]

    def run() -> None:
        if concurrency == 1:
            for query in queries:
                resolver.resolve(query)
        else:
            for result in resolver.resolve_many(queries, concurrency=concurrency):
                assert result.credential is not None

    return run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--assets", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=2.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "bench.json"
        data.write_text(json.dumps(dataset(args.assets)))
        server = DevServerProcess("--data", str(data), "--latency-ms", str(args.latency_ms))
        names = [f"asset-{i:05d}.bench.example.com" for i in range(args.assets)]
        cases = [
            ("python-tss-sdk (documented loop)", lambda: tss_sdk(server, names)),
            ("raw requests.Session, sequential", lambda: raw_client(server, names, 1)),
            ("raw requests.Session, 16 threads", lambda: raw_client(server, names, 16)),
            ("credchain resolve, sequential", lambda: credchain_client(server, names, 1)),
            ("credchain resolve_many, 16", lambda: credchain_client(server, names, 16)),
        ]
        print(
            f"{args.assets} assets, dev server latency {args.latency_ms:g} ms, TLS, 2 cores shared"
        )
        print(f"{'client':<36} {'assets/s':>9} {'req/asset':>10} {'grants':>7}")
        try:
            for label, build in cases:
                server.reset()
                run = build()
                started = time.perf_counter()
                run()
                elapsed = time.perf_counter() - started
                stats = server.stats()
                api = sum(n for route, n in stats["requests"].items() if "oauth2" not in route)
                grants = sum(stats["grants"].values())
                rate, per_asset = args.assets / elapsed, api / args.assets
                print(f"{label:<36} {rate:>9.0f} {per_asset:>10.2f} {grants:>7}")
        finally:
            server.close()


if __name__ == "__main__":
    main()
