"""Files the admin names: read only if regular, and only up to a cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from credchain.errors import ConfigError
from credchain.files import read_text_capped


def test_a_file_of_exactly_the_limit_is_read(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 10)
    assert read_text_capped(tmp_path / "f", 10, "the file") == "x" * 10


def test_one_byte_over_the_limit_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"x" * 11)
    with pytest.raises(ConfigError, match=r"/f: the file is larger than 10 bytes"):
        read_text_capped(tmp_path / "f", 10, "the file")


def test_newlines_are_read_as_path_read_text_reads_them(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"a\r\nb\rc\n")
    assert read_text_capped(tmp_path / "f", 100, "the file") == (tmp_path / "f").read_text()


def test_a_directory_is_not_a_regular_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a regular file"):
        read_text_capped(tmp_path, 100, "the file")
