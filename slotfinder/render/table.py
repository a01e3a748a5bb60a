"""A plain-text table of the ranked slots, for terminals and logs (``--format table``).

Every line fits in ``width`` columns (at most 100). Times are in the request's zone; under
each of the top ``detail`` slots, everyone is listed by what the slot means for them (free,
tentative, busy, unknown) at their own local time. When nothing fits, the explanation comes
instead: the reasons, the closest alternatives and the first slot after the window. Unknown
attendees are always listed with the reason, since they were never counted as free.
"""

from __future__ import annotations

from collections.abc import Sequence

from slotfinder.model import Explanation, Suggestion, SuggestionResult
from slotfinder.render._common import (
    Person,
    clamp_width,
    duration_text,
    fit,
    local,
    people,
    person_time,
    result_zone,
    span_text,
    wrap,
)

__all__ = ["render_table", "stats_line"]

_WHEN = 27  # "Mon 23 Nov 23:30–Tue 00:30" is 26 columns
_NARROW_HEAD = f"{'#':>3}  {'when':<{_WHEN}} {'score':>6}  {'free':>5}  "
_HEAD = _NARROW_HEAD[:-1] + f"{'tent':>4} {'busy':>4} {'unkn':>4}  "
_NARROW = 80  # below this width the tentative/busy/unknown counts are left out of the rows
_GROUPS = (("free", "available"), ("tentative", "tentative"), ("busy", "unavailable"))


def _score(score: float) -> str:
    """Two decimals while they fit in six columns, then fewer."""
    for digits in (2, 1, 0):
        text = f"{score:.{digits}f}"
        if len(text) <= 6:
            return text
    return fit(f"{score:.3g}", 6)


def _row(rank: int, slot: Suggestion, zone: str, width: int, names: dict[str, str]) -> str:
    total = len(slot.available) + len(slot.tentative) + len(slot.unavailable) + len(slot.unknown)
    line = (
        f"{rank:>3}  {fit(span_text(slot.start, slot.end, zone), _WHEN, pad=True)} "
        f"{_score(slot.score):>6}  {f'{len(slot.available)}/{total}':>5}"
    )
    if width >= _NARROW:
        line += f" {len(slot.tentative):>4} {len(slot.unavailable):>4} {len(slot.unknown):>4}"
    line += "  "
    room = names.get(slot.room, slot.room) if slot.room else "-"
    return line + fit(room, width - len(line))


def _details(slot: Suggestion, zone: str, zones: dict[str, Person], width: int) -> list[str]:
    lines: list[str] = []
    indent = " " * 5
    for label, field in (*_GROUPS, ("unknown", "unknown")):
        ids: Sequence[str] = getattr(slot, field)
        if not ids:
            continue
        items = [
            person_time(zones[i].attendee.label, zones[i].zone, slot.start, zone)
            if i in zones
            else person_time(i, zone, slot.start, zone)
            for i in ids
        ]
        first = f"{indent}{label:<10} "
        lines += wrap(items, width, first=first, indent=" " * len(first), sep=" · ")
    return lines


def _slots(
    slots: Sequence[Suggestion], zone: str, zones: dict[str, Person], width: int, detail: int
) -> list[str]:
    names = {i: p.attendee.label for i, p in zones.items()}
    head = (_HEAD if width >= _NARROW else _NARROW_HEAD) + "room"
    lines = [head, "-" * min(width, len(head) + 12)]
    for rank, slot in enumerate(slots, 1):
        lines.append(_row(rank, slot, zone, width, names))
        if rank <= detail:
            lines += _details(slot, zone, zones, width)
    return lines


def _explanation(
    explanation: Explanation | None,
    zone: str,
    zones: dict[str, Person],
    width: int,
    detail: int,
) -> list[str]:
    if explanation is None:
        return ["No slot fits the request."]
    lines = ["No slot fits the request. Why:"]
    for r in explanation.reasons:
        words = [f"[{r.code}]", *r.message.split()]
        if r.ids:
            words.append("(" + ", ".join(r.ids) + ")")
        lines += wrap(words, width, first="  - ", indent="    ")
    if explanation.alternatives:
        lines += ["", "Closest alternatives (not everyone can come):"]
        lines += _slots(explanation.alternatives, zone, zones, width, detail)
    nxt = explanation.next_after_window
    if nxt is not None:
        lines += [""]
        lines += wrap(
            ["First slot after the window:", span_text(nxt.start, nxt.end, zone, year=True)]
            + (["·", f"room {nxt.room}"] if nxt.room else []),
            width,
        )
        lines += _details(nxt, zone, zones, width)
    return lines


def stats_line(result: SuggestionResult, width: int = 100) -> list[str]:
    """``calls: feishu/freebusy 2 · dingtalk/schedule 3 · retries 1``, wrapped to ``width``."""
    items = [f"{k} {result.calls[k]}" for k in sorted(result.calls)]
    items.append(f"retries {result.retries}")
    return wrap(items, clamp_width(width), first="calls: ", indent="       ", sep=" · ")


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
    summary = f"{n_att} attendee{'s' if n_att != 1 else ''}"
    if n_opt:
        summary += f" ({n_opt} optional)"
    if n_room:
        summary += f" · {n_room} room{'s' if n_room != 1 else ''}"
    summary += (
        f" · {len(result.periods)} common free period{'s' if len(result.periods) != 1 else ''}"
    )
    return [*lines, fit(summary, width)]


def _periods(result: SuggestionResult, zone: str, width: int, limit: int = 6) -> list[str]:
    if not result.periods:
        return []
    items = [span_text(p.start, p.end, zone) for p in result.periods[:limit]]
    if len(result.periods) > limit:
        items.append(f"(+{len(result.periods) - limit} more)")
    return wrap(items, width, first="Free for everyone: ", indent=" " * 19, sep=" · ")


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
    who = people(result)
    zones = {p.id: p for p in who}
    lines = _header(result, tz, who, width)
    lines.append("")
    if result.slots:
        lines += _slots(result.slots, tz, zones, width, detail)
    else:
        lines += _explanation(result.explanation, tz, zones, width, detail)
    periods = _periods(result, tz, width)
    if periods:
        lines += ["", *periods]
    if result.unknown:
        lines += ["", "Could not read (counted as unknown, never as free):"]
        for u in result.unknown:
            lines += wrap([u.id, "-", *u.reason.split()], width, first="  ", indent="    ")
    if stats:
        lines += ["", *stats_line(result, width)]
    return "\n".join(line.rstrip() for line in lines) + "\n"
