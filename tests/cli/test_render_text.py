"""The plain-text table and the terminal timeline: widths, rows, markers, legend, explanation."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import attrs
import numpy as np
import pytest
from render_example import example_result

from slotfinder.model import (
    Attendee,
    Availability,
    Busy,
    MeetingRequest,
    Reason,
    Span,
    Status,
    Suggestion,
    SuggestionResult,
    Unknown,
    WorkingHours,
)
from slotfinder.render._common import Person, text_width
from slotfinder.render._grid import classify
from slotfinder.render.table import render_table
from slotfinder.render.timeline import render_timeline

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SH = ZoneInfo("Asia/Shanghai")


def _t(*args: int, tz: ZoneInfo = SH) -> int:
    return int(datetime(*args, tzinfo=tz).timestamp())  # type: ignore[misc]


def _widest(text: str) -> int:
    return max(text_width(ANSI.sub("", line)) for line in text.splitlines())


def _block(text: str, day: str) -> list[str]:
    """The lines of one day's block of a timeline, from its title to the blank line after it."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.startswith(day))
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def _row(block: list[str], label: str) -> str:
    """The cells of the row whose label starts with ``label``."""
    line = next(ln for ln in block if ln.startswith(label))
    return line.split("│")[1]


def _cjk_result() -> SuggestionResult:
    """Attendees with wide (CJK) names and reasons, to check widths in columns, not code points."""
    names = ("feishu:ou_张伟张伟张伟张伟张伟张伟", "dingtalk:李娜李娜李娜李娜李娜")
    start = _t(2026, 11, 23, 10)
    request = MeetingRequest(
        attendees=tuple(Attendee(id=n, zone="Asia/Shanghai") for n in names),
        window=Span(_t(2026, 11, 23), _t(2026, 11, 24)),
        duration=3600,
        zone="Asia/Shanghai",
    )
    slot = Suggestion(start=start, end=start + 3600, score=1.0, available=names)
    return SuggestionResult(
        slots=(slot,),
        periods=(Span(start, start + 7200),),
        unknown=(Unknown(id=names[1], reason="无法读取日历：" + "权限不足" * 20),),
        request=request,
        availabilities=tuple(Availability.of(n) for n in names),
    )


# ---- table ---------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [100, 80, 60])
def test_table_fits_width(width: int) -> None:
    """Every table line fits the requested width, with and without slots."""
    for result in (example_result(), example_result(empty=True), _cjk_result()):
        assert _widest(render_table(result, width=width, stats=True)) <= width


def test_table_never_exceeds_100_columns() -> None:
    """A wider terminal still gets at most 100 columns."""
    assert _widest(render_table(_cjk_result(), width=300, stats=True)) <= 100


def test_table_lists_every_slot_with_times_in_request_zone() -> None:
    """Each ranked slot has a row with its rank, local time in the request zone, score and room."""
    result = example_result()
    text = render_table(result)
    for rank, slot in enumerate(result.slots, 1):
        start = datetime.fromtimestamp(slot.start, SH).strftime("%H:%M")
        row = next(ln for ln in text.splitlines() if re.match(rf"\s*{rank}  [A-Z][a-z]{{2}} ", ln))
        assert start in row
        assert f"{slot.score:.2f}" in row
        assert "feishu:omm_room1" in row
    assert "times in Asia/Shanghai" in text


def test_table_shows_local_times_and_status_for_top_slots() -> None:
    """Under the top slots everyone appears grouped by status, at their own local time."""
    text = render_table(example_result(), detail=3)
    lines = text.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("1 "))
    block = "\n".join(lines[first : first + 4])
    assert "free" in block
    assert "feishu:ou_alice 16:00 Asia/Shanghai" in block
    assert "dingtalk:bob 09:00 Europe/Berlin" in block
    assert re.search(r"off hours\s+json:team.json#carol 03:00 America/New_York", block)
    assert re.search(r"unknown\s+dingtalk:dave 16:00 Asia/Shanghai", block)
    assert text.count("dingtalk:bob 1") + text.count("dingtalk:bob 0") == 3  # top 3 only


