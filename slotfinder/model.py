"""The value types every part of slotfinder speaks.

Inside slotfinder a time is an integer count of seconds since the Unix epoch: parsing goes
straight to integers and the engine never touches a datetime (converting 100 000 aware
datetimes costs far more than the whole vectorised computation). Aware datetimes are accepted
at the edges and converted once; a naive datetime is refused, because guessing its zone is how
scheduling tools put meetings at 3 a.m. ``start_at(zone)``/``end_at(zone)`` give aware
datetimes back, and reprs show RFC 3339 times in UTC.

All classes are frozen attrs classes with keyword-friendly constructors; validation happens on
construction so a bad request fails before any provider is called, and whatever a constructor
accepts the engine can compute with: every wrong type, NaN, infinity or out-of-range number is
an :class:`~slotfinder.errors.InputError` naming the field and the limit. The limits:

* instants lie in ``[EARLIEST, LATEST]``, 0001-01-02 to 9999-12-31 UTC, so each one has a
  wall-clock time in every zone and int64 arithmetic on them cannot overflow;
* a request window lies a month inside those ends (the engine looks a day before it and two
  weeks after it) and is at most :data:`MAX_WINDOW` long;
* durations are whole seconds: buffers at most :data:`MAX_BUFFER`, the notice at most
  :data:`MAX_WINDOW`, the granularity a whole number of minutes dividing a day.
"""

from __future__ import annotations

import enum
import math
import numbers
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import NoneType
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import attrs
import numpy as np
import numpy.typing as npt

from slotfinder.errors import InputError
from slotfinder.groups import Group, check

if TYPE_CHECKING:
    from slotfinder import recur

__all__ = [
    "CAP_KEYS",
    "DAY",
    "EARLIEST",
    "LATEST",
    "MAX_BUFFER",
    "MAX_RESULTS",
    "MAX_WINDOW",
    "UNANSWERED_POLICIES",
    "Attendee",
    "Availability",
    "Busy",
    "BusyTable",
    "Explanation",
    "LoadCaps",
    "MeetingRequest",
    "Occurrence",
    "Reason",
    "Span",
    "Status",
    "Suggestion",
    "SuggestionResult",
    "Unknown",
    "WorkingHours",
    "as_availabilities",
    "blocking_statuses",
    "check_zone",
    "to_epoch",
]

DAY = 86_400
EARLIEST = -62_135_510_400
"""0001-01-02T00:00:00Z, the earliest instant: a day inside ``datetime``'s range."""
LATEST = 253_402_214_400
"""9999-12-31T00:00:00Z, the latest instant: a day inside ``datetime``'s range."""
_WINDOW_MARGIN = 31 * DAY
MAX_WINDOW = 366 * DAY
"""The longest request window (and the longest ``min_notice``)."""
MAX_BUFFER = DAY
"""The longest ``buffer_before`` or ``buffer_after``."""
MAX_RESULTS = 100_000
"""The largest ``max_results`` (a year of 5-minute slots)."""

Int64Array = npt.NDArray[np.int64]
Int8Array = npt.NDArray[np.int8]
_T = TypeVar("_T")


def _utc(t: int) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _at(t: int, zone: str) -> datetime:
    from zoneinfo import ZoneInfo  # see check_zone

    return datetime.fromtimestamp(t, ZoneInfo(check_zone(zone, "zone")))


def _tuple_of(values: object, kind: type[_T], field: str, many: str, one: str) -> tuple[_T, ...]:
    """``values`` as a tuple of ``kind``: a text, a mapping or an item of another type is
    refused (``expected {many}``, or ``expected {one}`` naming the item's position)."""
    if not isinstance(values, Iterable) or isinstance(values, str | bytes | Mapping):
        raise InputError(field, values, f"expected {many}")
    out = tuple(values)
    for i, v in enumerate(out):
        if not isinstance(v, kind):
            raise InputError(f"{field}[{i}]", v, f"expected {one}")
    return out


def _whole(value: object, field: str) -> int:
    """``value`` as a plain int; bools, floats (NaN, 1.5, even 2.0) and other types refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(field, value, "expected a whole number (an int)")
    return int(value)


def to_epoch(value: int | datetime, field: str = "time") -> int:
    """Return integer epoch seconds for an aware datetime (or pass an int through).

    Sub-second parts are truncated toward the past: calendars work in whole seconds. The
    result must lie in ``[EARLIEST, LATEST]`` (years 1 to 9999).
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InputError(
                field, value.isoformat(), "naive datetime: give a time zone or a UTC offset"
            )
        t = math.floor(value.timestamp())
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        t = int(value)
    else:
        raise InputError(field, value, "expected an aware datetime or epoch seconds")
    if not EARLIEST <= t <= LATEST:
        raise InputError(
            field, value, f"outside {_utc(EARLIEST)} to {_utc(LATEST)} ({EARLIEST} to {LATEST})"
        )
    return t


