"""What every renderer shares: turning epoch seconds into local text, and fitting text to a width.

Renderers are the edge of slotfinder, so this is where integers become aware datetimes: once
per displayed time, through :mod:`zoneinfo` (RFC 5545 semantics, like the rest of slotfinder).
Widths count terminal columns, not code points: a CJK character takes two columns and a
combining mark none, so a table of Chinese names still fits in 100 columns.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slotfinder.groups import membership
from slotfinder.intervals import SpanArrays, empty, normalize
from slotfinder.model import (
    EARLIEST,
    Attendee,
    Availability,
    MeetingRequest,
    Reason,
    Span,
    Suggestion,
    SuggestionResult,
    UnansweredPolicy,
    blocking_statuses,
)


def clamp_width(width: int) -> int:
    """The width a renderer actually uses: at most 100 columns, at least 60."""
    return max(60, min(100, int(width)))


def local_dt(t: int, zone: str) -> datetime:
    """The aware datetime of epoch second ``t`` in ``zone``."""
    return datetime.fromtimestamp(t, ZoneInfo(zone))  # ZoneInfo keeps its own cache


def rfc3339(t: int, zone: str) -> str:
    """``2026-11-23T09:00:00+08:00``: RFC 3339 with the zone's offset at that instant."""
    return local_dt(t, zone).isoformat(timespec="seconds")


def local(t: int, zone: str, fmt: str = "%H:%M") -> str:
    """``t`` in ``zone`` formatted with ``strftime`` (English names, whatever the locale)."""
    dt = local_dt(t, zone)
    # %a/%b depend on the C locale; spell them out so output is the same on every machine.
    fmt = fmt.replace("%a", _DAYS[dt.weekday()]).replace("%b", _MONTHS[dt.month - 1])
    return dt.strftime(fmt)


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def result_zone(result: SuggestionResult, zone: str | None = None) -> str:
    """The zone output times are written in: ``zone`` if given, else the request's, else UTC."""
    if zone is not None:
        return zone
    return result.request.zone if result.request is not None else "UTC"


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def text_width(text: str) -> int:
    """Terminal columns ``text`` takes (wide characters count two)."""
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def fit(text: str, width: int, *, pad: bool = False) -> str:
    """``text`` cut to ``width`` columns with an ellipsis; padded with spaces when ``pad``."""
    if width <= 0:
        return ""
    if text_width(text) > width:
        out, used = [], 0
        for ch in text:
            w = _char_width(ch)
            if used + w > width - 1:
                break
            out.append(ch)
            used += w
        text = "".join(out) + "…"
    if pad:
        text += " " * (width - text_width(text))
    return text


def wrap(
    words: Iterable[str], width: int, *, first: str = "", indent: str = "", sep: str = " "
) -> list[str]:
    """Lay ``words`` out in lines of at most ``width`` columns.

    Words are joined by ``sep`` and lines break only between words; the first line starts with
    ``first``, the others with ``indent``. A word longer than a line is cut with an ellipsis
    rather than overflowing.
    """
    lines: list[str] = []
    sw = text_width(sep)
    line, used, fresh = first, text_width(first), True
    for word in words:
        w = text_width(word)
        room = width - used - (0 if fresh else sw)
        if w > room and not fresh:
            lines.append(line)
            line, used, fresh = indent, text_width(indent), True
            room = width - used
        text = word
        if w > room:
            text = fit(word, max(room, 1))
            w = text_width(text)
        line += text if fresh else sep + text
        used += w if fresh else w + sw
        fresh = False
    lines.append(line)
    return [ln.rstrip() for ln in lines]


class Person:
    """An attendee or room as the renderers draw it: id, kind, zone, hours, availability, and
    the request's ``unanswered`` policy (how their unanswered entries are drawn)."""

    __slots__ = ("_blocking", "attendee", "availability", "id", "kind", "unanswered", "zone")

    def __init__(
        self,
        attendee: Attendee,
        kind: str,
        zone: str,
        availability: Availability | None,
        unanswered: UnansweredPolicy = "tentative",
    ) -> None:
        self.attendee = attendee
        self.id = attendee.id
        self.kind = kind  # "required", "optional" or "room"
        self.zone = zone
        self.availability = availability
        self.unanswered = unanswered
        self._blocking: tuple[SpanArrays, SpanArrays] | None = None

    def blocking(self) -> tuple[SpanArrays, SpanArrays]:
        """Time blocked as busy (busy, out of office, unanswered if the policy says so) and as
        tentative, each merged (nothing if unread); worked out on the first call and kept,
        since every slot and drawn day of a report asks again (a year of slots, a thousand
        people)."""
        if self._blocking is None:
            av = self.availability
            if av is None or not av.known:
                self._blocking = empty(), empty()
            else:
                hard, soft = blocking_statuses(self.unanswered)
                self._blocking = (
                    normalize(*av.busy.with_status(*hard)),
                    normalize(*av.busy.with_status(*soft)),
                )
        return self._blocking

    @property
    def label(self) -> str:
        """The name (or id) with a marker for optional attendees and rooms."""
        return self.attendee.label + self.suffix

    @property
    def suffix(self) -> str:
        return {"optional": " (opt)", "room": " (room)"}.get(self.kind, "")

    def fit_label(self, width: int) -> str:
        """The label in exactly ``width`` columns, cutting the id rather than the marker."""
        name = fit(self.attendee.label, width - len(self.suffix))
        return fit(name + self.suffix, width, pad=True)


def people(result: SuggestionResult) -> list[Person]:
    """Everyone the result speaks of, in the request's order, rooms last.

    Without a request, each availability becomes a required attendee in UTC with no working
    hours, so a bare result still draws.
    """
    by_id = {a.id: a for a in result.availabilities}
    out: list[Person] = []
    req: MeetingRequest | None = result.request
    if req is not None:
        policy = req.unanswered
        for a in req.attendees:
            kind = "optional" if a.optional else "required"
            out.append(Person(a, kind, req.zone_of(a), by_id.get(a.id), policy))
        for r in req.rooms:
            out.append(Person(r, "room", req.zone_of(r), by_id.get(r.id), policy))
    seen = {p.id for p in out}
    zone = req.zone if req is not None else "UTC"
    for av in result.availabilities:
        if av.id not in seen:
            out.append(Person(Attendee(id=av.id), "required", zone, av))
            seen.add(av.id)
    return out


def repeated(t: int, zone: str) -> bool:
    """True when ``t``'s wall-clock time happens twice in ``zone`` (the day clocks go back)."""
    dt = local_dt(t, zone)
    return dt.replace(fold=1 - dt.fold).utcoffset() != dt.utcoffset()


def offset_mark(t: int, zone: str) -> str:
    """`` (-04:00)`` when ``t``'s local time repeats in ``zone``, else nothing: the offset
    says which of the two 01:30s is meant."""
    if not repeated(t, zone):
        return ""
    return f" ({local_dt(t, zone).isoformat()[-6:]})"


def span_text(start: int, end: int, zone: str, *, year: bool = False) -> str:
    """``Mon 23 Nov 09:00–09:30`` in ``zone``; the end names its day when it is another day,
    and a time that happens twice that day carries its offset (``01:30 (-04:00)``)."""
    a = local_dt(start, zone)
    b = local_dt(end, zone)
    head = local(start, zone, "%a %d %b %Y %H:%M" if year else "%a %d %b %H:%M")
    ends_at_midnight = (b.date() - a.date()).days == 1 and (b.hour, b.minute) == (0, 0)
    tail = "%H:%M" if b.date() == a.date() or ends_at_midnight else "%a %H:%M"
    return f"{head}{offset_mark(start, zone)}–{local(end, zone, tail)}{offset_mark(end, zone)}"


def person_time(person_id: str, person_zone: str, t: int, ref_zone: str) -> str:
    """``bob Sun 20:00 America/New_York``: ``t`` in the person's own zone.

    The weekday is named only when the person's date differs from the date in ``ref_zone``;
    a local time that happens twice carries its offset.
    """
    mine = local_dt(t, person_zone)
    day = "" if mine.date() == local_dt(t, ref_zone).date() else _DAYS[mine.weekday()] + " "
    return f"{person_id} {day}{mine:%H:%M}{offset_mark(t, person_zone)} {person_zone}"


def _days_hours_minutes_seconds(seconds: int) -> tuple[int, int, int, int]:
    d, rest = divmod(int(seconds), 86_400)
    h, rest = divmod(rest, 3600)
    return (d, h, *divmod(rest, 60))


def duration_text(seconds: int) -> str:
    """``30 min``, ``1 h``, ``1 h 30 min``, ``2 d``."""
    parts = zip(_days_hours_minutes_seconds(seconds), ("d", "h", "min", "s"), strict=True)
    return " ".join(f"{n} {unit}" for n, unit in parts if n) or "0 min"


