"""The simulated Feishu organisation: people, rooms and their calendars, from a seed.

Every event is a function of ``(seed, person, local date)``, kept in a
:class:`slotfinder.testing.simkit.Calendars`, so any window — next week or 2031 — gives the
same calendar on every run, whatever was asked before. Each person has

* a zone (Asia/Shanghai most often, then Europe/Berlin, America/New_York and a few others) and
  working hours in it (start 08:00-10:00, 8-9.5 hours, Monday-Friday or Monday-Thursday);
* weekly meetings on fixed weekdays, each series with its own RSVP reply;
* one-off meetings on working days, mostly inside working hours, a few early or late (some
  crossing local midnight), with replies accept / tentative / needs_action / decline / removed;
* occasional all-day leave of one to three days, from local midnight to local midnight (Feishu's
  free/busy has no out-of-office kind: leave is busy time);
* now and then a focus block marked "show as free" (``free``), which ``only_busy`` leaves out.

Rooms (``omm_…``) have bookings on working days; a booking may be pending approval
(``needs_action``) or refused (``decline``).

:meth:`FeishuTenant.events` gives every event overlapping a window, whole (not clipped), which
is what the API returns; :meth:`FeishuTenant.ground_truth` keeps the ones that block.
"""

from __future__ import annotations

import hashlib
import random

import attrs

from slotfinder.testing.simkit import Calendars, wall_clock

__all__ = ["BLOCKING", "Event", "FeishuTenant", "Person", "Room"]

BLOCKING = frozenset({"accept", "tentative", "needs_action"})
"""Replies that keep an event on the calendar as busy time (``only_busy=true`` returns these,
unless the event is shown as free)."""

_ZONES = (
    ("Asia/Shanghai", 40),
    ("Europe/Berlin", 15),
    ("America/New_York", 15),
    ("Asia/Tokyo", 6),
    ("Asia/Singapore", 6),
    ("Europe/London", 6),
    ("America/Los_Angeles", 6),
    ("Asia/Kolkata", 3),
    ("Australia/Sydney", 3),
)
_FIXED_ZONES = ("Asia/Shanghai", "Europe/Berlin", "America/New_York", "Asia/Shanghai")
_GIVEN = (
    "Wei", "Fang", "Jing", "Lei", "Min", "Tao", "Yan", "Hui", "Anna", "Lukas", "Mia", "Jonas",
    "Emma", "Noah", "Olivia", "Liam", "Sofia", "Hiro", "Yuki", "Priya", "Arjun", "Chloe", "Jack",
)  # fmt: skip
_FAMILY = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Schmidt", "Müller",
    "Fischer", "Smith", "Johnson", "Brown", "Garcia", "Tanaka", "Sato", "Sharma", "Tan", "Taylor",
)  # fmt: skip
_REPLIES = ("accept", "tentative", "needs_action", "decline", "removed")
_ONE_OFF_WEIGHTS = (70, 10, 10, 7, 3)
_SERIES_WEIGHTS = (80, 8, 6, 6, 0)
_ROOM_WEIGHTS = (80, 0, 15, 5, 0)
_LOOKBACK_DAYS = 3
"""No event lasts longer than this many days, so a window needs to look back no further."""


@attrs.frozen
class Event:
    """One calendar entry: epoch seconds ``[start, end)``, the owner's reply, whether all-day,
    and whether it is shown as free (transparent), so it never blocks."""

    start: int
    end: int
    rsvp: str = "accept"
    all_day: bool = False
    free: bool = False

    @property
    def blocks(self) -> bool:
        """Whether ``only_busy=true`` returns it: a blocking reply on a busy (opaque) event."""
        return self.rsvp in BLOCKING and not self.free


