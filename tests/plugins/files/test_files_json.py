"""The ``json:`` provider: one attendee of a busy file, errors as unknown, cached by mtime."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from slotfinder_files import JsonProvider
from slotfinder_files.jsonfile import split_id

from slotfinder.busyfile import dump_busy_file
from slotfinder.model import Attendee, Availability, BusyTable, Span, Status
from slotfinder.providers import LocalProvider

T0 = 1_795_000_000
WINDOW = Span(T0, T0 + 5 * 86_400)


def _file(path: Path, ids: tuple[str, ...] = ("alice", "bob")) -> Path:
    avails = [
        Availability(
            id=ident,
            busy=BusyTable.from_rows([(T0 + 3600 * (i + 1), T0 + 3600 * (i + 2), 2)]),
        )
        for i, ident in enumerate(ids)
    ]
    dump_busy_file(WINDOW, "Asia/Shanghai", [Attendee(id=i) for i in ids], avails, path)
    return path


CONFIG: dict[str, str] = {}
"""The provider settings the tests read with: the root is this test's folder."""


@pytest.fixture(autouse=True)
def _roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONFIG, "roots", str(tmp_path))


def _read(*ids: str, window: Span = WINDOW) -> list[Availability]:
    return JsonProvider().read([Attendee(id=i) for i in ids], window, "UTC", CONFIG)


def test_provider_shape() -> None:
    """The provider is a LocalProvider named ``json``."""
    assert isinstance(JsonProvider(), LocalProvider)
    assert JsonProvider().name == "json"


@pytest.mark.parametrize(
    ("id", "expected"),
    [
        ("json:a/b.json#alice", ("a/b.json", "alice")),
        ("json:busy.json", ("busy.json", None)),
        ("json:we#ird.json#bob", ("we#ird.json", "bob")),
        ("json:busy.json#", ("busy.json", "")),
    ],
)
def test_split_id(id: str, expected: tuple[str, str | None]) -> None:
    """The attendee is after the last ``#``; no ``#`` means no attendee named."""
    assert split_id(id) == expected


def test_reads_one_attendee_with_the_full_id(tmp_path: Path) -> None:
    """``json:PATH#bob`` gives bob's busy rows under the full id, covered by the file window."""
    path = _file(tmp_path / "busy.json")
    [bob] = _read(f"json:{path}#bob")
    assert bob.id == f"json:{path}#bob"
    assert bob.known
    assert bob.busy == BusyTable.from_rows([(T0 + 7200, T0 + 10_800, Status.BUSY.code)])
    assert bob.covered == WINDOW


def test_relative_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paths are relative to the current directory."""
    _file(tmp_path / "busy.json")
    monkeypatch.chdir(tmp_path)
    [alice] = _read("json:busy.json#alice")
    assert alice.known
    assert len(alice.busy) == 1


def test_single_attendee_file_needs_no_fragment(tmp_path: Path) -> None:
    """A file with one attendee can be named without ``#ID``; with two it cannot."""
    one = _file(tmp_path / "one.json", ("solo",))
    two = _file(tmp_path / "two.json")
    a, b = _read(f"json:{one}", f"json:{two}")
    assert a.known
    assert not b.known
    assert "2 attendees" in (b.error or "")


def test_request_settings_win(tmp_path: Path) -> None:
    """The file's tz and working hours are not imposed: the provider returns busy time only."""
    path = tmp_path / "busy.json"
    doc = {
        "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
        "tz": "Asia/Shanghai",
        "attendees": [
            {"id": "a", "tz": "Europe/Berlin", "working_hours": {"mon": "09:00-10:00"}, "busy": []}
        ],
    }
    path.write_text(json.dumps(doc))
    [a] = JsonProvider().read(
        [Attendee(id=f"json:{path}#a", zone="America/New_York")], WINDOW, "UTC", CONFIG
    )
    assert a == Availability(id=f"json:{path}#a", busy=BusyTable.empty(), covered=a.covered)


def test_errors_are_unknown_with_reason(tmp_path: Path) -> None:
    """Missing file, bad JSON, a bad field, or no such attendee: unknown with a reason, in order."""
    good = _file(tmp_path / "busy.json")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{nope")
    bad_field = tmp_path / "field.json"
    bad_field.write_text(
        json.dumps(
            {
                "window": {"start": "2026-11-23T00:00:00Z", "end": "2026-11-24T00:00:00Z"},
                "attendees": [
                    {"id": "a", "busy": [{"start": "2026-11-23T10:00:00Z", "end": "nope"}]}
                ],
            }
        )
    )
    ids = (
        f"json:{tmp_path / 'missing.json'}#a",
        f"json:{bad_json}#a",
        f"json:{bad_field}#a",
        f"json:{good}#carol",
        f"json:{good}#alice",
        "json:",
    )
    out = _read(*ids)
    assert [a.id for a in out] == list(ids)
    assert [a.known for a in out] == [False, False, False, False, True, False]
    assert "missing.json" in (out[0].error or "")
    assert "not JSON" in (out[1].error or "")
    assert "attendees[0].busy[0].end: expected an RFC 3339 time" in (out[2].error or "")
    assert "'nope'" not in (out[2].error or "")  # file values stay out of reasons
    assert "no attendee 'carol'" in (out[3].error or "")
    assert "alice" not in (out[3].error or "")  # nor the file's other ids


def test_cache_sees_edits(tmp_path: Path) -> None:
    """A changed file (new mtime) is re-read; an unchanged one comes from the cache."""
    path = _file(tmp_path / "busy.json", ("alice",))
    [first] = _read(f"json:{path}#alice")
    [again] = _read(f"json:{path}#alice")
    assert again.busy is first.busy  # same parsed object: cached
    _file(path, ("bob", "alice"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    [after] = _read(f"json:{path}#alice")
    assert after.busy.starts.tolist() == [T0 + 7200]


def test_attendee_defaults_give_the_file_zone_hours_and_name(tmp_path: Path) -> None:
    """``attendee_defaults`` answers each id with its file's zone, working hours and name;
    an attendee without a ``tz`` lives in the file's zone; unreadable ids are left out."""
    path = tmp_path / "busy.json"
    doc = {
        "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
        "tz": "Asia/Shanghai",
        "attendees": [
            {"id": "a", "name": "Anna", "tz": "Europe/Berlin",
             "working_hours": {"mon-fri": "08:00-17:00"}},
            {"id": "b", "working_hours": {"mon": "09:00-10:00"}},
            {"id": "c"},
        ],
    }  # fmt: skip
    path.write_text(json.dumps(doc))
    ids = [f"json:{path}#{x}" for x in ("a", "b", "c", "nobody")] + ["json:missing.json#a"]
    found = JsonProvider().attendee_defaults(ids, CONFIG)
    assert sorted(found) == ids[:3]
    a, b, c = (found[i] for i in ids[:3])
    assert (a.id, a.name, a.zone) == (ids[0], "Anna", "Europe/Berlin")
    assert a.working_hours is not None
    assert a.working_hours.to_spec()["fri"] == ["08:00-17:00"]
    assert b.zone == "Asia/Shanghai"
    assert b.working_hours is not None
    assert b.working_hours.zone == "Asia/Shanghai"
    assert (c.zone, c.working_hours) == ("Asia/Shanghai", None)