def compact_duration(seconds: int) -> str:
    """``10d``, ``1d12h``, ``1h30m``, ``45m``: the way durations are typed on the command line,
    so ``--min-notice 10d`` comes back as ``10d``."""
    parts = zip(_days_hours_minutes_seconds(seconds), "dhms", strict=True)
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0m"


def plural(n: int, word: str) -> str:
    """``1 room``, ``2 rooms``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


_HOURS = re.compile(r"\b(\d+)h(?:(\d+)m)?(?:(\d+)s)?\b", re.ASCII)


def reason_text(reason: Reason) -> str:
    """The reason's message with durations of a day or more in days (``240h`` reads ``10d``)."""

    def days(m: re.Match[str]) -> str:
        hours = int(m[1])
        if hours < 24:
            return m[0]
        return compact_duration(hours * 3600 + int(m[2] or 0) * 60 + int(m[3] or 0))

    return _HOURS.sub(days, reason.message)


STATE_TEXT = {
    "free": "free",
    "busy": "busy",
    "tentative": "tentative",
    "unknown": "unknown",
    "outside": "outside working hours",
    "capped": "at their meeting cap",
}
"""How each state is written out: ``outside`` is not ``busy``, the person has no event;
``capped``: a meeting then would break their meetings or busy-hours cap for that day or week."""


def earliest_start(req: MeetingRequest) -> int:
    """The first instant the meeting may start: the request's ``now`` (else the current time)
    plus the notice; as in the engine, the clock counts only when a notice is set."""
    if not req.min_notice:
        return EARLIEST
    return (req.now if req.now is not None else int(time.time())) + req.min_notice


def meeting_periods(result: SuggestionResult) -> list[Span]:
    """The common free periods that can still hold the meeting: the part of each from
    :func:`earliest_start` on, kept when the meeting fits in it (without a request, the
    periods as they are)."""
    req = result.request
    if req is None:
        return list(result.periods)
    earliest = earliest_start(req)
    out = []
    for p in result.periods:
        start = max(p.start, earliest)
        if p.end - start >= req.duration:
            out.append(Span(start, p.end))
    return out


def group_items(result: SuggestionResult, slot: Suggestion) -> list[str]:
    """Per group of the request, who of it is free for ``slot``:
    ``panel 2 of 3 free, needs 2: Bob, Carol`` (nothing without groups)."""
    req = result.request
    if req is None or not req.groups:
        return []
    out = []
    for g in membership(req.groups, slot.available):
        names = ", ".join(result.label(i) for i in g.available) or "nobody"
        out.append(f"{g.name} {len(g.available)} of {g.size} free, needs {g.required}: {names}")
    return out


def _quorum(req: MeetingRequest | None) -> tuple[int, int] | None:
    """``(k, n)`` when a quorum lets ``k`` of the ``n`` required attendees suffice, else None."""
    if req is None or req.quorum is None or req.quorum_count() >= len(req.required):
        return None
    return req.quorum_count(), len(req.required)


def periods_title(result: SuggestionResult) -> str:
    """``Free for everyone``, or with a quorum ``Free for at least 2 of 3 required``, or with
    groups ``Free for every group's need``."""
    if result.request is not None and result.request.groups:
        return "Free for every group's need"
    q = _quorum(result.request)
    return f"Free for at least {q[0]} of {q[1]} required" if q else "Free for everyone"


def common_label(result: SuggestionResult) -> str:
    """The short label of the common-free row: ``free for all``, or ``free for 2 of 3``."""
    if result.request is not None and result.request.groups:
        return "groups met"
    q = _quorum(result.request)
    return f"free for {q[0]} of {q[1]}" if q else "free for all"


def repeated_hour(day_start: int, day_end: int, zone: str) -> str:
    """``01:00–02:00 happens twice (-04:00, then -05:00)`` when clocks go back inside
    ``[day_start, day_end)``, else nothing."""
    for t in range(day_start, day_end, 900):
        if repeated(t, zone):
            first = local_dt(t, zone)
            later = first.replace(fold=1)
            shift = (first.utcoffset() or timedelta()) - (later.utcoffset() or timedelta())
            end = (first.replace(tzinfo=None) + shift).strftime("%H:%M")
            return (
                f"{first:%H:%M}–{end} happens twice "
                f"({first.isoformat()[-6:]}, then {later.isoformat()[-6:]})"
            )
    return ""