@attrs.frozen
class Person:
    """A member of the tenant with their three ids, zone, working hours and weekly series."""

    index: int
    open_id: str
    union_id: str
    user_id: str
    name: str
    zone: str
    day_start: int
    """Working hours start, minutes after local midnight."""
    day_end: int
    weekdays: tuple[int, ...]
    series: tuple[tuple[int, int, int, str], ...]
    """Weekly meetings: ``(weekday, start minute, minutes, reply)``."""

    def working_hours(self) -> dict[str, list[str]]:
        """The working hours in busy-file notation, e.g. ``{"mon-fri": ["09:00-18:00"]}``."""
        days = "mon-fri" if len(self.weekdays) == 5 else "mon-thu"
        s, e = self.day_start, self.day_end
        return {days: [f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}"]}


@attrs.frozen
class Room:
    """A meeting room with its ``omm_…`` id."""

    index: int
    room_id: str
    name: str
    zone: str


def _hex(seed: int, *parts: object, n: int = 32) -> str:
    text = ":".join(str(p) for p in ("feishu-sim", seed, *parts))
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def _event(zone: str, ordinal: int, minute: int, minutes: int, rsvp: str) -> Event:
    """A meeting at wall-clock ``minute`` of a local day, ``minutes`` long."""
    start = wall_clock(ordinal, minute, zone)
    return Event(start, start + minutes * 60, rsvp)


def _mix(seed: int, kind: int, index: int, ordinal: int = 0) -> int:
    """An integer seed for one (tenant, kind, person or room, day): cheap and stable."""
    return ((seed * 7_919 + kind) * 1_000_003 + index) * 10_000_019 + ordinal


def _person(seed: int, index: int) -> Person:
    rng = random.Random(f"feishu-sim:{seed}:person:{index}")
    if index < len(_FIXED_ZONES):
        zone = _FIXED_ZONES[index]
    else:
        zone = rng.choices([z for z, _ in _ZONES], weights=[w for _, w in _ZONES])[0]
    day_start = rng.choice((480, 510, 540, 570, 600))
    day_end = day_start + rng.choice((480, 510, 540, 570))
    weekdays = (0, 1, 2, 3, 4) if rng.random() > 0.05 else (0, 1, 2, 3)
    series: list[tuple[int, int, int, str]] = []
    for _ in range(rng.randint(2, 6)):
        wd = rng.choice(weekdays)
        minutes = rng.choice((15, 30, 30, 45, 60, 60, 90))
        start = day_start + 15 * rng.randrange(max(1, (day_end - day_start - minutes) // 15))
        reply = rng.choices(_REPLIES, weights=_SERIES_WEIGHTS)[0]
        series.append((wd, start, minutes, reply))
    name = f"{rng.choice(_GIVEN)} {rng.choice(_FAMILY)}"
    return Person(
        index=index,
        open_id="ou_" + _hex(seed, "open", index),
        union_id="on_" + _hex(seed, "union", index),
        user_id=_hex(seed, "user", index, n=8),
        name=name,
        zone=zone,
        day_start=day_start,
        day_end=day_end,
        weekdays=weekdays,
        series=tuple(sorted(series)),
    )


_ONE_OFF_POOL = tuple(r for r, w in zip(_REPLIES, _ONE_OFF_WEIGHTS, strict=True) for _ in range(w))
_ROOM_POOL = tuple(r for r, w in zip(_REPLIES, _ROOM_WEIGHTS, strict=True) for _ in range(w))


def _person_day(seed: int, person: Person, ordinal: int) -> tuple[Event, ...]:
    """Every event starting on one local day of ``person`` (deterministic)."""
    zone = person.zone
    rng = random.Random(_mix(seed, 1, person.index, ordinal))
    events: list[Event] = []
    weekday = (ordinal + 6) % 7  # date.fromordinal(ordinal).weekday()
    working = weekday in person.weekdays
    if working:
        for wd, start, minutes, reply in person.series:
            if wd == weekday:
                # A series occurrence is now and then declined on its own.
                this = "decline" if rng.random() < 0.05 else reply
                events.append(_event(zone, ordinal, start, minutes, this))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
            minutes = rng.choice((15, 30, 30, 45, 60, 90, 120))
            if rng.random() < 0.1:  # early or late: cross-zone calls, some past midnight
                start = rng.choice((420, 450, 1200, 1260, 1350, 1410))
            else:
                room = max(1, (person.day_end - person.day_start - minutes) // 15)
                start = person.day_start + 15 * rng.randrange(room)
            events.append(_event(zone, ordinal, start, minutes, rng.choice(_ONE_OFF_POOL)))
    elif rng.random() < 0.05:  # a weekend errand
        events.append(_event(zone, ordinal, 600 + 30 * rng.randrange(12), 60, "accept"))
    if working and rng.random() < 0.03:  # leave: whole local days
        days = rng.choice((1, 1, 2, 3))
        start, end = wall_clock(ordinal, 0, zone), wall_clock(ordinal + days, 0, zone)
        events.append(Event(start, end, "accept", all_day=True))
    focus = random.Random(_mix(seed, 3, person.index, ordinal))  # apart: older draws unchanged
    if working and focus.random() < 0.1:
        start = wall_clock(ordinal, person.day_start + 15 * focus.randrange(8), zone)
        events.append(Event(start, start + 3600, "accept", free=True))
    return tuple(events)


def _room_day(seed: int, room: Room, ordinal: int) -> tuple[Event, ...]:
    if (ordinal + 6) % 7 >= 5:
        return ()
    rng = random.Random(_mix(seed, 2, room.index, ordinal))
    events: list[Event] = []
    for _ in range(rng.randint(2, 6)):
        minutes = rng.choice((30, 60, 60, 90, 120))
        start = 540 + 30 * rng.randrange(20 - minutes // 30)
        events.append(_event(room.zone, ordinal, start, minutes, rng.choice(_ROOM_POOL)))
    return tuple(events)


class FeishuTenant:
    """A seeded organisation: ``users`` people, ``rooms`` rooms, an app id and secret."""

    def __init__(self, seed: int = 0, users: int = 200, rooms: int = 6) -> None:
        if users < 4:
            raise ValueError(f"users={users}: the tenant needs at least 4 people")
        self.seed = seed
        self.app_id = "cli_" + _hex(seed, "app", n=16)
        self.app_secret = _hex(seed, "secret")
        self.people = tuple(_person(seed, i) for i in range(users))
        self.rooms = tuple(
            Room(
                index=i,
                room_id="omm_" + _hex(seed, "room", i),
                name=f"Room {chr(65 + i % 26)}{i // 26 or ''}",
                zone="Europe/Berlin" if i % 4 == 3 else "Asia/Shanghai",
            )
            for i in range(rooms)
        )
        self._by_type: dict[str, dict[str, Person]] = {
            "open_id": {p.open_id: p for p in self.people},
            "union_id": {p.union_id: p for p in self.people},
            "user_id": {p.user_id: p for p in self.people},
        }
        self._rooms = {r.room_id: r for r in self.rooms}
        self._calendars = Calendars(self._draw_day, _LOOKBACK_DAYS)

    def __repr__(self) -> str:
        return f"FeishuTenant(seed={self.seed}, users={len(self.people)}, rooms={len(self.rooms)})"

    def user(self, id: str, user_id_type: str | None = None) -> Person | None:
        """The person ``id`` names under ``user_id_type`` (any of the three when ``None``)."""
        if user_id_type is not None:
            return self._by_type.get(user_id_type, {}).get(id)
        for table in self._by_type.values():
            if id in table:
                return table[id]
        return None

    def room(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    def _draw_day(self, key: str, ordinal: int) -> tuple[Event, ...]:
        person = self._by_type["open_id"].get(key)
        if person is not None:
            return _person_day(self.seed, person, ordinal)
        return _room_day(self.seed, self._rooms[key], ordinal)

    def events(self, id: str, start: int, end: int) -> list[Event]:
        """Every event of a person (any id form) or room overlapping ``[start, end)``, whole."""
        person = self.user(id)
        if person is not None:
            key, zone = person.open_id, person.zone
        else:
            room = self.room(id)
            if room is None:
                raise KeyError(f"no user or room {id!r} in this tenant")
            key, zone = room.room_id, room.zone
        hits = self._calendars.overlapping(key, zone, start, end)
        hits.sort(key=lambda e: (e.start, e.end, e.rsvp))
        return hits

    def ground_truth(self, id: str, start: int, end: int) -> list[Event]:
        """The events that block time (accepted, tentative, unanswered; not shown as free)
        overlapping the window."""
        return [e for e in self.events(id, start, end) if e.blocks]
