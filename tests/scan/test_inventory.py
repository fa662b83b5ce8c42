"""``read_inventory``: a bad line is that line's error, never the end of the scan."""

from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credchain.errors import QueryError
from credchain.inventory import FIELD_LIMIT, LINE_LIMIT, read_inventory

HEADER = b"asset_name,ip_address\n"


def read(path: Path, data: bytes) -> list[tuple[int, object]]:
    path.write_bytes(data)
    return list(read_inventory(path))


def errors(items: list[tuple[int, object]]) -> dict[int, str]:
    return {line: str(item) for line, item in items if isinstance(item, QueryError)}


def assets(items: list[tuple[int, object]]) -> dict[int, object]:
    return {line: item for line, item in items if not isinstance(item, QueryError)}


def jsonl(*names: str) -> list[bytes]:
    return [json.dumps({"asset_name": name}).encode() + b"\n" for name in names]


@pytest.mark.parametrize(
    ("bad", "detail"),
    [
        (b"\xff\xfe-01", "byte 0xff at column 1"),
        (b"web-\x80", "byte 0x80 at column 5"),
        (b"\xed\xa0\x80", "byte 0xed at column 1"),  # an encoded surrogate is not UTF-8 either
    ],
)
def test_a_csv_line_of_invalid_utf8_is_that_lines_error(
    tmp_path: Path, bad: bytes, detail: str
) -> None:
    path = tmp_path / "inv.csv"
    items = read(path, HEADER + b"a,10.0.0.1\n" + bad + b",10.0.0.2\nc,\n")
    assert errors(items) == {3: f"{path}:3: not UTF-8 text ({detail})"}
    assert assets(items) == {
        2: {"asset_name": "a", "ip_address": "10.0.0.1"},
        4: {"asset_name": "c"},
    }


def test_a_jsonl_line_of_latin1_bytes_is_that_lines_error(tmp_path: Path) -> None:
    lines = jsonl("a")
    lines.append('{"asset_name": "café-01"}\n'.encode("latin-1"))
    lines += jsonl("c")
    items = read(tmp_path / "inv.jsonl", b"".join(lines))
    assert list(errors(items)) == [2]
    assert "inv.jsonl:2: not UTF-8 text" in errors(items)[2]
    assert assets(items) == {1: {"asset_name": "a"}, 3: {"asset_name": "c"}}


def test_a_csv_line_of_latin1_bytes_is_that_lines_error(tmp_path: Path) -> None:
    data = HEADER + "café-01,10.0.0.1\n".encode("latin-1") + b"c,10.0.0.3\n"
    items = read(tmp_path / "inv.csv", data)
    assert list(errors(items)) == [2]
    assert "inv.csv:2: not UTF-8 text" in errors(items)[2]
    assert assets(items) == {3: {"asset_name": "c", "ip_address": "10.0.0.3"}}


def test_the_error_names_the_first_bad_byte_and_its_column(tmp_path: Path) -> None:
    items = read(tmp_path / "inv.csv", HEADER + "café,x\n".encode("latin-1"))
    assert errors(items)[2].endswith("inv.csv:2: not UTF-8 text (byte 0xe9 at column 4)")


def test_a_csv_field_over_the_limit_is_that_lines_error(tmp_path: Path) -> None:
    data = HEADER + b"a,\n" + b"x" * (FIELD_LIMIT + 1) + b",10.0.0.2\nc,\n"
    items = read(tmp_path / "inv.csv", data)
    assert errors(items) == {3: f"{tmp_path / 'inv.csv'}:3: a field is over 128 KiB"}
    assert assets(items) == {2: {"asset_name": "a"}, 4: {"asset_name": "c"}}


def test_a_csv_field_at_the_limit_is_read(tmp_path: Path) -> None:
    items = read(tmp_path / "inv.csv", HEADER + b"x" * FIELD_LIMIT + b",\n")
    assert assets(items) == {2: {"asset_name": "x" * FIELD_LIMIT}}


