"""``run_inventory --output F``: F is replaced in one step when the scan ends, never before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from credchain import AssetQuery, ChainEntry, Resolver, SafeCredential
from credchain.cli.scan import run_inventory
from credchain.hookspecs import hookimpl

OLD = b'{"line": 2, "outcome": "found"}\n'


class Interrupted(BaseException):
    """Stands for Ctrl-C or a dying process: nothing in the scan catches it."""


class PeekingProvider:
    """Finds every asset; records what the output file holds at each lookup; may interrupt."""

    def __init__(self, output: Path, interrupt_at: str | None = None) -> None:
        self.output = output
        self.interrupt_at = interrupt_at
        self.seen: list[bytes] = []

    @hookimpl
    def credchain_lookup(self, query: AssetQuery) -> str:
        self.seen.append(self.output.read_bytes())
        if query.label() == self.interrupt_at:
            raise Interrupted
        return query.label()

    @hookimpl
    def credchain_extract_credentials(self, record: str) -> SafeCredential:
        return SafeCredential(username=record, password=SecretStr("pw"))


def scan(inventory: Path, output: Path, provider: PeekingProvider) -> None:
    run_inventory(
        Resolver([ChainEntry("p", provider)]),
        inventory,
        output=output,
        show_secrets=True,
        concurrency=1,
        negative_ttl=None,
    )


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    path = tmp_path / "inv.jsonl"
    path.write_text("".join(json.dumps({"asset_name": f"h{i}"}) + "\n" for i in range(5)))
    return path


def test_the_old_output_stays_in_place_until_the_scan_finishes(
    tmp_path: Path, inventory: Path
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(OLD)
    provider = PeekingProvider(out)
    scan(inventory, out, provider)
    assert provider.seen == [OLD] * 5
    assert sorted(json.loads(line)["line"] for line in out.read_text().splitlines()) == [
        1,
        2,
        3,
        4,
        5,
    ]


def test_an_interrupted_scan_leaves_the_output_as_it_was_and_no_temporary_file(
    tmp_path: Path, inventory: Path
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(OLD)
    with pytest.raises(Interrupted):
        scan(inventory, out, PeekingProvider(out, interrupt_at="h3"))
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inv.jsonl", "out.jsonl"]
