"""The agent holds a prefetching entry's listing for the loaded configuration."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from credchain import AssetQuery
from credchain.agent.service import load_generation
from credchain.devserver import DevServer
from credchain_thycotic import ThycoticProvider

WEB = AssetQuery(asset_name="web-01.corp.example.com")


def test_a_generation_answers_from_its_listing_and_releases_it(
    secret_server: DevServer, agent_home: Path, write_agent_config: Callable[..., Path]
) -> None:
    config = write_agent_config(secret_server)
    text = config.read_text().replace('type = "thycotic"', 'type = "thycotic"\nprefetch = true')
    config.write_text(text)
    generation = load_generation(config, {}, {"CREDCHAIN_HOME": str(agent_home)})
    provider = generation.resolver.chain[0].provider
    assert isinstance(provider, ThycoticProvider)
    try:
        assert generation.scan.answer(WEB).credential is not None
        assert generation.scan.answer(AssetQuery(asset_name="nowhere")).credential is None
        counts = provider.vault_requests()
        assert counts["list"] == 1 and "search" not in counts
    finally:
        generation.close()
    assert provider._prefetch.inventory() is None
