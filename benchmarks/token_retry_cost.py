"""What one asset costs when the vault refuses the process's token, counted by the dev server.

Two cases, each after a warm-up that got the process its token:

- ``revoked once``: every token is revoked once, then the asset is resolved (it is found);
- ``revoked on every search``: the fault ``revoke-tokens:api/v1/secrets`` revokes all tokens on
  each search, so no token ever works (the lookup fails with TokenExpired).

One retry layer means 1 grant and 2 searches in both: the refused search and its one retry.
The provider's own count (``vault_requests()``) is printed beside the server's.

    python benchmarks/token_retry_cost.py
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from credchain import AssetQuery, ChainEntry, Resolver
from credchain.devserver import DevServer
from credchain.errors import CredchainError
from credchain.provider import ProviderContext
from credchain_thycotic import ThycoticProvider, ThycoticSettings

WEB = AssetQuery(asset_name="web-01.corp.example.com")


def _reported(provider: ThycoticProvider) -> object:
    counts: object = provider.vault_requests()
    return sum(counts.values()) if isinstance(counts, dict) else counts


def measure(case: str) -> None:
    with DevServer() as server, tempfile.TemporaryDirectory() as home:
        settings = ThycoticSettings.model_validate(server.thycotic_table(token_cache=False))
        provider = ThycoticProvider(settings, ProviderContext("thycotic", Path(home)))
        with Resolver([ChainEntry("thycotic", provider, type="thycotic")]) as resolver:
            resolver.resolve(WEB)
            before = _reported(provider)
            server.reset_stats()
            if case == "revoked once":
                server.revoke_tokens()
            else:
                server.add_fault("revoke-tokens:api/v1/secrets")
            try:
                resolver.resolve(WEB)
                outcome = "found"
            except CredchainError as exc:
                outcome = type(exc).__name__
            reported = _reported(provider)
        stats = server.get_stats()
    grants = sum(stats["grants"].values())
    searches = stats["requests"].get("GET api/v1/secrets", 0)
    requests = sum(stats["requests"].values())
    print(
        f"{case:<24} {outcome:<13} grants {grants}  searches {searches}  "
        f"requests {requests}  provider reported {reported - before}"  # type: ignore[operator]
    )


def main() -> None:
    print("one asset whose token the vault refuses, as the dev server counted it:")
    for case in ("revoked once", "revoked on every search"):
        measure(case)


if __name__ == "__main__":
    main()
