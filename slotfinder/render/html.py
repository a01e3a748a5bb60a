"""A self-contained HTML report (``--format html``): one file, inline CSS, no scripts, no fetches.

The report holds the ranked slots (each listing who is free, tentative, busy or unknown, at
their own local time), or the explanation when nothing fits; a day-by-day grid with a row per
attendee and room (busy, tentative, unknown and outside-working-hours cells shaded, the top
slots highlighted); the common free periods; the calendars that could not be read; and the
provider call statistics. Days, cells and the cell rule are those of
:mod:`slotfinder.render._grid`, so the HTML and the terminal timeline always agree.

Stable hooks for tests and tools (everything else may change):

- ``<li class="slot" data-rank data-start data-end data-room>`` per suggested slot, times RFC 3339
  in the request's zone; inside, ``<li class="who {state}" data-id>`` per person;
- ``<section class="day" data-day="YYYY-MM-DD">`` per drawn day, holding
  ``<tr class="attendee" data-id data-kind>`` per attendee and ``<tr class="room" data-id>`` per
  room, whose ``<td class="cell {state}">`` cells carry ``data-slot="{rank}"`` when a
  top slot touches them;
- ``<section class="explanation">`` with ``<li class="reason" data-code>``,
  ``<li class="alternative" data-start>`` and ``<p class="next-after-window" data-start>``;
- ``<li class="unknown-id" data-id>``, ``<tr class="call" data-endpoint>``,
  ``<span class="retries">``.

Every text and attribute value goes through :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from itertools import groupby
from typing import TypeVar

from slotfinder.hours import to_wall
from slotfinder.model import DAY, Suggestion, SuggestionResult
from slotfinder.render._common import (
    Person,
    duration_text,
    local,
    people,
    result_zone,
    rfc3339,
    span_text,
    status_of,
)
from slotfinder.render._grid import Day, Grid, build_grid

__all__ = ["render_html"]

_CSS = """
:root { --free:#cfeccf; --busy:#d9534f; --tentative:#f0ad4e; --unknown:#9b8fc9;
  --outside:#e4e4e4; --slot:#1565c0; --ink:#222; --muted:#666; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif;
  color: var(--ink); margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1rem 0 .3rem; }
.muted, small { color: var(--muted); } small.kind { font-weight: 600; }
ol.slots { padding-left: 1.6rem; } li.slot { margin: .2rem 0 .8rem; }
li.slot .when { font-weight: 600; } li.slot .score, li.slot .room { font-weight: 400;
  color: var(--muted); margin-left: .6rem; }
ul.who { list-style: none; padding: 0; margin: .2rem 0 0; display: flex; flex-wrap: wrap;
  gap: .25rem .5rem; }
