"""The HTML report: self-contained, escaped, and drawn by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import attrs
import paths
import pytest
from render_example import example_result

from slotfinder.model import (
    Attendee,
    Availability,
    MeetingRequest,
    Span,
    Suggestion,
    SuggestionResult,
    Unknown,
)
from slotfinder.render.html import render_html
from slotfinder.render.json import to_json

Tag = tuple[str, dict[str, str]]

# Appended by the test only (the report itself needs no script): marks each element of interest
# with data-drawn="1" when the browser laid it out with a visible, non-empty box, and records
# the computed background of one cell per state so shading can be compared.
PROBE = """<script>
(function () {
  var sel = 'tr.attendee, tr.room, li.slot, td[data-slot], section.explanation, li.reason';
  document.querySelectorAll(sel).forEach(function (el) {
    var r = el.getBoundingClientRect(), st = getComputedStyle(el);
    var ok = r.width > 0 && r.height > 0 && st.visibility !== 'hidden' && st.display !== 'none';
    el.setAttribute('data-drawn', ok ? '1' : '0');
  });
  ['free', 'busy', 'tentative', 'unknown', 'outside'].forEach(function (state) {
    var td = document.querySelector('td.cell.' + state);
    if (td) {
      var st = getComputedStyle(td);
      document.body.setAttribute('data-bg-' + state, st.backgroundColor + ' ' + st.backgroundImage);
    }
  });
  document.body.setAttribute('data-probed', '1');
})();
</script>"""


class _Tags(HTMLParser):
    """Every start tag with its attributes, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[Tag] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(html: str) -> list[Tag]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _with_class(tags: list[Tag], tag: str, cls: str) -> list[dict[str, str]]:
    return [a for t, a in tags if t == tag and cls in a.get("class", "").split()]


