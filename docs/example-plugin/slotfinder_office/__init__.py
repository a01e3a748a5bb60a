"""slotfinder-office: office closures and out-of-office days from one CSV file.

A complete slotfinder plugin in one module. The CSV has a header and one row per absence::

    who,start,end,status
    *,2026-12-24,2026-12-27,oof
    alice,2026-11-25T14:00:00+01:00,2026-11-25T16:00:00+01:00,busy
    bob,2026-11-26,,oof

``who`` is a person or ``*`` (the whole office, e.g. a closure). ``start``/``end`` are RFC 3339
times with an offset, or dates: a date is a local day in the attendee's zone, ``end`` is the
first day no longer blocked and defaults to the day after ``start``. ``status`` is ``busy``
(default), ``tentative`` or ``oof``. Ids are ``office:NAME``; the file is the ``file`` setting
(``[providers.office] file = "..."`` or ``SLOTFINDER_OFFICE_FILE``).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence

from slotfinder import (
    Attendee,
    Availability,
    BusyTable,
    ConfigKey,
    Provider,
    ProviderConfig,
    Settings,
    Span,
    Status,
    hookimpl,
    times,
)

__all__ = ["OfficeProvider", "slotfinder_register_providers"]


def _instant(text: str, zone: str, field: str) -> int:
    """Epoch seconds: an RFC 3339 time with its offset, or local midnight of a date."""
    if len(text) == 10:
        return times.midnight(times.read_date(text, field), zone)
    return times.instant(text, field)


def _rows(path: str, who: str, zone: str) -> list[tuple[int, int, int]]:
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            if row.get("who") not in (who, "*"):
                continue
            start, end = row.get("start") or "", row.get("end") or ""
            where = f"{path}:{line}"
            first = _instant(start, zone, f"{where}.start")
            if not end and len(start) == 10:  # a date alone: that one local day
                last = times.midnight(times.read_date(start) + 1, zone)
            else:
                last = _instant(end, zone, f"{where}.end")
            status = Status.parse(row.get("status") or "busy", f"{where}.status")
            rows.append((first, last, status.code))
    return rows


class OfficeProvider:
    """``office:NAME``: busy time from the office CSV file."""

    name = "office"
    description = "office closures and out-of-office days from a CSV file: office:NAME"
    config_keys: tuple[ConfigKey, ...] = (
        ConfigKey(name="file", help="path of the office CSV file", required=True),
    )

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        """Each attendee's rows; a file that cannot be read makes them unknown, never free."""
        path = Settings(config, self.name).text("file")
        out = []
        for attendee in attendees:
            who = attendee.id.removeprefix("office:")
            try:
                rows = _rows(path, who, attendee.zone or zone)
                busy = BusyTable.from_rows(
                    r for r in rows if r[0] < window.end and r[1] > window.start
                )
            except (OSError, ValueError) as exc:  # InputError is a ValueError too
                out.append(Availability.unknown(attendee.id, f"{path}: {exc}"))
                continue
            out.append(Availability(id=attendee.id, busy=busy))
        return out


@hookimpl
def slotfinder_register_providers(register: Callable[[Provider], None]) -> None:
    """Register the ``office`` provider."""
    register(OfficeProvider())