def test_table_lists_unknown_attendees_with_reason() -> None:
    """Unreadable calendars are listed with their reason, as never counted free."""
    text = render_table(example_result())
    assert "never as free" in text
    assert "dingtalk:dave - DingTalk 403: the app may not read this user's calendar" in text


def test_table_stats_line_only_when_asked() -> None:
    """``stats=True`` adds one call-statistics line with the retries."""
    assert "calls:" not in render_table(example_result())
    text = render_table(example_result(), stats=True)
    line = next(ln for ln in text.splitlines() if ln.startswith("calls:"))
    assert "dingtalk/schedule_query 3" in line
    assert "retries 1" in line


def test_table_explains_an_empty_result() -> None:
    """With no slot the table prints the reasons, the closest alternative and the next slot."""
    text = render_table(example_result(empty=True))
    assert "No slot fits the request" in text
    assert "[busy_whole_window] feishu:ou_alice is busy for the whole window" in text
    assert "[unknown_attendees]" in text
    assert "Closest alternatives" in text
    assert "Mon 23 Nov 15:00–15:30" in text
    assert "First slot after the window: Mon 30 Nov 2026 15:00–15:30" in text


# ---- timeline ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [100, 80, 60])
def test_timeline_fits_width(width: int) -> None:
    """Every timeline line fits the width, colour escapes excluded."""
    for result in (example_result(), example_result(empty=True), _cjk_result()):
        for color in (False, True):
            assert _widest(render_timeline(result, width=width, color=color)) <= width


def test_timeline_has_a_row_per_attendee_and_room_each_day() -> None:
    """Each drawn day has one row per attendee and room plus the summary rows."""
    result = example_result()
    text = render_timeline(result)
    for day in ("Mon 2026-11-23", "Wed 2026-11-25"):
        block = _block(text, day)
        labels = [ln.split("│")[0].strip() for ln in block if "│" in ln]
        assert len(labels) == 4 + 1 + 2  # attendees, the room, "free for all", "slots"
        for who in ("feishu:ou_alice", "dingtalk:bob", "dingtalk:dave", "feishu:omm_room1 (room)"):
            assert who in labels
        assert any(lbl.endswith("(opt)") for lbl in labels)


def test_timeline_marks_slots_by_rank_under_the_right_hours() -> None:
    """The slot row shows rank 1 under 16:00 on Monday, where the top slot starts."""
    text = render_timeline(example_result())
    block = _block(text, "Mon 2026-11-23")
    axis = block[1]
    marks_line = next(ln for ln in block if ln.startswith("slots"))
    col_16 = axis.index("16")
    assert marks_line[col_16] == "1"
    assert "Top slots: 1 Mon 23 Nov 16:00–16:30" in text


def test_timeline_cells_show_busy_tentative_unknown_outside() -> None:
    """Alice's busy hour, her tentative half hour, Dave's unknown row and lunch show their marks."""
    text = render_timeline(example_result())
    mon, wed = _block(text, "Mon 2026-11-23"), _block(text, "Wed 2026-11-25")
    # 15-minute cells from 09:00: 15:00 is cell 24, 12:00 is cell 12.
    alice_mon = _row(mon, "feishu:ou_alice")
    assert alice_mon[24:28] == "████"
    assert alice_mon[12:16] == "----"
    assert alice_mon[0:12] == "·" * 12
    assert _row(wed, "feishu:ou_alice")[28:30] == "▒▒"
    assert set(_row(mon, "dingtalk:dave")) == {"?"}


