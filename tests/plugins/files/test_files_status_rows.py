"""Every row of the status table (docs/design.md) for iCalendar files and busy files."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slotfinder_files.ics import IcsProvider, split_id
from slotfinder_files.jsonfile import JsonProvider

from slotfinder.model import Attendee, Availability, Span

ME = "Alice@Example.com"
DAY = "20260105"
WINDOW = Span(
    int(datetime(2026, 1, 4, tzinfo=UTC).timestamp()),
    int(datetime(2026, 1, 8, tzinfo=UTC).timestamp()),
)


def _at(hour: int) -> str:
    return f"{DAY}T{hour:02d}0000Z"


def _attendee(partstat: str) -> str:
    return f"ATTENDEE;CN=Alice;PARTSTAT={partstat}:mailto:alice@example.com"


ICS_ROWS: list[tuple[str, list[str], str | None]] = [
    ("accepted", [_attendee("ACCEPTED")], "busy"),
    ("tentative", [_attendee("TENTATIVE")], "tentative"),
    ("tentative (STATUS)", ["STATUS:TENTATIVE"], "tentative"),
    ("tentative (Outlook)", ["X-MICROSOFT-CDO-BUSYSTATUS:TENTATIVE"], "tentative"),
    ("unanswered", [_attendee("NEEDS-ACTION")], "unanswered"),
    ("declined", [_attendee("DECLINED")], None),
    ("delegated", [_attendee("DELEGATED")], None),
    ("cancelled", ["STATUS:CANCELLED", _attendee("ACCEPTED")], None),
    ("out of office", ["X-MICROSOFT-CDO-BUSYSTATUS:OOF"], "oof"),
    ("transparent", ["TRANSP:TRANSPARENT", _attendee("ACCEPTED")], None),
    ("free (Outlook)", ["X-MICROSOFT-CDO-BUSYSTATUS:FREE"], None),
    ("someone else's reply", ["ATTENDEE;PARTSTAT=DECLINED:mailto:bob@example.com"], "busy"),
]
"""(row, the event's lines, what it must become; ``None``: no busy entry)."""


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, object]:
    return {"roots": os.pathsep.join([str(tmp_path)])}


def _calendar(tmp_path: Path) -> Path:
    events = []
    for hour, (_, lines, _) in enumerate(ICS_ROWS):
        body = [f"UID:{hour}", f"DTSTART:{_at(hour)}", f"DTEND:{_at(hour + 1)}", *lines]
        events.append("\r\n".join(["BEGIN:VEVENT", *body, "END:VEVENT"]))
    day = ["BEGIN:VEVENT", "UID:allday", "DTSTART;VALUE=DATE:20260106", "DTEND;VALUE=DATE:20260107",
           "END:VEVENT"]  # fmt: skip
    text = "\r\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", *events, *day,
                        "END:VCALENDAR", ""])  # fmt: skip
    path = tmp_path / "me.ics"
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _status_at(av: Availability, start: int) -> str | None:
    rows = [b for b in av.busy.entries() if b.span.start == start]
    return rows[0].status.value if rows else None


def test_split_id_takes_the_owner_after_the_last_hash() -> None:
    """The owner is the fragment after the last ``#``; a path may hold ``#`` itself."""
    assert split_id("ics:a#b/c.ics#me@x.org") == ("a#b/c.ics", "me@x.org")
    assert split_id("ics:c.ics") == ("c.ics", None)


def test_every_ics_row_for_a_named_owner(tmp_path: Path, roots: dict[str, object]) -> None:
    """With the owner named, each kind of event becomes what the table says."""
    path = _calendar(tmp_path)
    [av] = IcsProvider().read([Attendee(id=f"ics:{path}#{ME}")], WINDOW, "UTC", roots)
    base = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
    got = {row: _status_at(av, base + 3600 * i) for i, (row, _, _) in enumerate(ICS_ROWS)}
    assert got == {row: want for row, _, want in ICS_ROWS}
    all_day = int(datetime(2026, 1, 6, tzinfo=UTC).timestamp())
    assert _status_at(av, all_day) == "busy"


def test_replies_are_not_read_without_an_owner(tmp_path: Path, roots: dict[str, object]) -> None:
    """Without ``#owner`` the file does not say whose replies count: they are all busy."""
    path = _calendar(tmp_path)
    [av] = IcsProvider().read([Attendee(id=f"ics:{path}")], WINDOW, "UTC", roots)
    base = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
    replies = {"accepted", "tentative", "unanswered", "declined", "delegated"}
    for i, (row, _, _) in enumerate(ICS_ROWS):
        if row in replies:
            assert _status_at(av, base + 3600 * i) == "busy", row


def test_every_busy_file_status(tmp_path: Path, roots: dict[str, object]) -> None:
    """A busy file's five status values are read as themselves (``free`` blocks nothing)."""
    names = ["busy", "tentative", "free", "oof", "unanswered"]
    base = int(datetime(2026, 1, 5, tzinfo=UTC).timestamp())
    entries = [
        {
            "start": datetime.fromtimestamp(base + 3600 * i, UTC).isoformat(),
            "end": datetime.fromtimestamp(base + 3600 * (i + 1), UTC).isoformat(),
            "status": name,
        }
        for i, name in enumerate(names)
    ]
    doc = {
        "window": {"start": "2026-01-04T00:00:00+00:00", "end": "2026-01-08T00:00:00+00:00"},
        "attendees": [{"id": "alice", "busy": entries}],
    }
    path = tmp_path / "busy.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    [av] = JsonProvider().read([Attendee(id=f"json:{path}#alice")], WINDOW, "UTC", roots)
    got = [_status_at(av, base + 3600 * i) for i in range(len(names))]
    assert got == names