def test_a_quoted_field_over_the_limit_across_lines_is_an_error_on_the_line_it_crosses(
    tmp_path: Path,
) -> None:
    path = tmp_path / "inv.csv"
    quarter = b"y" * (FIELD_LIMIT // 4) + b"\n"  # the fourth of these takes the field over
    items = read(path, HEADER + b'"' + quarter * 5 + b'",10.0.0.2\n')
    assert errors(items)[5] == f"{path}:5: a field is over 128 KiB"


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_a_line_over_the_line_limit_is_that_lines_error(tmp_path: Path, suffix: str) -> None:
    long = b"z" * (LINE_LIMIT + 10)
    if suffix == ".csv":
        data = HEADER + b'"' + long + b'",\nc,\n'
    else:
        data = b'{"asset_name": "' + long + b'"}\n' + b"".join(jsonl("c"))
    items = read(tmp_path / f"inv{suffix}", data)
    first = 2 if suffix == ".csv" else 1
    assert errors(items) == {first: f"{tmp_path / f'inv{suffix}'}:{first}: the line is over 1 MiB"}
    assert assets(items) == {first + 1: {"asset_name": "c"}}


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_a_line_at_the_line_limit_is_read_and_so_is_the_next(
    tmp_path: Path, newline: bytes
) -> None:
    name = "z" * (LINE_LIMIT - len(b'{"asset_name": ""}'))
    data = json.dumps({"asset_name": name}).encode() + newline + b'{"asset_name": "c"}' + newline
    items = read(tmp_path / "inv.jsonl", data)
    assert items == [(1, {"asset_name": name}), (2, {"asset_name": "c"})]


def test_a_utf8_bom_is_stripped_from_a_csv_header(tmp_path: Path) -> None:
    items = read(tmp_path / "inv.csv", codecs.BOM_UTF8 + b"asset_name,ip_address\nweb,10.0.0.1\n")
    assert items == [(2, {"asset_name": "web", "ip_address": "10.0.0.1"})]


def test_a_utf8_bom_is_stripped_from_json_lines(tmp_path: Path) -> None:
    items = read(tmp_path / "inv.jsonl", codecs.BOM_UTF8 + b"".join(jsonl("web", "db")))
    assert items == [(1, {"asset_name": "web"}), (2, {"asset_name": "db"})]


def test_json_lines_behind_a_bom_are_sniffed_as_json_lines(tmp_path: Path) -> None:
    items = read(tmp_path / "inventory.txt", codecs.BOM_UTF8 + b"\n" + b"".join(jsonl("web")))
    assert items == [(2, {"asset_name": "web"})]


def test_a_csv_without_a_suffix_is_sniffed_as_csv(tmp_path: Path) -> None:
    items = read(tmp_path / "inventory", codecs.BOM_UTF8 + HEADER + b"web,\n")
    assert items == [(2, {"asset_name": "web"})]


def test_a_header_that_is_not_utf8_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes("nom_d\xe9_l'actif,ip_address\n".encode("latin-1") + b"web,\n")
    with pytest.raises(QueryError, match=r"inv\.csv:1: .*not UTF-8 text"):
        list(read_inventory(path))


def test_a_utf16_file_is_refused_as_a_whole(tmp_path: Path) -> None:
    path = tmp_path / "inv.csv"
    path.write_bytes("asset_name,ip_address\r\nweb,\r\n".encode("utf-16"))
    with pytest.raises(QueryError, match=r"inv\.csv:1: "):
        list(read_inventory(path))


@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_every_newline_convention_is_read(tmp_path: Path, newline: bytes) -> None:
    data = newline.join([b"asset_name,ip_address", b"web,10.0.0.1", b"", b"db,"]) + newline
    items = read(tmp_path / "inv.csv", data)
    assert items == [
        (2, {"asset_name": "web", "ip_address": "10.0.0.1"}),
        (4, {"asset_name": "db"}),
    ]


def test_a_quoted_newline_stays_in_its_field_and_the_record_ends_on_its_last_line(
    tmp_path: Path,
) -> None:
    items = read(tmp_path / "inv.csv", HEADER + b'"web\r\n01",10.0.0.1\r\ndb,\r\n')
    assert items == [
        (3, {"asset_name": "web\r\n01", "ip_address": "10.0.0.1"}),
        (4, {"asset_name": "db"}),
    ]


PIECES = st.sampled_from(
    [
        *(b"\n", b"\r", b"\r\n", b",", b'"', b"{", b"}", b"[1]", b":", b"\x00", b"\xe9", b"\xff"),
        *(
            codecs.BOM_UTF8,
            b"asset_name",
            b"ip_address,cmdb_id",
            b'"asset_name": "a"',
            b"caf\xc3\xa9",
        ),
    ]
)
INVENTORY = st.lists(st.one_of(PIECES, st.binary(max_size=12)), max_size=40).map(b"".join)


def outcome(path: Path) -> list[tuple[int, object]] | QueryError:
    try:
        return list(read_inventory(path))
    except QueryError as exc:  # the documented whole-file error
        return exc


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(body=INVENTORY, header=st.booleans())
@pytest.mark.parametrize("name", ["inv.csv", "inv.jsonl", "inventory"])
def test_any_bytes_give_items_or_one_whole_file_error(
    tmp_path: Path, name: str, body: bytes, header: bool
) -> None:
    path = tmp_path / name
    path.write_bytes((HEADER if header else b"") + body)
    items = outcome(path)
    if isinstance(items, QueryError):
        assert str(items).startswith(f"{path}:1: the CSV header ")
        return
    for line, item in items:
        assert type(line) is int and line >= 1
        if isinstance(item, QueryError):
            assert str(item).startswith(f"{path}:{line}: ")
        else:
            assert isinstance(item, dict)
