"""The unit-test recipe of docs/plugin-authors.md runs as written, against the example provider.

The block after ``<!-- recipe: test_envvars.py -->`` is extracted and run by pytest (pytester,
in this process) with contrib/example-provider importable and its entry point installed, as
``pip install -e .`` would leave it; the fixtures come from credchain's pytest plugin.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from credchain.testing.distributions import write_distribution

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "plugin-authors.md"
EXAMPLE_SRC = ROOT / "contrib" / "example-provider" / "src"
_RECIPE = re.compile(r"<!-- recipe: (\S+) -->\n```python\n(.*?)```", re.DOTALL)


def recipes() -> dict[str, str]:
    return dict(_RECIPE.findall(GUIDE.read_text(encoding="utf-8")))


def test_the_guide_has_the_recipe() -> None:
    assert list(recipes()) == ["test_envvars.py"]


def test_the_recipe_passes(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    write_distribution(
        site, "credchain-envvars", "0.1.0", {"envvars": "credchain_envvars:EnvVarsProvider"}
    )
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.syspath_prepend(str(site))
    for name, source in recipes().items():
        pytester.makepyfile(**{name.removesuffix(".py"): source})
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:xdist")
    result.assert_outcomes(passed=5)