def check_zone(zone: str, field: str = "tz") -> str:
    """Return ``zone`` if it is a known IANA zone name, else raise :class:`InputError`."""
    # Imported on first use: zoneinfo (with sysconfig, to find the tz database) is a few
    # milliseconds of every start-up that only reads the model, e.g. loading a config.
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


@attrs.frozen(order=True, repr=False)
class Span:
    """A half-open stretch of time ``[start, end)`` in epoch seconds.

    Half-open, so a meeting ending at 10:00 does not collide with one starting at 10:00.
    Accepts aware datetimes or integers in ``[EARLIEST, LATEST]``; refuses naive datetimes
    and ``end < start``. A zero-length span is allowed (it blocks nothing).
    """

    start: int = attrs.field(converter=_start)
    end: int = attrs.field(converter=_end)

    def __attrs_post_init__(self) -> None:
        if self.end < self.start:
            raise InputError("span.end", self.end, f"must not be before start {self.start}")

    def __repr__(self) -> str:
        return f"Span({_utc(self.start)}, {_utc(self.end)})"

    @property
    def seconds(self) -> int:
        """Length in seconds."""
        return self.end - self.start

    def start_at(self, zone: str = "UTC") -> datetime:
        """The start as an aware datetime in the IANA ``zone``."""
        return _at(self.start, zone)

    def end_at(self, zone: str = "UTC") -> datetime:
        """The end as an aware datetime in the IANA ``zone``."""
        return _at(self.end, zone)

    def overlaps(self, other: Span) -> bool:
        """True when the two spans share a positive length of time."""
        return self.start < other.end and other.start < self.end

    def __contains__(self, instant: int) -> bool:
        return self.start <= instant < self.end


class Status(enum.Enum):
    """What a calendar says about a stretch of time: ``free`` to ``oof`` in the order of how
    strongly they block; ``unanswered`` blocks as the request's policy says."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    UNANSWERED = "unanswered"
    """An invitation not yet answered; the request's ``unanswered`` policy says how it counts."""

    @property
    def code(self) -> int:
        """Small integer used in :class:`BusyTable` arrays."""
        return _STATUS_CODE[self]

    @classmethod
    def from_code(cls, code: int) -> Status:
        try:
            return _CODE_STATUS[code]
        except (KeyError, TypeError):
            pass
        raise InputError("status", code, f"unknown status code (0-{len(_CODE_STATUS) - 1})")

    @classmethod
    def parse(cls, value: object, field: str = "status") -> Status:
        """A :class:`Status` from itself or its name, any case (``"BUSY"``, ``"oof"``)."""
        if isinstance(value, Status):
            return value
        try:
            return cls(value.lower()) if isinstance(value, str) else cls(None)
        except ValueError as exc:
            raise InputError(
                field, value, "expected one of busy, tentative, free, oof, unanswered"
            ) from exc


_STATUS_CODE = {
    Status.FREE: 0,
    Status.TENTATIVE: 1,
    Status.BUSY: 2,
    Status.OOF: 3,
    Status.UNANSWERED: 4,
}
_CODE_STATUS = {v: k for k, v in _STATUS_CODE.items()}


def _of_type(kind: type | tuple[type, ...], expected: str) -> Callable[[object, Any, Any], None]:
    """An attrs validator refusing values that are not ``kind``, naming the field; with
    ``None`` in ``kind`` the field is optional."""

    def check(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, kind):
            raise InputError(attr.name, value, f"expected {expected}")

    return check