li.who { border-radius: 3px; padding: 0 .4rem; border-left: 4px solid; background: #f7f7f7; }
li.who.free { border-color: #5cb85c; } li.who.tentative { border-color: var(--tentative); }
li.who.busy { border-color: var(--busy); } li.who.unknown { border-color: var(--unknown); }
.scroll { overflow-x: auto; }
table.grid { border-collapse: collapse; table-layout: fixed; }
table.grid th { font-weight: 400; text-align: left; white-space: nowrap; padding: 0 .5rem 0 0;
  max-width: 16rem; overflow: hidden; text-overflow: ellipsis; }
table.grid thead th { font-size: 11px; color: var(--muted); padding: 0; border-left: 1px solid
  #ccc; padding-left: 2px; }
table.grid thead th:first-child { border-left: 0; }
col.label { width: 15rem; }  /* cell columns get their width inline, see _day */
td.cell { height: 20px; padding: 0; border-right: 1px solid #fff; }
td.free { background: var(--free); } td.busy { background: var(--busy); }
td.tentative { background: repeating-linear-gradient(45deg, var(--tentative) 0 3px,
  #fbe3bd 3px 6px); }
td.unknown { background: repeating-linear-gradient(-45deg, var(--unknown) 0 2px, #e6e1f5 2px 5px); }
td.outside { background: var(--outside); }
td[data-slot] { box-shadow: inset 0 2px 0 var(--slot), inset 0 -2px 0 var(--slot); }
tr.common td.on { background: #5cb85c; } tr.marks td { font-size: 10px; text-align: center;
  color: #fff; } tr.marks td.on { background: var(--slot); }
tr.marks td.other { background: #90b4e0; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1rem; }
ul.legend span.sw { display: inline-block; width: 14px; height: 14px; vertical-align: -2px;
  margin-right: .3rem; border: 1px solid #ccc; }
section.explanation { border-left: 4px solid var(--busy); padding: .2rem 1rem;
  background: #fdf3f2; }
table.calls td { padding: 0 1rem 0 0; } table.calls td.n { text-align: right; }
"""

_K = TypeVar("_K")
_GRID_PX = 900  # room for the cells beside the 15rem label column in a 1200px page

_STATE_TEXT = {
    "free": "free",
    "busy": "busy",
    "tentative": "tentative",
    "unknown": "unknown",
    "outside": "outside working hours",
}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _attrs(**values: object) -> str:
    return "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in values.items() if v is not None)


def _who(slot: Suggestion, persons: Sequence[Person], zone: str) -> str:
    items: list[str] = []
    zones = {p.id: p.zone for p in persons}
    names = {p.id: p.attendee.label for p in persons}
    order = {"free": 0, "tentative": 1, "busy": 2, "unknown": 3}
    ids = [*slot.available, *slot.tentative, *slot.unavailable, *slot.unknown]
    for pid in sorted(dict.fromkeys(ids), key=lambda i: order[status_of(slot, i)]):
        state = status_of(slot, pid)
        z = zones.get(pid, zone)
        when = f"{local(slot.start, z, '%a %H:%M')}–{local(slot.end, z, '%H:%M')}"
        items.append(
            f'<li class="who {state}"{_attrs(data_id=pid, data_state=state)}>'
            f"<b>{_e(names.get(pid, pid))}</b> {_e(state)} · "
            f'<time datetime="{_e(rfc3339(slot.start, z))}">{_e(when)}</time> '
            f"<small>{_e(z)}</small></li>"
        )
    return '<ul class="who">' + "".join(items) + "</ul>"


def _slot_li(
    slot: Suggestion, rank: int, persons: Sequence[Person], zone: str, cls: str = "slot"
) -> str:
    label = next((p.attendee.label for p in persons if p.id == slot.room), slot.room)
    room = f'<span class="room">room {_e(label)}</span>' if slot.room else ""
    hooks = _attrs(
        data_rank=rank,
        data_start=rfc3339(slot.start, zone),
        data_end=rfc3339(slot.end, zone),
        data_room=slot.room,
    )
    return (
        f'<li class="{cls}"{hooks}><div class="when">{_e(span_text(slot.start, slot.end, zone))}'
        f'<span class="score">score {slot.score:.2f}</span>{room}</div>'
        f"{_who(slot, persons, zone)}</li>"
    )


def _explanation(result: SuggestionResult, persons: Sequence[Person], zone: str) -> str:
    ex = result.explanation
    parts = ['<section class="explanation"><h2>No slot fits</h2>']
    if ex is None:
        return parts[0] + "<p>No slot fits the request.</p></section>"
    parts.append("<ul class='reasons'>")
    for r in ex.reasons:
        ids = f" <small>({_e(', '.join(r.ids))})</small>" if r.ids else ""
        parts.append(
            f'<li class="reason"{_attrs(data_code=r.code)}><code>{_e(r.code)}</code> '
            f"{_e(r.message)}{ids}</li>"
        )
    parts.append("</ul>")
    if ex.alternatives:
        parts.append("<h3>Closest alternatives</h3><ol class='alternatives'>")
        parts += [
            _slot_li(s, i, persons, zone, cls="alternative")
            for i, s in enumerate(ex.alternatives, 1)
        ]
        parts.append("</ol>")
    nxt = ex.next_after_window
    if nxt is not None:
        parts.append(
            f'<p class="next-after-window"{_attrs(data_start=rfc3339(nxt.start, zone))}>'
            f"First slot after the window: <b>"
            f"{_e(span_text(nxt.start, nxt.end, zone, year=True))}</b>"
            + (f" · room {_e(nxt.room)}" if nxt.room else "")
            + "</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _hour_header(day: Day, zone: str, cell: int) -> str:
    walls = to_wall(zone, list(day.starts)).tolist()
    hours = [(w % DAY) // 3600 for w in walls]
    cols: list[str] = ["<th></th>"]
    i = 0
    for hour, run in groupby(hours):
        n = len(list(run))
        on_hour = walls[i] % 3600 == 0
        label = f"{hour:02d}" if on_hour and n * min(cell, 3600) >= 1800 else ""
        cols.append(f'<th colspan="{n}">{label}</th>')
        i += n
    return "<thead><tr>" + "".join(cols) + "</tr></thead>"


def _runs(keys: Sequence[_K]) -> list[tuple[_K, int, int]]:
    """Maximal runs of equal keys as ``(key, first index, end index)``."""
    out: list[tuple[_K, int, int]] = []
    i = 0
    for key, group in groupby(keys):
        n = len(list(group))
        out.append((key, i, i + n))
        i += n
    return out


def _person_row(p: Person, day: Day) -> str:
    cls = "room" if p.kind == "room" else "attendee"
    kind = {"optional": "opt ", "room": "room "}.get(p.kind, "")  # first, so it survives the cut
    badge = f'<small class="kind">{kind}</small>' if kind else ""
    tip = _e(f"{p.id} · {p.zone}")
    head = f'<th title="{tip}">{badge}{_e(p.attendee.label)} <small>{_e(p.zone)}</small></th>'
    cells: list[str] = []
    for (state, rank), i, j in _runs(list(zip(day.states[p.id], day.slots, strict=True))):
        a, b = day.starts[i], day.ends[j - 1]
        when = f"{local(a, p.zone, '%a %H:%M')}–{local(b, p.zone, '%H:%M')} {p.zone}"
        tip = _e(f"{p.id}: {_STATE_TEXT[state]}, {when}")
        hooks = _attrs(colspan=j - i if j - i > 1 else None, data_slot=rank or None)
        cells.append(f'<td class="cell {state}"{hooks} title="{tip}"></td>')
    return f'<tr class="{cls}"{_attrs(data_id=p.id, data_kind=p.kind)}>{head}{"".join(cells)}</tr>'


def _day(grid: Grid, day: Day) -> str:
    zone = grid.zone
    title = _e(local(day.midnight, zone, "%a %d %b %Y"))
    open_ = f'<section class="day"{_attrs(data_day=day.label_date)}><h3>{title}</h3>'
    if day.nobody_works:
        return open_ + '<p class="muted">Nobody works this day.</p></section>'
    rows = [_person_row(p, day) for p in grid.people]
    common = "".join(
        f'<td class="{"on" if c else ""}" colspan="{j - i}"></td>' for c, i, j in _runs(day.common)
    )
    rows.append(f'<tr class="common"><th>free for all</th>{common}</tr>')
    marks: list[str] = []
    for (rank, other), i, j in _runs(list(zip(day.slots, day.other_slot, strict=True))):
        if rank:
            marks.append(f'<td class="on" colspan="{j - i}" data-slot="{rank}">{rank}</td>')
        else:
            marks.append(f'<td class="{"other" if other else ""}" colspan="{j - i}"></td>')
    label = "alternatives" if grid.alternatives else "slots"
    rows.append(f'<tr class="marks"><th>{label}</th>{"".join(marks)}</tr>')
    n = len(day.starts)
    px = max(6, min(12, _GRID_PX // n))  # a whole day of 15-minute cells still fits the page
    col = f'<col style="width:{px}px">'
    cols = '<colgroup><col class="label">' + col * n + "</colgroup>"
    size = f' style="width: calc(15rem + {px * n}px)"'  # the fixed layout needs a table width
    head = _hour_header(day, zone, grid.cell)
    return (
        f'{open_}<div class="scroll"><table class="grid"{size}>{cols}{head}'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _legend(cell: int) -> str:
    sw = [
        ("free", "var(--free)"),
        ("busy", "var(--busy)"),
        ("tentative", "var(--tentative)"),
        ("unknown", "var(--unknown)"),
        ("outside working hours", "var(--outside)"),
        ("suggested slot", "var(--slot)"),
    ]
    items = "".join(
        f'<li><span class="sw" style="background:{c}"></span>{_e(t)}</li>' for t, c in sw
    )
    return (
        f'<ul class="legend">{items}<li class="muted">one cell = {_e(duration_text(cell))};'
        " hover a cell for the local time</li></ul>"
    )


def _stats(result: SuggestionResult) -> str:
    rows = "".join(
        f'<tr class="call"{_attrs(data_endpoint=k)}><td>{_e(k)}</td>'
        f'<td class="n">{int(result.calls[k])}</td></tr>'
        for k in sorted(result.calls)
    )
    total = sum(int(v) for v in result.calls.values())
    return (
        '<section class="stats"><h2>Provider calls</h2>'
        f'<table class="calls"><tbody>{rows}</tbody></table>'
        f"<p>{total} call{'s' if total != 1 else ''}, "
        f'<span class="retries">{int(result.retries)}</span> retried</p></section>'
    )


def render_html(
    result: SuggestionResult, *, zone: str | None = None, max_days: int = 7, title: str = ""
) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    tz = result_zone(result, zone)
    persons = people(result)
    grid = build_grid(result, max_cells=96, max_days=max_days, top=9, zone=tz, min_cell=900)
    req = result.request
    heading = title or "Meeting times"
    summary = [f"times in {tz}"]
    if req is not None:
        fmt = "%a %d %b %Y %H:%M"
        summary = [
            duration_text(req.duration),
            f"{local(req.window.start, tz, fmt)} → {local(req.window.end, tz, fmt)}",
            *summary,
            _plural(len(req.attendees), "attendee"),
        ] + ([_plural(len(req.rooms), "room")] if req.rooms else [])
    body = [
        f"<header><h1>{_e(heading)}</h1>"
        f'<p class="summary muted">{_e(" · ".join(summary))}</p></header>'
    ]
    if result.slots:
        body.append('<section class="suggestions"><h2>Suggested slots</h2><ol class="slots">')
        body += [_slot_li(s, i, persons, tz) for i, s in enumerate(result.slots, 1)]
        body.append("</ol></section>")
    else:
        body.append(_explanation(result, persons, tz))
    if grid is not None:
        body.append('<section class="days"><h2>Calendars</h2>')
        body.append(_legend(grid.cell))
        body += [_day(grid, d) for d in grid.days]
        body.append("</section>")
    if result.periods:
        items = "".join(
            f'<li class="period"{_attrs(data_start=rfc3339(p.start, tz))}>'
            f"{_e(span_text(p.start, p.end, tz))}</li>"
            for p in result.periods
        )
        body.append(
            f'<section class="periods"><h2>Free for everyone</h2><ul>{items}</ul></section>'
        )
    if result.unknown:
        items = "".join(
            f'<li class="unknown-id"{_attrs(data_id=u.id)}><b>{_e(u.id)}</b> — {_e(u.reason)}</li>'
            for u in result.unknown
        )
        body.append(
            '<section class="unknown"><h2>Calendars that could not be read</h2>'
            f"<p>Counted as unknown, never as free.</p><ul>{items}</ul></section>"
        )
    if result.calls or result.retries:
        body.append(_stats(result))
    body.append('<footer class="muted"><p>Generated by slotfinder.</p></footer>')
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(heading)}</title><style>{_CSS}</style></head>\n<body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )
