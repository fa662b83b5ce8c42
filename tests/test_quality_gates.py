"""The project's own gates run with the suite: ruff, mypy --strict, import-linter, ``__all__``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import credchain
import credchain.provider

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


def test_the_core_imports_no_provider() -> None:
    # The contracts are in pyproject.toml ([tool.importlinter]).
    result = run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def _public(module: ModuleType) -> list[str]:
    """What a module defines or imports for its users: not private, not a submodule.

    ``dir()`` and ``getattr()``, not ``vars()``: ``credchain`` imports its names on first use.
    """
    names = {name: getattr(module, name) for name in dir(module)}
    return sorted(
        name
        for name, value in names.items()
        if not name.startswith("_")
        and name != "annotations"
        and (not isinstance(value, ModuleType) or name in getattr(module, "__all__", ()))
    )


@pytest.mark.parametrize("module", [credchain, credchain.provider], ids=lambda m: m.__name__)
def test_all_is_complete_and_sorted(module: ModuleType) -> None:
    assert module.__all__ == sorted(module.__all__)
    assert _public(module) == module.__all__


def test_public_names_are_exported() -> None:
    assert {"AssetQuery", "Resolver", "SafeCredential", "errors"} <= set(credchain.__all__)
    assert {"Resolution", "Trace"} <= set(credchain.__all__)


def test_error_tree_in_docstring_names_every_error() -> None:
    from credchain import errors

    for name in errors.__all__:
        assert name in (errors.__doc__ or ""), name
