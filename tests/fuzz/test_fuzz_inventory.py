"""Fuzzing ``credchain resolve --inventory FILE``: every line is a record, the summary is printed.

Exit 0 when the scan ran (a bad line is that line's record, counted as failed); exit 1 with one
line on stderr when the file cannot be used at all (docs/scanner-integration.md). Never a
traceback. ``tests/scan/test_inventory.py`` fuzzes ``read_inventory`` with short pieces; here
the lines are whole queries, hostile JSON among them, read by the reader and by the CLI.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from fuzz_helpers import (
    HOSTILE_JSON,
    JSON_VALUES,
    KNOWN,
    PLAIN_TEXT,
    assert_clean_exit,
    fuzz_settings,
    fuzz_timeout,
    json_text,
    nested,
    spiked,
    static_chain,
)
from hypothesis import given
from hypothesis import strategies as st

from credchain.cli import main
from credchain.errors import QueryError
from credchain.inventory import read_inventory
from credchain.models import QUERY_KEYS
from credchain.testing.secrets import assert_no_secrets

pytestmark = fuzz_timeout(90)

PLANTED = "fuzz-Inv-Pw-77e0"
KEYS = (*QUERY_KEYS, "domain")
VALUES = st.one_of(st.just(KNOWN), PLAIN_TEXT, spiked(), JSON_VALUES)
QUERY_LINES = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4).map(json_text)
JSONL_LINES = st.one_of(
    QUERY_LINES,
    QUERY_LINES,
    HOSTILE_JSON.map(lambda text: '{"asset_name": ' + text + "}"),
    HOSTILE_JSON,
    JSON_VALUES.map(json_text),
    st.text(max_size=30),
    st.just(""),
)
CSV_FIELDS = st.one_of(st.just(KNOWN), PLAIN_TEXT, spiked(), st.sampled_from(['"', '"a,b"', ""]))
CSV_LINES = st.lists(CSV_FIELDS, max_size=5).map(",".join)
CSV_HEADERS = st.one_of(
    st.just("asset_name,ip_address,cmdb_id,domain"),
    st.lists(st.sampled_from([*KEYS, "owner", " asset_name ", ""]), max_size=5).map(",".join),
    CSV_FIELDS,
)
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def inventories(draw: st.DrawFn) -> tuple[str, bytes]:
    """A file name and its bytes: JSON lines or CSV, with a BOM now and then."""
    name = draw(st.sampled_from(["inv.jsonl", "inv.csv", "inventory"]))
    csv = name == "inv.csv" or (name == "inventory" and draw(st.booleans()))
    lines = draw(st.lists(CSV_LINES if csv else JSONL_LINES, max_size=12))
    if csv:
        lines.insert(0, draw(CSV_HEADERS))
    text = draw(NEWLINES).join(lines) + draw(st.sampled_from(["", "\n"]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 5)) == 0:
        data = codecs.BOM_UTF8 + data
    if draw(st.integers(0, 5)) == 0:
        data += draw(st.binary(max_size=10))
    return name, data


def items_or_error(path: Path) -> list[tuple[int, object]] | QueryError:
    try:
        return list(read_inventory(path))
    except QueryError as exc:
        return exc


@fuzz_settings(150)
@given(inventories())
def test_any_inventory_reads_as_items_or_one_whole_file_error(
    tmp_path: Path, inventory: tuple[str, bytes]
) -> None:
    name, data = inventory
    path = tmp_path / name
    path.write_bytes(data)
    items = items_or_error(path)
    if isinstance(items, QueryError):
        assert str(items).startswith(f"{path}:1: the CSV header ")
        return
    for line, item in items:
        assert isinstance(item, dict) or str(item).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize(
    "line",
    [nested(5_000), '{"asset_name": ' + nested(5_000) + "}", '{"cmdb_id": ' + "9" * 5_000 + "}"],
    ids=["deep", "deep-value", "digits"],
)
def test_a_json_line_the_parser_cannot_take_is_that_lines_error(tmp_path: Path, line: str) -> None:
    path = tmp_path / "inv.jsonl"
    path.write_text(f'{{"asset_name": "a"}}\n{line}\n{{"asset_name": "c"}}\n')
    items = list(read_inventory(path))
    assert [number for number, _ in items] == [1, 2, 3]
    assert items[0][1] == {"asset_name": "a"} and items[2][1] == {"asset_name": "c"}
    error = items[1][1]
    assert isinstance(error, QueryError) and str(error).startswith(f"{path}:2: not JSON")


@pytest.mark.parametrize(
    "header",
    [b'"host\r\nname",owner', b"\x1b[31mhost,owner", b"host\xe2\x80\xa8name,owner"],
    ids=["quoted-newline", "terminal-escape", "line-separator"],
)
def test_a_csv_header_without_a_query_column_is_named_on_one_line_escaped(
    tmp_path: Path, header: bytes
) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes(header + b"\nweb-01,ops\n")
    with pytest.raises(QueryError, match=r"the CSV header needs one of") as caught:
        list(read_inventory(path))
    message = str(caught.value)
    assert message.isprintable(), message  # one line, nothing a terminal would act on
    assert "owner" in message


# -- through the CLI ----------------------------------------------------------------------------

WriteConfig = Callable[[dict[str, object]], Path]
SUMMARY = re.compile(
    r"^(\d+) assets in [\d.]+ s \(\d+/s\): (\d+) resolved, (\d+) not found, (\d+) failed$"
)


@pytest.fixture
def config(site: Path, write_config: WriteConfig) -> Path:
    return static_chain(site, write_config, PLANTED)


@fuzz_settings(60)
@given(inventories())
def test_any_inventory_file_gives_a_record_per_asset_and_a_summary(
    config: Path, tmp_path: Path, inventory: tuple[str, bytes]
) -> None:
    name, data = inventory
    path = tmp_path / name
    path.write_bytes(data)
    expected = items_or_error(path)
    result = CliRunner().invoke(
        main, ["resolve", "--config", str(config), "--inventory", str(path), "--concurrency", "4"]
    )
    assert_clean_exit(result, (0, 1, 8))
    assert_no_secrets(result.output, [PLANTED])
    if isinstance(expected, QueryError):
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == f"credchain: error: {expected}\n"
        return
    assert result.exit_code in (0, 8), result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(record["line"] for record in records) == [line for line, _ in expected]
    failed = sum(isinstance(item, QueryError) for _, item in expected)
    assert sum(record["outcome"] == "error" for record in records) >= failed
    # the summary, after at most one warning about keys that are no query keys
    summary = next(filter(None, map(SUMMARY.match, result.stderr.splitlines())), None)
    assert summary is not None, result.stderr
    total, resolved, not_found, failures = map(int, summary.groups())
    assert total == len(records) and resolved + not_found + failures == total
    assert result.exit_code == (8 if failures else 0)  # lines failed: exit 8
    assert resolved == sum(record["outcome"] == "found" for record in records)
