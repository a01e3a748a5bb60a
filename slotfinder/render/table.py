"""A plain-text table of the ranked slots, for terminals and logs (``--format table``).

Every line fits in ``width`` columns (at most 100). Times are in the request's zone (a local
time that happens twice, on the day clocks go back, carries its offset); under each of the
top ``detail`` slots, everyone is listed by what the slot means for them (free, tentative,
busy with an event, outside their working hours, at their load cap, unknown) at their own
local time, by the name the configuration gives them. When nothing fits, the explanation
comes instead: the reasons, the closest alternatives and the first slot after the window.
"Free for everyone" lists the common free periods that can still hold the meeting. Unknown
attendees and rooms are always listed with the reason, since they were never counted as free.
"""

from __future__ import annotations

from collections.abc import Sequence

from slotfinder.model import Attendee, Suggestion, SuggestionResult
from slotfinder.render._common import (
    Person,
    clamp_width,
    duration_text,
    fit,
    group_items,
    local,
    meeting_periods,
    people,
    periods_title,
    person_time,
    plural,
    reason_text,
    result_zone,
    span_text,
    text_width,
    wrap,
)
from slotfinder.render._grid import slot_state
from slotfinder.render._series import series_lines

__all__ = ["render_table"]

_WHEN = 27  # "Mon 23 Nov 23:30–Tue 00:30" is 26 columns
_MAX_WHEN = 45  # both ends with their offsets on the day clocks go back
_COUNTS = (
    ("tent", ("tentative",)),
    ("busy", ("busy", "capped")),  # at a load cap: unavailable with no event, like busy
    ("out", ("outside",)),
    ("unkn", ("unknown",)),
)
_NARROW = 80  # below this width the tentative/busy/outside/unknown counts are left out
_GROUPS = (
    ("free", "free"),
    ("tentative", "tentative"),
    ("busy", "busy"),
    ("outside", "off hours"),
    ("capped", "at cap"),
    ("unknown", "unknown"),
)


def _score(score: float) -> str:
    """Two decimals while they fit in six columns, then fewer."""
    for digits in (2, 1, 0):
        text = f"{score:.{digits}f}"
        if len(text) <= 6:
            return text
    return fit(f"{score:.3g}", 6)


def _when_width(slots: Sequence[Suggestion], zone: str) -> int:
    widths = (text_width(span_text(s.start, s.end, zone)) + 1 for s in slots)
    return min(max(_WHEN, *widths), _MAX_WHEN) if slots else _WHEN


def _row(
    rank: int, slot: Suggestion, states: Sequence[str], view: _View, *, when_w: int, width: int
) -> str:
    total = len(slot.available) + len(slot.tentative) + len(slot.unavailable) + len(slot.unknown)
    line = (
        f"{rank:>3}  {fit(span_text(slot.start, slot.end, view.zone), when_w, pad=True)} "
        f"{_score(slot.score):>6}  {f'{len(slot.available)}/{total}':>5}"
    )
    if width >= _NARROW:
        line += "".join(f" {sum(s in kinds for s in states):>4}" for _, kinds in _COUNTS)
    line += "  "
    room = view.result.label(slot.room) if slot.room else "-"
    return line + fit(room, width - len(line))


class _View:
    """What every part of the table needs: the result, its zone and its people by id."""

    def __init__(self, result: SuggestionResult, zone: str) -> None:
        self.result = result
        self.zone = zone
        self.people = people(result)
        self.by_id = {p.id: p for p in self.people}

    def states(self, slot: Suggestion) -> list[tuple[Person, str]]:
        """Everyone the slot mentions with what it means for them, rooms left out; an id no
        one else knows (a hand-made result) is a required attendee with no data."""
        ids = dict.fromkeys([*slot.available, *slot.tentative, *slot.unavailable, *slot.unknown])
        who = [
            self.by_id.get(i) or Person(Attendee(id=i), "required", self.zone, None) for i in ids
        ]
        return [(p, slot_state(self.result, slot, p)) for p in who if p.kind != "room"]


def _details(slot: Suggestion, view: _View, width: int) -> list[str]:
    lines: list[str] = []
    indent = " " * 5
    states = view.states(slot)
    for state, label in _GROUPS:
        items = [
            person_time(view.result.label(p.id), p.zone, slot.start, view.zone)
            for p, st in states
            if st == state
        ]
        if not items:
            continue
        first = f"{indent}{label:<10} "
        lines += wrap(items, width, first=first, indent=" " * len(first), sep=" · ")
    first = f"{indent}{'groups':<10} "
    for item in group_items(view.result, slot):
        lines += wrap(item.split(" "), width, first=first, indent=" " * (len(first) + 2))
        first = " " * len(first)
    return lines


