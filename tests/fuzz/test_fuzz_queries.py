"""Fuzzing the scanner's query: any value is an ``AssetQuery`` or a ``QueryError`` naming the key.

The same values go as JSON on stdin to ``credchain resolve --json``: exit 0 (found), 3 (not
found) or 1 (the query error), one line on stderr, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fuzz_helpers import (
    HOSTILE_JSON,
    JSON_VALUES,
    KNOWN,
    ODD_CHARACTERS,
    PLAIN_TEXT,
    TEXT,
    assert_clean_exit,
    assert_one_error_line,
    fuzz_settings,
    fuzz_timeout,
    json_text,
    spiked,
    static_chain,
)
from hypothesis import given
from hypothesis import strategies as st

from credchain.cli import main
from credchain.errors import QueryError
from credchain.models import QUERY_KEYS, AssetQuery

pytestmark = fuzz_timeout(60)

KEYS = (*QUERY_KEYS, "domain")
#: dicts of the known keys only, so the values' checks are what is exercised
QUERY_VALUES = st.one_of(PLAIN_TEXT, PLAIN_TEXT, spiked(), spiked(), TEXT, JSON_VALUES)
QUERY_DATA = st.dictionaries(st.sampled_from(KEYS), QUERY_VALUES, max_size=4)
QUERY_LIKE = st.one_of(QUERY_DATA, JSON_VALUES)


def query_or_error(data: object) -> AssetQuery | QueryError:
    try:
        return AssetQuery.from_query_data(data)  # type: ignore[arg-type]
    except QueryError as exc:
        return exc


def check_query(query: AssetQuery) -> None:
    """What an accepted query promises: trimmed text, bounded, no control character, UTF-8."""
    values = [getattr(query, key) for key in KEYS]
    assert any(getattr(query, key) for key in QUERY_KEYS)
    for value in values:
        if value is None:
            continue
        assert value and value == value.strip() and len(value) <= 1024
        assert not any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
        value.encode("utf-8")  # what a vault is asked with must be encodable


@fuzz_settings(300)
@given(QUERY_LIKE)
def test_any_value_is_a_query_or_a_query_error_naming_the_key(data: object) -> None:
    result = query_or_error(data)
    if isinstance(result, AssetQuery):
        assert isinstance(data, dict)
        check_query(result)
        assert AssetQuery.from_query_data(result.model_dump(exclude_none=True)) == result
        return
    assert str(result)
    if not isinstance(data, dict):
        assert result.key is None
    elif result.key is not None:
        assert result.key in data
        assert result.key in KEYS or "unknown query key" in str(result)


@fuzz_settings(150)
@given(
    st.dictionaries(
        st.one_of(st.integers(), st.none(), st.booleans(), st.tuples(), st.sampled_from(KEYS)),
        st.just("web-01"),
        min_size=1,
        max_size=4,
    )
)
def test_a_mapping_with_keys_that_are_not_text_is_a_query_error(data: dict[object, str]) -> None:
    # Python callers (Resolver.resolve(mapping)) can pass what JSON cannot
    result = query_or_error(data)
    if any(not isinstance(key, str) for key in data):
        assert isinstance(result, QueryError)
        assert result.key is not None and result.key in {str(key) for key in data}
    else:
        assert isinstance(result, AssetQuery) or set(data) == {"domain"}


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"asset_name": "web-\ud800"}, "asset_name"),
        ({"asset_name": "web-01", "domain": "\udfff"}, "domain"),
    ],
)
def test_a_lone_surrogate_in_a_value_is_a_query_error_naming_the_key(
    data: dict[str, str], key: str
) -> None:
    # JSON can carry "\ud800"; no vault can be asked with it (it is not UTF-8)
    with pytest.raises(QueryError) as caught:
        AssetQuery.from_query_data(data)
    assert caught.value.key == key
    assert "Unicode" in str(caught.value)


def test_keys_that_are_not_text_are_named_not_compared() -> None:
    with pytest.raises(QueryError, match="unknown query key") as caught:
        AssetQuery.from_query_data({1: "a", "b": "c"})  # type: ignore[dict-item]
    assert caught.value.key == "1"


# -- through the CLI ----------------------------------------------------------------------------

WriteConfig = Callable[[dict[str, object]], Path]


@pytest.fixture
def config(site: Path, write_config: WriteConfig) -> Path:
    return static_chain(site, write_config, "fuzz-Pw-91c3")


def resolve_json(config: Path, stdin: str) -> Result:
    # A lone surrogate cannot be UTF-8: sent as the bytes a careless encoder would write.
    data = stdin.encode("utf-8", errors="surrogatepass")
    return CliRunner().invoke(main, ["resolve", "--config", str(config), "--json"], input=data)


def expected_exit(data: object) -> int:
    query = query_or_error(data)
    if isinstance(query, QueryError):
        return 1
    return 0 if KNOWN in (query.asset_name, query.ip_address, query.cmdb_id) else 3


def check_machine_contract(result: Result) -> None:
    assert_clean_exit(result, (0, 1, 3))
    if result.exit_code == 0:
        assert set(json.loads(result.stdout)) == {"username", "password"}
        assert result.stdout.count("\n") == 1 and result.stderr == ""
    else:
        assert_one_error_line(result)


@fuzz_settings(60)
@given(st.one_of(QUERY_LIKE, st.just({"asset_name": KNOWN}), st.just({"cmdb_id": f" {KNOWN}\t"})))
def test_any_json_query_on_stdin_keeps_the_machine_contract(config: Path, data: object) -> None:
    result = resolve_json(config, json_text(data))
    check_machine_contract(result)
    assert result.exit_code == expected_exit(data), result.output


@fuzz_settings(40)
@given(st.one_of(st.text(ODD_CHARACTERS, max_size=60), HOSTILE_JSON))
def test_any_text_on_stdin_keeps_the_machine_contract(config: Path, text: str) -> None:
    result = resolve_json(config, text)
    check_machine_contract(result)


@pytest.mark.parametrize("text", ["[" * 100_000, "7" * 5_000], ids=["deep", "digits"])
def test_hostile_json_on_stdin_is_a_query_error_not_an_unexpected_one(
    config: Path, text: str
) -> None:
    result = resolve_json(config, text)
    assert result.exit_code == 1
    assert "unexpected" not in result.stderr and "not JSON" in result.stderr
