"""Groups on the command line, in busy files, in every output format and over HTTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from feishu_env import Env
from test_cli import run, run_here
from test_serve import _body, _post, _serve

from slotfinder import cli
from slotfinder.busyfile import dump_busy_file, load_busy_file
from slotfinder.fetch.store import Store
from slotfinder.groups import Group
from slotfinder.model import Attendee, Availability, Busy, Span

pytestmark = pytest.mark.timeout(120)

T0 = 1_795_392_000  # 2026-11-23T00:00:00Z, a Monday
H = 3600
PANEL = Group("panel", ("i1", "i2", "i3"), 2)


def _busy_file(tmp_path: Path, groups: tuple[Group, ...] = (PANEL,)) -> Path:
    """Lead ``a`` and interviewers ``i1``-``i3`` over 09:00-13:00 UTC; ``i1`` busy until 11:00,
    ``i2`` until 10:00, ``i3`` from 12:00."""
    people = [Attendee(id=i) for i in ("a", "i1", "i2", "i3")]
    avs = [
        Availability.of("i1", [Busy(Span(T0 + 9 * H, T0 + 11 * H))]),
        Availability.of("i2", [Busy(Span(T0 + 9 * H, T0 + 10 * H))]),
        Availability.of("i3", [Busy(Span(T0 + 12 * H, T0 + 13 * H))]),
    ]
    path = tmp_path / "busy.json"
    dump_busy_file(Span(T0 + 9 * H, T0 + 13 * H), "UTC", people, avs, path, groups=groups)
    return path


def _slots(path: Path, *extra: str) -> dict[str, Any]:
    status, out = run_here(
        "slots", "--busy", str(path), "--duration", "1h", "--order", "start", "--max", "50",
        "--format", "json", *extra,
    )  # fmt: skip
    assert status == 0
    data: dict[str, Any] = json.loads(out)
    return data


def test_busy_file_groups_round_trip_and_decide_slots(tmp_path: Path) -> None:
    """A busy file's groups load back, and slots need two of the three interviewers."""
    path = _busy_file(tmp_path)
    assert load_busy_file(path).groups == (PANEL,)
    data = _slots(path)
    starts = [s["start"][11:16] for s in data["slots"]]
    assert starts == [
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
        "11:15",
        "11:30",
        "11:45",
        "12:00",
    ]
    first = data["slots"][0]["groups"]
    assert first == [{"name": "panel", "required": 2, "size": 3, "available": ["i2", "i3"]}]


def test_group_flag_replaces_the_files_groups(tmp_path: Path) -> None:
    """``--group`` replaces the file's groups: needing all three leaves 11:00 only."""
    path = _busy_file(tmp_path)
    data = _slots(path, "--group", "all:i1,i2,i3")
    assert [s["start"][11:16] for s in data["slots"]] == ["11:00"]
    assert data["slots"][0]["groups"][0]["name"] == "group 1"


def test_group_unreachable_is_explained(tmp_path: Path) -> None:
    """A group that is never met names itself in the JSON explanation."""
    path = _busy_file(tmp_path)
    status, out = run_here(
        "slots", "--busy", str(path), "--duration", "3h", "--format", "json",
        "--group", "trio=3:i1,i2,i3",
    )  # fmt: skip
    assert status == 1
    reasons = json.loads(out)["explanation"]["reasons"]
    trio = next(r for r in reasons if r["code"] == "group_unreachable")
    assert trio["ids"] == ["i1", "i2", "i3"]
    assert "'trio'" in trio["message"]


@pytest.mark.parametrize("fmt", ["table", "timeline", "html"])
def test_text_formats_show_group_membership(tmp_path: Path, fmt: str) -> None:
    """Table, timeline and HTML name each group and who of it can come to a slot."""
    path = _busy_file(tmp_path)
    status, out = run_here(
        "slots", "--busy", str(path), "--duration", "1h", "--order", "start",
        "--format", fmt, "--output", "-",
    )  # fmt: skip
    assert status == 0
    assert "panel 2 of 3 free, needs 2: i2, i3" in out


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("5:i1,i2", "between 1 and 2"),
        ("two:i1", "a count or 'all'"),
        ("2:i1,zz", "not one of the request's attendees"),
        ("i1,i2", "N:ID"),
    ],
)
def test_bad_group_flag_is_one_line_and_exit_2(tmp_path: Path, spec: str, problem: str) -> None:
    """A bad ``--group`` exits 2 with one line naming the flag, never a traceback."""
    path = _busy_file(tmp_path, groups=())
    done = run("slots", "--busy", str(path), "--duration", "1h", "--group", spec)
    assert done.returncode == 2
    assert "--group" in done.stderr
    assert problem in done.stderr
    assert "Traceback" not in done.stderr


async def test_service_groups_answer_what_the_group_flag_prints(env: Env) -> None:
    """``"groups"`` in the JSON request is ``--group``: the same slots, each saying who of the
    group is free; members need not be listed as attendees; a bad count is a 400."""
    lead, *panel = env.people[:4]
    body = {**_body([lead]), "groups": [{"name": "panel", "members": panel, "required": 2}]}
    async for url in _serve(env.config):
        status, answer = await _post(url, body)
        bad_status, bad = await _post(url, {**body, "groups": [{"members": panel, "required": 4}]})
    assert status == 200
    assert bad_status == 400
    assert bad["error"]["field"] == "groups[group 1].required"
    argv = [
        "--attendee", lead, "--group", f"panel=2:{','.join(panel)}",
        "--start", body["start"], "--end", body["end"], "--duration", "30m",
        "--max", "5", "--order", "start",
    ]  # fmt: skip
    request = cli.request_from_flags(argv, env.config)
    assert [a.id for a in request.required] == [lead, *panel]
    import slotfinder
    from slotfinder.output import render

    result = await slotfinder.suggest(request, config=env.config, store=Store.local(cache=False))
    printed = json.loads(render(result, "json", stats=True))
    assert answer["slots"] == printed["slots"]
    assert answer["slots"]
    for slot in answer["slots"]:
        (seat,) = slot["groups"]
        assert len(seat["available"]) >= 2
        assert set(seat["available"]) <= set(panel)


@pytest.mark.parametrize(
    ("groups", "field"),
    [
        ({"members": ["a"]}, "groups"),
        ([{"members": ["a"], "required": "two"}], "groups[0].required"),
        ([{"members": ["a"], "colour": "red"}], "groups[0].colour"),
        ([{"name": "x"}], "groups[0].members"),
        (["a"], "groups[0]"),
    ],
)
def test_bad_busy_file_groups_name_their_path(tmp_path: Path, groups: object, field: str) -> None:
    """A busy file's malformed groups are refused with the JSON path of the culprit."""
    from slotfinder.errors import InputError

    doc = json.loads(_busy_file(tmp_path, groups=()).read_text(encoding="utf-8"))
    doc["groups"] = groups
    with pytest.raises(InputError) as info:
        load_busy_file(json.dumps(doc).encode())
    assert info.value.field == field
