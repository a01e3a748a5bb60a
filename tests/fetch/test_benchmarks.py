"""The benchmark scripts the README quotes still run and still check their own answers.

Smoke runs only: small sizes, and nothing is asserted about time (the machines are noisy);
what is asserted is what the script computes exactly — calls against the minimum plan, the
rate-limit replies on both sides, and fetched availability against the simulated tenants' truth.
"""

from __future__ import annotations

import subprocess
import sys

import paths

ROOT = paths.ROOT


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], check=False, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _rows(out: str) -> list[dict[str, str]]:
    lines = [line for line in out.splitlines() if " | " in line]
    head = [h.strip() for h in lines[0].split(" | ")]
    return [
        dict(zip(head, (c.strip() for c in line.split(" | ")), strict=True)) for line in lines[1:]
    ]


def test_fetch_benchmark_quick_rooms() -> None:
    """Both room scenarios of ``--quick``: minimum calls, no 429, every sampled id right."""
    out = _run(
        "benchmarks/fetch.py",
        "--quick",
        "--repeats",
        "1",
        "--only",
        "dingtalk 10 rooms,feishu 10 rooms",
    )
    rows = _rows(out)
    assert [r["part"] for r in rows] == ["dingtalk 10 rooms", "feishu 10 rooms"]
    for r in rows:
        assert r["calls"] == r["min"]
        assert r["429 sim"] == r["429 cli"] == "0"
        done, total = r["check"].split("/")
        assert done == total == "10"
