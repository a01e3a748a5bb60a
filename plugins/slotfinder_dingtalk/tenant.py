"""The seeded synthetic organisation the DingTalk simulator serves.

Everything is a function of ``(seed, id, local date)``, kept in a
:class:`slotfinder.testing.simkit.Calendars`, so any date window gives the same events whatever
was asked before, and a test can ask :meth:`Tenant.truth` what the simulator will say.
People work in several zones with their own working hours; their calendars hold weekly recurring
meetings, one-off meetings (some tentative), late meetings crossing midnight, and all-day
``{date}`` items (days off, trips) blocking the person's local days. Rooms have bookings, some
pending approval (``TENTATIVE``), each with an ``eventId`` and an organiser.

Now and then a working day also holds an invitation left unanswered, one declined, one the
person was removed from, or a block shown as free (:data:`REPLIES`). The seed pages document
only ``BUSY`` and ``TENTATIVE``, so what the service reports for these is our assumption, kept
here in one place: an unanswered invitation is reported ``TENTATIVE`` (as Outlook shows one),
and the other three are not reported at all (:attr:`Event.reported`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import attrs

from slotfinder.model import Status
from slotfinder.testing.simkit import Calendars, wall_clock

__all__ = ["REPLIES", "Event", "Person", "Room", "Tenant"]

ZONES = (
    "Asia/Shanghai", "Asia/Shanghai", "Asia/Shanghai", "Europe/Berlin", "America/New_York",
    "Asia/Tokyo", "Europe/London", "America/Los_Angeles", "Asia/Kolkata", "Australia/Sydney",
    "Asia/Singapore",
)  # fmt: skip
ROOM_ZONES = ("Asia/Shanghai", "Asia/Shanghai", "Europe/Berlin", "America/New_York")
FIRST = (
    "Wei", "Fang", "Lei", "Jing", "Hao", "Min", "Anna", "Jonas", "Lena", "Felix", "Emma",
    "Noah", "Olivia", "Liam", "Yuki", "Haruto", "Priya", "Arjun", "Chloe", "Jack", "Mei", "Tao",
    "Sofia", "Lukas", "Ava", "Ethan", "Ling", "Jun", "Mia", "Ben",
)  # fmt: skip
LAST = (
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Müller", "Schmidt",
    "Schneider", "Fischer", "Smith", "Johnson", "Brown", "Garcia", "Sato", "Suzuki", "Sharma",
    "Patel", "Tan", "Lim", "Wilson", "Taylor",
)  # fmt: skip
ROOM_NAMES = (
    "Kunlun", "Taishan", "Huangshan", "Emei", "Lushan", "Hengshan", "Zugspitze", "Brocken",
    "Hudson", "Liberty", "Xihu", "Qiantang", "Wuyi", "Tianchi", "Lijiang", "Songshan",
)  # fmt: skip
DEFAULT_HOURS: Mapping[str, dict[str, list[str]]] = {
    "Asia/Shanghai": {"mon-fri": ["09:00-12:00", "13:30-18:30"]},
    "Europe/Berlin": {"mon-fri": ["08:30-17:00"]},
    "America/New_York": {"mon-fri": ["09:00-17:30"]},
}
# The first people have fixed profiles so the demo finds common time across three zones:
# Shanghai 20:00-21:00 = Berlin 13:00-14:00 = New York 07:00-08:00 (in winter).
FIXED = (
    ("Asia/Shanghai", {"mon-fri": ["09:00-12:00", "13:00-21:00"]}),
    ("Asia/Shanghai", {"mon-fri": ["10:00-21:30"]}),
    ("Europe/Berlin", {"mon-fri": ["08:00-17:00"]}),
    ("America/New_York", {"mon-fri": ["07:00-16:00"]}),
    ("Europe/Berlin", {"mon-thu": ["09:00-18:00"], "fri": ["09:00-14:00"]}),
)

BUSY, TENTATIVE = "BUSY", "TENTATIVE"
REPLIES = ("accepted", "tentative", "unanswered", "declined", "removed", "free")
"""The owner's side of a calendar item; the first three are reported, the rest are not."""
_EXTRA = ("unanswered", "declined", "removed", "free")
_CODES = {BUSY: Status.BUSY.code, TENTATIVE: Status.TENTATIVE.code}
LOOKBACK_DAYS = 4
"""No generated event lasts longer than this, so a window only needs dates this far back."""


