"""The value types every part of slotfinder speaks.

Inside slotfinder a time is an integer count of seconds since the Unix epoch: parsing goes
straight to integers and the engine never touches a datetime (converting 100 000 aware
datetimes costs far more than the whole vectorised computation). Aware datetimes are accepted
at the edges and converted once; a naive datetime is refused, because guessing its zone is how
scheduling tools put meetings at 3 a.m.

All classes are frozen attrs classes with keyword-friendly constructors; validation happens on
construction so a bad request fails before any provider is called.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder.errors import InputError

__all__ = [
    "DAY",
    "Attendee",
    "Availability",
    "Busy",
    "BusyTable",
    "Explanation",
    "MeetingRequest",
    "Reason",
    "Span",
    "Status",
    "Suggestion",
    "SuggestionResult",
    "Unknown",
    "WorkingHours",
    "check_zone",
    "to_epoch",
]

DAY = 86_400
Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]


def to_epoch(value: int | datetime, field: str = "time") -> int:
    """Return integer epoch seconds for an aware datetime (or pass an int through).

    Sub-second parts are truncated toward the past: calendars work in whole seconds.
    """
    if isinstance(value, bool):
        raise InputError(field, value, "expected an aware datetime or epoch seconds")
    if isinstance(value, int):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError(
                field, value.isoformat(), "naive datetime: give a time zone or a UTC offset"
            )
        return math.floor(value.timestamp())
    raise InputError(field, value, "expected an aware datetime or epoch seconds")


def check_zone(zone: str, field: str = "tz") -> str:
    """Return ``zone`` if it is a known IANA zone name, else raise :class:`InputError`."""
    if not isinstance(zone, str) or not zone:
        raise InputError(field, zone, "expected an IANA time zone name such as 'Asia/Shanghai'")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # OSError: "America" names a tzdata directory; a very long name is too long a path.
        raise InputError(field, zone, "unknown IANA time zone") from exc
    return zone


def _start(value: int | datetime) -> int:
    return to_epoch(value, "span.start")


def _end(value: int | datetime) -> int:
    return to_epoch(value, "span.end")


@attrs.frozen(order=True)
class Span:
    """A half-open stretch of time ``[start, end)`` in epoch seconds.

    Half-open, so a meeting ending at 10:00 does not collide with one starting at 10:00.
    Accepts aware datetimes or integers; refuses naive datetimes and ``end < start``.
    A zero-length span is allowed (it blocks nothing).
    """

    start: int = attrs.field(converter=_start)
    end: int = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("span.end", self.end, f"must not be before start {self.start}")

    @property
    def seconds(self) -> int:
        """Length in seconds."""
        return self.end - self.start

    def overlaps(self, other: Span) -> bool:
        """True when the two spans share a positive length of time."""
        return self.start < other.end and other.start < self.end

    def __contains__(self, instant: int) -> bool:
        return self.start <= instant < self.end


class Status(enum.Enum):
    """What a calendar says about a stretch of time, ordered by how strongly it blocks."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"

    @property
    def code(self) -> int:
        """Small integer used in :class:`BusyTable` arrays."""
        return _STATUS_CODE[self]

    @classmethod
    def from_code(cls, code: int) -> Status:
        return _CODE_STATUS[int(code)]

    @classmethod
    def parse(cls, value: object, field: str = "status") -> Status:
        try:
            return cls(str(value).lower())
        except ValueError as exc:
            raise InputError(field, value, "expected one of busy, tentative, free, oof") from exc


_STATUS_CODE = {Status.FREE: 0, Status.TENTATIVE: 1, Status.BUSY: 2, Status.OOF: 3}
_CODE_STATUS = {v: k for k, v in _STATUS_CODE.items()}


@attrs.frozen
class Busy:
    """One entry of someone's calendar: a span, how it blocks, and where it came from."""

    span: Span
    status: Status = Status.BUSY
    source: str = ""


def _int64(values: Any) -> Int64Array:
    arr = np.ascontiguousarray(values, dtype=np.int64)
    arr.setflags(write=False)
    return arr


def _int8(values: Any) -> Int8Array:
    arr = np.ascontiguousarray(values, dtype=np.int8)
    arr.setflags(write=False)
    return arr


