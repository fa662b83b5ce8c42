"""The project's own gates run with the suite: ruff (lint, format) and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import credchain

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_lint_is_clean() -> None:
    result = run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_clean() -> None:
    result = run(str(BIN / "ruff"), "format", "--no-cache", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.timeout(300)
def test_mypy_strict_on_core_and_plugins() -> None:
    plugins = sorted(str(p.parent.relative_to(ROOT)) for p in ROOT.glob("plugins/*/__init__.py"))
    result = run(sys.executable, "-m", "mypy", "core/credchain", *plugins)
    assert result.returncode == 0, result.stdout + result.stderr


def test_public_names_are_exported_and_sorted() -> None:
    assert credchain.__all__ == sorted(credchain.__all__)
    assert {"AssetQuery", "Resolver", "SafeCredential", "errors"} <= set(credchain.__all__)
    for name in credchain.__all__:
        assert hasattr(credchain, name)


def test_error_tree_in_docstring_names_every_error() -> None:
    from credchain import errors

    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), name
