"""``benchmarks/series.py`` still runs (smoke only: nothing is asserted about time)."""

from __future__ import annotations

import subprocess
import sys

import paths


def test_series_benchmark_quick_runs() -> None:
    """``--quick`` prints a row per size and order, each offering series."""
    done = subprocess.run(
        [sys.executable, "benchmarks/series.py", "--quick", "--repeats", "1"],
        check=False,
        cwd=paths.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [line.split() for line in done.stdout.splitlines() if line.lstrip()[:1].isdigit()]
    assert len(rows) == 6
    assert all(int(row[-2]) > 0 for row in rows)  # series offered
