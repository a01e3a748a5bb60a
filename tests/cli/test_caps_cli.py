"""Load caps at the edges: busy-file keys, config keys, command-line defaults, service fields."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from feishu_env import Env

from slotfinder import cli
from slotfinder.busyfile import dump_busy_file, load_busy_file
from slotfinder.config import Config
from slotfinder.errors import InputError
from slotfinder.fetch.store import Store
from slotfinder.model import LoadCaps
from slotfinder.serve import ServeOptions, make_app
from slotfinder.testing import simkit

TOKEN = "test-serve-token-1234"
H = 3600
DOC = {
    "window": {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-25T00:00:00+01:00"},
    "tz": "Europe/Berlin",
    "attendees": [
        {
            "id": "alice",
            "working_hours": {"mon-fri": "09:00-17:00"},
            "max_meetings_per_day": 1,
            "busy": [{"start": "2026-11-23T09:00:00+01:00", "end": "2026-11-23T10:00:00+01:00"}],
        },
        {
            "id": "bob",
            "working_hours": {"mon-fri": "09:00-17:00"},
            "busy": [{"start": "2026-11-24T09:00:00+01:00", "end": "2026-11-24T12:00:00+01:00"}],
        },
    ],
}


def slots(path: Path, *flags: str) -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    status = cli.main(
        ["slots", "--busy", str(path), "--duration", "1h", "--format", "json", "--max", "100",
         "--order", "start", *flags],
        out=out,
    )  # fmt: skip
    return status, json.loads(out.getvalue()) if status in (0, 1) else {}


def days(doc: dict[str, Any]) -> set[str]:
    return {s["start"][:10] for s in doc["slots"]}


def test_busy_file_caps_are_read_and_written_back(tmp_path: Path) -> None:
    """The busy-file keys become the attendee's caps, and dump_busy_file writes them back."""
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(DOC))
    bf = load_busy_file(path)
    assert bf.attendees[0].caps == LoadCaps(meetings_per_day=1)
    assert bf.attendees[1].caps is None
    again = load_busy_file(dump_busy_file(bf.window, bf.zone, bf.attendees, bf.availabilities))
    assert again.attendees == bf.attendees


