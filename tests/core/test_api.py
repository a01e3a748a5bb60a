"""suggest(): the order of work, unknowns, and the look past the window when nothing fits."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import attrs
import pytest

import slotfinder
from slotfinder import Attendee, Config, MeetingRequest, Span, WorkingHours

ZONE = "Europe/Berlin"
DAY = 86_400
MONDAY = int(datetime(2026, 11, 23, tzinfo=ZoneInfo(ZONE)).timestamp())  # a Monday

ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//slotfinder tests//EN
BEGIN:VEVENT
UID:offsite@example
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261123
DTEND;VALUE=DATE:20261125
SUMMARY:Offsite
END:VEVENT
END:VCALENDAR
"""


def config(path: Path) -> Config:
    """A Config letting the ics: provider read the folder ``path`` is in (its roots setting)."""
    return Config(tz=ZONE, env={}, providers={"ics": {"roots": str(path.parent)}})


def request(path: Path, days: int = 1) -> MeetingRequest:
    hours = WorkingHours.parse(ZONE, {"mon-fri": "09:00-17:00"})
    return MeetingRequest(
        attendees=[Attendee(f"ics:{path}", zone=ZONE, working_hours=hours)],
        window=Span(MONDAY, MONDAY + days * DAY),
        duration=3600,
        zone=ZONE,
        order="start",
    )


@pytest.fixture
def calendar(tmp_path: Path) -> Path:
    path = tmp_path / "offsite.ics"
    path.write_text(ICS, encoding="utf-8")
    return path


def test_nothing_fits_so_suggest_names_the_first_slot_after_the_window(calendar: Path) -> None:
    """Busy the whole window: suggest reads past it and names Wednesday 09:00 as the next slot."""
    result = slotfinder.suggest_sync(request(calendar), config=config(calendar))
    assert result.slots == ()
    assert result.explanation is not None
    nxt = result.explanation.next_after_window
    assert nxt is not None
    assert nxt.start == MONDAY + 2 * DAY + 9 * 3600  # the offsite covers Monday and Tuesday


def test_without_lookahead_nothing_after_the_window_is_guessed(calendar: Path) -> None:
    """With lookahead=0, time after the window was never read, so no slot there is offered."""
    result = slotfinder.suggest_sync(request(calendar), config=config(calendar), lookahead=0)
    assert result.slots == ()
    assert result.explanation is not None
    assert result.explanation.next_after_window is None


def test_a_slot_inside_the_window_needs_no_lookahead(calendar: Path) -> None:
    """When a slot fits, the first one is Wednesday 09:00 inside a three-day window."""
    result = slotfinder.suggest_sync(request(calendar, days=3), config=config(calendar))
    assert result.slots
    assert min(s.start for s in result.slots) == MONDAY + 2 * DAY + 9 * 3600


def test_unknown_attendee_is_reported_not_free(tmp_path: Path) -> None:
    """A calendar that cannot be read is listed unknown with its reason, and blocks every slot."""
    missing = tmp_path / "nope.ics"
    result = slotfinder.suggest_sync(request(missing), config=config(missing))
    assert result.slots == ()
    assert [u.id for u in result.unknown] == [f"ics:{missing}"]
    assert "nope.ics" in result.unknown[0].reason


def test_unknown_attendee_keeps_the_display_name_given(tmp_path: Path) -> None:
    """suggest's result names an unreadable attendee as the request did, not only by id."""
    missing = tmp_path / "nope.ics"
    named = attrs.evolve(request(missing).attendees[0], name="Olga")
    req = attrs.evolve(request(missing), attendees=(named,))
    result = slotfinder.suggest_sync(req, config=config(missing))
    assert [(u.label, u.room) for u in result.unknown] == [("Olga", False)]
    assert result.label(named.id) == "Olga"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"request": None}, "request"),
        ({"config": {"providers": {"feishu": {"app_secret": "s3cr3t-value"}}}}, "config"),
        ({"providers": ["feishu"]}, "providers"),
        ({"store": "redis://localhost"}, "store"),
        ({"policy": 3}, "policy"),
        ({"lookahead": -1}, "lookahead"),
        ({"lookahead": True}, "lookahead"),
    ],
)
def test_suggest_refuses_arguments_of_the_wrong_type(
    tmp_path: Path, kwargs: dict[str, object], field: str
) -> None:
    """A wrong argument is an InputError naming it, before any call; a mapping given as the
    config is named by its type, so a secret in it never reaches the message."""
    calendar = tmp_path / "a.json"
    calendar.write_text('{"busy": []}')
    arguments: dict[str, object] = {"request": request(calendar), **kwargs}
    given = arguments.pop("request")
    with pytest.raises(slotfinder.InputError) as info:
        slotfinder.suggest_sync(given, **arguments)  # type: ignore[arg-type]
    assert info.value.field == field
    assert "s3cr3t" not in str(info.value)
