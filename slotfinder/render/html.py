"""A self-contained HTML report (``--format html``): one file, inline CSS, no scripts, no fetches.

The report holds the ranked slots (each listing who is free, tentative, busy or unknown, at
their own local time), or the explanation when nothing fits; a day-by-day grid with a row per
attendee and room (busy, tentative, unknown, at-load-cap and outside-working-hours cells
shaded, the top slots highlighted); the common free periods; the calendars that could not be
read; and the provider call statistics. Days, cells and the cell rule are those of
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

from collections.abc import Iterable, Sequence
from html import escape
from itertools import groupby
from typing import TypeVar

from slotfinder.hours import to_wall
from slotfinder.model import DAY, Suggestion, SuggestionResult
from slotfinder.render._common import (
    STATE_TEXT,
    Person,
    common_label,
    compact_duration,
    duration_text,
    earliest_start,
    group_items,
    local,
    meeting_periods,
    people,
    periods_title,
    plural,
    reason_text,
    result_zone,
    rfc3339,
    span_text,
)
from slotfinder.render._grid import Day, Grid, build_grid, slot_state
from slotfinder.render._series import blockers_text, occurrence_text, summary

__all__ = ["render_html"]

_CSS = """
:root { --free:#cfeccf; --busy:#d9534f; --tentative:#f0ad4e; --unknown:#9b8fc9;
  --outside:#e4e4e4; --capped:#b07a78; --slot:#1565c0; --common:#5cb85c; --ink:#222; --muted:#666; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", sans-serif;
  color: var(--ink); margin: 1.5rem auto; max-width: 1200px; padding: 0 1rem; }
h1 { font-size: 1.4rem; margin: 0 0 .2rem; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .4rem; }
.muted, small { color: var(--muted); } small.kind { font-weight: 600; }
ol.slots, ol.alternatives { padding-left: 1.6rem; }
li.slot, li.alternative { margin: .2rem 0 .8rem; }
li .when { font-weight: 600; } li .when .score, li .when .room { font-weight: 400;
  color: var(--muted); margin-left: .6rem; }
ul.who { list-style: none; padding: 0; margin: .3rem 0 0; display: flex; flex-wrap: wrap;
  gap: .3rem .5rem; }