@attrs.frozen(eq=False)
class BusyTable:
    """Busy entries as three parallel read-only numpy arrays: starts, ends, status codes.

    This is what parsers produce and the engine consumes, so 100 000 busy entries never become
    100 000 Python objects. Entries need not be sorted or disjoint; the engine normalises.
    """

    starts: Int64Array = attrs.field(converter=_int64)
    ends: Int64Array = attrs.field(converter=_int64)
    status: Int8Array = attrs.field(converter=_int8)

    def __attrs_post_init__(self) -> None:
        if not (self.starts.shape == self.ends.shape == self.status.shape) or self.starts.ndim != 1:
            raise InputError("busy", self.starts.shape, "starts, ends and status must align")
        if self.starts.size and bool(np.any(self.ends < self.starts)):
            i = int(np.argmax(self.ends < self.starts))
            raise InputError(
                f"busy[{i}].end", int(self.ends[i]), f"before start {int(self.starts[i])}"
            )

    @classmethod
    def empty(cls) -> BusyTable:
        return cls(starts=(), ends=(), status=())

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, int]]) -> BusyTable:
        """Build from ``(start, end, status_code)`` rows, the parsers' output."""
        data = np.array(list(rows), dtype=np.int64).reshape(-1, 3)
        return cls(starts=data[:, 0], ends=data[:, 1], status=data[:, 2])

    @classmethod
    def from_busy(cls, entries: Iterable[Busy]) -> BusyTable:
        return cls.from_rows((b.span.start, b.span.end, b.status.code) for b in entries)

    def __len__(self) -> int:
        return int(self.starts.size)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusyTable):
            return NotImplemented
        return (
            np.array_equal(self.starts, other.starts)
            and np.array_equal(self.ends, other.ends)
            and np.array_equal(self.status, other.status)
        )

    def __hash__(self) -> int:
        return hash((self.starts.tobytes(), self.ends.tobytes(), self.status.tobytes()))

    def entries(self) -> list[Busy]:
        """The rows as :class:`Busy` objects (for display and tests, not for hot paths)."""
        return [
            Busy(span=Span(int(s), int(e)), status=Status.from_code(int(c)))
            for s, e, c in zip(self.starts, self.ends, self.status, strict=True)
        ]

    def with_status(self, *statuses: Status) -> tuple[Int64Array, Int64Array]:
        """Starts and ends of the entries whose status is one of ``statuses``."""
        mask = np.isin(self.status, [s.code for s in statuses])
        return self.starts[mask], self.ends[mask]


@attrs.frozen
class Availability:
    """What is known of one attendee's or room's time.

    ``error`` set means the calendar could not be read: the attendee is *unknown*, never free.
    ``covered`` is the stretch the data speaks for (``None``: whatever the request asks); outside
    it nothing is known.
    """

    id: str
    busy: BusyTable = attrs.field(factory=BusyTable.empty)
    error: str | None = None
    covered: Span | None = None

    @property
    def known(self) -> bool:
        return self.error is None

    @classmethod
    def of(cls, id: str, busy: Iterable[Busy] = (), covered: Span | None = None) -> Availability:
        return cls(id=id, busy=BusyTable.from_busy(busy), covered=covered)

    @classmethod
    def unknown(cls, id: str, reason: str) -> Availability:
        return cls(id=id, error=reason)


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_days(key: str, field: str) -> list[int]:
    days: list[int] = []
    for raw in key.lower().split(","):
        part = raw.strip()
        if "-" in part:
            a, _, b = part.partition("-")
            if a.strip() not in _DAY_NAMES or b.strip() not in _DAY_NAMES:
                raise InputError(field, key, "expected day names mon..sun, e.g. 'mon-fri'")
            i, j = _DAY_NAMES.index(a.strip()), _DAY_NAMES.index(b.strip())
            span = (j - i) % 7
            days.extend((i + k) % 7 for k in range(span + 1))
        elif part in _DAY_NAMES:
            days.append(_DAY_NAMES.index(part))
        else:
            raise InputError(field, key, "expected day names mon..sun, e.g. 'mon-fri'")
    return days


