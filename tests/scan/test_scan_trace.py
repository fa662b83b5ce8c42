"""What docs/scanner-integration.md says of traces in a scan (issue 17 item 13): every
``resolve_many`` result carries the walk's ``trace`` (found ones too, and cached ones the trace of
the walk that answered), except an input item that is no query; ``--inventory`` lines carry no
trace, exactly the documented keys."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credchain.cli import main
from credchain.devserver import DevServer, demo_password
from credchain.errors import QueryError
from credchain.resolver import Resolver
from credchain.testing.secrets import assert_no_secrets

WriteConfig = Callable[[dict[str, object]], Path]
WEB = "web-01.corp.example.com"
#: the keys of an --inventory line, as docs/scanner-integration.md lists them
DOCUMENTED = {"line", "query", "outcome", "source", "detail", "username", "cached"}


@pytest.fixture
def config(secret_server: DevServer, write_config: WriteConfig) -> Path:
    entry = {"type": "thycotic", **secret_server.thycotic_table()}
    return write_config({"chain": ["vault"], "providers": {"vault": entry}})


def test_every_result_of_a_query_carries_its_trace(config: Path, secret_server: DevServer) -> None:
    queries = [{"asset_name": WEB}, {"asset_name": "db-09"}, QueryError("line 3: not JSON")]
    with Resolver.from_config(config) as resolver:
        results = sorted(resolver.resolve_many(queries), key=lambda r: r.index)
    found, missing, bad = results
    assert found.trace is not None and found.trace.outcome == "found"
    assert [s.entry for s in found.trace.steps] == ["vault"]
    assert missing.trace is not None and missing.trace.outcome == "not_found"
    assert bad.trace is None  # no query, no walk
    text = json.dumps([r.trace.to_dict() for r in (found, missing) if r.trace is not None])
    assert_no_secrets(text, [demo_password(WEB), secret_server.admin.password])


def test_a_cached_answer_carries_the_trace_of_the_walk_that_answered(config: Path) -> None:
    with Resolver.from_config(config) as resolver:
        results = list(resolver.resolve_many([{"asset_name": WEB}] * 3, concurrency=1))
    [walked] = [r for r in results if not r.cached]  # one walk; the others its answer
    assert walked.trace is not None and walked.trace.outcome == "found"
    assert all(r.trace is walked.trace for r in results)


def test_inventory_lines_have_the_documented_keys_and_no_trace(
    config: Path, tmp_path: Path
) -> None:
    inventory = tmp_path / "inv.jsonl"
    inventory.write_text(json.dumps({"asset_name": WEB}) + "\nnot json\n")
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(inventory)]
    )
    records = {r["line"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records[1]) == DOCUMENTED
    assert set(records[2]) == DOCUMENTED | {"error"}
