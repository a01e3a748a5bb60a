"""Busy files: parsing to epoch seconds, exact error paths, merging, and the dump round trip."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from slotfinder import times
from slotfinder.busyfile import BusyFile, dump_busy_file, load_busy_file, request_from_busy_file
from slotfinder.errors import InputError
from slotfinder.model import Attendee, Availability, BusyTable, Span, Status, WorkingHours

EXAMPLE: dict[str, Any] = {
    "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
    "tz": "Asia/Shanghai",
    "attendees": [
        {
            "id": "alice",
            "tz": "Asia/Shanghai",
            "optional": False,
            "working_hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
            "busy": [
                {
                    "start": "2026-11-23T10:00:00+08:00",
                    "end": "2026-11-23T11:00:00+08:00",
                    "status": "busy",
                }
            ],
        },
        {
            "id": "bob",
            "busy": [
                {"start": "2026-11-24T01:00:00Z", "end": "2026-11-24T02:30:00Z"},
                {
                    "start": "2026-11-25T09:00:00+08:00",
                    "end": "2026-11-25T10:00:00+08:00",
                    "status": "tentative",
                },
            ],
        },
    ],
}


def _epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def _doc(**changes: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(EXAMPLE))
    doc.update(changes)
    return doc


def _load(doc: object) -> BusyFile:
    return load_busy_file(json.dumps(doc))


def test_design_example_parses_to_epoch_seconds() -> None:
    """The DESIGN.md example gives the window, zone, settings and busy rows as integers."""
    bf = _load(EXAMPLE)
    assert bf.window == Span(
        _epoch("2026-11-23T00:00:00+08:00"), _epoch("2026-11-28T00:00:00+08:00")
    )
    assert bf.zone == "Asia/Shanghai"
    alice, bob = bf.attendees
    assert alice.id == "alice"
    assert alice.zone == "Asia/Shanghai"
    assert alice.working_hours == WorkingHours.parse(
        "Asia/Shanghai", {"mon-fri": ["09:00-12:00", "13:00-18:00"]}
    )
    assert bob.zone is None
    assert bob.working_hours is None
    assert not bob.optional
    table = bf.availability("bob").busy
    assert table.starts.dtype == np.int64
    assert table.starts.tolist() == [
        _epoch("2026-11-24T01:00:00+00:00"),
        _epoch("2026-11-25T09:00:00+08:00"),
    ]
    assert table.status.tolist() == [Status.BUSY.code, Status.TENTATIVE.code]
    assert all(a.covered == bf.window for a in bf.availabilities)


def test_reads_a_path(tmp_path: Path) -> None:
    """A path (str or Path) is read from disk, relative to the current directory."""
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(EXAMPLE))
    assert load_busy_file(path) == load_busy_file(str(path))
    assert load_busy_file(path.read_bytes()).window == load_busy_file(path).window


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    """A file that cannot be read is an InputError naming the path."""
    with pytest.raises(InputError, match="cannot read") as info:
        load_busy_file(tmp_path / "nope.json")
    assert info.value.field == "busy_file"
    assert "nope.json" in str(info.value.value)


def test_fractions_of_a_second_are_floored() -> None:
    """Sub-second parts are truncated toward the past, as everywhere in slotfinder."""
    busy = [{"start": "2026-11-23T10:00:00.999+08:00", "end": "2026-11-23T10:30:00.5+08:00"}]
    doc = _doc(attendees=[{"id": "a", "busy": busy}])
    table = _load(doc).availabilities[0].busy
    assert table.starts.tolist() == [_epoch("2026-11-23T10:00:00+08:00")]
    assert table.ends.tolist() == [_epoch("2026-11-23T10:30:00+08:00")]


def test_zero_length_busy_entry_is_kept() -> None:
    """A zero-length entry is legal (it blocks nothing), unlike an end before the start."""
    t = "2026-11-23T10:00:00+08:00"
    table = (
        _load(_doc(attendees=[{"id": "a", "busy": [{"start": t, "end": t}]}]))
        .availabilities[0]
        .busy
    )
    assert len(table) == 1
    assert table.starts[0] == table.ends[0]


def test_defaults_tz_utc_and_no_attendees() -> None:
    """``tz`` defaults to UTC and ``attendees`` to none; ``busy`` defaults to no entries."""
    bf = _load({"window": EXAMPLE["window"]})
    assert bf.zone == "UTC"
    assert bf.attendees == ()
    bf = _load({"window": EXAMPLE["window"], "attendees": [{"id": "x"}]})
    assert len(bf.availabilities[0].busy) == 0


def test_status_is_case_insensitive() -> None:
    """``"OOF"`` reads as oof, like :meth:`Status.parse`."""
    busy = [{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z", "status": "OOF"}]
    table = _load(_doc(attendees=[{"id": "a", "busy": busy}])).availabilities[0].busy
    assert table.status.tolist() == [Status.OOF.code]


def test_duplicate_attendees_are_merged() -> None:
    """Duplicate ids pool their busy time, required wins, and the first settings win."""
    one = {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"}
    two = {"start": "2026-11-24T10:00:00Z", "end": "2026-11-24T11:00:00Z", "status": "oof"}
    doc = _doc(
        attendees=[
            {"id": "a", "optional": True, "busy": [one]},
            {"id": "b"},
            {
                "id": "a",
                "tz": "Europe/Berlin",
                "working_hours": {"mon": "09:00-10:00"},
                "busy": [two],
            },
            {"id": "a", "tz": "Asia/Tokyo", "optional": True},
        ]
    )
    bf = _load(doc)
    assert [a.id for a in bf.attendees] == ["a", "b"]
    a = bf.attendees[0]
    assert not a.optional
    assert a.zone == "Europe/Berlin"
    assert a.working_hours == WorkingHours.parse("Europe/Berlin", {"mon": "09:00-10:00"})
    assert bf.availability("a").busy.starts.tolist() == [
        _epoch("2026-11-23T10:00:00+00:00"),
        _epoch("2026-11-24T10:00:00+00:00"),
    ]
    assert bf.availability("a").busy.status.tolist() == [Status.BUSY.code, Status.OOF.code]


def test_underscore_keys_are_comments() -> None:
    """Keys starting with ``_`` are ignored at every level."""
    busy = [{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z", "_title": "1:1"}]
    doc = _doc(_comment="generated", attendees=[{"id": "a", "_note": "x", "busy": busy}])
    assert len(_load(doc).availabilities[0].busy) == 1


def test_working_hours_use_the_file_zone_when_the_attendee_has_none() -> None:
    """An attendee without ``tz`` reads working hours in the file's zone."""
    doc = _doc(tz="Europe/Berlin", attendees=[{"id": "a", "working_hours": {"mon": "09:00-17:00"}}])
    wh = _load(doc).attendees[0].working_hours
    assert wh is not None
    assert wh.zone == "Europe/Berlin"


