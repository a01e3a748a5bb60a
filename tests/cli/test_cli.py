"""The ``slotfinder`` command as people use it: formats, exit statuses, errors, live runs.

Offline commands run as a real subprocess of the installed console script, so what is pinned
is exactly what a user sees (exit status, one error line, no traceback). Live ``suggest`` runs
in-process (``slotfinder.cli.main`` in a worker thread) against both simulators on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import attrs
import paths
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slotfinder_dingtalk.simulator import STATS as DINGTALK_STATS
from slotfinder_feishu.simulator import STATS as FEISHU_STATS

from slotfinder.cli import EXIT_CODES, main, parse_duration
from slotfinder.errors import InputError
from slotfinder.testing import get_simulators, simkit
from slotfinder.testing.simulation import DemoTenant

pytestmark = pytest.mark.timeout(60)

ROOT = paths.ROOT
BUSY = ROOT / "examples" / "busy.json"
SCRIPT = Path(sys.executable).parent / "slotfinder"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
SLOT_KEYS = {
    "start", "end", "score", "available_count", "tentative", "unavailable", "unknown", "room"
}  # fmt: skip
NAMED_KEYS = {"room_name", "people"}  # names and states after the design's keys
WINDOW = ("--start", "2026-11-23T00:00:00+08:00", "--end", "2026-11-28T00:00:00+08:00")
ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slotfinder tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:standup@test\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261123T020000Z\r\nDTEND:20261123T030000Z\r\nSUMMARY:standup\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


def run(
    *args: str, cwd: Path | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """The console script as a subprocess, with no SLOTFINDER_* settings inherited."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTFINDER_")}
    return subprocess.run(
        [str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        env=env,
        check=False,
    )


def run_here(*args: str) -> tuple[int, str]:
    """main() in this process: the exit status and stdout (stderr is left to capsys)."""
    out = io.StringIO()
    return main(list(args), out=out), out.getvalue()


def slots_json(*extra: str) -> dict[str, Any]:
    status, out = run_here(
        "slots", "--busy", str(BUSY), "--duration", "45m", "--format", "json", *extra
    )
    assert status == 0, out
    doc: dict[str, Any] = json.loads(out)
    return doc


def one_error_line(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    """Exit 2, one ``slotfinder: error:`` line on stderr naming every needle, no traceback."""
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("slotfinder: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- slots: formats ------------------------------------------------------------------------------


def test_console_script_is_installed() -> None:
    """The console script exists next to the interpreter and prints help."""
    proc = run("--help")
    assert proc.returncode == 0
    for command in ("slots", "suggest", "demo", "providers", "simulate"):
        assert command in proc.stdout


def test_slots_json_has_the_documented_fields() -> None:
    """JSON output has slots, periods, unknown and explanation, times RFC 3339 in the file's tz."""
    doc = slots_json()
    assert set(doc) >= {"slots", "periods", "unknown", "explanation"}
    assert doc["slots"]
    assert doc["explanation"] is None
    for slot in doc["slots"]:
        assert set(slot) == SLOT_KEYS | NAMED_KEYS
        assert RFC3339.match(slot["start"])
        assert RFC3339.match(slot["end"])
        start, end = (datetime.fromisoformat(slot[k]) for k in ("start", "end"))
        assert (end - start).total_seconds() == 45 * 60
        assert start.minute % 15 == 0
        assert slot["available_count"] >= 2
        assert not {"alice", "bruno"} & {p["id"] for p in slot["people"]}  # free: not listed
        assert slot["room"] is None
    for period in doc["periods"]:
        assert set(period) == {"start", "end"}
        assert RFC3339.match(period["start"])
        assert period["start"] < period["end"]


def test_slots_default_max_and_explicit_max() -> None:
    """At most 10 slots by default, and at most --max N when given."""
    assert len(slots_json()["slots"]) == 10
    assert len(slots_json("--max", "3")["slots"]) == 3
    assert len(slots_json("--max", "1")["slots"]) == 1


def test_slots_order_start_is_chronological() -> None:
    """With --order start slots come in chronological order; by score they do not have to."""
    by_start = slots_json("--order", "start", "--max", "50")["slots"]
    starts = [datetime.fromisoformat(s["start"]) for s in by_start]
    assert starts == sorted(starts)
    by_score = slots_json("--max", "50")["slots"]
    scores = [s["score"] for s in by_score]
    assert scores == sorted(scores, reverse=True)
    assert {s["start"] for s in by_start} == {s["start"] for s in by_score}


def test_slots_respect_busy_time_and_working_hours() -> None:
    """No slot overlaps alice's or bruno's busy time or leaves their working hours."""
    busy = json.loads(BUSY.read_text(encoding="utf-8"))
    blocks = [
        (datetime.fromisoformat(b["start"]), datetime.fromisoformat(b["end"]))
        for a in busy["attendees"]
        if not a.get("optional")
        for b in a["busy"]
    ]
    for slot in slots_json("--max", "100")["slots"]:
        start, end = (datetime.fromisoformat(slot[k]) for k in ("start", "end"))
        assert not any(s < end and start < e for s, e in blocks), slot
        # alice 13:00-19:00 Shanghai and bruno 08:00-17:00 Berlin overlap 15:00-19:00 +08:00
        assert start.hour >= 15
        assert end.hour <= 19


def test_slots_table_format() -> None:
    """The default table names the duration, the zone and ranks the slots."""
    proc = run("slots", "--busy", str(BUSY), "--duration", "45m", "--max", "3")
    assert proc.returncode == 0, proc.stderr
    assert "Asia/Shanghai" in proc.stdout
    assert "45 min" in proc.stdout
    assert re.search(r"^\s+1\s", proc.stdout, re.M)
    assert "alice" in proc.stdout
    assert proc.stderr == ""


def test_slots_timeline_format() -> None:
    """The timeline shows every attendee on a row and a legend."""
    proc = run("slots", "--busy", str(BUSY), "--duration", "45m", "--format", "timeline")
    assert proc.returncode == 0, proc.stderr
    for name in ("alice", "bruno", "carmen"):
        assert name in proc.stdout
    assert "legend" in proc.stdout


def test_slots_html_output_writes_a_file(tmp_path: Path) -> None:
    """--format html --output FILE writes a self-contained HTML report and says where."""
    target = tmp_path / "report.html"
    proc = run(
        "slots",
        "--busy",
        str(BUSY),
        "--duration",
        "45m",
        "--format",
        "html",
        "--output",
        str(target),
    )
    assert proc.returncode == 0, proc.stderr
    assert str(target) in proc.stdout
    html = target.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "alice" in html
    assert "<script src=" not in html.lower()  # self-contained
    assert 'rel="stylesheet"' not in html.lower()


def test_slots_html_without_output_writes_the_default_file(tmp_path: Path) -> None:
    """HTML without --output goes to slotfinder-report.html in the current directory."""
    proc = run("slots", "--busy", str(BUSY), "--duration", "45m", "--format", "html", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "slotfinder-report.html").exists()


def test_slots_json_output_to_a_file(tmp_path: Path) -> None:
    """--output works for JSON too: the file holds the same document stdout would."""
    target = tmp_path / "slots.json"
    status, out = run_here(
        "slots",
        "--busy",
        str(BUSY),
        "--duration",
        "45m",
        "--format",
        "json",
        "--output",
        str(target),
    )
    assert status == 0
    assert str(target) in out
    assert json.loads(target.read_text(encoding="utf-8")) == slots_json()


def test_slots_full_lists_add_the_free_attendees() -> None:
    """--full-lists adds each slot's ``available`` ids and its free people; otherwise the
    document is the compact one."""
    compact, full = slots_json(), slots_json("--full-lists")
    for c, f in zip(compact["slots"], full["slots"], strict=True):
        assert "available" not in c
        assert set(f) == SLOT_KEYS | NAMED_KEYS | {"available"}
        assert len(f["available"]) == f["available_count"] == c["available_count"]
        assert {"alice", "bruno"} <= set(f["available"])
        free = [p["id"] for p in f["people"] if p["state"] == "free"]
        assert free == f["available"]
        assert c["people"] == [p for p in f["people"] if p["state"] != "free"]
        assert {k: v for k, v in f.items() if k not in ("available", "people")} == {
            k: v for k, v in c.items() if k != "people"
        }


def test_full_lists_is_harmless_outside_json(tmp_path: Path) -> None:
    """--full-lists changes nothing in the table, and a JSON file gets what stdout shows."""
    table = ("slots", "--busy", str(BUSY), "--duration", "45m", "--format", "table")
    assert run_here(*table, "--full-lists") == run_here(*table)
    target = tmp_path / "full.json"
    status, _ = run_here(
        "slots", "--busy", str(BUSY), "--duration", "45m", "--format", "json", "--full-lists",
        "--output", str(target),
    )  # fmt: skip
    assert status == 0
    text = target.read_text(encoding="utf-8")
    assert text + "\n" == run_here(
        "slots", "--busy", str(BUSY), "--duration", "45m", "--format", "json", "--full-lists",
        "--output", "-",
    )[1]  # fmt: skip
    assert json.loads(text) == slots_json("--full-lists")


def test_slots_tz_option_changes_output_zone() -> None:
    """--tz Europe/Berlin writes every time with Berlin's offset."""
    doc = slots_json("--tz", "Europe/Berlin")
    assert all(s["start"].endswith("+01:00") for s in doc["slots"])


# --- slots: nothing fits, bad files -----------------------------------------------------------


def test_no_slot_exits_1_with_an_explanation() -> None:
    """A meeting longer than any common free time exits 1 and says why."""
    proc = run("slots", "--busy", str(BUSY), "--duration", "9h")
    assert proc.returncode == 1, proc.stderr
    assert "No slot fits" in proc.stdout
    assert "window_too_short" in proc.stdout
    status, out = run_here("slots", "--busy", str(BUSY), "--duration", "9h", "--format", "json")
    assert status == 1
    doc = json.loads(out)
    assert doc["slots"] == []
    assert doc["explanation"]["reasons"]


WIN = {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"}
BAD_FILES: list[tuple[str, Any, tuple[str, ...]]] = [
    ("not-json", "{not json", ("--busy=", "not JSON")),
    ("list", [], ("busy_file=[]", "expected an object")),
    ("no-window", {"tz": "UTC"}, ("window=None", "missing")),
    ("naive", {"window": {**WIN, "start": "2026-11-23T00:00:00"}}, ("window.start=", "offset")),
    ("empty-window", {"window": {**WIN, "end": WIN["start"]}}, ("window.end=", "must be after")),
    ("zone", {"window": WIN, "tz": "Mars/Base"}, ("tz='Mars/Base'", "unknown IANA")),
    ("typo", {"window": WIN, "attendee": []}, ("attendee=[]", "unknown key")),
    (
        "hours",
        {"window": WIN, "attendees": [{"id": "a", "working_hours": {"mon": "25:00-26:00"}}]},
        ("attendees[0].working_hours.mon='25:00-26:00'", "hours 00-23"),
    ),
    (
        "busy-end",
        {
            "window": WIN,
            "attendees": [
                {
                    "id": "a",
                    "busy": [
                        {"start": "2026-11-23T10:00:00+08:00", "end": "2026-11-23T09:00:00+08:00"}
                    ],
                }
            ],
        },
        ("attendees[0].busy[0].end='2026-11-23T09:00:00+08:00'", "before its start"),
    ),
    (
        "status",
        {
            "window": WIN,
            "attendees": [
                {
                    "id": "a",
                    "busy": [{"start": WIN["start"], "end": WIN["end"], "status": "maybe"}],
                }
            ],
        },
        ("attendees[0].busy[0].status='maybe'", "busy, tentative, free, oof"),
    ),
    ("no-id", {"window": WIN, "attendees": [{"busy": []}]}, ("attendees[0].id=None",)),
]


@pytest.mark.parametrize(
    ("content", "needles"), [(c, n) for _, c, n in BAD_FILES], ids=[i for i, _, _ in BAD_FILES]
)
def test_bad_busy_file_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: Any, needles: tuple[str, ...]
) -> None:
    """A bad busy file exits 2 with one stderr line naming the field and value, no traceback."""
    path = tmp_path / "busy.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    status, out = run_here("slots", "--busy", str(path), "--duration", "30m")
    err = capsys.readouterr().err
    one_error_line(subprocess.CompletedProcess([], status, out, err), *needles)
    assert out == ""


SUBPROCESS_KINDS = ("not-json", "naive", "busy-end")


@pytest.mark.parametrize(
    ("content", "needles"),
    [(c, n) for i, c, n in BAD_FILES if i in SUBPROCESS_KINDS],
    ids=list(SUBPROCESS_KINDS),
)
def test_bad_busy_file_as_a_subprocess(
    tmp_path: Path, content: Any, needles: tuple[str, ...]
) -> None:
    """Through the installed console script, a bad busy file is one line and exit 2."""
    path = tmp_path / "busy.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    proc = run("slots", "--busy", str(path), "--duration", "30m")
    one_error_line(proc, *needles)
    assert proc.stdout == ""


def test_missing_busy_file_exits_2(tmp_path: Path) -> None:
    """A busy file that does not exist exits 2 naming the path."""
    proc = run("slots", "--busy", str(tmp_path / "nope.json"), "--duration", "30m")
    one_error_line(proc, "nope.json", "cannot read")


@pytest.mark.parametrize("where", ["file", "option"])
def test_zone_naming_a_folder_exits_2(tmp_path: Path, where: str) -> None:
    """A tz of 'America' (a tzdata folder) in the busy file or --tz exits 2 with one line."""
    path = tmp_path / "busy.json"
    doc = json.loads(BUSY.read_text(encoding="utf-8"))
    extra: list[str] = []
    if where == "file":
        doc["tz"] = "America"
    else:
        extra = ["--tz", "America"]
    path.write_text(json.dumps(doc), encoding="utf-8")
    proc = run("slots", "--busy", str(path), "--duration", "30m", *extra)
    one_error_line(proc, "America", "unknown IANA time zone")


def test_bad_duration_exits_2() -> None:
    """An unreadable --duration exits 2 naming the option and giving examples."""
    proc = run("slots", "--busy", str(BUSY), "--duration", "soon")
    one_error_line(proc, "--duration='soon'", "30m")


# --- providers, parse_duration ------------------------------------------------------------------


def test_providers_lists_every_provider_with_limits(tmp_path: Path) -> None:
    """`slotfinder providers` lists feishu, dingtalk, json and ics with limits and settings."""
    proc = run("providers", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    for name in ("feishu", "dingtalk", "json", "ics"):
        assert re.search(rf"^{name}: ", out, re.M), name
    assert "freebusy/batch" in out
    assert "14 days" in out
    assert "50/1s and 1000/60s" in out
    assert "querySchedule" in out
    assert "20/1s" in out
    assert "SLOTFINDER_FEISHU_APP_SECRET" in out
    assert "SLOTFINDER_DINGTALK_OPERATOR_UNION_ID" in out
    assert "[required, secret]: unset" in out


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1800),
        ("1h", 3600),
        ("1h30m", 5400),
        ("90s", 90),
        ("2d", 172_800),
        ("45", 2700),
        (" 15M ", 900),
        ("1d2h3m4s", 93_784),
        ("0m", 0),
    ],
)
def test_parse_duration_accepts(text: str, seconds: int) -> None:
    """parse_duration reads units d/h/m/s in order, and a bare number as minutes."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "m", "30x", "1.5h", "-5m", "30m1h", "1h 30m", "h30", "thirty"]
)
def test_parse_duration_refuses(text: str) -> None:
    """Anything else is an InputError naming the field and giving examples."""
    with pytest.raises(InputError, match="1h30m") as info:
        parse_duration(text, "--buffer")
    assert info.value.field == "--buffer"
    assert info.value.value == text


# --- suggest against both simulators -------------------------------------------------------------


@attrs.define
class Live:
    """Both simulators on loopback, their tenants and a slotfinder.toml for them."""

    apps: dict[str, Any]
    tenants: dict[str, DemoTenant]
    config: Path
    ics: Path

    def argv(self, *attendees: str, extra: Sequence[str] = ()) -> list[str]:
        return [
            "suggest",
            "--config",
            str(self.config),
            "--attendee",
            *attendees,
            *WINDOW,
            "--duration",
            "45m",
            *extra,
        ]


@contextlib.asynccontextmanager
async def live(tmp_path: Path, **options: dict[str, Any]) -> AsyncIterator[Live]:
    """Start both simulators (``feishu={...}`` passes app options) and write their config."""
    names = ("feishu", "dingtalk")
    async with simkit.serving(get_simulators(), names, seed=5, options=options) as served:
        apps: dict[str, Any] = {name: x.app for name, x in served.items()}
        tenants = {name: x.tenant for name, x in served.items()}
        lines = [
            'tz = "Asia/Shanghai"',
            "[defaults]",
            'working_hours = { "mon-fri" = ["09:00-18:00"] }',
        ]
        for name in names:
            lines.append(f"[providers.{name}]")
            lines += [f"{k} = {json.dumps(str(v))}" for k, v in tenants[name].config.items()]
        lines += ["[providers.ics]", f"roots = {json.dumps(str(tmp_path))}"]
        config = tmp_path / "slotfinder.toml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        ics = tmp_path / "me.ics"
        ics.write_text(ICS, encoding="utf-8")
        yield Live(apps, tenants, config, ics)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("SLOTFINDER_")]:
        monkeypatch.delenv(var)


async def cli(argv: list[str]) -> tuple[int, str]:
    """main() in a worker thread (it runs its own event loop), stdout captured."""
    out = io.StringIO()
    status = await asyncio.to_thread(main, argv, out)
    return status, out.getvalue()


async def test_suggest_mixed_providers_end_to_end(tmp_path: Path) -> None:
    """A Feishu user, a DingTalk user, an .ics file and a DingTalk room: exit 0, JSON with costs."""
    async with live(tmp_path) as env:
        feishu = env.tenants["feishu"].people[0].id
        dingtalk = env.tenants["dingtalk"].people[0].id
        room = env.tenants["dingtalk"].rooms[0].id
        ics = f"ics:{env.ics}"
        status, out = await cli(
            env.argv(feishu, dingtalk, ics, extra=["--room", room, "--format", "json"])
        )
        assert status == 0, out
        doc = json.loads(out)
        assert doc["calls"] == {
            "dingtalk/meetingRooms/schedules/query": 1,
            "dingtalk/querySchedule": 1,
            "feishu/freebusy/list": 1,
        }
        assert doc["retries"] == 0
        assert doc["unknown"] == []
        assert doc["slots"]
        for slot in doc["slots"]:
            assert set(slot) == SLOT_KEYS | NAMED_KEYS
            assert RFC3339.match(slot["start"])
            assert slot["room"] == room
            assert slot["available_count"] == 3
            assert slot["people"] == []  # everyone free, so nobody listed
            # the .ics standup is 2026-11-23 10:00-11:00 Shanghai
            start, end = (datetime.fromisoformat(slot[k]) for k in ("start", "end"))
            standup = datetime.fromisoformat("2026-11-23T10:00:00+08:00")
            assert not (start < standup.replace(hour=11) and standup < end)
        assert env.apps["feishu"][FEISHU_STATS].calls == {"freebusy/list": 1}
        assert env.apps["dingtalk"][DINGTALK_STATS].calls == {
            "querySchedule": 1,
            "meetingRooms/schedules/query": 1,
        }


async def test_suggest_table_shows_what_the_fetch_cost(tmp_path: Path) -> None:
    """The table of a live suggest names the attendees and the calls made."""
    async with live(tmp_path) as env:
        people = [env.tenants["feishu"].people[0].id, env.tenants["dingtalk"].people[0].id]
        status, out = await cli(env.argv(*people))
        assert status == 0, out
        assert people[0] in out
        calls = next(line for line in out.splitlines() if line.startswith("calls: "))
        assert "dingtalk/querySchedule 1" in calls
        assert "feishu/freebusy/list 1" in calls
        assert "retries 0" in calls


async def test_suggest_unknown_feishu_user_exits_3(tmp_path: Path) -> None:
    """A required Feishu id not in the tenant is unknown, so no slot passes: exit 3 with why."""
    async with live(tmp_path) as env:
        dingtalk = env.tenants["dingtalk"].people[0].id
        status, out = await cli(env.argv("feishu:ou_nobody", dingtalk, extra=["--format", "json"]))
        assert status == 3, out
        doc = json.loads(out)
        assert doc["slots"] == []
        unknown = {u["id"]: u["reason"] for u in doc["unknown"]}
        assert set(unknown) == {"feishu:ou_nobody"}
        assert "not in tenant" in unknown["feishu:ou_nobody"]
        assert "unknown_attendees" in json.dumps(doc["explanation"])


async def test_suggest_unknown_optional_attendee_still_finds_slots(tmp_path: Path) -> None:
    """An unknown *optional* attendee does not block: exit 0, listed as unknown."""
    async with live(tmp_path) as env:
        feishu = env.tenants["feishu"].people[0].id
        status, out = await cli(
            env.argv(feishu, extra=["--optional", "dingtalk:nobodyiE", "--format", "json"])
        )
        assert status == 0, out
        doc = json.loads(out)
        assert [u["id"] for u in doc["unknown"]] == ["dingtalk:nobodyiE"]
        assert all("dingtalk:nobodyiE" in s["unknown"] for s in doc["slots"])


async def test_suggest_faulted_provider_exits_3(tmp_path: Path) -> None:
    """A DingTalk tenant whose monthly quota is used up leaves its user unknown: exit 3."""
    async with live(tmp_path, dingtalk={"quota": 0}) as env:
        feishu = env.tenants["feishu"].people[0].id
        dingtalk = env.tenants["dingtalk"].people[0].id
        status, out = await cli(env.argv(feishu, dingtalk, extra=["--format", "json"]))
        assert status == 3, out
        doc = json.loads(out)
        assert [u["id"] for u in doc["unknown"]] == [dingtalk]
        assert "quota" in doc["unknown"][0]["reason"]


@pytest.mark.timeout(90)  # the token request is retried with backoff: up to ~30 s
async def test_suggest_stopped_simulator_exits_3(tmp_path: Path) -> None:
    """A provider whose server is gone (connection refused) leaves its users unknown: exit 3."""
    async with live(tmp_path) as env:
        text = env.config.read_text(encoding="utf-8")
        dead = f"http://127.0.0.1:{simkit.free_port()}"
        base = env.tenants["feishu"].config["base_url"]
        env.config.write_text(text.replace(str(base), dead), encoding="utf-8")
        feishu = env.tenants["feishu"].people[0].id
        dingtalk = env.tenants["dingtalk"].people[0].id
        started = time.monotonic()
        status, out = await cli(env.argv(feishu, dingtalk, extra=["--format", "json"]))
        assert status == 3, out
        doc = json.loads(out)
        assert [u["id"] for u in doc["unknown"]] == [feishu]
        reason = doc["unknown"][0]["reason"]
        assert "token" in reason or "could not connect to 127.0.0.1" in reason
        assert time.monotonic() - started < 75


async def test_suggest_without_attendees_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`slotfinder suggest` with no --attendee exits 2 with one line."""
    status, _ = await cli(["suggest", *WINDOW, "--duration", "30m"])
    assert status == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "--attendee" in err[0]


async def test_demo_runs_a_mixed_suggest(tmp_path: Path) -> None:
    """`slotfinder demo` runs both simulators, prints slots with their cost and writes HTML."""
    report = tmp_path / "demo.html"
    status, out = await cli(["demo", "--seed", "7", "--output", str(report)])
    assert status == 0, out
    assert "feishu/freebusy" in out  # both providers were called (people show by name)
    assert "dingtalk/querySchedule" in out
    assert f"HTML report: {report}" in out
    assert report.read_text(encoding="utf-8").lstrip().lower().startswith("<!doctype html")


# --- simulate -----------------------------------------------------------------------------------


def test_simulate_serves_on_the_given_port() -> None:
    """`slotfinder simulate feishu --port N` answers token requests on N until terminated."""
    port = simkit.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTFINDER_")}
    proc = subprocess.Popen(
        [str(SCRIPT), "simulate", "feishu", "--port", str(port), "--seed", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("user_id_type"):
                break
        text = "".join(lines)
        assert f"http://127.0.0.1:{port}" in text, text
        shown = dict(re.findall(r'^(\w+) = "(.*)"$', text, re.M))
        assert shown["app_secret"].startswith("<in ")  # never printed, even the simulator's
        path = Path(re.findall(r"^configuration \(credentials included\): (.+)$", text, re.M)[0])
        assert (path.stat().st_mode & 0o777) == 0o600
        settings = tomllib.loads(path.read_text(encoding="utf-8"))["providers"]["feishu"]
        assert settings["app_secret"] not in text
        body = json.dumps({"app_id": settings["app_id"], "app_secret": settings["app_secret"]})
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/open-apis/auth/v3/tenant_access_token/internal",
            data=body.encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as reply:
            answer = json.loads(reply.read())
        assert answer["code"] == 0
        assert answer["tenant_access_token"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    assert proc.returncode is not None


def test_simulate_unknown_provider_exits_2() -> None:
    """`slotfinder simulate zoom` exits 2 naming the simulators there are."""
    proc = run("simulate", "zoom", timeout=20)
    one_error_line(proc, "zoom", "feishu")


# --- cost of the command line -------------------------------------------------------------------

_LOADED = (
    "import sys, io; from slotfinder.cli import main; "
    "main(sys.argv[1:], out=io.StringIO()); print(' '.join(sorted(sys.modules)))"
)
_BARE_PACKAGE_IS_HEAVY = (
    "aiohttp"
    in subprocess.run(
        [sys.executable, "-c", "import sys, slotfinder; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
)


@pytest.mark.xfail(
    _BARE_PACKAGE_IS_HEAVY, reason="slotfinder/__init__.py still imports everything", strict=True
)
@pytest.mark.parametrize(
    "argv",
    [
        ("slots", "--busy", str(BUSY), "--duration", "30m"),
        ("slots", "--busy", str(BUSY), "--duration", "30m", "--format", "json"),
        ("--help",),
    ],
)
def test_offline_commands_load_no_http_client_plugins_or_fetcher(argv: tuple[str, ...]) -> None:
    """`slots` and `--help` never import aiohttp, pluggy, the plugins or the fetch package;
    plain slots do not load the series engine or dateutil."""
    proc = subprocess.run(
        [sys.executable, "-c", _LOADED, *argv], capture_output=True, text=True, check=False
    )
    loaded = set(proc.stdout.split()[-1:][0].split(" ")) if proc.stdout else set()
    loaded = set(proc.stdout.split())
    heavy = {
        m
        for m in loaded
        if m.split(".")[0]
        in {"aiohttp", "pluggy", "slotfinder_feishu", "slotfinder_dingtalk", "dateutil"}
        or m.startswith(("slotfinder.fetch", "slotfinder.testing", "slotfinder.plugins"))
        or m in {"slotfinder.engine.series", "slotfinder.recur"}
    }
    assert not heavy, sorted(heavy)
    if argv == ("--help",):
        assert "numpy" not in loaded


# --- never a traceback ----------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["--busy", "--output"])
@pytest.mark.parametrize("where", ["missing-folder", "directory"])
def test_os_errors_on_files_are_one_line(tmp_path: Path, flag: str, where: str) -> None:
    """A file in a missing folder, or a directory, given to --busy or --output: exit 2, one line."""
    bad = str(tmp_path / "nope" / "x.json") if where == "missing-folder" else str(tmp_path)
    args = {"--busy": str(BUSY), "--output": None} | {flag: bad}
    argv = ["slots", "--busy", str(args["--busy"]), "--duration", "30m"]
    if args["--output"]:
        argv += ["--output", str(args["--output"])]
    one_error_line(run(*argv), flag, bad)


def test_config_that_is_a_directory_is_one_line(tmp_path: Path) -> None:
    """`--config` naming a directory exits 2 naming the flag."""
    proc = run("providers", "--config", str(tmp_path))
    one_error_line(proc, "--config", str(tmp_path))


def test_unreadable_busy_file_is_one_line(tmp_path: Path) -> None:
    """A busy file without read permission exits 2 with one line (skipped as root)."""
    path = tmp_path / "busy.json"
    path.write_bytes(BUSY.read_bytes())
    path.chmod(0)
    if os.access(path, os.R_OK):
        pytest.skip("running as root: permissions do not apply")
    one_error_line(run("slots", "--busy", str(path), "--duration", "30m"), "--busy")


def test_output_dash_is_standard_output(tmp_path: Path) -> None:
    """`--output -` writes to standard output, even for html, and creates no file."""
    proc = run(
        "slots", "--busy", str(BUSY), "--duration", "30m", "--format", "html", "--output", "-",
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.lstrip().lower().startswith("<!doctype html")
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An interrupted report write (Ctrl-C) removes its temporary file and exits 130."""

    def interrupted(src: str, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    target = tmp_path / "report.json"
    status, _ = run_here(
        "slots", "--busy", str(BUSY), "--duration", "30m", "--format", "json",
        "--output", str(target),
    )  # fmt: skip
    monkeypatch.undo()
    assert status == 130
    assert list(tmp_path.iterdir()) == []


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug exits 70 with one line and the --debug hint; with --debug the traceback shows."""
    import slotfinder.engine

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(slotfinder.engine, "find_slots", broken)
    argv = ["slots", "--busy", str(BUSY), "--duration", "30m"]
    status, _ = run_here(*argv)
    err = capsys.readouterr().err
    assert status == 70
    assert err.strip().splitlines() == [
        "slotfinder: internal error: ZeroDivisionError: boom (rerun with --debug for the traceback)"
    ]
    status, _ = run_here(*argv, "--debug")
    err = capsys.readouterr().err
    assert status == 70
    assert "Traceback" in err
    assert "boom" in err


def test_simulate_on_a_busy_port_is_one_line() -> None:
    """`simulate` on a port already taken exits 2 with one line naming --port."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = run("simulate", "feishu", "--port", str(port), timeout=20)
    one_error_line(proc, "--port", str(port))


def test_simulate_all_writes_one_merged_config_and_removes_it_on_stop() -> None:
    """`simulate all` serves every simulator, writes one config with every provider, and the
    temporary file is gone once SIGTERM stops it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTFINDER_")}
    proc = subprocess.Popen(
        [str(SCRIPT), "simulate", "all"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        text = ""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and text.count("# ") < 2:
            line = proc.stdout.readline()
            if not line:
                break
            text += line
        path = Path(re.findall(r"^configuration \(credentials included\): (.+)$", text, re.M)[0])
        settings = tomllib.loads(path.read_text(encoding="utf-8"))["providers"]
        assert set(settings) == {"feishu", "dingtalk"}
        assert text.count(" simulator on http://127.0.0.1:") == 2
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert proc.returncode == 0
    assert not path.exists()


# --- command-line habits ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"), [("90min", 5400), ("45m", 2700), ("2h", 7200), ("1h30m", 5400),
                          ("10d", 864_000), ("2 hours", 7200), ("1hr15min", 4500)],
)  # fmt: skip
def test_durations_people_write(text: str, seconds: int) -> None:
    """Common spellings of durations are read."""
    assert parse_duration(text) == seconds


SH = "Asia/Shanghai"
NOW = 1_802_935_200  # 2027-02-18T15:20:00+08:00, a Thursday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-03-02", "2027-03-02T00:00:00+08:00"),
        ("2027-03-02T09:30", "2027-03-02T09:30:00+08:00"),
        ("2027-03-02T09:30Z", "2027-03-02T17:30:00+08:00"),
        ("today", "2027-02-18T00:00:00+08:00"),
        ("tomorrow", "2027-02-19T00:00:00+08:00"),
        ("+3d", "2027-02-21T00:00:00+08:00"),
    ],
)
def test_window_edges_people_write(text: str, expected: str) -> None:
    """Dates are local midnight, times without offset are local, today/tomorrow/+Nd count days
    in the request's zone."""
    from slotfinder.cli import parse_when
    from slotfinder.times import format_in

    assert format_in(parse_when(text, "--start", SH, now=NOW), SH) == expected


def test_relative_days_follow_the_zone() -> None:
    """`today` is the zone's today: at 20:00 UTC it is already tomorrow in Shanghai."""
    from slotfinder.cli import parse_when
    from slotfinder.times import format_in

    late = 1_802_980_800  # 2027-02-18T20:00Z
    assert format_in(parse_when("today", "--start", "UTC", now=late), "UTC").startswith(
        "2027-02-18T00:00"
    )
    assert format_in(parse_when("today", "--start", SH, now=late), SH).startswith(
        "2027-02-19T00:00"
    )


def test_bad_window_edge_names_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """An impossible date exits 2 naming --start."""
    status, _ = run_here(
        "suggest", "--attendee", "json:x.json#a", "--start", "2027-02-30", "--end", "+3d",
        "--duration", "30m",
    )  # fmt: skip
    assert status == 2
    assert "--start='2027-02-30'" in capsys.readouterr().err


def test_simulate_options_have_help() -> None:
    """Every argument of `simulate` says what it does, and `all` is offered."""
    import argparse

    from slotfinder.cli import make_parser

    parser = make_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    simulate = sub.choices["simulate"]
    for action in simulate._actions:
        assert action.help, action.dest
    assert "all" in simulate.format_help()


# --- any arguments: a documented status, no traceback, no secret --------------------------------

SECRET = "some-unique-secret-4f1c"
_VALUES = st.one_of(
    st.sampled_from(
        ["30m", "90min", "1h30m", "0m", "-5m", "2027-03-02", "today", "+3d", "soon", "", "-",
         "Asia/Shanghai", "Mars/Base", "0.6", "60%", "3", "json", "html", "nope", SECRET]
    ),
    st.text(max_size=12),
)  # fmt: skip
_FLAGS = ["--duration", "--granularity", "--buffer", "--min-notice", "--quorum", "--max",
          "--order", "--format", "--tz", "--tentative", "--unanswered", "--start", "--end",
          "--attendee", "--output", "--config", "--debug"]  # fmt: skip
_FILES = st.one_of(
    st.just(BUSY.read_text(encoding="utf-8")),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
    st.builds(
        lambda start, hours: json.dumps(
            {"window": {"start": start, "end": "2026-11-24T00:00:00+08:00"},
             "attendees": [{"id": "a", "working_hours": {"mon-sun": [hours]}}]}
        ),
        st.sampled_from(["2026-11-23T00:00:00+08:00", "2026-11-25T00:00:00Z", "x"]),
        st.sampled_from(["09:00-18:00", "25:00-26:00", "22:00-02:00"]),
    ),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    command=st.sampled_from(["slots", "suggest", "providers", "simulate", "bogus"]),
    pairs=st.lists(st.tuples(st.sampled_from(_FLAGS), _VALUES), max_size=6),
    content=_FILES,
    where=st.sampled_from(["file", "folder", "missing"]),
)
def test_any_arguments_end_in_a_documented_status_without_traceback_or_secret(
    command: str, pairs: list[tuple[str, str]], content: str, where: str
) -> None:
    """Drawn arguments and small drawn files: the status is documented, no traceback, and the
    Feishu secret from the environment never shows, on stdout or stderr."""
    import contextlib
    import tempfile

    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as mp:
        mp.setenv("SLOTFINDER_FEISHU_APP_SECRET", SECRET)
        mp.setenv("SLOTFINDER_LOAD_PLUGINS", "files")
        mp.chdir(folder)
        busy = Path(folder) / "busy.json"
        busy.write_text(content, encoding="utf-8")
        target = {"file": str(busy), "folder": folder, "missing": str(Path(folder) / "a" / "b")}
        argv = [command]
        if command == "simulate":
            argv += ["nope"]  # never actually serve: an unknown simulator is refused
        if command == "slots":
            argv += ["--busy", target[where]]
        for flag, drawn in pairs:
            value = drawn
            if flag == "--output" and drawn not in ("-", ""):
                value = str(Path(folder) / "out" / "r") if where == "missing" else folder
            argv += [flag] if flag == "--debug" else [flag, value]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err):
            status = main(argv, out=out)
    text = out.getvalue() + err.getvalue()
    assert status in EXIT_CODES, (argv, text)
    assert "Traceback" not in text or "--debug" in argv, (argv, text)
    assert SECRET not in text, (argv, text)


# --- suggest with local files: the busy file's hours, the default roots ----------------------


def test_suggest_json_attendees_keep_the_busy_file_hours() -> None:
    """`suggest` with json:FILE#id proposes the office-hour slots `slots --busy FILE` does,
    not midnight in the request's zone."""
    ids = [f"json:examples/busy.json#{x}" for x in ("alice", "bruno")]
    proc = run(
        "suggest", "--attendee", *ids, *WINDOW, "--duration", "45m", "--tz", "Asia/Shanghai",
        "--order", "start", "--max", "50", "--format", "json", cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    got = [s["start"] for s in json.loads(proc.stdout)["slots"]]
    offline = slots_json("--order", "start", "--max", "50")["slots"]
    assert got[0] == "2026-11-23T15:00:00+08:00"
    assert got == [s["start"] for s in offline]


def test_suggest_reads_files_under_the_working_and_config_folders_only(tmp_path: Path) -> None:
    """Without `roots`, the command line reads local files under the working directory and
    the configuration file's folder, and nowhere else (an id elsewhere is unknown, exit 3)."""
    here, conf, elsewhere = (tmp_path / d for d in ("here", "conf", "elsewhere"))
    for folder in (here, conf, elsewhere):
        folder.mkdir()
        (folder / "me.ics").write_text(ICS, encoding="utf-8")
    config = conf / "slotfinder.toml"
    config.write_text('tz = "UTC"\n', encoding="utf-8")
    base = ("suggest", "--config", str(config), *WINDOW, "--duration", "30m", "--format", "json")
    for folder in (here, conf):
        proc = run(*base, "--attendee", f"ics:{folder / 'me.ics'}", cwd=here)
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["unknown"] == []
    proc = run(*base, "--attendee", f"ics:{elsewhere / 'me.ics'}", cwd=here)
    assert proc.returncode == 3, proc.stderr
    [unknown] = json.loads(proc.stdout)["unknown"]
    assert "roots" in unknown["reason"]


def test_no_slot_with_an_unreadable_room_exits_3(tmp_path: Path) -> None:
    """When nothing fits and a requested room could not be read, the status is 3 (not 1: the
    room might have been free) and the JSON lists the room with its reason."""
    (tmp_path / "me.ics").write_text(ICS, encoding="utf-8")
    proc = run(
        "suggest", "--attendee", "ics:me.ics", "--room", "json:rooms.json#blue", *WINDOW,
        "--duration", "30m", "--format", "json", cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["slots"] == []
    [room] = doc["unknown"]
    assert room["id"] == "json:rooms.json#blue"
    assert room["room"] is True
    assert "rooms.json" in room["reason"]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (("simulate", "feishu", "--port", "99999"), ("--port", "'99999'", "0 to 65535")),
        (("simulate", "feishu", "--port", "x"), ("--port", "0 to 65535")),
        (("serve", "--port", "70000"), ("--port", "0 to 65535")),
        (("simulate", "all", "--port", "65535"), ("--port=65535", "consecutive ports")),
    ],
)
def test_a_port_out_of_range_is_one_line_naming_port(
    argv: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    """A port the system could never bind is refused before anything starts, not reported as
    an internal error."""
    one_error_line(run(*argv), *needles)


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ('tz = "Mars/Base"\n', ("tz='Mars/Base'", "unknown IANA time zone")),
        ("not toml ===\n", ("--config=", "not valid TOML")),
    ],
)
def test_a_bad_config_file_is_said_once(
    tmp_path: Path, text: str, needles: tuple[str, ...]
) -> None:
    """A configuration file that is read but wrong says what is wrong, once, not wrapped as an
    unusable path."""
    config = tmp_path / "slotfinder.toml"
    config.write_text(text)
    proc = run("providers", "--config", str(config))
    one_error_line(proc, *needles)
    assert "not a usable path" not in proc.stderr
    assert proc.stderr.count("--config=") <= 1