def test_timeline_legend_and_ascii_mode() -> None:
    """The legend names every mark; ``ascii=True`` uses only ASCII marks."""
    text = render_timeline(example_result())
    for item in ("█ busy", "▒ tentative", "· free", "- outside working hours", "? unknown"):
        assert item in text
    plain = render_timeline(example_result(), ascii=True)
    assert "# busy" in plain
    assert "~ tentative" in plain
    cells = "".join(ln.split("│")[1] for ln in plain.splitlines() if ln.count("│") == 2)
    assert cells.isascii()


def test_timeline_colour_only_adds_escapes() -> None:
    """With ``color=True`` the text minus ANSI escapes equals the plain rendering."""
    plain = render_timeline(example_result())
    coloured = render_timeline(example_result(), color=True)
    assert "\x1b[" not in plain
    assert "\x1b[31m" in coloured
    assert ANSI.sub("", coloured) == plain


def test_timeline_explains_an_empty_result() -> None:
    """With no slot the closest alternatives are listed and marked on an ``alternatives`` row."""
    text = render_timeline(example_result(empty=True))
    assert "No slot fits the request" in text
    assert "Closest alternatives: 1 Mon 23 Nov 15:00–15:30" in text
    block = _block(text, "Mon 2026-11-23")
    assert "1" in _row(block, "alternatives")


def test_long_window_shows_only_days_with_top_slots() -> None:
    """Over a four-week window only the days holding top slots are drawn, at most ``max_days``."""
    wh = WorkingHours.parse("Asia/Shanghai", {"mon-fri": "09:00-18:00"})
    request = MeetingRequest(
        attendees=(Attendee(id="ann", zone="Asia/Shanghai", working_hours=wh),),
        window=Span(_t(2026, 11, 2), _t(2026, 11, 30)),
        duration=3600,
        zone="Asia/Shanghai",
    )
    days = [(2026, 11, 18), (2026, 11, 5), (2026, 11, 25), (2026, 11, 10)]
    slots = tuple(
        Suggestion(start=_t(*d, 10), end=_t(*d, 11), score=1 - i / 10, available=("ann",))
        for i, d in enumerate(days)
    )
    result = SuggestionResult(
        slots=slots, periods=(), request=request, availabilities=(Availability.of("ann"),)
    )
    text = render_timeline(result, max_days=3)
    titles = [ln.split(" · ")[0] for ln in text.splitlines() if " · Asia/Shanghai · " in ln]
    assert titles == ["Thu 2026-11-05", "Wed 2026-11-18", "Wed 2026-11-25"]
    assert "(showing 3 of 28 days: the days with the top slots)" in text


def test_timeline_across_spring_forward() -> None:
    """On New York's spring-forward day the axis skips 02 and the row still fits."""
    ny = ZoneInfo("America/New_York")
    request = MeetingRequest(
        attendees=(Attendee(id="ann"),),
        window=Span(_t(2026, 3, 8, tz=ny), _t(2026, 3, 9, tz=ny)),
        duration=3600,
        zone="America/New_York",
    )
    result = SuggestionResult(
        slots=(), periods=(), request=request, availabilities=(Availability.of("ann"),)
    )
    text = render_timeline(result, width=100)
    block = _block(text, "Sun 2026-03-08")
    axis = block[1].split()
    assert "01" in axis
    assert "02" not in axis
    assert "03" in axis
    assert _widest(text) <= 100


# ---- the cell rule -------------------------------------------------------------------------


def _person(busy: list[Busy], wh: WorkingHours | None = None, **kw: Span) -> Person:
    av = Availability.of("p", busy, covered=kw.get("covered"))
    return Person(Attendee(id="p", working_hours=wh), "required", "UTC", av)


def _cells(*pairs: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([p[0] for p in pairs], dtype=np.int64)
    b = np.array([p[1] for p in pairs], dtype=np.int64)
    return a, b


def test_cell_rule_half_open_and_priority() -> None:
    """A busy entry ending at a cell's start leaves it free; busy beats tentative beats outside."""
    busy = [
        Busy(span=Span(0, 600), status=Status.BUSY),
        Busy(span=Span(1200, 1500), status=Status.TENTATIVE),
        Busy(span=Span(1400, 1500), status=Status.OOF),
        Busy(span=Span(1800, 1900), status=Status.TENTATIVE),
        Busy(span=Span(2400, 2500), status=Status.FREE),
    ]
    a, b = _cells((600, 1200), (1200, 1800), (1800, 2400), (2400, 3000), (0, 600))
    assert classify(_person(busy), a, b) == ("free", "busy", "tentative", "free", "busy")


def test_cell_rule_working_hours_and_coverage() -> None:
    """Part of a cell outside working hours is ``outside``; outside the covered span ``unknown``."""
    wh = WorkingHours.parse("UTC", {"thu": "00:30-01:00"})  # 1970-01-01 was a Thursday
    a, b = _cells((1800, 2400), (1500, 2100), (3600, 4200))
    assert classify(_person([], wh), a, b) == ("free", "outside", "outside")
    covered = _person([], covered=Span(0, 2100))
    assert classify(covered, a, b) == ("unknown", "free", "unknown")
    unreadable = Person(Attendee(id="x"), "required", "UTC", Availability.unknown("x", "403"))
    assert classify(unreadable, a, b) == ("unknown",) * 3


# ---- with the real engine, and the import rule ----------------------------------------------


def test_engine_result_renders_within_width() -> None:
    """A result straight from ``find_slots`` renders as table and timeline within 100 columns."""
    engine = pytest.importorskip("slotfinder.engine")
    example = example_result()
    assert example.request is not None
    result = engine.find_slots(example.availabilities, example.request)
    assert result.slots
    table = render_table(result, stats=True)
    timeline = render_timeline(result, color=True)
    assert _widest(table) <= 100
    assert _widest(timeline) <= 100
    for rank in range(1, len(result.slots) + 1):
        assert re.search(rf"^\s*{rank}  [A-Z][a-z]{{2}} ", table, flags=re.M)
    assert "Top slots: 1 " in ANSI.sub("", timeline)


def test_render_modules_import_no_aiohttp_and_no_plugin() -> None:
    """The renderers import neither aiohttp nor any provider plugin (they draw, never fetch)."""
    import ast
    from pathlib import Path

    import slotfinder.render

    folder = Path(slotfinder.render.__file__).parent
    for path in sorted(folder.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                assert top != "aiohttp", f"{path.name} imports {name}"
                assert not top.startswith("slotfinder_"), f"{path.name} imports plugin {name}"
                assert name not in ("slotfinder.fetch", "slotfinder.api"), path.name


# ---- labels that say what is true -----------------------------------------------------------


def test_outside_working_hours_is_not_busy_in_the_table() -> None:
    """Someone whose slot falls outside their working hours (no event) is listed 'off hours'
    and counted in the 'out' column, never as busy."""
    text = render_table(example_result(), detail=1)
    head = next(ln for ln in text.splitlines() if ln.lstrip().startswith("#"))
    assert re.search(r"tent\s+busy\s+out\s+unkn", head)
    first = next(ln for ln in text.splitlines() if ln.lstrip().startswith("1 "))
    assert re.search(r"2/4\s+0\s+0\s+1\s+1", first)
    assert "busy       json:team.json#carol" not in text
    assert "off hours  json:team.json#carol" in text


def _named_empty() -> SuggestionResult:
    """The no-slot example with display names, a notice of ten days and an unknown room."""
    result = example_result(empty=True)
    req = result.request
    assert req is not None
    assert result.explanation is not None
    named = [attrs.evolve(a, name=a.id.split(":")[1].title()) for a in req.attendees]
    room = attrs.evolve(req.rooms[0], name="Blue Room")
    request = attrs.evolve(req, attendees=named, rooms=[room], min_notice=10 * 86_400)
    reasons = (
        *result.explanation.reasons,
        Reason("min_notice", "every fitting slot starts within the 240h notice"),
    )
    return attrs.evolve(
        result,
        request=request,
        explanation=attrs.evolve(result.explanation, reasons=reasons),
        unknown=(*result.unknown, Unknown(id=room.id, reason="403 no access")),
    )


def test_explanations_use_names_and_days() -> None:
    """Reasons name people by their configured names, durations of whole days read in days
    (``--min-notice 10d`` comes back as 10d), and unknown people and rooms are named."""
    text = render_table(_named_empty())
    assert "(Ou_Alice)" in text
    assert "(feishu:ou_alice)" not in text.split("Could not read")[0]
    assert "within the 10d notice" in text
    assert "240h" not in text
    assert "Blue Room (feishu:omm_room1) (room) - 403 no access" in text
    assert "Dave (dingtalk:dave) -" in text


def test_free_for_everyone_lists_only_periods_that_hold_the_meeting() -> None:
    """Periods shorter than the meeting or before now + notice are left out; a quorum says so."""
    day = _t(2026, 11, 23)
    request = MeetingRequest(
        attendees=(Attendee("a"), Attendee("b"), Attendee("c")),
        window=Span(day, day + 86_400),
        duration=3600,
        zone="Asia/Shanghai",
        min_notice=3 * 3600,
        now=day + 8 * 3600,
        quorum=2,
    )
    periods = (
        Span(day + 9 * 3600, day + 12 * 3600),  # only 11:00-12:00 is after the notice
        Span(day + 13 * 3600, day + 13 * 3600 + 1800),  # too short for an hour
        Span(day + 15 * 3600, day + 17 * 3600),
    )
    result = SuggestionResult(slots=(), periods=periods, request=request)
    text = render_table(result)
    line = next(ln for ln in text.splitlines() if ln.startswith("Free for"))
    assert line.startswith("Free for at least 2 of 3 required: ")
    assert "Mon 23 Nov 11:00–12:00 · Mon 23 Nov 15:00–17:00" in line
    assert "13:00" not in text
    assert "free for 2 of 3" in render_timeline(result)


def _fold_result() -> SuggestionResult:
    """Two slots at 01:30 New York time on 1 Nov 2026, when clocks go back: EDT, then EST."""
    ny = ZoneInfo("America/New_York")
    day = _t(2026, 11, 1, tz=ny)
    first, second = day + 5400, day + 9000  # 01:30 -04:00, then 01:30 -05:00
    request = MeetingRequest(
        attendees=(Attendee("ann", zone="America/New_York"),),
        window=Span(day, day + 86_400),
        duration=1800,
        zone="America/New_York",
        order="start",
    )
    slots = tuple(
        Suggestion(start=t, end=t + 1800, score=1.0, available=("ann",)) for t in (first, second)
    )
    return SuggestionResult(
        slots=slots,
        periods=(Span(day, day + 86_400),),
        request=request,
        availabilities=(Availability.of("ann"),),
    )


def test_repeated_local_times_show_their_offset() -> None:
    """On the day clocks go back, table and timeline rows say which 01:30 is meant."""
    result = _fold_result()
    table = render_table(result)
    rows = [ln for ln in table.splitlines() if re.match(r"\s+[12]\s", ln)]
    assert "Sun 01 Nov 01:30 (-04:00)–01:00 (-05:00)" in rows[0]
    assert "Sun 01 Nov 01:30 (-05:00)–02:00" in rows[1]
    assert "ann 01:30 (-04:00) America/New_York" in table
    timeline = render_timeline(result)
    assert "1 Sun 01 Nov 01:30 (-04:00)–01:00 (-05:00)" in timeline
    assert "01:00–02:00 happens twice (-04:00, then -05:00)" in timeline
    assert "(-0" not in render_table(example_result())  # ordinary days stay as they were