def _parse_range(text: object, field: str) -> tuple[int, int]:
    match = _RANGE_RE.match(text) if isinstance(text, str) else None
    if match is None:
        raise InputError(field, text, "expected a range 'HH:MM-HH:MM'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise InputError(field, text, "hours 00-23 (24:00 only as an end), minutes 00-59")
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if end == start:
        raise InputError(field, text, "start and end are equal; use 00:00-24:00 for a whole day")
    if end < start:
        end += 24 * 60  # past midnight
    return start, end


def _wh_zone(_inst: object, _attr: attrs.Attribute[Any], value: str) -> None:
    check_zone(value, "working_hours.tz")


def _sorted_rules(rules: Iterable[tuple[int, int, int]]) -> tuple[tuple[int, int, int], ...]:
    return tuple(sorted(rules))


@attrs.frozen
class WorkingHours:
    """Weekly working hours in one IANA zone.

    ``rules`` are ``(weekday, start_minute, end_minute)`` with Monday = 0 and minutes of local
    wall-clock time from that day's midnight; ``end_minute`` may exceed 1440 for a range past
    midnight (at most 2880). Several ranges a day are several rules. Converting to instants is
    :func:`slotfinder.hours.working_spans`, which follows the RFC 5545 rule for DST gaps and
    folds.
    """

    zone: str = attrs.field(validator=_wh_zone)
    rules: tuple[tuple[int, int, int], ...] = attrs.field(converter=_sorted_rules)

    def __attrs_post_init__(self) -> None:
        for day, start, end in self.rules:
            if not (0 <= day <= 6 and 0 <= start < 1440 and start < end <= start + 1440):
                raise InputError("working_hours", (day, start, end), "invalid rule")

    @classmethod
    def parse(
        cls, zone: str, spec: Mapping[str, object], field: str = "working_hours"
    ) -> WorkingHours:
        """Parse ``{"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "10:00-14:00"}``."""
        if not isinstance(spec, Mapping):
            raise InputError(field, spec, "expected a mapping of days to 'HH:MM-HH:MM' ranges")
        rules: list[tuple[int, int, int]] = []
        for key, ranges in spec.items():
            days = _parse_days(str(key), f"{field}.{key}")
            items = [ranges] if isinstance(ranges, str) else ranges
            if not isinstance(items, Sequence):
                raise InputError(f"{field}.{key}", ranges, "expected a list of 'HH:MM-HH:MM'")
            for item in items:
                start, end = _parse_range(item, f"{field}.{key}")
                rules.extend((d, start, end) for d in days)
        return cls(zone=zone, rules=tuple(rules))

    def to_spec(self) -> dict[str, list[str]]:
        """The rules back in the busy-file notation, one key per day."""
        out: dict[str, list[str]] = {}
        for day, start, end in self.rules:
            e = end % 1440 if end != 1440 else 1440
            out.setdefault(_DAY_NAMES[day], []).append(
                f"{start // 60:02d}:{start % 60:02d}-{e // 60:02d}:{e % 60:02d}"
            )
        return out


def _zone_or_none(_inst: object, attr: attrs.Attribute[Any], value: str | None) -> None:
    if value is not None:
        check_zone(value, attr.name)


@attrs.frozen
class Attendee:
    """A person or a room: an id ``PROVIDER:ID``, whether optional, a zone, working hours.

    ``zone`` ``None`` means the request's zone; ``working_hours`` ``None`` means no limit.
    """

    id: str
    optional: bool = False
    zone: str | None = attrs.field(default=None, validator=_zone_or_none)
    working_hours: WorkingHours | None = None
    name: str | None = None
    """How people call them (display only; ``id`` is what identifies them)."""

    @property
    def label(self) -> str:
        """The name to show: ``name`` when given, else the id."""
        return self.name or self.id


TentativePolicy = Literal["busy", "free"]
UnknownPolicy = Literal["exclude", "flag"]
Order = Literal["score", "start"]


def _dedupe(attendees: Iterable[Attendee]) -> tuple[Attendee, ...]:
    """Merge duplicate ids, keeping the first entry; a required mention wins over optional."""
    seen: dict[str, Attendee] = {}
    for a in attendees:
        prior = seen.get(a.id)
        if prior is None:
            seen[a.id] = a
        elif prior.optional and not a.optional:
            seen[a.id] = attrs.evolve(prior, optional=False)
    return tuple(seen.values())


@attrs.frozen
class MeetingRequest:
    """Everything the engine needs to know about the meeting wanted.

    Durations are seconds. ``granularity`` must divide a day so the grid of slot starts is the
    same wall-clock grid every day. ``quorum`` is a count of required attendees or a fraction of
    them; ``None`` means all. ``now`` is the instant ``min_notice`` counts from (``None``: the
    current time when the engine runs).
    """

    attendees: tuple[Attendee, ...] = attrs.field(converter=_dedupe)
    window: Span
    duration: int
    rooms: tuple[Attendee, ...] = attrs.field(default=(), converter=_dedupe)
    granularity: int = 900
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int = 0
    now: int | None = None
    quorum: int | float | None = None
    tentative: TentativePolicy = "busy"
    unknown: UnknownPolicy = "exclude"
    max_results: int = 10
    order: Order = "score"
    zone: str = "UTC"

    def __attrs_post_init__(self) -> None:
        check_zone(self.zone, "tz")
        if not self.attendees:
            raise InputError("attendees", [], "at least one attendee is needed")
        length = self.window.seconds
        if length <= 0:
            raise InputError(
                "window.end", self.window.end, f"must be after window.start {self.window.start}"
            )
        if self.duration <= 0:
            raise InputError("duration", self.duration, "must be positive")
        if self.duration > length:
            raise InputError(
                "duration", self.duration, f"longer than the window ({length} seconds)"
            )
        if self.granularity <= 0 or DAY % self.granularity:
            raise InputError(
                "granularity", self.granularity, "must be positive and divide a day (86400 s)"
            )
        for name in ("buffer_before", "buffer_after", "min_notice"):
            if getattr(self, name) < 0:
                raise InputError(name, getattr(self, name), "must not be negative")
        if self.max_results < 1:
            raise InputError("max_results", self.max_results, "must be at least 1")
        if self.tentative not in ("busy", "free"):
            raise InputError("tentative", self.tentative, "expected 'busy' or 'free'")
        if self.unknown not in ("exclude", "flag"):
            raise InputError("unknown", self.unknown, "expected 'exclude' or 'flag'")
        if self.order not in ("score", "start"):
            raise InputError("order", self.order, "expected 'score' or 'start'")
        self.quorum_count()  # validates

    @property
    def required(self) -> tuple[Attendee, ...]:
        return tuple(a for a in self.attendees if not a.optional)

    @property
    def optional(self) -> tuple[Attendee, ...]:
        return tuple(a for a in self.attendees if a.optional)

    def quorum_count(self) -> int:
        """How many required attendees must be free for a slot to pass.

        An ``int`` is a count; a ``float`` is a fraction of the required attendees, rounded up.
        """
        n = len(self.required)
        q = self.quorum
        if q is None:
            return n
        if isinstance(q, bool) or not isinstance(q, int | float):
            raise InputError("quorum", q, "expected a count or a fraction")
        if isinstance(q, float):
            if not 0 < q <= 1:
                raise InputError("quorum", q, "a fraction must be in (0, 1]")
            return max(1, math.ceil(q * n - 1e-9))
        if not 1 <= q <= n:
            raise InputError("quorum", q, f"must be between 1 and {n} required attendees")
        return q

    def zone_of(self, attendee: Attendee) -> str:
        return attendee.zone or self.zone


@attrs.frozen
class Suggestion:
    """One proposed slot ``[start, end)`` and who can come.

    ``available`` are free for the whole slot, ``tentative`` have only tentative entries there,
    ``unavailable`` are busy or outside their working hours, ``unknown`` could not be read.
    """

    start: int
    end: int
    score: float
    available: tuple[str, ...] = ()
    tentative: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    room: str | None = None

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)


