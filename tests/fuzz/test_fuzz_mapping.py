"""Fuzzing SAFE's thycotic_mapping.json: any file is a ``Mapping`` or a ``ConfigError`` naming it.

A value that is wrong names the key too (``safeFieldName``, ``thycoticFieldName``,
``extendedFields``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fuzz_helpers import (
    HOSTILE_JSON,
    JSON_VALUES,
    PLAIN_TEXT,
    TEXT,
    fuzz_settings,
    fuzz_timeout,
    nested,
    spiked,
)
from hypothesis import given
from hypothesis import strategies as st

from credchain.errors import ConfigError
from credchain_thycotic.mapping import MAPPING_FILE, Mapping, read_mapping_file

pytestmark = fuzz_timeout(60)

KEYS = ("safeFieldName", "thycoticFieldName", "extendedFields")
FIELD_NAMES = st.one_of(st.sampled_from(["password", "Username", "Privilege Password"]), TEXT)
MAPPING_JSON = st.fixed_dictionaries(
    {},
    optional={
        "safeFieldName": st.one_of(
            st.sampled_from(["asset_name", "ip_address", "cmdb_id", "fqdn"]), JSON_VALUES
        ),
        "thycoticFieldName": st.one_of(st.sampled_from(["Secret Name", "Machine"]), JSON_VALUES),
        "extendedFields": st.one_of(st.lists(FIELD_NAMES, max_size=4), JSON_VALUES),
        "extra": JSON_VALUES,
    },
)
MAPPING_LIKE = st.one_of(MAPPING_JSON, MAPPING_JSON, JSON_VALUES)


def check(result: Mapping | ConfigError, where: str) -> None:
    if isinstance(result, Mapping):
        assert result.username_field and result.password_field and result.thycotic_field
        assert Mapping.from_safe_json(result.to_safe_json()) == result
        return
    assert result.path == where and str(result).startswith(where)
    assert result.key is None or result.key in KEYS or "unknown key" in str(result)


def from_json(data: object, where: str = MAPPING_FILE) -> Mapping | ConfigError:
    try:
        return Mapping.from_safe_json(data, where=where)
    except ConfigError as exc:
        return exc


@fuzz_settings(300)
@given(MAPPING_LIKE)
def test_any_json_value_is_a_mapping_or_a_config_error_naming_file_and_key(data: object) -> None:
    result = from_json(data)
    check(result, MAPPING_FILE)
    if isinstance(result, ConfigError) and result.key is not None:
        assert isinstance(data, dict)


def read(path: Path) -> Mapping | ConfigError:
    try:
        return read_mapping_file(path)
    except ConfigError as exc:
        return exc


@fuzz_settings(100)
@given(st.one_of(MAPPING_LIKE.map(json.dumps), HOSTILE_JSON, st.text(max_size=40)))
def test_any_file_text_is_a_mapping_or_a_config_error_naming_the_file(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / MAPPING_FILE
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    check(read(path), str(path))


@fuzz_settings(100)
@given(st.binary(max_size=100))
def test_any_file_bytes_are_a_mapping_or_a_config_error_naming_the_file(
    tmp_path: Path, data: bytes
) -> None:
    path = tmp_path / MAPPING_FILE
    path.write_bytes(data)
    result = read(path)
    if isinstance(result, ConfigError):
        assert result.path == str(path)


@fuzz_settings(50)
@given(st.one_of(PLAIN_TEXT, spiked()))
def test_any_file_name_is_read_or_a_config_error_naming_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    result = read(path)
    assert isinstance(result, ConfigError) and result.path == str(path)


@pytest.mark.parametrize(
    "text",
    [nested(5_000), '{"extendedFields": ' + nested(5_000) + "}", "9" * 5_000],
    ids=["deep", "deep-value", "digits"],
)
def test_json_the_parser_cannot_take_is_a_config_error_naming_the_file(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / MAPPING_FILE
    path.write_text(text)
    with pytest.raises(ConfigError, match="cannot read the mapping file") as caught:
        read_mapping_file(path)
    assert caught.value.path == str(path)


def test_a_file_name_with_a_nul_byte_is_a_config_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "thycotic\x00mapping.json"
    with pytest.raises(ConfigError, match="cannot read the mapping file") as caught:
        read_mapping_file(path)
    assert caught.value.path == str(path)