def _slots(slots: Sequence[Suggestion], view: _View, width: int, detail: int) -> list[str]:
    when_w = _when_width(slots, view.zone)
    head = f"{'#':>3}  {'when':<{when_w}} {'score':>6}  {'free':>5}"
    if width >= _NARROW:
        head += "".join(f" {name:>4}" for name, _ in _COUNTS)
    head += "  room"
    lines = [head, "-" * min(width, len(head) + 12)]
    for rank, slot in enumerate(slots, 1):
        states = [st for _, st in view.states(slot)]
        lines.append(_row(rank, slot, states, view, when_w=when_w, width=width))
        lines += series_lines(view.result, slot, view.zone, width, lead=" " * 5, indent=7, cross=7)
        if rank <= detail:
            lines += _details(slot, view, width)
    return lines


def _explanation(view: _View, width: int, detail: int) -> list[str]:
    explanation = view.result.explanation
    if explanation is None:
        return ["No slot fits the request."]
    lines = ["No slot fits the request. Why:"]
    for r in explanation.reasons:
        words = [f"[{r.code}]", *reason_text(r).split()]
        if r.ids:
            words.append("(" + ", ".join(view.result.label(i) for i in r.ids) + ")")
        lines += wrap(words, width, first="  - ", indent="    ")
    if explanation.alternatives:
        lines += ["", "Closest alternatives (not everyone can come):"]
        lines += _slots(explanation.alternatives, view, width, detail)
    nxt = explanation.next_after_window
    if nxt is not None:
        lines += [""]
        lines += wrap(
            ["First slot after the window:", span_text(nxt.start, nxt.end, view.zone, year=True)]
            + (["·", "room", view.result.label(nxt.room)] if nxt.room else []),
            width,
        )
        lines += _details(nxt, view, width)
    return lines


def _stats(result: SuggestionResult, width: int) -> list[str]:
    """``calls: feishu/freebusy 2 · dingtalk/schedule 3 · retries 1``, wrapped to ``width``."""
    items = [f"{k} {result.calls[k]}" for k in sorted(result.calls)]
    items.append(f"retries {result.retries}")
    return wrap(items, width, first="calls: ", indent="       ", sep=" · ")


def _header(result: SuggestionResult, zone: str, who: Sequence[Person], width: int) -> list[str]:
    req = result.request
    words: list[str] = []
    if req is not None:
        fmt = "%a %d %b %Y %H:%M"
        words += [
            duration_text(req.duration),
            "·",
            local(req.window.start, zone, fmt),
            "→",
            local(req.window.end, zone, fmt),
            "·",
        ]
    words += [f"times in {zone}"]
    lines = wrap(words, width)
    n_opt = sum(p.kind == "optional" for p in who)
    n_room = sum(p.kind == "room" for p in who)
    n_att = len(who) - n_room
    summary = plural(n_att, "attendee")
    if n_opt:
        summary += f" ({n_opt} optional)"
    if n_room:
        summary += " · " + plural(n_room, "room")
    summary += " · " + plural(len(meeting_periods(result)), "common free period")
    return [*lines, fit(summary, width)]


def _periods(result: SuggestionResult, zone: str, width: int, limit: int = 6) -> list[str]:
    periods = meeting_periods(result)
    if not periods:
        return []
    items = [span_text(p.start, p.end, zone) for p in periods[:limit]]
    if len(periods) > limit:
        items.append(f"(+{len(periods) - limit} more)")
    first = periods_title(result) + ": "
    return wrap(items, width, first=first, indent=" " * len(first), sep=" · ")


def _unknown(result: SuggestionResult, width: int) -> list[str]:
    lines = ["", "Could not read (counted as unknown, never as free):"]
    for u in result.unknown:
        who = [u.label] + ([f"({u.id})"] if u.name else []) + (["(room)"] if u.room else [])
        lines += wrap([*who, "-", *u.reason.split()], width, first="  ", indent="    ")
    return lines


def render_table(
    result: SuggestionResult,
    *,
    zone: str | None = None,
    width: int = 100,
    detail: int = 3,
    stats: bool = False,
) -> str:
    """The ranked slots as text lines of at most ``width`` (<= 100) columns.

    ``detail`` is how many of the top slots list everyone at their local time; ``stats`` adds
    the provider call counts and retries.
    """
    width = clamp_width(width)
    tz = result_zone(result, zone)
    view = _View(result, tz)
    lines = _header(result, tz, view.people, width)
    lines.append("")
    if result.slots:
        lines += _slots(result.slots, view, width, detail)
    else:
        lines += _explanation(view, width, detail)
    periods = _periods(result, tz, width)
    if periods:
        lines += ["", *periods]
    if result.unknown:
        lines += _unknown(result, width)
    if stats:
        lines += ["", *_stats(result, width)]
    return "\n".join(line.rstrip() for line in lines) + "\n"