def _chromium() -> str | None:
    for name in (os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser"):
        if name and (path := shutil.which(name)):
            return path
    return None


def _dump_dom(html: str, tmp_path: Path) -> list[Tag]:
    """Open ``html`` plus the probe in headless Chromium and parse the DOM it ends with."""
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not found on PATH (scripts/ensure-debian installs it)")
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    cmd = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1280,1600",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--dump-dom",
        page.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    tags = _tags(proc.stdout)
    body = next(a for t, a in tags if t == "body")
    assert body.get("data-probed") == "1", "the probe did not run: " + proc.stderr[-2000:]
    return tags


# ---- static checks (no browser) ------------------------------------------------------------


def test_report_is_self_contained() -> None:
    """No external scripts, styles, images or links: one file that works offline."""
    for result in (example_result(), example_result(empty=True)):
        html = render_html(result)
        tags = _tags(html)
        assert html.startswith("<!DOCTYPE html>")
        assert not [t for t, _ in tags if t in ("script", "link", "img", "iframe")]
        assert not [a for _, a in tags if "src" in a or "href" in a]
        assert "http://" not in html
        assert "https://" not in html
        assert "<style>" in html


def test_slots_and_rows_have_stable_hooks() -> None:
    """Each slot is an ``li.slot`` with RFC 3339 ``data-start``; each day has a row per person."""
    result = example_result()
    tags = _tags(render_html(result))
    slots = _with_class(tags, "li", "slot")
    assert [s["data-start"] for s in slots] == [s["start"] for s in to_json(result)["slots"]]
    assert [s["data-rank"] for s in slots] == [str(i) for i in range(1, len(result.slots) + 1)]
    days = _with_class(tags, "section", "day")
    assert [d["data-day"] for d in days] == [f"2026-11-{d}" for d in range(23, 28)]
    attendees = [a.id for a in result.request.attendees] if result.request else []
    rows = _with_class(tags, "tr", "attendee")
    assert [r["data-id"] for r in rows] == attendees * len(days)
    assert [r["data-id"] for r in _with_class(tags, "tr", "room")] == ["feishu:omm_room1"] * 5
    marked = {a["data-slot"] for t, a in tags if t == "td" and "data-slot" in a}
    assert marked == {str(i) for i in range(1, len(result.slots) + 1)}


def test_each_slot_lists_everyone_in_their_local_time() -> None:
    """Inside a slot, each person has an ``li.who`` with their state and their own zone's time."""
    html = render_html(example_result())
    first = html[html.index('<li class="slot"') : html.index("</li></ul></li>") + 15]
    tags = _tags(first)
    who = {a["data-id"]: a["data-state"] for a in _with_class(tags, "li", "who")}
    assert who == {
        "feishu:ou_alice": "free",
        "dingtalk:bob": "free",
        "json:team.json#carol": "outside",  # 03:00 in New York: no event, off hours
        "dingtalk:dave": "unknown",
    }
    assert "Mon 09:00–09:30" in first  # bob, Europe/Berlin
    assert "Mon 03:00–03:30" in first  # carol, America/New_York
    times = [a["datetime"] for t, a in tags if t == "time"]
    assert "2026-11-23T09:00:00+01:00" in times


def test_empty_result_shows_the_explanation() -> None:
    """With nothing fitting, the report explains why and shows alternatives and the next slot."""
    tags = _tags(render_html(example_result(empty=True)))
    assert not _with_class(tags, "li", "slot")
    assert _with_class(tags, "section", "explanation")
    codes = [a["data-code"] for a in _with_class(tags, "li", "reason")]
    assert codes == ["busy_whole_window", "unknown_attendees"]
    assert _with_class(tags, "li", "alternative")
    nxt = _with_class(tags, "p", "next-after-window")
    assert nxt[0]["data-start"] == "2026-11-30T15:00:00+08:00"


def test_unknown_and_call_statistics_are_listed() -> None:
    """Unreadable calendars and every provider endpoint's call count appear."""
    result = example_result()
    tags = _tags(render_html(result))
    assert [a["data-id"] for a in _with_class(tags, "li", "unknown-id")] == ["dingtalk:dave"]
    assert [a["data-endpoint"] for a in _with_class(tags, "tr", "call")] == sorted(result.calls)


def test_everything_is_escaped() -> None:
    """Ids and reasons full of markup come out as text, never as tags or broken attributes."""
    evil = '<script>alert("x")</script>&"'
    request = MeetingRequest(
        attendees=(Attendee(id=evil),),
        window=Span(0, 86_400),
        duration=3600,
    )
    result = SuggestionResult(
        slots=(Suggestion(start=3600, end=7200, score=1.0, unknown=(evil,), room=evil),),
        periods=(),
        unknown=(Unknown(id=evil, reason=evil),),
        request=request,
        availabilities=(Availability.unknown(evil, evil),),
        calls={evil: 1},
    )
    html = render_html(result, title=evil)
    assert "<script>" not in html
    tags = _tags(html)
    assert [a["data-id"] for a in _with_class(tags, "tr", "attendee")] == [evil]
    assert _with_class(tags, "li", "slot")[0]["data-room"] == evil


# ---- in the browser ------------------------------------------------------------------------


@pytest.mark.slow
def test_chromium_draws_every_attendee_row_and_slot(tmp_path: Path) -> None:
    """Headless Chromium lays out a visible row per attendee and room each day, and every slot."""
    result = example_result()
    tags = _dump_dom(render_html(result), tmp_path)
    assert result.request is not None
    days = _with_class(tags, "section", "day")
    rows = _with_class(tags, "tr", "attendee")
    assert sorted(r["data-id"] for r in rows) == sorted(
        [a.id for a in result.request.attendees] * len(days)
    )
    rooms = _with_class(tags, "tr", "room")
    assert len(rooms) == len(days)
    slots = _with_class(tags, "li", "slot")
    assert [s["data-start"] for s in slots] == [s["start"] for s in to_json(result)["slots"]]
    highlighted = [a for t, a in tags if t == "td" and "data-slot" in a]
    assert highlighted
    for el in [*rows, *rooms, *slots, *highlighted]:
        assert el.get("data-drawn") == "1", el
    body = next(a for t, a in tags if t == "body")
    shades = [body[f"data-bg-{s}"] for s in ("free", "busy", "tentative", "unknown", "outside")]
    assert len(set(shades)) == 5, shades


@pytest.mark.slow
def test_chromium_draws_the_explanation(tmp_path: Path) -> None:
    """With no slot, Chromium draws the explanation, its reasons and still every attendee row."""
    result = example_result(empty=True)
    tags = _dump_dom(render_html(result), tmp_path)
    assert not _with_class(tags, "li", "slot")
    sections = _with_class(tags, "section", "explanation")
    reasons = _with_class(tags, "li", "reason")
    assert len(reasons) == 2
    rows = _with_class(tags, "tr", "attendee")
    assert rows
    for el in [*sections, *reasons, *rows]:
        assert el.get("data-drawn") == "1", el


@pytest.mark.slow
def test_chromium_draws_an_engine_result(tmp_path: Path) -> None:
    """A result straight from ``find_slots`` is drawn with every attendee row and every slot."""
    engine = pytest.importorskip("slotfinder.engine")
    example = example_result()
    assert example.request is not None
    result = engine.find_slots(example.availabilities, example.request)
    assert result.slots
    tags = _dump_dom(render_html(result), tmp_path)
    days = _with_class(tags, "section", "day")
    rows = _with_class(tags, "tr", "attendee")
    assert len(rows) == len(example.request.attendees) * len(days)
    slots = _with_class(tags, "li", "slot")
    assert [s["data-start"] for s in slots] == [s["start"] for s in to_json(result)["slots"]]
    assert all(el.get("data-drawn") == "1" for el in [*rows, *slots])


# ---- what the report says is true ------------------------------------------------------------


def _columns(section: str) -> int:
    """Cell columns in one day's hour header (the label column left out)."""
    head = section[section.index("<thead>") : section.index("</thead>")]
    return sum(int(n) for n in re.findall(r'<th colspan="(\d+)"', head))


def test_every_day_covers_the_same_hours() -> None:
    """Each day's grid has the same columns, even when the window cuts a day short, so the
    days drawn one under the other line up."""
    result = example_result()
    assert result.request is not None
    late = attrs.evolve(
        result.request,
        window=Span(result.request.window.start + 16 * 3600, result.request.window.end),
    )
    for r in (result, attrs.evolve(result, request=late)):
        html = render_html(r)
        days = html.split('<section class="day"')[1:]
        assert len(days) == 5
        assert len({_columns(d) for d in days}) == 1


def test_chips_agree_with_the_grid_and_name_people() -> None:
    """A person outside their working hours is 'outside working hours' in the slot's chip, as in
    the grid's cell; configured names replace ids in chips, reasons, rooms and unknowns."""
    result = example_result()
    assert result.request is not None
    named = [attrs.evolve(a, name=a.id.split(":")[1].upper()) for a in result.request.attendees]
    room = attrs.evolve(result.request.rooms[0], name="Blue Room")
    request = attrs.evolve(result.request, attendees=named, rooms=[room])
    html = render_html(attrs.evolve(result, request=request))
    first = html[html.index('<li class="slot"') : html.index("</li></ul></li>")]
    assert 'data-state="outside"' in first
    assert "<b>TEAM.JSON#CAROL</b> outside working hours" in first
    assert "busy" not in first
    assert "room Blue Room" in first
    assert "<b>DAVE</b> <small>dingtalk:dave</small>" in html


def test_each_day_says_why_nothing_fits() -> None:
    """With no slot, every drawn day carries a 'why not' line naming who blocks it."""
    html = render_html(example_result(empty=True))
    days = html.split('<section class="day"')[1:]
    assert days
    for day in days:
        assert '<p class="why-not">Why not this day: feishu:ou_alice (no free 30 min)' in day


@pytest.mark.slow
def test_chromium_screenshot_of_the_report() -> None:
    """Headless Chromium draws the report and the no-slot report to PNGs kept under reports/
    for people to look at (the days' columns line up, the legend shows the slot outline)."""
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not found on PATH (scripts/ensure-debian installs it)")
    out = paths.ROOT / "reports"
    out.mkdir(exist_ok=True)
    for name, result in (
        ("report", example_result()),
        ("report-empty", example_result(empty=True)),
    ):
        page = out / f"{name}.html"
        png = out / f"{name}.png"
        page.write_text(render_html(result), encoding="utf-8")
        png.unlink(missing_ok=True)
        profile = tempfile.mkdtemp(prefix="chromium-")
        try:
            cmd = [
                browser, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                f"--screenshot={png}", "--window-size=1400,1000", page.as_uri(),
            ]  # fmt: skip
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        finally:
            shutil.rmtree(profile, ignore_errors=True)
        assert proc.returncode == 0, proc.stderr[-2000:]
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", data[16:24])
        assert (width, height) == (1400, 1000)
