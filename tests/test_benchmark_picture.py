"""benchmarks/picture.py and plot_picture.py run end to end on a tiny matrix; no timing checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def test_the_picture_runs_every_client_and_plots_it(tmp_path: Path) -> None:
    results = tmp_path / "picture.json"
    tiny = ["--latencies", "2", "--sizes", "20", "--sample", "5", "--json", str(results)]
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "picture.py"), *tiny],
        check=True,
        capture_output=True,
        timeout=120,
    )
    rows = {row["client"]: row for row in json.loads(results.read_text())["rows"]}
    assert set(rows) == {"tss-sdk", "raw-16", "sequential", "fixed-16", "adaptive", "prefetch"}
    assert rows["tss-sdk"]["assets"] == rows["sequential"]["assets"] == 5
    assert rows["fixed-16"]["requests_per_asset"] == 1
    assert rows["prefetch"]["requests_per_asset"] < 1
    plot = ["--json", str(results), "--out", str(tmp_path)]
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "plot_picture.py"), *plot],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "picture-rate-by-n.png",
        "picture-rate-by-latency.png",
        "picture-requests.png",
    }
