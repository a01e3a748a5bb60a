"""Busy files: a window, a zone and each attendee's busy time, as one JSON document.

The format (also read by the ``json:`` provider and ``slotfinder slots --busy``)::

    {
      "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
      "tz": "Asia/Shanghai",
      "attendees": [
        {"id": "alice", "tz": "Asia/Shanghai", "optional": false,
         "working_hours": {"mon-fri": ["09:00-12:00", "13:00-18:00"]},
         "busy": [{"start": "2026-11-23T10:00:00+08:00", "end": "2026-11-23T11:00:00+08:00",
                   "status": "busy"}]}
      ],
      "groups": [{"name": "panel", "members": ["bob", "carol", "dan"], "required": 2}]
    }

Rules, so that every bad file is refused with the JSON path of the culprit, its value and the
rule it breaks (``attendees[1].busy[3].end='2026-11-23T25:00': no such time of day ...``):

* Times are read by :mod:`slotfinder.times`, the one reader: RFC 3339 with a UTC offset
  (``Z``, ``+08:00``, ``+0800`` or ``+08``), ``T``, ``t`` or a space between date and time.
  A time without an offset is refused, because guessing its zone is how meetings land at
  3 a.m. Fractions of a second are truncated toward the past; a leap second ``hh:mm:60`` is
  the first second of the next minute and ``24:00`` the next day's midnight; impossible
  dates, times and offsets (``02-30``, ``25:00``, ``+24:00``) are refused, never rolled over.
* ``window`` (``start`` before ``end``) is required; ``tz`` defaults to ``UTC``; each
  attendee needs an ``id`` and may have a display ``name``; ``tz`` omitted means the file's
  zone, ``working_hours`` omitted means no working-hours limit, ``optional`` defaults to
  false, ``busy`` to no entries. ``max_meetings_per_day``, ``max_busy_hours_per_day`` and
  their ``_per_week`` twins are the attendee's load caps (whole meetings; hours, e.g. ``4.5``).
* A busy entry needs ``start`` and ``end`` with ``end`` not before ``start`` (a zero-length
  entry is allowed and blocks nothing); ``status`` is ``busy`` (default), ``tentative``,
  ``free``, ``oof`` or ``unanswered`` (an invitation not yet answered: the request's
  ``unanswered`` policy says how it counts).
* ``groups`` (optional) lists groups of required attendees (:mod:`slotfinder.groups`): each
  has ``members`` (attendee ids), ``required`` (a count or ``"all"``, the default) and a
  ``name`` (default ``group N``); the request built from the file checks them.
* Duplicate attendee ids are merged, not refused: their busy entries are pooled, a required
  mention wins over an optional one, and the first ``tz``/``working_hours``/``name`` given
  wins (each load cap too).
* Unknown keys are refused wherever they appear (a misspelt ``working_hour`` would otherwise
  silently mean "no working-hours limit"); keys starting with ``_`` are comments and ignored.

Parsing goes straight to integer epoch seconds and numpy arrays: each distinct time text is
read once per file (calendars repeat the same times endlessly) and no datetime is kept.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import numpy as np

from slotfinder import times
from slotfinder.errors import InputError
from slotfinder.groups import Group, from_json, to_json
from slotfinder.model import (
    CAP_KEYS,
    Attendee,
    Availability,
    BusyTable,
    LoadCaps,
    MeetingRequest,
    Span,
    Status,
    WorkingHours,
    check_zone,
)

__all__ = ["BusyFile", "dump_busy_file", "load_busy_file", "request_from_busy_file"]

_TOP_KEYS = frozenset({"window", "tz", "attendees", "groups"})
_WINDOW_KEYS = frozenset({"start", "end"})
_ATTENDEE_KEYS = frozenset({"id", "name", "tz", "optional", "working_hours", "busy", *CAP_KEYS})
_BUSY_KEYS = frozenset({"start", "end", "status"})
_STATUS_CODES = {s.value: s.code for s in Status}
_BUSY_CODE = Status.BUSY.code


@attrs.frozen
class BusyFile:
    """A parsed busy file: the window, the zone, and per attendee its settings and busy time.

    ``attendees`` and ``availabilities`` align index by index and carry the file's ids
    (``alice``). Each availability's ``covered`` is the file's window: the file says nothing
    about time outside it.
    """

    window: Span
    zone: str
    attendees: tuple[Attendee, ...]
    availabilities: tuple[Availability, ...]
    groups: tuple[Group, ...] = ()

    def __attrs_post_init__(self) -> None:
        if [a.id for a in self.attendees] != [a.id for a in self.availabilities]:
            raise InputError(
                "availabilities",
                [a.id for a in self.availabilities],
                "must name the same ids in the same order as attendees",
            )

    def availability(self, id: str) -> Availability:
        """The availability of attendee ``id``; :class:`KeyError` when the file has none."""
        for a in self.availabilities:
            if a.id == id:
                return a
        raise KeyError(id)


def _check_keys(obj: Mapping[str, Any], allowed: frozenset[str], path: str) -> None:
    for key in obj:
        if key not in allowed and not (isinstance(key, str) and key.startswith("_")):
            where = f"{path}.{key}" if path else str(key)
            raise InputError(
                where,
                obj[key],
                f"unknown key; expected one of {', '.join(sorted(allowed))} "
                "(keys starting with '_' are ignored as comments)",
            )


def _time(value: object, field: str, seen: dict[str, int]) -> int:
    """Epoch seconds of a time text, each distinct text read once per file."""
    epoch = seen.get(value) if isinstance(value, str) else None
    if epoch is None:
        epoch = times.instant(value, field)
        seen[str(value)] = epoch  # instant() took only a str
    return epoch


def _mapping(value: object, field: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InputError(field, value, f"expected an object {what}")
    return value


def _read_bytes(source: str | bytes | os.PathLike[str]) -> tuple[str | bytes, str]:
    """The JSON text and a label for messages: a path is read, text is taken as is."""
    if isinstance(source, bytes):
        return source, "<text>"
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return source, "<text>"
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except OSError as exc:
        raise InputError("busy_file", str(path), f"cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # an embedded NUL byte
        raise InputError("busy_file", str(path), f"not a usable path: {exc}") from None


def _decode(text: str | bytes, label: str) -> object:
    """The JSON document; errors give the position only, never the text around it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise InputError("busy_file", label, f"not JSON: {exc.msg} ({where})") from None
    except UnicodeDecodeError as exc:
        raise InputError("busy_file", label, f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise InputError("busy_file", label, "not JSON we can read: nested too deeply") from None


_Rows = tuple[list[int], list[int], list[int]]
"""One attendee's busy starts, ends and status codes as plain int lists, made arrays once."""


def _read_busy(items: object, path: str, rows: _Rows, seen: dict[str, int]) -> None:
    """Append a ``busy`` list's entries to ``rows``, checking every rule of an entry."""
    if not isinstance(items, list):
        raise InputError(path, items, "expected a list of {start, end, status} entries")
    add_start, add_end, add_code = (column.append for column in rows)
    known, codes_of = seen.get, _STATUS_CODES.get
    for j, item in enumerate(items):
        if not isinstance(item, dict):
            raise InputError(f"{path}[{j}]", item, "expected an object {start, end, status}")
        start: Any = item.get("start")
        end: Any = item.get("end")
        status = item.get("status", "busy")
        n = len(item)
        if (n != 2 and (n != 3 or "status" not in item)) or start is None or end is None:
            _check_keys(item, _BUSY_KEYS, f"{path}[{j}]")
            for key in ("start", "end"):
                if item.get(key) is None:
                    raise InputError(
                        f"{path}[{j}].{key}", None, "missing: every busy entry needs start and end"
                    )
        try:  # a text read before, the usual case; a list or dict value is unhashable
            s, e, code = known(start), known(end), codes_of(status)
        except TypeError:
            s = e = code = None
        if s is None:
            s = _time(start, f"{path}[{j}].start", seen)
        if e is None:
            e = _time(end, f"{path}[{j}].end", seen)
        if code is None:
            code = Status.parse(status, f"{path}[{j}].status").code
        if e < s:
            raise InputError(f"{path}[{j}].end", end, "before its start")
        add_start(s)
        add_end(e)
        add_code(code)


def load_busy_file(source: str | bytes | os.PathLike[str]) -> BusyFile:
    """Parse a busy file from a path, or from JSON text (a string starting with ``{``).

    Raises :class:`slotfinder.errors.InputError` naming the JSON path, the value and the rule
    for anything wrong (see the module docstring for the rules).
    """
    text, label = _read_bytes(source)
    data = _decode(text, label)
    del text  # the document is all that is needed now; a big file's bytes go at once
    return _build(data)


def _hours(
    parsed: dict[tuple[str, object], WorkingHours], zone: str, spec: object, field: str
) -> WorkingHours:
    """``WorkingHours.parse``, once per distinct zone and spec in a file: a company's busy file
    gives thousands of people the same few, and the value is immutable, so they share it."""
    key = (zone, _frozen(spec))
    hours = parsed.get(key)
    if hours is None:
        hours = parsed[key] = WorkingHours.parse(zone, spec, field)  # type: ignore[arg-type]
    return hours


def _frozen(value: object) -> object:
    """A hashable stand-in for decoded JSON (dicts and lists become tuples, tagged apart):
    every other JSON value is hashable already."""
    if isinstance(value, dict):
        return ("{", tuple((k, _frozen(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("[", tuple(_frozen(v) for v in value))
    return value


def _build(data: object) -> BusyFile:
    seen: dict[str, int] = {}
    top = _mapping(data, "busy_file", "{window, tz, attendees}")
    _check_keys(top, _TOP_KEYS, "")

    if "window" not in top:
        raise InputError("window", None, "missing: the busy file needs {start, end}")
    win = _mapping(top["window"], "window", "{start, end}")
    _check_keys(win, _WINDOW_KEYS, "window")
    for key in ("start", "end"):
        if key not in win:
            raise InputError(f"window.{key}", None, "missing: the window needs start and end")
    w_start = _time(win["start"], "window.start", seen)
    w_end = _time(win["end"], "window.end", seen)
    if w_end <= w_start:
        raise InputError("window.end", win["end"], "must be after window.start")
    window = Span(w_start, w_end)

    zone = check_zone(top.get("tz", "UTC"), "tz")

    people = top.get("attendees", [])
    if not isinstance(people, list):
        raise InputError("attendees", people, "expected a list of attendees")
    settings: dict[str, Attendee] = {}
    rows: dict[str, _Rows] = {}
    parsed: dict[tuple[str, object], WorkingHours] = {}
    for i, raw in enumerate(people):
        path = f"attendees[{i}]"
        person = _mapping(raw, path, "{id, tz, optional, working_hours, busy}")
        _check_keys(person, _ATTENDEE_KEYS, path)
        ident = person.get("id")
        if not isinstance(ident, str) or not ident:
            raise InputError(f"{path}.id", ident, "expected a non-empty string")
        tz = person.get("tz")
        if tz is not None:
            check_zone(tz, f"{path}.tz")
        optional = person.get("optional", False)
        if not isinstance(optional, bool):
            raise InputError(f"{path}.optional", optional, "expected true or false")
        display = person.get("name")
        if display is not None and not isinstance(display, str):
            raise InputError(f"{path}.name", display, "expected a string (a display name)")
        hours = None
        if person.get("working_hours") is not None:
            hours = _hours(parsed, tz or zone, person["working_hours"], f"{path}.working_hours")
        caps = LoadCaps.parse(person, path)
        prior = settings.get(ident)
        if prior is None:
            settings[ident] = Attendee(
                id=ident, optional=optional, zone=tz, working_hours=hours, name=display, caps=caps
            )
            rows[ident] = ([], [], [])
        else:  # duplicates are merged: pooled busy time, required wins, first settings win
            settings[ident] = attrs.evolve(
                prior,
                optional=prior.optional and optional,
                zone=prior.zone if prior.zone is not None else tz,
                working_hours=prior.working_hours if prior.working_hours is not None else hours,
                name=prior.name if prior.name is not None else display,
                caps=caps if prior.caps is None else prior.caps.over(caps),
            )
        _read_busy(person.get("busy", []), f"{path}.busy", rows[ident], seen)

    return BusyFile(
        window=window,
        zone=zone,
        attendees=tuple(settings.values()),
        availabilities=tuple(
            Availability(
                id=ident,
                busy=BusyTable(*(np.array(column, dtype=np.int64) for column in r)),
                covered=window,
            )
            for ident, r in rows.items()
        ),
        groups=from_json(top.get("groups", [])),
    )


def request_from_busy_file(bf: BusyFile, duration: int, **options: Any) -> MeetingRequest:
    """The :class:`MeetingRequest` a busy file describes, for a meeting of ``duration`` seconds.

    ``options`` are further :class:`MeetingRequest` fields (``granularity``, ``quorum``,
    ``order``...); ``window``, ``zone``, ``attendees`` or ``groups`` given there replace the
    file's (a ``quorum`` replaces its groups).
    """
    fields: dict[str, Any] = {"attendees": bf.attendees, "window": bf.window, "zone": bf.zone}
    if options.get("quorum") is None:
        fields["groups"] = bf.groups
    fields.update(options)
    return MeetingRequest(duration=duration, **fields)


def _iso(t: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(t, zone).isoformat()


def dump_busy_file(
    window: Span,
    zone: str,
    attendees: Sequence[Attendee],
    availabilities: Iterable[Availability] = (),
    path: str | os.PathLike[str] | None = None,
    *,
    indent: int | None = None,
    groups: Sequence[Group] = (),
) -> str:
    """The busy-file JSON for these attendees and their busy time; also written to ``path``.

    Times are written in ``zone`` with their offset. Attendees without an availability get no
    busy entries; an availability without an attendee is an error. Working hours are written
    in the busy-file notation. For tests and benchmarks generating files:
    ``load_busy_file(dump_busy_file(...))`` gives the same data back.
    """
    check_zone(zone, "tz")
    tz = ZoneInfo(zone)
    by_id = {a.id: a for a in availabilities}
    unknown_ids = set(by_id) - {a.id for a in attendees}
    if unknown_ids:
        raise InputError("availabilities", sorted(unknown_ids), "no attendee has these ids")
    people: list[dict[str, Any]] = []
    for person in attendees:
        entry: dict[str, Any] = {"id": person.id}
        if person.name is not None:
            entry["name"] = person.name
        if person.zone is not None:
            entry["tz"] = person.zone
        if person.optional:
            entry["optional"] = True
        if person.working_hours is not None:
            entry["working_hours"] = person.working_hours.to_spec()
        if person.caps is not None:
            entry.update(person.caps.to_spec())
        avail = by_id.get(person.id)
        busy: list[dict[str, str]] = []
        if avail is not None:
            for s, e, c in zip(
                avail.busy.starts.tolist(),
                avail.busy.ends.tolist(),
                avail.busy.status.tolist(),
                strict=True,
            ):
                item = {"start": _iso(s, tz), "end": _iso(e, tz)}
                if c != _BUSY_CODE:
                    item["status"] = Status.from_code(c).value
                busy.append(item)
        entry["busy"] = busy
        people.append(entry)
    doc = {
        "window": {"start": _iso(window.start, tz), "end": _iso(window.end, tz)},
        "tz": zone,
        "attendees": people,
    }
    if groups:
        doc["groups"] = to_json(groups)
    text = json.dumps(doc, indent=indent, ensure_ascii=False)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text
