"""Install a provider entry point for a test without pip: a ``.dist-info`` in a directory.

Put the directory on ``sys.path`` (or ``PYTHONPATH`` of a subprocess) and
``importlib.metadata`` sees a real installed distribution with that entry point.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["write_distribution"]


def write_distribution(
    site: Path,
    name: str,
    version: str,
    entry_points: dict[str, str],
    *,
    group: str = "credchain.providers",
) -> Path:
    """Write ``{name}-{version}.dist-info`` with ``entry_points`` (name -> "module:attr")."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{group}]", *(f"{ep} = {target}" for ep, target in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return info