li.who { border-radius: 3px; padding: 0 .4rem; border-left: 4px solid; background: #f7f7f7; }
li.who.free { border-color: var(--common); } li.who.tentative { border-color: var(--tentative); }
li.who.busy { border-color: var(--busy); } li.who.unknown { border-color: var(--unknown); }
li.who.outside { border-color: #aaa; color: var(--muted); }
li.who.capped { border-color: var(--capped); }
ol.occurrences { list-style: none; padding: 0; margin: .2rem 0 0; display: inline-flex;
  flex-wrap: wrap; gap: .2rem .4rem; } .series > span { color: var(--muted); margin-right: .5rem; }
li.occurrence { padding: 0 .3rem; border-bottom: 3px solid var(--common); }
li.occurrence.conflict { border-color: var(--busy); }
.scroll { overflow-x: auto; }
table.grid { border-collapse: collapse; table-layout: fixed; }
table.grid th { font-weight: 400; text-align: left; white-space: nowrap; padding: 0 .5rem 0 0;
  max-width: 16rem; overflow: hidden; text-overflow: ellipsis; line-height: 22px; }
table.grid thead th { font-size: 11px; color: var(--muted); padding: 0 0 0 2px;
  border-left: 1px solid #ccc; line-height: 16px; }
table.grid thead th:first-child { border-left: 0; }
table.grid tbody tr { border-top: 2px solid #fff; }
col.label { width: 15rem; }  /* cell columns get their width inline, see _day */
td.cell { height: 20px; padding: 0; border-right: 1px solid #fff; }
td.pad { background: #fafafa; }
td.free { background: var(--free); } td.busy { background: var(--busy); }
td.tentative, .sw.tentative { background: repeating-linear-gradient(45deg, var(--tentative) 0 3px,
  #fbe3bd 3px 6px); }
td.unknown, .sw.unknown { background: repeating-linear-gradient(-45deg, var(--unknown) 0 2px,
  #e6e1f5 2px 5px); }
td.outside { background: var(--outside); }
td.capped, .sw.capped { background: repeating-linear-gradient(90deg, var(--capped) 0 2px,
  #efe0df 2px 6px); }
td[data-slot] { box-shadow: inset 0 3px 0 var(--slot), inset 0 -3px 0 var(--slot); }
tr.common td { height: 8px; } tr.common td.on { background: var(--common); }
tr.marks td { font-size: 10px; line-height: 14px; text-align: center; color: #fff; }
tr.marks td.on { background: var(--slot); } tr.marks td.other { background: #90b4e0; }
ul.legend { list-style: none; padding: 0; margin: .4rem 0 .8rem; display: flex;
  flex-wrap: wrap; gap: .3rem 1.2rem; align-items: center; }
ul.legend span.sw { display: inline-block; width: 16px; height: 14px; vertical-align: -2px;
  margin-right: .35rem; border: 1px solid #ccc; }
.sw.free { background: var(--free); } .sw.busy { background: var(--busy); }
.sw.outside { background: var(--outside); } .sw.common { background: var(--common); }
.sw.slot { background: var(--free); box-shadow: inset 0 3px 0 var(--slot),
  inset 0 -3px 0 var(--slot); }
p.why-not { margin: .3rem 0 0; color: #8a2a26; }
section.explanation { border-left: 4px solid var(--busy); padding: .2rem 1rem;
  background: #fdf3f2; }
table.calls td { padding: 0 1rem 0 0; } table.calls td.n { text-align: right; }
"""

_K = TypeVar("_K")
_GRID_PX = 900  # room for the cells beside the 15rem label column in a 1200px page


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _attrs(**values: object) -> str:
    return "".join(f' {k.replace("_", "-")}="{_e(v)}"' for k, v in values.items() if v is not None)


def _who(result: SuggestionResult, slot: Suggestion, persons: Sequence[Person], zone: str) -> str:
    """One chip per attendee, in the state the grid's cells give them (``outside`` working
    hours is not ``busy``)."""
    items: list[str] = []
    order = {"free": 0, "tentative": 1, "busy": 2, "capped": 3, "outside": 4, "unknown": 5}
    states = [(p, slot_state(result, slot, p)) for p in persons if p.kind != "room"]
    for p, state in sorted((x for x in states if x[1]), key=lambda x: order[x[1]]):
        z = p.zone
        when = f"{local(slot.start, z, '%a %H:%M')}–{local(slot.end, z, '%H:%M')}"
        items.append(
            f'<li class="who {state}"{_attrs(data_id=p.id, data_state=state)}>'
            f"<b>{_e(p.attendee.label)}</b> {_e(STATE_TEXT[state])} · "
            f'<time datetime="{_e(rfc3339(slot.start, z))}">{_e(when)}</time> '
            f"<small>{_e(z)}</small></li>"
        )
    return '<ul class="who">' + "".join(items) + "</ul>"


def _slot_li(
    result: SuggestionResult,
    slot: Suggestion,
    rank: int,
    persons: Sequence[Person],
    zone: str,
    *,
    cls: str = "slot",
) -> str:
    room = f'<span class="room">room {_e(result.label(slot.room))}</span>' if slot.room else ""
    hooks = _attrs(
        data_rank=rank,
        data_start=rfc3339(slot.start, zone),
        data_end=rfc3339(slot.end, zone),
        data_room=slot.room,
    )
    return (
        f'<li class="{cls}"{hooks}><div class="when">{_e(span_text(slot.start, slot.end, zone))}'
        f'<span class="score">score {slot.score:.2f}</span>{room}</div>'
        f"{_series(result, slot, persons, zone)}{_who(result, slot, persons, zone)}"
        f"{_groups(result, slot)}</li>"
    )


def _series(
    result: SuggestionResult, slot: Suggestion, persons: Sequence[Person], zone: str
) -> str:
    """A series' occurrences, each marked passing or blocked (and by whom)."""
    if not slot.occurrences:
        return ""
    first, items = slot.occurrences[0], []
    for o in slot.occurrences:
        state = "ok" if o.passes else "conflict"
        who = blockers_text(result, o, persons) if o.blocked_by else ""
        title = _attrs(title=f"blocked by {who}") if who else ""
        items.append(
            f'<li class="occurrence {state}"{_attrs(data_start=rfc3339(o.start, zone))}{title}>'
            f"{_e(occurrence_text(o, first, zone))}"
            + (f" <small>blocked by {_e(who)}</small>" if who else "")
            + "</li>"
        )
    return (
        f'<div class="series"><span>{_e(summary(slot))}</span>'
        f'<ol class="occurrences">{"".join(items)}</ol></div>'
    )


def _groups(result: SuggestionResult, slot: Suggestion) -> str:
    """Who of each group can come, one item per group (nothing without groups)."""
    items = group_items(result, slot)
    if not items:
        return ""
    return '<ul class="groups">' + "".join(f"<li>{_e(t)}</li>" for t in items) + "</ul>"


def _explanation(result: SuggestionResult, persons: Sequence[Person], zone: str) -> str:
    ex = result.explanation
    parts = ['<section class="explanation"><h2>No slot fits</h2>']
    if ex is None:
        return parts[0] + "<p>No slot fits the request.</p></section>"
    parts.append("<ul class='reasons'>")
    for r in ex.reasons:
        names = ", ".join(result.label(i) for i in r.ids)
        ids = f" <small>({_e(names)})</small>" if r.ids else ""
        parts.append(
            f'<li class="reason"{_attrs(data_code=r.code)}><code>{_e(r.code)}</code> '
            f"{_e(reason_text(r))}{ids}</li>"
        )
    parts.append("</ul>")
    if ex.alternatives:
        parts.append("<h3>Closest alternatives</h3><ol class='alternatives'>")
        parts += [
            _slot_li(result, s, i, persons, zone, cls="alternative")
            for i, s in enumerate(ex.alternatives, 1)
        ]
        parts.append("</ol>")
    nxt = ex.next_after_window
    if nxt is not None:
        parts.append(
            f'<p class="next-after-window"{_attrs(data_start=rfc3339(nxt.start, zone))}>'
            f"First slot after the window: <b>"
            f"{_e(span_text(nxt.start, nxt.end, zone, year=True))}</b>"
            + (f" · room {_e(result.label(nxt.room))}" if nxt.room else "")
            + "</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _hour_header(day: Day, zone: str, cell: int, pad: tuple[int, int]) -> str:
    walls = to_wall(zone, list(day.starts)).tolist()
    cols: list[str] = ["<th></th>"] + [f'<th colspan="{n}"></th>' for n in pad[:1] if n]
    for hour, i, j in _runs([(w % DAY) // 3600 for w in walls]):
        on_hour = walls[i] % 3600 == 0
        label = f"{hour:02d}" if on_hour and (j - i) * min(cell, 3600) >= 1800 else ""
        cols.append(f'<th colspan="{j - i}">{label}</th>')
    cols += [f'<th colspan="{n}"></th>' for n in pad[1:] if n]
    return "<thead><tr>" + "".join(cols) + "</tr></thead>"


def _padding(grid: Grid, day: Day) -> tuple[int, int]:
    """Empty cells before and after the day's own cells, so aligned days line up even when
    the window cuts the first or last one short."""
    if grid.hours is None or not day.starts:
        return 0, 0
    lo, hi = grid.hours
    midnight = int(to_wall(grid.zone, [day.midnight])[0])
    first = int(to_wall(grid.zone, [day.starts[0]])[0]) - midnight
    total = -(-(hi - lo) // grid.cell)
    lead = max(0, (first - lo) // grid.cell)
    return lead, max(0, total - lead - len(day.starts))


def _pads(pad: tuple[int, int]) -> tuple[str, str]:
    before, after = (f'<td class="pad" colspan="{n}"></td>' if n else "" for n in pad)
    return before, after


def _runs(keys: Iterable[_K]) -> list[tuple[_K, int, int]]:
    """Maximal runs of equal keys as ``(key, first index, end index)``."""
    out: list[tuple[_K, int, int]] = []
    i = 0
    for key, group in groupby(keys):
        n = len(list(group))
        out.append((key, i, i + n))
        i += n
    return out


def _person_row(p: Person, day: Day, pad: tuple[int, int]) -> str:
    cls = "room" if p.kind == "room" else "attendee"
    kind = {"optional": "opt ", "room": "room "}.get(p.kind, "")  # first, so it survives the cut
    badge = f'<small class="kind">{kind}</small>' if kind else ""
    tip = _e(f"{p.id} · {p.zone}")
    head = f'<th title="{tip}">{badge}{_e(p.attendee.label)} <small>{_e(p.zone)}</small></th>'
    before, after = _pads(pad)
    cells: list[str] = [before]
    for (state, rank), i, j in _runs(zip(day.states[p.id], day.slots, strict=True)):
        a, b = day.starts[i], day.ends[j - 1]
        when = f"{local(a, p.zone, '%a %H:%M')}–{local(b, p.zone, '%H:%M')} {p.zone}"
        tip = _e(f"{p.attendee.label}: {STATE_TEXT[state]}, {when}")
        hooks = _attrs(colspan=j - i if j - i > 1 else None, data_slot=rank or None)
        cells.append(f'<td class="cell {state}"{hooks} title="{tip}"></td>')
    cells.append(after)
    return f'<tr class="{cls}"{_attrs(data_id=p.id, data_kind=p.kind)}>{head}{"".join(cells)}</tr>'


def _why_not(result: SuggestionResult, grid: Grid, day: Day) -> str:
    """One line saying why no slot fits this day, read off the day's cells."""
    req = result.request
    if result.slots or req is None:
        return ""
    need = -(-req.duration // grid.cell)
    free_states = {"free", "tentative"} if req.tentative == "free" else {"free"}
    if req.unknown == "flag":  # planned around, as the engine does
        free_states.add("unknown")

    def longest(flags: Sequence[bool]) -> int:
        return max((j - i for on, i, j in _runs(flags) if on), default=0)

    required = [p for p in grid.people if p.kind == "required"]
    if req.min_notice and day.ends[-1] <= earliest_start(req):
        return f"every time this day is within the {compact_duration(req.min_notice)} notice"
    blocked = []
    for p in required:
        states = day.states[p.id]
        if longest([s in free_states for s in states]) >= need:
            continue
        if all(s == "outside" for s in states):
            why = "not working"
        elif "unknown" in states and not any(s in free_states for s in states):
            why = "calendar unknown"
        elif "capped" in states and not any(s in free_states for s in states):
            why = "at their meeting cap"
        else:
            why = f"no free {duration_text(req.duration)}"
        blocked.append(f"{p.attendee.label} ({why})")
    k = req.quorum_count()
    if req.groups:  # a lower bound on those needed together, whichever they are
        k = len(req.ungrouped()) + sum(g.need for g in req.groups)
    if len(required) - len(blocked) < k and blocked:
        return "; ".join(blocked)
    together = [
        sum(day.states[p.id][i] in free_states for p in required) >= k
        for i in range(len(day.starts))
    ]
    if longest(together) < need:
        who = "enough of them" if k < len(required) else "everyone"
        return f"free time never overlaps for {duration_text(req.duration)} with {who}"
    if req.rooms:
        return "no requested room is free when the attendees are"
    return "no start on the grid fits the common free time"


def _day(result: SuggestionResult, grid: Grid, day: Day) -> str:
    zone = grid.zone
    title = _e(local(day.midnight, zone, "%a %d %b %Y"))
    open_ = f'<section class="day"{_attrs(data_day=day.label_date)}><h3>{title}</h3>'
    if day.nobody_works:
        return open_ + '<p class="muted">Nobody works this day.</p></section>'
    pad = _padding(grid, day)
    before, after = _pads(pad)
    rows = [_person_row(p, day, pad) for p in grid.people]
    common = "".join(
        f'<td class="{"on" if c else ""}" colspan="{j - i}"></td>' for c, i, j in _runs(day.common)
    )
    label = _e(common_label(result))
    rows.append(f'<tr class="common"><th>{label}</th>{before}{common}{after}</tr>')
    marks: list[str] = []
    for (rank, other), i, j in _runs(zip(day.slots, day.other_slot, strict=True)):
        if rank:
            marks.append(f'<td class="on" colspan="{j - i}" data-slot="{rank}">{rank}</td>')
        else:
            marks.append(f'<td class="{"other" if other else ""}" colspan="{j - i}"></td>')
    label = "alternatives" if grid.alternatives else "slots"
    rows.append(f'<tr class="marks"><th>{label}</th>{before}{"".join(marks)}{after}</tr>')
    n = len(day.starts) + sum(pad)
    px = max(6, min(12, _GRID_PX // n))  # a whole day of 15-minute cells still fits the page
    col = f'<col style="width:{px}px">'
    cols = '<colgroup><col class="label">' + col * n + "</colgroup>"
    size = f' style="width: calc(15rem + {px * n}px)"'  # the fixed layout needs a table width
    head = _hour_header(day, zone, grid.cell, pad)
    why = _why_not(result, grid, day)
    why_line = f'<p class="why-not">Why not this day: {_e(why)}</p>' if why else ""
    return (
        f'{open_}<div class="scroll"><table class="grid"{size}>{cols}{head}'
        f"<tbody>{''.join(rows)}</tbody></table></div>{why_line}</section>"
    )


def _legend(result: SuggestionResult, grid: Grid) -> str:
    shown = ["free", "busy", "tentative", "outside", "unknown"]
    if grid.shows("capped"):
        shown.insert(4, "capped")
    sw = [(STATE_TEXT[s], f"sw {s}") for s in shown]
    sw += [
        ("suggested slot (outlined in the rows, numbered below)", "sw slot"),
        (common_label(result), "sw common"),
    ]
    items = "".join(f'<li><span class="{c}"></span>{_e(t)}</li>' for t, c in sw)
    return (
        f'<ul class="legend">{items}<li class="muted">one cell = {_e(duration_text(grid.cell))};'
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
        f"<p>{plural(total, 'call')}, "
        f'<span class="retries">{int(result.retries)}</span> retried</p></section>'
    )


def render_html(
    result: SuggestionResult, *, zone: str | None = None, max_days: int = 7, title: str = ""
) -> str:
    """The whole report as one HTML document (UTF-8 text)."""
    tz = result_zone(result, zone)
    persons = people(result)
    grid = build_grid(
        result, max_cells=96, max_days=max_days, top=9, zone=tz, min_cell=900, align=True
    )
    req = result.request
    heading = title or "Meeting times"
    summary = [f"times in {tz}"]
    if req is not None:
        fmt = "%a %d %b %Y %H:%M"
        summary = [
            duration_text(req.duration),
            f"{local(req.window.start, tz, fmt)} → {local(req.window.end, tz, fmt)}",
            *summary,
            plural(len(req.attendees), "attendee"),
        ] + ([plural(len(req.rooms), "room")] if req.rooms else [])
    body = [
        f"<header><h1>{_e(heading)}</h1>"
        f'<p class="summary muted">{_e(" · ".join(summary))}</p></header>'
    ]
    if result.slots:
        body.append('<section class="suggestions"><h2>Suggested slots</h2><ol class="slots">')
        body += [_slot_li(result, s, i, persons, tz) for i, s in enumerate(result.slots, 1)]
        body.append("</ol></section>")
    else:
        body.append(_explanation(result, persons, tz))
    if grid is not None:
        body.append('<section class="days"><h2>Calendars</h2>')
        body.append(_legend(result, grid))
        body += [_day(result, grid, d) for d in grid.days]
        body.append("</section>")
    periods = meeting_periods(result)
    if periods:
        items = "".join(
            f'<li class="period"{_attrs(data_start=rfc3339(p.start, tz))}>'
            f"{_e(span_text(p.start, p.end, tz))}</li>"
            for p in periods
        )
        body.append(
            f'<section class="periods"><h2>{_e(periods_title(result))}</h2>'
            f"<ul>{items}</ul></section>"
        )
    if result.unknown:
        items = "".join(
            f'<li class="unknown-id"{_attrs(data_id=u.id, data_room="1" if u.room else None)}>'
            f"<b>{_e(u.label)}</b>{f' <small>{_e(u.id)}</small>' if u.name else ''}"
            f"{' (room)' if u.room else ''} — {_e(u.reason)}</li>"
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