def _bad_time_doc() -> dict[str, Any]:
    good = {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"}
    bad = {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T25:00"}
    return _doc(attendees=[{"id": "a"}, {"id": "b", "busy": [good, good, good, bad]}])


@pytest.mark.parametrize(
    ("doc", "field", "value", "problem"),
    [
        pytest.param(
            _bad_time_doc(), "attendees[1].busy[3].end", "2026-11-23T25:00", "no such time of day"
        ),
        pytest.param([], "busy_file", [], "expected an object", id="not-an-object"),
        pytest.param({"tz": "UTC"}, "window", None, "missing", id="no-window"),
        pytest.param(
            {"window": {"start": "2026-11-23T00:00:00Z"}}, "window.end", None, "missing", id="half"
        ),
        pytest.param(
            {"window": {"start": "2026-11-23T00:00:00", "end": "2026-11-24T00:00:00Z"}},
            "window.start",
            "2026-11-23T00:00:00",
            "no UTC offset",
            id="naive-window",
        ),
        pytest.param(
            {"window": {"start": "2026-11-23T00:00:00Z", "end": "2026-11-23T00:00:00Z"}},
            "window.end",
            "2026-11-23T00:00:00Z",
            "after window.start",
            id="empty-window",
        ),
        pytest.param(_doc(tz="Mars/Olympus"), "tz", "Mars/Olympus", "unknown IANA", id="bad-tz"),
        pytest.param(
            _doc(attendees=[{"id": "a", "tz": "Nowhere"}]),
            "attendees[0].tz",
            "Nowhere",
            "unknown IANA",
            id="bad-attendee-tz",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "working_hours": {"mon": "9-5"}}]),
            "attendees[0].working_hours.mon",
            "9-5",
            "HH:MM-HH:MM",
            id="bad-hours",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "working_hours": {"someday": "09:00-17:00"}}]),
            "attendees[0].working_hours.someday",
            "someday",
            "day names",
            id="bad-day",
        ),
        pytest.param(
            _doc(
                attendees=[
                    {
                        "id": "a",
                        "busy": [
                            {
                                "start": "2026-11-23T10:00:00Z",
                                "end": "2026-11-23T11:00:00Z",
                                "status": "maybe",
                            }
                        ],
                    }
                ]
            ),
            "attendees[0].busy[0].status",
            "maybe",
            "busy, tentative, free, oof",
            id="bad-status",
        ),
        pytest.param(
            _doc(
                attendees=[
                    {
                        "id": "a",
                        "busy": [{"start": "2026-11-23T11:00:00Z", "end": "2026-11-23T10:00:00Z"}],
                    }
                ]
            ),
            "attendees[0].busy[0].end",
            "2026-11-23T10:00:00Z",
            "before its start",
            id="end-before-start",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "busy": [{"start": "2026-11-23T11:00:00Z"}]}]),
            "attendees[0].busy[0].end",
            None,
            "missing",
            id="no-end",
        ),
        pytest.param(
            _doc(
                attendees=[
                    {
                        "id": "a",
                        "busy": [{"start": "2026-11-23T11:00:00+08:00", "end": "2026-11-23"}],
                    }
                ]
            ),
            "attendees[0].busy[0].end",
            "2026-11-23",
            "RFC 3339",
            id="date-only",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "busy": [{"start": 1, "end": 2}]}]),
            "attendees[0].busy[0].start",
            1,
            "RFC 3339",
            id="number-time",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "busy": {"start": "x"}}]),
            "attendees[0].busy",
            {"start": "x"},
            "list",
            id="busy-not-list",
        ),
        pytest.param(
            _doc(attendees=[{"tz": "UTC"}]), "attendees[0].id", None, "non-empty", id="no-id"
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "optional": "yes"}]),
            "attendees[0].optional",
            "yes",
            "true or false",
            id="optional-not-bool",
        ),
        pytest.param(_doc(attendee=[]), "attendee", [], "unknown key", id="unknown-top-key"),
        pytest.param(
            _doc(attendees=[{"id": "a", "name": 7}]),
            "attendees[0].name",
            7,
            "display name",
            id="name-not-str",
        ),
        pytest.param(
            _doc(attendees=[{"id": "a", "working_hour": {}}]),
            "attendees[0].working_hour",
            {},
            "unknown key",
            id="unknown-attendee-key",
        ),
        pytest.param(
            _doc(
                attendees=[
                    {
                        "id": "a",
                        "busy": [
                            {
                                "start": "2026-11-23T10:00:00Z",
                                "end": "2026-11-23T11:00:00Z",
                                "title": "x",
                            }
                        ],
                    }
                ]
            ),
            "attendees[0].busy[0].title",
            "x",
            "unknown key",
            id="unknown-busy-key",
        ),
    ],
)
def test_errors_name_path_value_and_rule(
    doc: object, field: str, value: object, problem: str
) -> None:
    """Every refusal is an InputError whose field is the JSON path, with the value and rule."""
    with pytest.raises(InputError) as info:
        _load(doc)
    assert info.value.field == field
    assert info.value.value == value
    assert problem in info.value.problem


def test_brief_example_message() -> None:
    """The message reads ``path=value: problem``, as the CLI prints it."""
    with pytest.raises(InputError) as info:
        _load(_bad_time_doc())
    assert str(info.value).startswith(
        "attendees[1].busy[3].end='2026-11-23T25:00': no such time of day"
    )


def test_not_json() -> None:
    """Text that is not JSON is refused with the decoder's position."""
    with pytest.raises(InputError, match="not JSON") as info:
        load_busy_file('{"window": ')
    assert info.value.field == "busy_file"


@pytest.mark.parametrize(
    "source",
    [b"[" * 100_000, "[" * 100_000, "busy\x00.json"],
    ids=["deep-bytes", "deep-text", "nul-path"],
)
def test_hostile_input_is_an_input_error(source: str | bytes) -> None:
    """Deeply nested JSON and a NUL byte in a path are InputErrors, not Recursion/ValueErrors."""
    with pytest.raises(InputError) as info:
        load_busy_file(source)
    assert info.value.field == "busy_file"


def test_request_from_busy_file() -> None:
    """The helper builds a MeetingRequest from the file, with options passed through."""
    bf = _load(EXAMPLE)
    req = request_from_busy_file(bf, 1800, granularity=600, order="start")
    assert req.window == bf.window
    assert req.zone == "Asia/Shanghai"
    assert req.attendees == bf.attendees
    assert (req.duration, req.granularity, req.order) == (1800, 600, "start")
    other = Span(bf.window.start, bf.window.start + 86_400)
    assert request_from_busy_file(bf, 1800, window=other).window == other


def test_mismatched_busyfile_is_refused() -> None:
    """BusyFile insists attendees and availabilities name the same ids in order."""
    with pytest.raises(InputError, match="same ids"):
        BusyFile(
            window=Span(0, 10),
            zone="UTC",
            attendees=(Attendee(id="a"),),
            availabilities=(Availability(id="b"),),
        )


ZONES = ["UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Asia/Kolkata"]
T0 = 1_790_000_000  # 2026-09-21


@st.composite
def busy_files(draw: st.DrawFn) -> tuple[Span, str, list[Attendee], list[Availability]]:
    zone = draw(st.sampled_from(ZONES))
    start = T0 + draw(st.integers(0, 400)) * 3600
    window = Span(start, start + draw(st.integers(1, 30 * 86_400)))
    ids = draw(st.lists(st.text("abcxyz#:/._-", min_size=1, max_size=8), unique=True, max_size=4))
    attendees, avails = [], []
    for ident in ids:
        az = draw(st.none() | st.sampled_from(ZONES))
        wh = None
        if draw(st.booleans()):
            wh = WorkingHours.parse(az or zone, {"mon-fri": ["09:00-12:00", "22:00-02:00"]})
        name = draw(st.none() | st.text(max_size=5))
        attendees.append(
            Attendee(id=ident, optional=draw(st.booleans()), zone=az, working_hours=wh, name=name)
        )
        rows = draw(
            st.lists(
                st.tuples(
                    st.integers(-86_400, 40 * 86_400),
                    st.integers(0, 86_400),
                    st.sampled_from([s.code for s in Status]),
                ),
                max_size=20,
            )
        )
        avails.append(
            Availability(
                id=ident,
                busy=BusyTable.from_rows((T0 + s, T0 + s + d, c) for s, d, c in rows),
                covered=window,
            )
        )
    return window, zone, attendees, avails


@given(busy_files())
def test_dump_load_round_trip(case: tuple[Span, str, list[Attendee], list[Availability]]) -> None:
    """``load_busy_file(dump_busy_file(...))`` gives the same window, zone, settings and rows."""
    window, zone, attendees, avails = case
    bf = load_busy_file(dump_busy_file(window, zone, attendees, avails, indent=1))
    assert bf.window == window
    assert bf.zone == zone
    assert list(bf.attendees) == attendees
    assert list(bf.availabilities) == avails


def test_dump_writes_path(tmp_path: Path) -> None:
    """``path=`` writes the same text that is returned, and unknown availabilities are refused."""
    path = tmp_path / "out.json"
    text = dump_busy_file(Span(T0, T0 + 3600), "UTC", [Attendee(id="a")], path=path)
    assert path.read_text() == text
    with pytest.raises(InputError, match="no attendee"):
        dump_busy_file(Span(T0, T0 + 3600), "UTC", [], [Availability(id="z")])


@pytest.mark.parametrize(
    ("text", "same_as"),
    [
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00Z"),
        ("2026-11-23T24:00+08:00", "2026-11-24T00:00:00+08:00"),
        ("2026-11-23 10:00:00.75+0800", "2026-11-23T10:00:00+08:00"),
        ("2026-11-23t10:00+08", "2026-11-23T10:00:00+08:00"),
    ],
)
def test_busy_times_follow_the_time_reader_rules(text: str, same_as: str) -> None:
    """Leap seconds, 24:00, fractions and offset spellings read as slotfinder.times reads them."""
    entry = {"start": text, "end": text}
    bf = _load(_doc(attendees=[{"id": "a", "busy": [entry]}]))
    assert bf.availabilities[0].busy.starts.tolist() == [times.instant(same_as)]


def test_not_json_gives_a_position_not_the_text() -> None:
    """A decoding error names line and column, never the text around it."""
    with pytest.raises(InputError) as info:
        load_busy_file('{"window": s3cr3t}')
    assert "line 1 column 12" in str(info.value)
    assert "s3cr3t" not in str(info.value)
