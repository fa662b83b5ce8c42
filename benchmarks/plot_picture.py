"""Plots of ``benchmarks/picture.py``'s results, as PNG files for docs/performance.md.

- ``picture-rate-by-n.png``: assets/s against N for each client, at 20 ms;
- ``picture-rate-by-latency.png``: assets/s against the vault's latency, at N = 2,000;
- ``picture-requests.png``: vault requests per asset for each client (log axis), at 20 ms.

    .venv/bin/python benchmarks/plot_picture.py [--json benchmarks/results/picture.json]
        [--out docs/img]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt
from picture import CLIENTS

HERE = Path(__file__).resolve().parent


def _series(rows: list[dict[str, Any]], client: str, key: str, **where: float) -> list[Any]:
    picked = [r for r in rows if r["client"] == client and all(r[k] == v for k, v in where.items())]
    return sorted(((r[key], r) for r in picked), key=lambda point: point[0])


def _rate_plot(
    rows: list[dict[str, Any]], out: Path, x: str, xlabel: str, title: str, **where: float
) -> Path:
    """Assets/s of every client against ``x`` (log-log), the other dimension fixed by ``where``."""
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for client, (label, _) in CLIENTS.items():
        points = _series(rows, client, x, **where)
        if points:
            axes.plot(
                [v for v, _ in points], [r["assets_per_s"] for _, r in points], "o-", label=label
            )
    axes.set(xscale="log", yscale="log", xlabel=xlabel, ylabel="assets/s", title=title)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=2)
    return _save(figure, out / f"picture-rate-by-{'n' if x == 'size' else 'latency'}.png")


def rate_by_n(rows: list[dict[str, Any]], out: Path, latency: float = 20.0) -> Path:
    title = f"Assets per second against N, vault latency {latency:g} ms"
    return _rate_plot(rows, out, "size", "assets N (N secrets)", title, latency_ms=latency)


def rate_by_latency(rows: list[dict[str, Any]], out: Path, size: int = 2000) -> Path:
    title = f"Assets per second against latency, N = {size:,}"
    return _rate_plot(rows, out, "latency_ms", "vault latency per request, ms", title, size=size)


def requests_per_asset(rows: list[dict[str, Any]], out: Path, latency: float = 20.0) -> Path:
    figure, axes = plt.subplots(figsize=(7, 4.5))
    sizes = sorted({r["size"] for r in rows if r["latency_ms"] == latency})
    width = 0.8 / max(len(sizes), 1)
    labels = list(CLIENTS)
    for offset, size in enumerate(sizes):
        values = [
            next(
                (
                    r["requests_per_asset"]
                    for r in rows
                    if r["client"] == c and r["size"] == size and r["latency_ms"] == latency
                ),
                0.0,
            )
            for c in labels
        ]
        positions = [i + (offset - (len(sizes) - 1) / 2) * width for i in range(len(labels))]
        axes.bar(positions, values, width, label=f"N = {size:,}")
    axes.set_yscale("log")
    axes.set_xticks(range(len(labels)), [CLIENTS[c][0] for c in labels], rotation=25, ha="right")
    axes.tick_params(axis="x", labelsize=7)
    axes.set(ylabel="vault requests per asset", title=f"Vault requests per asset, {latency:g} ms")
    axes.grid(True, axis="y", which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return _save(figure, out / "picture-requests.png")


def _save(figure: Any, path: Path) -> Path:
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", type=Path, default=HERE / "results" / "picture.json")
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "img")
    args = parser.parse_args()
    rows = json.loads(args.json.read_text())["rows"]
    args.out.mkdir(parents=True, exist_ok=True)
    for path in (
        rate_by_n(rows, args.out),
        rate_by_latency(rows, args.out),
        requests_per_asset(rows, args.out),
    ):
        print(path)


if __name__ == "__main__":
    main()