@attrs.frozen
class Unknown:
    """An attendee or room whose calendar could not be read, and why."""

    id: str
    reason: str


@attrs.frozen
class Reason:
    """One structured cause of an empty result.

    ``code`` is one of ``window_too_short``, ``hours_never_overlap``, ``busy_whole_window``,
    ``quorum_unreachable``, ``unknown_attendees``, ``no_room_free``, ``min_notice``,
    ``no_common_time``.
    """

    code: str
    message: str
    ids: tuple[str, ...] = ()


@attrs.frozen
class Explanation:
    """Why nothing fits, and what comes closest."""

    reasons: tuple[Reason, ...]
    alternatives: tuple[Suggestion, ...] = ()
    next_after_window: Suggestion | None = None


@attrs.frozen
class SuggestionResult:
    """What :func:`slotfinder.find_slots` and :func:`slotfinder.suggest` return.

    ``calls`` counts provider calls by ``"provider/endpoint"``; ``retries`` how many were
    repeated. ``request`` and ``availabilities`` are kept for the renderers.
    """

    slots: tuple[Suggestion, ...]
    periods: tuple[Span, ...]
    unknown: tuple[Unknown, ...] = ()
    explanation: Explanation | None = None
    request: MeetingRequest | None = attrs.field(default=None, repr=False)
    availabilities: tuple[Availability, ...] = attrs.field(default=(), repr=False)
    calls: Mapping[str, int] = attrs.field(factory=dict)
    retries: int = 0