def _rng(*parts: object) -> random.Random:
    return random.Random("/".join(str(p) for p in parts))


def _token(rng: random.Random, n: int, alphabet: str) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@attrs.frozen
class Person:
    """Someone in the organisation: unionId, name, zone and weekly working hours."""

    union_id: str
    name: str
    zone: str
    working_hours: Mapping[str, list[str]]
    weekly: tuple[tuple[int, int, int, str], ...]
    """Recurring meetings: ``(weekday, local start minute, minutes, status)``."""


@attrs.frozen
class Room:
    """A meeting room: roomId, name and zone."""

    room_id: str
    name: str
    zone: str


@attrs.frozen
class Event:
    """One schedule item as the simulator will report it.

    ``all_day`` holds the ``(start date, end date)`` of an all-day item: DingTalk sends bare
    dates (zone "fixed to UTC"), and they block the person's local days, so ``start``/``end``
    are local midnights; ``zone`` ``None`` means the item omits ``timeZone`` and gives a
    wall-clock ``dateTime`` in the default zone, Asia/Shanghai.
    """

    start: int
    end: int
    status: str
    event_id: str
    organizer: str
    zone: str | None = "Asia/Shanghai"
    all_day: tuple[str, str] | None = None
    reply: str | None = None
    """The owner's side, one of :data:`REPLIES`; ``None``: as ``status`` says (``BUSY``
    accepted, ``TENTATIVE`` tentative)."""

    @property
    def kind(self) -> str:
        """The owner's side of it, one of :data:`REPLIES`."""
        if self.reply is not None:
            return self.reply
        return "tentative" if self.status == TENTATIVE else "accepted"

    @property
    def reported(self) -> bool:
        """Whether querySchedule returns it (declined, removed and free items are not)."""
        return self.kind in REPLIES[:3]

    @property
    def code(self) -> int:
        return _CODES[self.status]

    def row(self) -> tuple[int, int, int]:
        return (self.start, self.end, self.code)

    def _point(self, instant: int, day: str | None) -> dict[str, str]:
        if day is not None:
            return {"date": day}
        if self.zone is None:
            local = datetime.fromtimestamp(instant, ZoneInfo("Asia/Shanghai"))
            return {"dateTime": local.replace(tzinfo=None).isoformat(timespec="seconds")}
        local = datetime.fromtimestamp(instant, ZoneInfo(self.zone))
        return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": self.zone}

    def user_item(self) -> dict[str, Any]:
        """The ``scheduleItems[]`` entry of querySchedule."""
        start_day, end_day = self.all_day if self.all_day else (None, None)
        return {
            "status": self.status,
            "start": self._point(self.start, start_day),
            "end": self._point(self.end, end_day),
        }

    def room_item(self) -> dict[str, Any]:
        """The ``scheduleItems[]`` entry of the meeting-room schedule query."""
        return {
            "eventId": self.event_id,
            "status": self.status,
            "organizer": {"id": self.organizer},
            "start": self._point(self.start, None),
            "end": self._point(self.end, None),
        }


