"""The agent counts the vault's 429s by chain entry: ``credchain_vault_throttled_total``."""

from __future__ import annotations

import json

from conftest import ask, metric, started_agent

from credchain.devserver import DevServer

SEARCH = "GET api/v1/secrets"


def scrape_throttled(text: str) -> float:
    return metric(text, "credchain_vault_throttled_total", entry="vault")


def test_each_429_the_vault_answers_is_counted_for_its_entry(secret_server: DevServer) -> None:
    with started_agent(secret_server, vault={"retries": 2}) as agent:
        before = ask(agent, "GET", "/metrics").body.decode()
        secret_server.add_fault(f"429:{SEARCH}:count=2,retry_after=0")
        query = {"asset_name": "web-01.corp.example.com"}
        assert ask(agent, "POST", "/v1/resolve", json.dumps(query)).status == 200
        after = ask(agent, "GET", "/metrics").body.decode()
    assert "# TYPE credchain_vault_throttled_total counter" in after
    assert scrape_throttled(before) == 0
    assert scrape_throttled(after) == 2
