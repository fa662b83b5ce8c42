"""Tables for people: whatever a vault or a script returns, the terminal shows it as text."""

from __future__ import annotations

import io
import unicodedata
from contextlib import redirect_stdout
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credchain.cli import output
from credchain.cli.output import print_credential, print_table
from credchain.models import AssetQuery, SafeCredential

#: any text, lone surrogates and control characters included
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=40)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Output goes the rich way, on a terminal wide enough that no cell wraps."""
    monkeypatch.setattr(output, "stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")


def test_plain_table_escapes_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("username", "detail"), [("svc\x1b[2J", "bell\x07 del\x7f csi\x9b")])
    assert capsys.readouterr().out.splitlines()[1] == "svc\\x1b[2J\tbell\\x07 del\\x7f csi\\x9b"


def test_plain_table_escapes_tabs_and_newlines_in_cells(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(("a", "b"), [("one\ttwo", "three\nfour\r")], title="t\n")
    assert capsys.readouterr().out == "# t\\n\na\tb\none\\ttwo\tthree\\nfour\\r\n"


def test_plain_table_shows_a_lone_surrogate_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("username",), [("svc\ud800",)])
    assert capsys.readouterr().out == "username\nsvc\\ud800\n"


@pytest.mark.usefixtures("terminal")
def test_terminal_table_escapes_control_characters_and_surrogates(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(("username",), [("svc\x1b]0;owned\x07\ud800",)], title="chain\x1b[5m")
    out = capsys.readouterr().out
    assert "svc\\x1b]0;owned\\x07\\ud800" in out and "chain\\x1b[5m" in out
    assert "\x1b" not in out and "\x07" not in out


@pytest.mark.usefixtures("terminal")
def test_terminal_table_shows_rich_markup_as_text(capsys: pytest.CaptureFixture[str]) -> None:
    print_table(("username",), [("[bold]svc[/bold] [/]",)])
    assert "[bold]svc[/bold] [/]" in capsys.readouterr().out


@pytest.mark.usefixtures("terminal")
def test_credential_username_from_the_vault_is_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    credential = SafeCredential(username="svc\x1b[8m\ud800", password="p", source="thycotic")
    print_credential(credential, AssetQuery(asset_name="web-01"))
    out = capsys.readouterr().out
    assert "svc\\x1b[8m\\ud800" in out and "\x1b" not in out


def _printed(terminal: bool, title: str, rows: list[tuple[str, str]]) -> str:
    buffer = io.StringIO()
    with (
        mock.patch.object(output, "stdout_is_terminal", return_value=terminal),
        redirect_stdout(buffer),
    ):
        print_table(("a", "b"), rows, title=title)
    return buffer.getvalue()


@given(st.booleans(), ANY_TEXT, st.lists(st.tuples(ANY_TEXT, ANY_TEXT), max_size=3))
def test_printed_tables_hold_no_control_character_but_their_own_layout(
    terminal: bool, title: str, rows: list[tuple[str, str]]
) -> None:
    out = _printed(terminal, title, rows)
    out.encode("utf-8")  # no lone surrogate
    layout = "\n" if terminal else "\t\n"
    assert [c for c in out if unicodedata.category(c) == "Cc" and c not in layout] == []
    if not terminal:  # one line per row, one tab between cells
        lines = out.split("\n")[1 if title else 0 : -1]
        assert len(lines) == 1 + len(rows) and all(line.count("\t") == 1 for line in lines)
