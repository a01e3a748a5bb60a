"""The ``json:`` provider: one attendee's busy time from a busy file.

``json:path/busy.json#alice`` is attendee ``alice`` of the busy file ``path/busy.json``
(relative to the current directory; the fragment is after the *last* ``#``, so attendee ids
cannot contain ``#`` but paths can). Without a fragment the file must hold exactly one
attendee. The file's own ``tz`` and ``working_hours`` are the file's business: the request's
attendee settings win, and this provider returns busy time only. The file speaks for its
window alone: the availability's ``covered`` is that window, and outside it nothing is known.

A file that cannot be read or is not a valid busy file, or that has no such attendee, makes
the attendee unknown with the reason (the :class:`slotfinder.errors.InputError` text, which
names the JSON path at fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from slotfinder.busyfile import BusyFile, load_busy_file
from slotfinder.model import Attendee, Availability, Span
from slotfinder.providers import ConfigKey, ProviderConfig
from slotfinder_files._cache import FileCache, resolve

__all__ = ["JsonProvider", "split_id"]

PREFIX = "json:"


def _load(path: Path) -> BusyFile:
    return load_busy_file(path)


_CACHE: FileCache[BusyFile] = FileCache(_load)


def split_id(id: str) -> tuple[str, str | None]:
    """``json:a/b.json#alice`` → ``("a/b.json", "alice")``; no fragment → ``(path, None)``."""
    rest = id.removeprefix(PREFIX)
    path, sep, name = rest.rpartition("#")
    if not sep:
        return rest, None
    return path, name


def _pick(bf: BusyFile, path: str, name: str | None) -> Availability | str:
    """The attendee's availability, or the reason there is none."""
    ids = [a.id for a in bf.availabilities]
    if name is None:
        if len(ids) == 1:
            return bf.availabilities[0]
        return f"{path} holds {len(ids)} attendees: name one as json:{path}#ID"
    for a in bf.availabilities:
        if a.id == name:
            return a
    listed = ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else "")
    return f"{path} has no attendee {name!r} (it has: {listed or 'none'})"


class JsonProvider:
    """``json:PATH#ID``: one attendee's busy time from a slotfinder busy file."""

    name = "json"
    description = "slotfinder busy files on this machine: json:path/busy.json#attendee"
    config_keys: tuple[ConfigKey, ...] = ()

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        """Availability per attendee; a bad file or missing attendee makes it unknown."""
        out: list[Availability] = []
        for attendee in attendees:
            path, name = split_id(attendee.id)
            if not path:
                out.append(Availability.unknown(attendee.id, "expected json:PATH#ID, got no path"))
                continue
            try:
                bf = _CACHE.get(resolve(path))
            except OSError as exc:
                out.append(
                    Availability.unknown(attendee.id, f"cannot read {path}: {exc.strerror or exc}")
                )
                continue
            except Exception as exc:  # InputError, or anything odd: unknown, never free
                out.append(Availability.unknown(attendee.id, f"{path}: {exc}"))
                continue
            found = _pick(bf, path, name)
            if isinstance(found, str):
                out.append(Availability.unknown(attendee.id, found))
            else:
                out.append(Availability(id=attendee.id, busy=found.busy, covered=found.covered))
        return out