def _text(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise InputError(attr.name, value, "expected a non-empty string")


def _parse_status(value: object) -> Status:
    return Status.parse(value)


@attrs.frozen
class Busy:
    """One entry of someone's calendar: a span, how it blocks, and where it came from.

    ``status`` may be given as a :class:`Status` or its name.
    """

    span: Span = attrs.field(validator=_of_type(Span, "a Span"))
    status: Status = attrs.field(default=Status.BUSY, converter=_parse_status)
    source: str = attrs.field(default="", validator=_of_type(str, "a string"))


def _column(values: object, field: str, lo: int, hi: int, rule: str) -> Int64Array:
    """``values`` as a read-only int64 array, each in ``[lo, hi]``; anything else refused.

    Integer arrays pass with two reductions (parsers hand over 100 000 entries); floats,
    including whole ones, NaN and infinities, are refused rather than truncated.
    """
    try:
        arr = np.asarray(values)
    except (ValueError, TypeError, OverflowError) as exc:
        raise InputError(field, values, "expected a flat sequence of integers") from exc
    if arr.ndim != 1:
        raise InputError(field, values, "expected a flat sequence of integers")
    if arr.size == 0:
        arr = np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu":
        # b: booleans, f: floats, U/S: text, O: ints beyond 64 bits or mixed types.
        items = arr.tolist()
        i = next((i for i, v in enumerate(items) if type(v) is not int or not lo <= v <= hi), 0)
        problem = rule if type(items[i]) is int else "expected an integer"
        raise InputError(f"{field}[{i}]", items[i], problem)
    for i in (int(np.argmin(arr)), int(np.argmax(arr))) if arr.size else ():
        if not lo <= int(arr[i]) <= hi:
            raise InputError(f"{field}[{i}]", int(arr[i]), rule)
    out = np.ascontiguousarray(arr, dtype=np.int64)
    out = out.view() if out is values else out  # never freeze the caller's own array
    out.setflags(write=False)
    return out


_TIME_RULE = f"outside {EARLIEST} to {LATEST} (years 1 to 9999 in epoch seconds)"


def _starts(values: object) -> Int64Array:
    return _column(values, "busy.starts", EARLIEST, LATEST, _TIME_RULE)


def _ends(values: object) -> Int64Array:
    return _column(values, "busy.ends", EARLIEST, LATEST, _TIME_RULE)


def _codes(values: object) -> Int8Array:
    codes = ", ".join(f"{c} {s.value}" for s, c in _STATUS_CODE.items())
    arr = _column(values, "busy.status", 0, len(_STATUS_CODE) - 1, f"unknown code: {codes}")
    out = arr.astype(np.int8)
    out.setflags(write=False)
    return out


@attrs.frozen(eq=False)
class BusyTable:
    """Busy entries as three parallel read-only numpy arrays: starts, ends, status codes.

    This is what parsers produce and the engine consumes, so 100 000 busy entries never become
    100 000 Python objects. Entries need not be sorted or disjoint; the engine normalises.
    Times are integers in ``[EARLIEST, LATEST]``; codes are :attr:`Status.code` values, and an
    unknown code is refused, never read as free.
    """

    starts: Int64Array = attrs.field(converter=_starts)
    ends: Int64Array = attrs.field(converter=_ends)
    status: Int8Array = attrs.field(converter=_codes)

    def __attrs_post_init__(self) -> None:
        if not (self.starts.shape == self.ends.shape == self.status.shape):
            sizes = (self.starts.size, self.ends.size, self.status.size)
            raise InputError("busy", sizes, "starts, ends and status must have one length")
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
        if not isinstance(rows, Iterable) or isinstance(rows, str | bytes):
            raise InputError("busy", rows, "expected (start, end, status code) rows")
        table = list(rows)
        for i, r in enumerate(table):
            if not isinstance(r, Sequence) or len(r) != 3:
                raise InputError(f"busy[{i}]", r, "expected a (start, end, status code) row")
        return cls(
            starts=[r[0] for r in table], ends=[r[1] for r in table], status=[r[2] for r in table]
        )

    @classmethod
    def from_busy(cls, entries: Iterable[Busy]) -> BusyTable:
        if not isinstance(entries, Iterable) or isinstance(entries, str | bytes):
            raise InputError("busy", entries, "expected Busy entries")
        rows = []
        for i, b in enumerate(entries):
            if not isinstance(b, Busy):
                raise InputError(f"busy[{i}]", b, "expected a Busy entry")
            rows.append((b.span.start, b.span.end, b.status.code))
        return cls.from_rows(rows)

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

    id: str = attrs.field(validator=_text)
    busy: BusyTable = attrs.field(
        factory=BusyTable.empty, validator=_of_type(BusyTable, "a BusyTable")
    )
    error: str | None = attrs.field(
        default=None, validator=_of_type((str, NoneType), "None or a reason (a string)")
    )
    covered: Span | None = attrs.field(
        default=None, validator=_of_type((Span, NoneType), "None or a Span")
    )

    @property
    def known(self) -> bool:
        return self.error is None

    @classmethod
    def of(cls, id: str, busy: Iterable[Busy] = (), covered: Span | None = None) -> Availability:
        return cls(id=id, busy=BusyTable.from_busy(busy), covered=covered)

    @classmethod
    def unknown(cls, id: str, reason: str) -> Availability:
        return cls(id=id, error=reason)


def as_availabilities(values: object) -> tuple[Availability, ...]:
    """``values`` as a tuple of :class:`Availability`, refusing anything else by position.

    For :func:`slotfinder.find_slots`, whose first argument is a plain sequence.
    """
    return _tuple_of(
        values, Availability, "availabilities", "a sequence of Availability", "an Availability"
    )


_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _parse_days(key: str, field: str) -> list[int]:
    days: list[int] = []
    for part in key.lower().split(","):
        first, dash, last = (x.strip() for x in part.partition("-"))
        if first not in _DAY_NAMES or (dash and last not in _DAY_NAMES):
            raise InputError(field, key, "expected day names mon..sun, e.g. 'mon-fri'")
        i = _DAY_NAMES.index(first)
        j = _DAY_NAMES.index(last) if dash else i
        days.extend((i + k) % 7 for k in range((j - i) % 7 + 1))  # 'fri-mon' wraps round
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
    if not isinstance(rules, Iterable) or isinstance(rules, str | bytes | Mapping):
        raise InputError("working_hours.rules", rules, "expected (weekday, start, end) rules")
    out = []
    for i, rule in enumerate(rules):
        field = f"working_hours.rules[{i}]"
        if not isinstance(rule, Sequence) or isinstance(rule, str | bytes) or len(rule) != 3:
            raise InputError(field, rule, "expected a (weekday, start minute, end minute) rule")
        day, start, end = (_whole(x, field) for x in rule)
        out.append((day, start, end))
    return tuple(sorted(out))


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
                raise InputError(
                    "working_hours",
                    (day, start, end),
                    "expected weekday 0-6, start minute 0-1439, end after start by 1-1440",
                )

    @classmethod
    def parse(
        cls, zone: str, spec: Mapping[str, object], field: str = "working_hours"
    ) -> WorkingHours:
        """Parse ``{"mon-fri": ["09:00-12:00", "13:00-18:00"], "sat": "10:00-14:00"}``."""
        if not isinstance(spec, Mapping):
            raise InputError(field, spec, "expected a mapping of days to 'HH:MM-HH:MM' ranges")
        rules: list[tuple[int, int, int]] = []
        for key, ranges in spec.items():
            if not isinstance(key, str):
                raise InputError(field, key, "expected day names mon..sun as keys, e.g. 'mon-fri'")
            days = _parse_days(key, f"{field}.{key}")
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


# --- load caps (issue 16 point 3) -------------------------------------------------------------

CAP_KEYS = (
    "max_meetings_per_day",
    "max_busy_hours_per_day",
    "max_meetings_per_week",
    "max_busy_hours_per_week",
)
"""The busy-file and config keys of :class:`LoadCaps`, in its field order."""
_MAX_MEETINGS = 10_000


def _cap(limit: int, unit: str) -> Callable[[object, Any, Any], None]:
    """A validator for one cap: ``None`` (no cap) or a whole number from 0 to ``limit``."""

    def check(_inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if value is None:
            return
        n = _whole(value, attr.name)
        if not 0 <= n <= limit:
            raise InputError(attr.name, value, f"must be 0 to {limit} {unit}")

    return check


def _hours_to_seconds(value: object, field: str, limit: int) -> int:
    """Hours (an int or a float, e.g. ``4.5``) as whole seconds, rounded to the second, at
    most ``limit`` hours."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(field, value, "expected a number of hours")
    hours = float(value)
    if not math.isfinite(hours) or hours < 0:
        raise InputError(field, value, "expected a finite, non-negative number of hours")
    if hours > limit:
        raise InputError(field, value, f"at most {limit} hours")
    return round(hours * 3600)


@attrs.frozen
class LoadCaps:
    """How much meeting load one attendee accepts per local day and per local (ISO) week.

    ``None`` is no cap. Meeting counts are whole numbers (0 to 10 000); busy time is whole
    seconds (at most 24 h a day, 168 h a week). A slot that would break a cap of a required
    attendee is not offered; the exact rule is in DESIGN.md "Load caps" and
    :mod:`slotfinder.caps`.
    """

    meetings_per_day: int | None = attrs.field(
        default=None, validator=_cap(_MAX_MEETINGS, "meetings")
    )
    busy_per_day: int | None = attrs.field(default=None, validator=_cap(DAY, "seconds (24 h)"))
    meetings_per_week: int | None = attrs.field(
        default=None, validator=_cap(_MAX_MEETINGS, "meetings")
    )
    busy_per_week: int | None = attrs.field(
        default=None, validator=_cap(7 * DAY, "seconds (168 h)")
    )

    @property
    def any(self) -> bool:
        """True when at least one cap is set."""
        return any(value is not None for value in attrs.astuple(self))

    def over(self, default: LoadCaps | None) -> LoadCaps:
        """These caps, each one left unset taken from ``default``."""
        if default is None:
            return self
        pairs = zip(attrs.astuple(self), attrs.astuple(default), strict=True)
        return LoadCaps(*(fallback if mine is None else mine for mine, fallback in pairs))

    @classmethod
    def parse(cls, spec: Mapping[str, object], field: str = "") -> LoadCaps | None:
        """The caps among ``spec``'s :data:`CAP_KEYS` (other keys ignored); ``None`` if none.

        ``max_meetings_per_*`` are whole numbers, ``max_busy_hours_per_*`` hours (``4.5``).
        """
        where = f"{field}." if field else ""
        values: dict[str, int] = {}
        for key, name in zip(CAP_KEYS, (f.name for f in attrs.fields(LoadCaps)), strict=True):
            value = spec.get(key)
            if value is None:
                continue
            if key.startswith("max_busy_hours"):
                limit = 24 if key.endswith("day") else 7 * 24
                values[name] = _hours_to_seconds(value, where + key, limit)
            else:
                if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                    raise InputError(where + key, value, "expected a whole number of meetings")
                if not 0 <= int(value) <= _MAX_MEETINGS:
                    raise InputError(where + key, value, f"must be 0 to {_MAX_MEETINGS}")
                values[name] = int(value)
        return cls(**values) if values else None

    def to_spec(self) -> dict[str, int | float]:
        """The caps back as :data:`CAP_KEYS` (hours as numbers), unset ones left out."""
        out: dict[str, int | float] = {}
        for key, value in zip(CAP_KEYS, attrs.astuple(self), strict=True):
            if value is not None:
                hours = value / 3600
                out[key] = (
                    (int(hours) if hours.is_integer() else hours) if "hours" in key else value
                )
        return out


@attrs.frozen
class Attendee:
    """A person or a room: an id ``PROVIDER:ID``, whether optional, a zone, working hours,
    load caps.

    ``working_hours`` ``None`` means no limit. ``zone`` ``None`` means the working hours'
    zone, or without working hours the request's zone. A zone that differs from the working
    hours' zone is refused: which of the two a person lives by cannot be guessed.
    """

    id: str = attrs.field(validator=_text)
    optional: bool = attrs.field(default=False, validator=_of_type(bool, "True or False"))
    zone: str | None = attrs.field(default=None, validator=_zone_or_none)
    working_hours: WorkingHours | None = attrs.field(
        default=None, validator=_of_type((WorkingHours, NoneType), "None or WorkingHours")
    )
    name: str | None = attrs.field(
        default=None, validator=_of_type((str, NoneType), "None or a display name (a string)")
    )
    """How people call them (display only; ``id`` is what identifies them)."""
    caps: LoadCaps | None = attrs.field(
        default=None, validator=_of_type((LoadCaps, NoneType), "None or LoadCaps")
    )
    """Their load caps (``None``: none); rooms ignore caps."""

    def __attrs_post_init__(self) -> None:
        hours = self.working_hours
        if hours is None or self.zone == hours.zone:
            return
        if self.zone is None:
            object.__setattr__(self, "zone", hours.zone)  # frozen: set once, here
            return
        raise InputError(
            "working_hours.tz",
            hours.zone,
            f"differs from the attendee's zone {self.zone!r}: give the working hours in "
            "that zone, or leave the attendee's zone out",
        )

    @property
    def label(self) -> str:
        """The name to show: ``name`` when given, else the id."""
        return self.name or self.id


TentativePolicy = Literal["busy", "free"]
UnansweredPolicy = Literal["busy", "tentative", "free"]
"""How an ``unanswered`` entry counts: busy, tentative (then ``tentative`` decides) or free."""
UNANSWERED_POLICIES: tuple[UnansweredPolicy, ...] = ("busy", "tentative", "free")


def blocking_statuses(
    unanswered: UnansweredPolicy,
) -> tuple[tuple[Status, ...], tuple[Status, ...]]:
    """The statuses that block as busy, and those that block as tentative, under ``unanswered``.

    The one statement of the status policy: the engine and the renderers both read it.
    """
    hard: tuple[Status, ...] = (Status.BUSY, Status.OOF)
    soft: tuple[Status, ...] = (Status.TENTATIVE,)
    if unanswered == "busy":
        hard += (Status.UNANSWERED,)
    elif unanswered == "tentative":
        soft += (Status.UNANSWERED,)
    return hard, soft


UnknownPolicy = Literal["exclude", "flag"]
Order = Literal["score", "start"]


def _people(values: object, field: str) -> tuple[Attendee, ...]:
    """A list of :class:`Attendee` as a tuple; anything else refused. Duplicate ids are
    merged, keeping the first entry; a required mention wins over an optional one."""
    seen: dict[str, Attendee] = {}
    for a in _tuple_of(values, Attendee, field, "a list of Attendee", "an Attendee"):
        prior = seen.get(a.id)
        if prior is None:
            seen[a.id] = a
        elif prior.optional and not a.optional:
            seen[a.id] = attrs.evolve(prior, optional=False)
    return tuple(seen.values())


def _attendees(values: Iterable[Attendee]) -> tuple[Attendee, ...]:
    return _people(values, "attendees")


def _rooms(values: Iterable[Attendee]) -> tuple[Attendee, ...]:
    return _people(values, "rooms")


def _groups(values: object) -> tuple[Group, ...]:
    return _tuple_of(values, Group, "groups", "a list of Group", "a Group")


def _now(value: int | datetime | None) -> int | None:
    return None if value is None else to_epoch(value, "now")


_WHOLE_FIELDS = (
    "duration",
    "granularity",
    "buffer_before",
    "buffer_after",
    "min_notice",
    "max_results",
)
_FIRST_START = EARLIEST + _WINDOW_MARGIN
_LAST_END = LATEST - _WINDOW_MARGIN


@attrs.frozen
class MeetingRequest:
    """Everything the engine needs to know about the meeting wanted.

    Durations are whole seconds: ``duration`` positive and within the window, which is at
    most :data:`MAX_WINDOW` long; buffers at most :data:`MAX_BUFFER`; ``min_notice`` at most
    :data:`MAX_WINDOW`. ``granularity`` is a whole number of minutes dividing a day, so slot
    starts are local minutes since midnight divisible by it, the same grid every day.
    ``quorum`` is a count of required attendees or a fraction of them; ``None`` means all.
    ``now`` (an aware datetime or epoch seconds) is the instant ``min_notice`` counts from
    (``None``: the current time when the engine runs). ``repeat`` asks for a recurring series
    (an RFC 5545 RRULE, :mod:`slotfinder.recur`) of which up to ``allow_conflicts``
    occurrences may fail (:mod:`slotfinder.engine.series`).
    """

    attendees: tuple[Attendee, ...] = attrs.field(converter=_attendees)
    window: Span = attrs.field(validator=_of_type(Span, "a Span"))
    duration: int
    rooms: tuple[Attendee, ...] = attrs.field(default=(), converter=_rooms)
    granularity: int = 900
    buffer_before: int = 0
    buffer_after: int = 0
    min_notice: int = 0
    now: int | None = attrs.field(default=None, converter=_now)
    quorum: int | float | None = None
    tentative: TentativePolicy = "busy"
    unanswered: UnansweredPolicy = "tentative"
    unknown: UnknownPolicy = "exclude"
    max_results: int = 10
    order: Order = "score"
    zone: str = "UTC"
    groups: tuple[Group, ...] = attrs.field(default=(), converter=_groups)
    """Groups of required attendees, each needing all or some of its members
    (:mod:`slotfinder.groups`); not together with ``quorum``, which is one such group."""
    # Recurring series (slotfinder.recur; the engine's slotfinder.engine.series).
    repeat: str | None = None
    allow_conflicts: int = 0

    def __attrs_post_init__(self) -> None:
        for name in _WHOLE_FIELDS:  # numpy ints become ints; floats, NaN, text are refused
            object.__setattr__(self, name, _whole(getattr(self, name), name))
        check_zone(self.zone, "tz")
        if not self.attendees:
            raise InputError("attendees", [], "at least one attendee is needed")
        self._check_window()
        self._check_durations()
        if not 1 <= self.max_results <= MAX_RESULTS:
            raise InputError(
                "max_results", self.max_results, f"must be at least 1 and at most {MAX_RESULTS}"
            )
        for name, allowed in (
            ("tentative", ("busy", "free")),
            ("unknown", ("exclude", "flag")),
            ("order", ("score", "start")),
            ("unanswered", UNANSWERED_POLICIES),
        ):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in allowed:
                *others, last = (repr(a) for a in allowed)
                raise InputError(name, value, f"expected {', '.join(others)} or {last}")
        self.quorum_count()  # validates
        if self.groups and self.quorum is not None:
            raise InputError("quorum", self.quorum, "give groups or a quorum, not both")
        check(self.groups, [a.id for a in self.required], [a.id for a in self.optional])
        self._check_repeat()

    def _check_window(self) -> None:
        w = self.window
        if w.seconds <= 0:
            raise InputError("window.end", w.end, f"must be after window.start {w.start}")
        if w.seconds > MAX_WINDOW:
            raise InputError(
                "window.end", w.end, f"at most {MAX_WINDOW // DAY} days after window.start"
            )
        if w.start < _FIRST_START:
            raise InputError("window.start", w.start, f"must not be before {_utc(_FIRST_START)}")
        if w.end > _LAST_END:
            raise InputError("window.end", w.end, f"must not be after {_utc(_LAST_END)}")

    def _check_durations(self) -> None:
        length = self.window.seconds
        if self.duration <= 0:
            raise InputError("duration", self.duration, "must be positive")
        if self.duration > length:
            raise InputError(
                "duration", self.duration, f"longer than the window ({length} seconds)"
            )
        g = self.granularity
        if g <= 0 or g % 60 or DAY % g:
            raise InputError(
                "granularity",
                g,
                "must be whole minutes and divide a day (60 to 86400 s, e.g. 900 for 15m)",
            )
        for name, limit in (
            ("buffer_before", MAX_BUFFER),
            ("buffer_after", MAX_BUFFER),
            ("min_notice", MAX_WINDOW),
        ):
            value = getattr(self, name)
            if value < 0:
                raise InputError(name, value, "must not be negative")
            if value > limit:
                days = f"{limit // DAY} day" + ("s" if limit > DAY else "")
                raise InputError(name, value, f"at most {limit} seconds ({days})")

    def _check_repeat(self) -> None:
        """``repeat`` must be a usable RRULE whose series, from any start in the window, end
        within a year and before the last supported instant; ``allow_conflicts`` needs it."""
        n = self.allow_conflicts
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise InputError("allow_conflicts", n, "expected a whole number, at least 0")
        object.__setattr__(self, "allow_conflicts", int(n))
        if self.repeat is None:
            if n:
                raise InputError("allow_conflicts", n, "only counts with repeat (a series)")
            return
        from slotfinder import recur  # dateutil only when a series is asked for

        rule = self.rule()
        first = recur.local_day(self.zone, self.window.start)
        last = max(first, recur.local_day(self.zone, self.window.end - self.duration))
        offsets, _ = recur.table(rule, first, last)
        reach = (last + int(offsets.max()) + 2) * DAY + self.duration
        if reach > _LAST_END:
            raise InputError("repeat", self.repeat, f"runs past {_utc(_LAST_END)}")

    def rule(self) -> recur.Rule:
        """The checked form of ``repeat`` (which must be set)."""
        from slotfinder import recur

        return recur.parse(self.repeat, self.zone)

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

    def ungrouped(self) -> tuple[str, ...]:
        """Required attendees no group names: the implicit group that needs everyone."""
        named = {m for g in self.groups for m in g.members}
        return tuple(a.id for a in self.required if a.id not in named)

    def zone_of(self, attendee: Attendee) -> str:
        return attendee.zone or self.zone


_LISTS = ("available", "tentative", "unavailable", "unknown")


@attrs.frozen
class Occurrence:
    """One meeting of a recurring series: ``[start, end)``, whether it passes as a slot would,
    the room it would take, and, when it fails, who blocks it (``blocked_by``: the required
    attendees not free for it, or the rooms when only a room is missing)."""

    start: int
    end: int
    passes: bool
    room: str | None = None
    blocked_by: tuple[str, ...] = ()


class _Deferred:
    """Room for the compact form of a :class:`Suggestion`'s lists (see its ``from_row``)."""

    __slots__ = ("_row",)


@attrs.frozen(repr=False)
class Suggestion(_Deferred):
    """One proposed slot ``[start, end)`` and who can come.

    ``available`` are free for the whole slot, ``tentative`` have only tentative entries there,
    ``unavailable`` are busy or outside their working hours, ``unknown`` could not be read.
    They hold ids; :meth:`SuggestionResult.label` gives the display names.
    """

    start: int
    end: int
    score: float
    available: tuple[str, ...] = ()
    tentative: tuple[str, ...] = ()
    unavailable: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    room: str | None = None
    occurrences: tuple[Occurrence, ...] = ()
    """For a series (``MeetingRequest.repeat``): every occurrence, this slot first."""

    def __repr__(self) -> str:
        rest = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in attrs.fields(Suggestion)[2:]
        )
        return f"Suggestion({_utc(self.start)}, {_utc(self.end)}, {rest})"

    @classmethod
    def from_row(
        cls,
        *,
        start: int,
        end: int,
        score: float,
        room: str | None,
        ids: npt.NDArray[np.object_],
        row: bytes,
        occurrences: tuple[Occurrence, ...] = (),
    ) -> Suggestion:
        """A suggestion whose lists are built from ``row`` when first read: ``row[i]`` is 0, 1,
        2 or 3 when ``ids[i]`` is available, tentative, unavailable or unknown.

        The engine's constructor: listing everyone for thousands of slots costs more than
        finding them, and most callers read a few. Reading, comparing, hashing, printing or
        pickling builds the four tuples once; from then on they are plain fields.
        """
        self = object.__new__(cls)
        put = object.__setattr__  # frozen: set once, here
        put(self, "start", start)
        put(self, "end", end)
        put(self, "score", score)
        put(self, "room", room)
        put(self, "occurrences", occurrences)
        put(self, "_row", (ids, row))
        return self

    if not TYPE_CHECKING:  # type checkers see the lists as the plain fields they read as

        def __getattr__(self, name: str) -> object:
            """Build the four lists of a :meth:`from_row` suggestion on the first read."""
            if name not in _LISTS:
                raise AttributeError(f"'Suggestion' object has no attribute {name!r}")
            ids, row = object.__getattribute__(self, "_row")
            cats = np.frombuffer(row, dtype=np.uint8)
            for code, field in enumerate(_LISTS):
                names = tuple(ids[cats == code].tolist()) if code in row else ()
                object.__setattr__(self, field, names)
            return object.__getattribute__(self, name)

    @property
    def span(self) -> Span:
        return Span(self.start, self.end)

    @property
    def conflicts(self) -> tuple[Occurrence, ...]:
        """The occurrences of a series that do not pass (``--allow-conflicts`` tolerated)."""
        return tuple(o for o in self.occurrences if not o.passes)

    def start_at(self, zone: str = "UTC") -> datetime:
        """The start as an aware datetime in the IANA ``zone``."""
        return _at(self.start, zone)

    def end_at(self, zone: str = "UTC") -> datetime:
        """The end as an aware datetime in the IANA ``zone``."""
        return _at(self.end, zone)


@attrs.frozen
class Unknown:
    """An attendee or room whose calendar could not be read, and why.

    ``name`` is the display name the request gave, ``room`` tells a room from a person (a
    meeting whose rooms are all unknown is not a meeting with no room free).
    :class:`SuggestionResult` fills both from its request.
    """

    id: str
    reason: str
    name: str | None = None
    room: bool = False

    @property
    def label(self) -> str:
        """The name to show: ``name`` when given, else the id."""
        return self.name or self.id


@attrs.frozen
class Reason:
    """One structured cause of an empty result.

    ``code`` is one of ``window_too_short``, ``hours_never_overlap``, ``busy_whole_window``,
    ``quorum_unreachable``, ``group_unreachable`` (a named group is never met),
    ``groups_never_together`` (each group is met, never all at once),
    ``unknown_attendees``, ``no_room_free`` (rooms were read and are busy), ``rooms_unknown``
    (rooms that might be free could not be read), ``min_notice``, ``no_common_time``,
    ``daily_cap`` / ``weekly_cap`` (a load cap rules out their free time); for a series also
    ``series_conflicts`` (every start has too many failing occurrences) and
    ``series_never_starts`` (no start begins a series).
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
    repeated. ``request`` and ``availabilities`` are kept for the renderers; from the request,
    each :class:`Unknown` gets its display name and whether it is a room.
    """

    slots: tuple[Suggestion, ...]
    periods: tuple[Span, ...]
    unknown: tuple[Unknown, ...] = ()
    explanation: Explanation | None = None
    request: MeetingRequest | None = attrs.field(default=None, repr=False)
    availabilities: tuple[Availability, ...] = attrs.field(default=(), repr=False)
    calls: Mapping[str, int] = attrs.field(factory=dict)
    retries: int = 0

    def __attrs_post_init__(self) -> None:
        req = self.request
        if req is None or not self.unknown:
            return
        rooms = {r.id for r in req.rooms}
        named = {a.id: a.name for a in (*req.attendees, *req.rooms)}
        unknown = tuple(
            attrs.evolve(u, name=u.name or named.get(u.id), room=u.room or u.id in rooms)
            for u in self.unknown
        )
        object.__setattr__(self, "unknown", unknown)  # frozen: completed once, here

    @property
    def unknown_rooms(self) -> tuple[Unknown, ...]:
        """The requested rooms that could not be read."""
        return tuple(u for u in self.unknown if u.room)

    def label(self, id: str) -> str:
        """The display name the request gave ``id`` (attendee or room), else the id itself."""
        if self.request is not None:
            for a in (*self.request.attendees, *self.request.rooms):
                if a.id == id:
                    return a.label
        return id