def test_slots_honours_file_caps_and_flag_defaults(tmp_path: Path) -> None:
    """alice's own cap closes Monday; --max-busy-hours-per-day 3 closes Tuesday for bob."""
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(DOC))
    assert days(slots(path)[1]) == {"2026-11-24"}
    status, doc = slots(path, "--max-busy-hours-per-day", "3")
    assert status == 1
    assert not doc["slots"]
    codes = {r["code"]: r["ids"] for r in doc["explanation"]["reasons"]}
    assert codes == {"daily_cap": ["alice", "bob"]}
    # alice's own cap wins over the default: a default of 5 meetings changes nothing for her
    assert days(slots(path, "--max-meetings-per-day", "5")[1]) == {"2026-11-24"}


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--max-meetings-per-day", "two"),
        ("--max-meetings-per-week", "-1"),
        ("--max-busy-hours-per-day", "25"),
        ("--max-busy-hours-per-week", "nan"),
    ],
)
def test_bad_cap_flags_exit_2_naming_the_flag(
    tmp_path: Path, flag: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bad cap flag is refused before anything runs, with the flag and the value named."""
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(DOC))
    assert slots(path, flag, value)[0] == 2
    err = capsys.readouterr().err
    assert f"{flag}=" in err
    assert value in err
    assert "Traceback" not in err


def test_busy_file_bad_cap_names_the_path(tmp_path: Path) -> None:
    """A bad cap in a busy file names the attendee's path and the key."""
    doc = json.loads(json.dumps(DOC))
    doc["attendees"][1]["max_busy_hours_per_week"] = "lots"
    with pytest.raises(InputError) as info:
        load_busy_file(json.dumps(doc))
    assert info.value.field == "attendees[1].max_busy_hours_per_week"


def test_config_caps_layer_attendee_then_defaults() -> None:
    """[attendees."ID"] caps win cap by cap over [defaults]; rooms get none."""
    config = Config.from_mapping(
        {
            "tz": "UTC",
            "defaults": {"max_meetings_per_day": 4, "max_busy_hours_per_week": 20},
            "attendees": {"ics:a.ics": {"max_meetings_per_day": 2}},
        },
        env={},
    )
    assert config.attendee("ics:a.ics").caps == LoadCaps(meetings_per_day=2, busy_per_week=20 * H)
    assert config.attendee("ics:b.ics").caps == LoadCaps(meetings_per_day=4, busy_per_week=20 * H)
    assert config.attendee("ics:r.ics", room=True).caps is None
    with pytest.raises(InputError, match="max_meetings_per_day"):
        Config.from_mapping({"attendees": {"x:y": {"max_meetings_per_day": "many"}}}, env={})
    with pytest.raises(InputError, match=r"defaults\.max_busy_hours_per_day"):
        Config.from_mapping({"defaults": {"max_busy_hours_per_day": -1}}, env={})


@pytest.mark.timeout(120)
async def test_service_cap_fields_are_defaults_like_the_flags(
    env: Env,
) -> None:
    """Over loopback against the Feishu simulator: max_meetings_per_day 0 leaves no slot and
    the explanation names everyone under daily_cap; without it slots are found."""
    config, people = env.config, env.people[:3]
    app = make_app(
        config,
        ServeOptions(token=TOKEN),
        read=lambda argv: cli.request_from_flags(argv, config),
        store=Store.local(),
    )
    body: dict[str, Any] = {
        "attendee": people,
        "start": "2026-11-23T00:00:00+08:00",
        "end": "2026-11-28T00:00:00+08:00",
        "duration": "30m",
    }
    answers = []
    async with simkit.running(app) as url, aiohttp.ClientSession() as session:
        for extra in ({}, {"max_meetings_per_day": 0}):
            async with session.post(
                f"{url}/v1/suggest",
                data=json.dumps({**body, **extra}),
                headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
            ) as reply:
                assert reply.status == 200
                answers.append(await reply.json())
    assert answers[0]["slots"]
    assert not answers[1]["slots"]
    reasons = {r["code"]: r["ids"] for r in answers[1]["explanation"]["reasons"]}
    assert sorted(reasons["daily_cap"]) == sorted(people)


@pytest.mark.parametrize("fmt", ["json", "table", "timeline", "html"])
def test_every_format_shows_a_cap_apart_from_busy_and_off_hours(tmp_path: Path, fmt: str) -> None:
    """An optional attendee at their cap on Monday is shown as capped, not busy or off hours,
    in JSON, the table, the timeline and the HTML report."""
    doc = json.loads(json.dumps(DOC))
    doc["attendees"][0]["optional"] = True
    doc["attendees"][0]["busy"][0].update(
        start="2026-11-23T16:00:00+01:00", end="2026-11-23T17:00:00+01:00"
    )
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(doc))
    out = io.StringIO()
    argv = ["slots", "--busy", str(path), "--duration", "1h", "--order", "start", "--max", "30"]
    assert cli.main([*argv, "--format", fmt, "--output", "-"], out=out) == 0
    text = out.getvalue()
    if fmt == "json":
        first = json.loads(text)["slots"]
        states = {s["start"][11:16]: s["people"] for s in first if s["start"][:10] == "2026-11-23"}
        assert states["16:00"] == [{"id": "alice", "name": "alice", "state": "busy"}]
        assert states["09:00"] == [{"id": "alice", "name": "alice", "state": "capped"}]
    elif fmt == "table":
        assert "at cap" in text
    elif fmt == "timeline":
        assert "x at their meeting cap" in text
    else:
        assert 'class="who capped"' in text
        assert 'class="cell capped"' in text


ICS_MONDAY = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slotfinder tests//EN\r\n"
    "BEGIN:VEVENT\r\nUID:monday@test\r\nDTSTAMP:20261101T000000Z\r\n"
    "DTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\nSUMMARY:review\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
)


@pytest.mark.parametrize(("cap", "offered"), [(1, False), (2, True)])
async def test_suggest_fetches_the_whole_week_a_weekly_cap_counts(
    tmp_path: Path, cap: int, offered: bool
) -> None:
    """A window from Wednesday still counts Monday's meeting: suggest reads the whole ISO week
    of an attendee with a weekly cap (the ics provider reads only the stretch asked for)."""
    import slotfinder
    from slotfinder.model import Span

    (tmp_path / "a.ics").write_text(ICS_MONDAY)
    who = f"ics:{tmp_path / 'a.ics'}"
    config = cli.with_default_roots(
        Config.from_mapping(
            {"tz": "UTC", "attendees": {who: {"max_meetings_per_week": cap}}}, env={}
        ),
        [str(tmp_path)],
    )
    wed = 1_795_564_800  # 2026-11-25T00:00:00Z, a Wednesday
    request = config.request([who], window=Span(wed, wed + 2 * 86_400), duration=H)
    result = await slotfinder.suggest(request, config=config, store=Store.local(cache=False))
    assert bool(result.slots) is offered
    if not offered:
        assert result.explanation is not None
        assert [r.code for r in result.explanation.reasons] == ["weekly_cap"]
