"""``--repeat`` and ``--allow-conflicts`` on the command line: every format shows a series'
occurrences and conflicts, and bad values exit 2 naming the flag."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from slotfinder.cli import main

SCRIPT = Path(sys.executable).parent / "slotfinder"
BUSY = {
    "window": {"start": "2026-11-23T00:00:00-05:00", "end": "2026-12-24T00:00:00-05:00"},
    "tz": "America/New_York",
    "attendees": [
        {
            "id": "ann",
            "name": "Ann",
            "working_hours": {"mon-fri": ["09:00-11:00"]},
            "busy": [{"start": "2026-12-07T09:00:00-05:00", "end": "2026-12-07T10:00:00-05:00"}],
        },
        {"id": "bo"},
    ],
}
SERIES = ("--repeat", "FREQ=WEEKLY;COUNT=4", "--end", "2026-11-24", "--granularity", "1h")


@pytest.fixture
def busy(tmp_path: Path) -> Path:
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(BUSY), encoding="utf-8")
    return path


def slots(busy: Path, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    status = main(["slots", "--busy", str(busy), "--duration", "1h", *args], out=out)
    return status, out.getvalue()


def test_json_lists_occurrences_and_who_blocks(busy: Path) -> None:
    """Each series slot has ``conflicts`` and its ``occurrences``; the conflict names Ann."""
    status, out = slots(busy, *SERIES, "--allow-conflicts", "1", "--format", "json")
    assert status == 0
    doc: dict[str, Any] = json.loads(out)
    first, second = doc["slots"]
    assert (first["start"], first["conflicts"]) == ("2026-11-23T10:00:00-05:00", 0)
    assert [o["start"][:10] for o in first["occurrences"]] == [
        "2026-11-23",
        "2026-11-30",
        "2026-12-07",
        "2026-12-14",
    ]
    assert second["conflicts"] == 1
    bad = [o for o in second["occurrences"] if not o["passes"]]
    assert bad == [
        {
            "start": "2026-12-07T09:00:00-05:00",
            "end": "2026-12-07T10:00:00-05:00",
            "passes": False,
            "room": None,
            "blocked_by": ["ann"],
        }
    ]


def test_plain_json_has_no_series_keys(busy: Path) -> None:
    """Without --repeat the slot objects keep exactly their old keys."""
    status, out = slots(busy, "--format", "json", "--max", "1")
    assert status == 0
    assert "occurrences" not in json.loads(out)["slots"][0]


@pytest.mark.parametrize("fmt", ["table", "timeline"])
def test_text_formats_show_the_series(busy: Path, fmt: str) -> None:
    """Table and timeline name the occurrences' dates and the blocked one with its blocker."""
    status, out = slots(busy, *SERIES, "--allow-conflicts", "1", "--format", fmt)
    assert status == 0
    assert "series of 4, no conflict" in out
    assert "series of 4, 1 conflict" in out
    assert "Mon 07 Dec" in out
    assert "Mon 07 Dec 09:00–10:00 blocked by Ann (busy)" in out


def test_html_marks_conflicting_occurrences(busy: Path, tmp_path: Path) -> None:
    """The HTML report lists each occurrence, the conflicting one marked and its blocker named."""
    page = tmp_path / "r.html"
    status, _ = slots(
        busy, *SERIES, "--allow-conflicts", "1", "--format", "html", "--output", str(page)
    )
    assert status == 0
    html = page.read_text(encoding="utf-8")
    assert html.count('class="occurrence ok"') == 7
    assert html.count('class="occurrence conflict"') == 1
    assert "blocked by Ann (busy)" in html


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ([], "outside working hours"),  # Ann works 09:00-11:00; 14:00 is after
        (["--tz", "America/New_York"], "outside working hours"),
    ],
)
def test_a_conflict_says_why_each_blocker_blocks(busy: Path, extra: list[str], why: str) -> None:
    """A blocker outside their hours is not called busy: the same words as a slot's list."""
    status, out = slots(
        busy, "--repeat", "FREQ=DAILY;COUNT=2", "--start", "2026-11-27T10:00:00-05:00",
        "--end", "2026-11-27T11:00:00-05:00", "--allow-conflicts", "1", "--format", "table",
    )  # fmt: skip
    assert status == 0
    assert "Sat 28 Nov 10:00–11:00 blocked by Ann (outside working hours)" in out  # Mon-Fri


def test_a_blocker_whose_data_ends_is_unknown(tmp_path: Path) -> None:
    """Data that stops before an occurrence leaves a blocker with no event there unknown, not
    busy; an event the data does hold there still says busy."""
    doc = {**BUSY, "window": {**BUSY["window"], "end": "2026-12-01T00:00:00-05:00"}}
    path = tmp_path / "short.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    status, out = slots(
        path, "--repeat", "FREQ=WEEKLY;COUNT=3", "--end", "2026-11-24", "--granularity", "1h",
        "--allow-conflicts", "1", "--format", "table", "--max", "1",
    )  # fmt: skip
    assert status == 0
    assert "Mon 07 Dec 09:00–10:00 blocked by Ann (busy), bo (unknown)" in out


def test_no_series_fits_explains_with_alternatives(busy: Path) -> None:
    """With no conflict allowed and Ann's hours ending at 10:00 on one Monday, the explanation
    says series_conflicts and the alternatives carry their occurrences."""
    status, out = slots(
        busy, "--repeat", "FREQ=WEEKLY;COUNT=4", "--end", "2026-11-24", "--duration", "2h",
        "--format", "json",
    )  # fmt: skip
    assert status == 1
    doc = json.loads(out)
    (reason,) = doc["explanation"]["reasons"]
    assert reason["code"] == "series_conflicts"
    assert reason["names"] == ["Ann"]
    assert doc["explanation"]["alternatives"][0]["conflicts"] == 1


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTFINDER_")}
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=30, env=env, check=False
    )


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--repeat", "FREQ=HOURLY;COUNT=3"), ("--repeat", "FREQ=HOURLY", "DAILY or coarser")),
        (("--repeat", "FREQ=DAILY;BYMINUTE=5;COUNT=3"), ("--repeat", "BYMINUTE")),
        (("--repeat", "FREQ=WEEKLY"), ("--repeat", "COUNT and UNTIL")),
        (("--allow-conflicts", "2"), ("--allow-conflicts", "repeat")),
        (("--repeat", "FREQ=DAILY;COUNT=2", "--allow-conflicts", "-1"), ("--allow-conflicts",)),
        (("--allow-conflicts", "x"), ("--allow-conflicts",)),
        (("--end", "2027-01-30"), ("--end", "busy file's window")),
    ],
)
def test_bad_series_flags_exit_2_naming_the_flag(
    busy: Path, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    """Bad --repeat/--allow-conflicts values are one error line naming the flag, exit 2."""
    proc = run("slots", "--busy", str(busy), "--duration", "1h", *args)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
