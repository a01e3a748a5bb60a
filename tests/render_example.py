"""A small, fixed result to preview and test the renderers without the engine or a network.

Four attendees in three zones (Shanghai, Berlin, New York) and a room, over a Monday-to-Friday
window in Asia/Shanghai, one calendar that could not be read. The periods and slots are
computed here with the span algebra (window ∩ working hours − busy), so they are consistent
with the calendars drawn; the scores are simply decreasing.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from slotfinder.hours import grid, working_spans
from slotfinder.intervals import SpanArrays, complement, covering_index, intersect_all, normalize
from slotfinder.model import (
    Attendee,
    Availability,
    Busy,
    Explanation,
    MeetingRequest,
    Reason,
    Span,
    Status,
    Suggestion,
    SuggestionResult,
    Unknown,
    WorkingHours,
)
from slotfinder.render._common import Person
from slotfinder.render._grid import classify

__all__ = ["example_result"]

_SH = "Asia/Shanghai"


def _t(text: str, zone: str = _SH) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).timestamp())


def _busy(zone: str, *rows: tuple[str, str, Status]) -> list[Busy]:
    return [Busy(span=Span(_t(a, zone), _t(b, zone)), status=st) for a, b, st in rows]


def example_result(*, empty: bool = False, calls: bool = True) -> SuggestionResult:
    """The example result; ``empty`` gives the no-slot variant with an explanation."""
    window = Span(_t("2026-11-23T00:00"), _t("2026-11-28T00:00"))
    alice = Attendee(
        id="feishu:ou_alice",
        zone=_SH,
        working_hours=WorkingHours.parse(_SH, {"mon-fri": ["09:00-12:00", "13:00-18:00"]}),
    )
    bob = Attendee(
        id="dingtalk:bob",
        zone="Europe/Berlin",
        working_hours=WorkingHours.parse("Europe/Berlin", {"mon-fri": "08:00-16:00"}),
    )
    carol = Attendee(
        id="json:team.json#carol",
        optional=True,
        zone="America/New_York",
        working_hours=WorkingHours.parse("America/New_York", {"mon-fri": "07:00-17:00"}),
    )
    dave = Attendee(id="dingtalk:dave", zone=_SH)
    room = Attendee(id="feishu:omm_room1")
    request = MeetingRequest(
        attendees=(alice, bob, carol, dave),
        rooms=(room,),
        window=window,
        duration=1800,
        granularity=900,
        zone=_SH,
        max_results=6,
        unknown="flag",  # plan around Dave's unreadable calendar rather than count him busy
    )
    alice_busy = [
        ("2026-11-23T15:00", "2026-11-23T16:00", Status.BUSY),
        ("2026-11-24T13:00", "2026-11-24T18:00", Status.OOF),
        ("2026-11-25T16:00", "2026-11-25T16:30", Status.TENTATIVE),
    ]
    if empty:
        alice_busy.append(("2026-11-23T00:00", "2026-11-28T00:00", Status.BUSY))
    avail = (
        Availability.of(alice.id, _busy(_SH, *alice_busy)),
        Availability.of(
            bob.id,
            _busy(
                "Europe/Berlin",
                ("2026-11-23T09:30", "2026-11-23T10:00", Status.BUSY),
                ("2026-11-26T08:00", "2026-11-26T12:00", Status.BUSY),
            ),
        ),
        Availability.of(
            carol.id,
            _busy("America/New_York", ("2026-11-23T07:00", "2026-11-23T09:00", Status.BUSY)),
        ),
        Availability.unknown(dave.id, "DingTalk 403: the app may not read this user's calendar"),
        Availability.of(room.id, _busy(_SH, ("2026-11-25T15:00", "2026-11-25T17:00", Status.BUSY))),
    )
    people = {
        a.id: Person(a, "required", request.zone_of(a), av)
        for a, av in zip((alice, bob, carol, dave, room), avail, strict=True)
    }
    required = (alice, bob)
    sets: list[SpanArrays] = []
    for a in required:
        av = avail[0] if a is alice else avail[1]
        assert a.working_hours is not None
        work = working_spans(a.working_hours, window.start, window.end)
        blocked = normalize(*av.busy.with_status(Status.BUSY, Status.OOF, Status.TENTATIVE))
        sets.append(work)
        sets.append(complement(blocked, window.start, window.end))
    ps, pe = intersect_all(sets, window.start, window.end)
    periods = tuple(Span(int(s), int(e)) for s, e in zip(ps, pe, strict=True))
    starts = grid(_SH, window.start, window.end, request.granularity)
    ok = covering_index((ps, pe), starts, starts + request.duration) >= 0
    chosen = [int(s) for s in starts[ok]]
    slots: list[Suggestion] = []
    for s in chosen:
        e = s + request.duration
        cs, ce = np.array([s], dtype=np.int64), np.array([e], dtype=np.int64)
        st = {pid: classify(p, cs, ce)[0] for pid, p in people.items()}
        room_ok = st[room.id] == "free"
        if not room_ok:
            continue
        who = [alice.id, bob.id, carol.id, dave.id]
        slots.append(
            Suggestion(
                start=s,
                end=e,
                score=round(1.0 - 0.07 * len(slots), 2),
                available=tuple(i for i in who if st[i] == "free"),
                tentative=tuple(i for i in who if st[i] == "tentative"),
                unavailable=tuple(i for i in who if st[i] in ("busy", "outside")),
                unknown=tuple(i for i in who if st[i] == "unknown"),
                room=room.id,
            )
        )
    slots = sorted(slots, key=lambda x: (-len(x.available), x.start))[: request.max_results]
    slots = [
        Suggestion(
            start=x.start,
            end=x.end,
            score=round(0.95 - 0.05 * i, 2),
            available=x.available,
            tentative=x.tentative,
            unavailable=x.unavailable,
            unknown=x.unknown,
            room=x.room,
        )
        for i, x in enumerate(slots)
    ]
    explanation = None
    if empty:
        alt = slots[0] if slots else None
        explanation = Explanation(
            reasons=(
                Reason(
                    code="busy_whole_window",
                    message="feishu:ou_alice is busy for the whole window",
                    ids=(alice.id,),
                ),
                Reason(
                    code="unknown_attendees",
                    message="1 calendar could not be read and is not counted as free",
                    ids=(dave.id,),
                ),
            ),
            alternatives=(
                Suggestion(
                    start=_t("2026-11-23T15:00"),
                    end=_t("2026-11-23T15:30"),
                    score=0.4,
                    available=(bob.id,),
                    unavailable=(alice.id, carol.id),
                    unknown=(dave.id,),
                    room=room.id,
                ),
            )
            if alt is None
            else (alt,),
            next_after_window=Suggestion(
                start=_t("2026-11-30T15:00"),
                end=_t("2026-11-30T15:30"),
                score=0.9,
                available=(alice.id, bob.id),
                unavailable=(carol.id,),
                unknown=(dave.id,),
                room=room.id,
            ),
        )
        slots = []
    return SuggestionResult(
        slots=tuple(slots),
        periods=periods,
        unknown=(Unknown(id=dave.id, reason=avail[3].error or ""),),
        explanation=explanation,
        request=request,
        availabilities=avail,
        calls={"feishu/freebusy_list": 2, "dingtalk/schedule_query": 3, "files/json": 1}
        if calls
        else {},
        retries=1 if calls else 0,
    )
