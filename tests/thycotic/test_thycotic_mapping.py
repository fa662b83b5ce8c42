"""SAFE's thycotic_mapping.json: read and written faithfully; mapping_file relative to the home."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from thycotic_helpers import MakeResolver

from credchain import AssetQuery
from credchain.devserver import DevServer
from credchain.errors import ConfigError
from credchain_thycotic import ThycoticSettings
from credchain_thycotic.mapping import Mapping, read_mapping_file, write_mapping_file

SEED_EXAMPLE = (
    '{"safeFieldName": "asset_name", "thycoticFieldName": "Secret Name", '
    '"extendedFields": ["password", "username"]}\n'
)


def test_seed_example_round_trips_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "thycotic_mapping.json"
    path.write_text(SEED_EXAMPLE)
    mapping = read_mapping_file(path)
    assert mapping == Mapping()
    out = tmp_path / "out.json"
    write_mapping_file(out, mapping)
    assert out.read_text() == SEED_EXAMPLE
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_username_first_order_is_understood() -> None:
    mapping = Mapping.from_safe_json(
        {
            "safeFieldName": "ip_address",
            "thycoticFieldName": "Machine",
            "extendedFields": ["Username", "Password"],
        }
    )
    assert (mapping.username_field, mapping.password_field) == ("Username", "Password")


def test_privilege_field_is_the_third() -> None:
    mapping = Mapping.from_safe_json(
        {
            "safeFieldName": "cmdb_id",
            "thycoticFieldName": "Resource",
            "extendedFields": ["pass", "user", "Privilege Password"],
        }
    )
    assert (mapping.password_field, mapping.username_field) == ("pass", "user")
    assert mapping.privilege_password_field == "Privilege Password"


names = st.text(
    st.characters(whitelist_categories=("L", "N"), whitelist_characters=" -_"),
    min_size=1,
    max_size=20,
)


@given(
    safe=st.sampled_from(["asset_name", "ip_address", "cmdb_id"]),
    field=names,
    user=names,
    password=names,
    privilege=st.one_of(st.none(), names),
)
def test_any_mapping_round_trips(
    safe: str, field: str, user: str, password: str, privilege: str | None
) -> None:
    if {user.lower(), password.lower()} == {"username", "password"}:
        user, password = "username", "password"
    mapping = Mapping(
        safe_field=safe,
        thycotic_field=field,
        username_field=user,  # type: ignore[arg-type]
        password_field=password,
        privilege_password_field=privilege,
    )
    assert Mapping.from_safe_json(json.loads(json.dumps(mapping.to_safe_json()))) == mapping


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"safeFieldName": "hostname"}, "safeFieldName"),
        ({"thycoticFieldName": ""}, "thycoticFieldName"),
        ({"extendedFields": "password"}, "extendedFields"),
        ({"extendedFields": ["password"]}, "extendedFields"),
    ],
)
def test_bad_mapping_files_name_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Mapping.from_safe_json(data, where="m.json")
    assert caught.value.key == key and "m.json" in str(caught.value)


def test_missing_or_broken_mapping_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        read_mapping_file(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ConfigError, match="cannot read"):
        read_mapping_file(tmp_path / "bad.json")


def test_mapping_file_setting_is_relative_to_the_home(
    secret_server: DevServer, make_resolver: MakeResolver, tmp_path: Path
) -> None:
    folder = tmp_path / "integrations" / "custom" / "thycotic"
    folder.mkdir(parents=True)
    write_mapping_file(
        folder / "thycotic_mapping.json",
        Mapping(thycotic_field="Machine", username_field="Username", password_field="Password"),
    )
    resolver = make_resolver(
        secret_server,
        mapping_file="integrations/custom/thycotic/thycotic_mapping.json",
        multiple_matches="first",
    )
    assert (
        resolver.resolve(AssetQuery(asset_name="dc-01.corp.example.com")).username
        == "Administrator"
    )


@pytest.mark.timeout(10)
def test_dev_zero_as_mapping_file_is_refused(tmp_path: Path) -> None:
    settings = ThycoticSettings(
        url="https://vault.example.com", username="u", password="p", mapping_file="/dev/zero"
    )
    with pytest.raises(ConfigError, match="not a regular file") as caught:
        settings.resolved_mapping(tmp_path)
    assert "/dev/zero" in str(caught.value)


@pytest.mark.timeout(10)
def test_fifo_as_mapping_file_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "thycotic_mapping.json")
    with pytest.raises(ConfigError, match="not a regular file"):
        read_mapping_file(tmp_path / "thycotic_mapping.json")


def test_mapping_file_larger_than_64_kib_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "thycotic_mapping.json"
    path.write_text(SEED_EXAMPLE + " " * 64 * 1024)
    with pytest.raises(ConfigError, match="larger than 64 KiB") as caught:
        read_mapping_file(path)
    assert str(path) in str(caught.value)