class Tenant:
    """A deterministic organisation of ``users`` people and ``rooms`` rooms for ``seed``."""

    def __init__(self, seed: int = 0, users: int = 240, rooms: int = 12) -> None:
        if users < len(FIXED) or rooms < 1:
            raise ValueError(f"need at least {len(FIXED)} users and 1 room")
        self.seed = seed
        rng = _rng("dingtalk-tenant", seed)
        self.app_key = "ding" + _token(rng, 16, "abcdefghijklmnopqrstuvwxyz0123456789")
        self.app_secret = _token(rng, 48, _ALNUM + "-_")
        self.people = tuple(self._person(i) for i in range(users))
        self.rooms = tuple(self._room(i) for i in range(rooms))
        self.operator = self.people[0].union_id
        self._people = {p.union_id: p for p in self.people}
        self._rooms = {r.room_id: r for r in self.rooms}
        self._calendars = Calendars(self._new_day, LOOKBACK_DAYS)

    def __repr__(self) -> str:
        return f"Tenant(seed={self.seed}, users={len(self.people)}, rooms={len(self.rooms)})"

    # -- directory --------------------------------------------------------------------------

    def _person(self, i: int) -> Person:
        rng = _rng("dingtalk-person", self.seed, i)
        union_id = _token(rng, 22, _ALNUM) + "iE"
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        if i < len(FIXED):
            zone, hours = FIXED[i]
        else:
            zone = rng.choice(ZONES)
            hours = DEFAULT_HOURS.get(zone, {"mon-fri": ["09:00-18:00"]})
            if rng.random() < 0.1:
                hours = {"mon-thu": hours["mon-fri"]}
        weekly: list[tuple[int, int, int, str]] = []
        for _ in range(rng.randint(2, 5)):
            weekday = rng.randrange(5)
            start = rng.randrange(9 * 2, 17 * 2) * 30
            minutes = rng.choice((30, 30, 45, 60, 60, 90))
            weekly.append((weekday, start, minutes, TENTATIVE if rng.random() < 0.15 else BUSY))
        return Person(
            union_id=union_id,
            name=name,
            zone=zone,
            working_hours=hours,
            weekly=tuple(sorted(weekly)),
        )

    def _room(self, i: int) -> Room:
        return Room(
            room_id=_token(_rng("dingtalk-room", self.seed, i), 32, "0123456789abcdef"),
            name=f"{ROOM_NAMES[i % len(ROOM_NAMES)]} {i // len(ROOM_NAMES) + 1}",
            zone=ROOM_ZONES[i % len(ROOM_ZONES)],
        )

    def person(self, union_id: str) -> Person | None:
        return self._people.get(union_id)

    def room(self, room_id: str) -> Room | None:
        return self._rooms.get(room_id)

    # -- calendars --------------------------------------------------------------------------

    def _event_id(self, *parts: object) -> str:
        text = "/".join(str(p) for p in (self.seed, *parts))
        return hashlib.sha1(text.encode()).hexdigest()[:24]

    def _new_day(self, key: str, ordinal: int) -> tuple[Event, ...]:
        """Draw the events starting on local day ``ordinal`` for ``key`` (from the seed)."""
        day = date.fromordinal(ordinal)
        rng = _rng("dingtalk-day", self.seed, key, day.isoformat())
        weekday = day.weekday()
        person = self._people.get(key)
        events: list[Event] = []
        if person is None:
            room = self._rooms[key]
            count = rng.choice((0, 1, 2, 3, 3, 4, 5)) if weekday < 5 else rng.choice((0, 0, 1))
            for n in range(count):
                start = rng.randrange(8 * 4, 19 * 4) * 15
                minutes = rng.choice((30, 45, 60, 60, 90, 120))
                events.append(
                    Event(
                        start=wall_clock(ordinal, start, room.zone),
                        end=wall_clock(ordinal, start + minutes, room.zone),
                        status=TENTATIVE if rng.random() < 0.25 else BUSY,
                        event_id=self._event_id(key, day, n),
                        organizer=rng.choice(self.people).union_id,
                        zone=room.zone,
                    )
                )
            return tuple(events)
        zone = person.zone
        # Shanghai items sometimes omit timeZone: the default zone path of the parser.
        item_zone: str | None = None if zone == "Asia/Shanghai" and rng.random() < 0.2 else zone
        for n, (wd, start, minutes, status) in enumerate(person.weekly):
            if wd == weekday:
                events.append(
                    Event(
                        start=wall_clock(ordinal, start, zone),
                        end=wall_clock(ordinal, start + minutes, zone),
                        status=status,
                        event_id=self._event_id(key, "weekly", n, day),
                        organizer=person.union_id,
                        zone=item_zone,
                    )
                )
        weekend_count = 1 if rng.random() < 0.1 else 0
        count = rng.choice((0, 0, 1, 1, 2, 3)) if weekday < 5 else weekend_count
        for n in range(count):
            start = rng.randrange(7 * 4, 20 * 4) * 15
            minutes = rng.choice((15, 30, 30, 45, 60, 60, 90, 120, 180))
            events.append(
                Event(
                    start=wall_clock(ordinal, start, zone),
                    end=wall_clock(ordinal, start + minutes, zone),
                    status=TENTATIVE if rng.random() < 0.2 else BUSY,
                    event_id=self._event_id(key, "once", n, day),
                    organizer=rng.choice(self.people).union_id,
                    zone=item_zone,
                )
            )
        if rng.random() < 0.04:  # a late call crossing local midnight
            start = rng.randrange(22 * 4, 24 * 4) * 15
            events.append(
                Event(
                    start=wall_clock(ordinal, start, zone),
                    end=wall_clock(ordinal, start + rng.choice((90, 120, 180)), zone),
                    status=BUSY,
                    event_id=self._event_id(key, "late", day),
                    organizer=person.union_id,
                    zone=zone,
                )
            )
        roll = rng.random()
        if roll < 0.05 and weekday < 5:  # a day off or a trip: the person's local days
            days = 1 if roll < 0.04 else rng.randint(2, LOOKBACK_DAYS - 1)
            last = day + timedelta(days=days)
            events.append(
                Event(
                    start=wall_clock(ordinal, 0, zone),
                    end=wall_clock(ordinal + days, 0, zone),
                    status=BUSY if rng.random() < 0.8 else TENTATIVE,
                    event_id=self._event_id(key, "allday", day),
                    organizer=person.union_id,
                    zone=None,
                    all_day=(day.isoformat(), last.isoformat()),
                )
            )
        extra = _rng("dingtalk-extra", self.seed, key, day.isoformat())  # older draws unchanged
        if weekday < 5 and extra.random() < 0.15:
            start = extra.randrange(9 * 4, 17 * 4) * 15
            reply = extra.choice(_EXTRA)
            events.append(
                Event(
                    start=wall_clock(ordinal, start, zone),
                    end=wall_clock(ordinal, start + 60, zone),
                    status=TENTATIVE if reply == "unanswered" else BUSY,
                    event_id=self._event_id(key, "extra", day),
                    organizer=extra.choice(self.people).union_id,
                    zone=zone,
                    reply=reply,
                )
            )
        return tuple(events)

    def events(self, key: str, start: int, end: int) -> list[Event]:
        """What querySchedule reports: the events of a person or room overlapping
        ``[start, end)``, whole (not clipped)."""
        return [e for e in self.calendar(key, start, end) if e.reported]

    def calendar(self, key: str, start: int, end: int) -> list[Event]:
        """Every item of a person or room overlapping ``[start, end)``, reported or not."""
        owner = self._people.get(key) or self._rooms[key]
        out = self._calendars.overlapping(key, owner.zone, start, end)
        out.sort(key=lambda e: (e.start, e.end, e.event_id))
        return out

    def truth(self, key: str, start: int, end: int) -> list[tuple[int, int, int]]:
        """Ground truth: the ``(start, end, status_code)`` rows a correct parser reads."""
        return sorted({e.row() for e in self.events(key, start, end)})
