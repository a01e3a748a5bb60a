"""The ``json:`` provider: one attendee's busy time from a busy file.

``json:path/busy.json#alice`` is attendee ``alice`` of the busy file ``path/busy.json``
(relative to the current directory; the fragment is after the *last* ``#``, so attendee ids
cannot contain ``#`` but paths can), read only as :class:`slotfinder_files._cache.Access`
allows (``roots``, ``max_bytes``). Without a fragment the file must hold exactly one attendee.
``read`` returns busy time only; the file's ``tz``, ``working_hours`` and ``name`` for each
attendee come from ``attendee_defaults``, which :meth:`slotfinder.Config.request` (and so the
command line) asks before the request is built, so ``suggest`` with ``json:FILE#id`` keeps the
hours ``slots --busy FILE`` keeps; the configuration's ``[attendees."ID"]`` still wins. The
file speaks for its window alone: the availability's ``covered`` is that window, and outside
it nothing is known.

A file that cannot be read or is not a valid busy file, or that has no such attendee, makes
the attendee unknown with the reason: the file, the JSON path at fault (cut before any key
the format does not know) and the rule, never a value from the file, since the id may name a
file that was never a busy file (``json:creds.json``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from slotfinder.busyfile import BusyFile, load_busy_file
from slotfinder.errors import InputError
from slotfinder.model import Attendee, Availability, Span
from slotfinder.providers import ConfigKey, ProviderConfig
from slotfinder_files._cache import CONFIG_KEYS, Access, FileCache

__all__ = ["JsonProvider", "split_id"]

PREFIX = "json:"
_CACHE: FileCache[BusyFile] = FileCache(load_busy_file)
_KNOWN_KEYS = frozenset(
    {"window", "tz", "attendees", "start", "end", "id", "name", "optional", "working_hours"}
    | {"busy", "status", "busy_file"}
)
_STEP = re.compile(r"\.?([a-z_]+)(?=[.\[]|$)|\[(\d+)\]", re.ASCII)


def split_id(id: str) -> tuple[str, str | None]:
    """``json:a/b.json#alice`` → ``("a/b.json", "alice")``; no fragment → ``(path, None)``."""
    rest = id.removeprefix(PREFIX)
    path, sep, name = rest.rpartition("#")
    if not sep:
        return rest, None
    return path, name


def safe_field(field: str) -> str:
    """``field`` cut before the first step that is not a key of the busy-file format.

    Keys of a file that is not a busy file are its content (``app_secret``, or a token used as
    a key), so only the format's own key names and list indexes are shown.
    """
    shown = []
    pos = 0
    while (step := _STEP.match(field, pos)) is not None:
        if step[1] is not None and step[1] not in _KNOWN_KEYS:
            break
        shown.append(step[0])
        pos = step.end()
    return "".join(shown).lstrip(".") or "the top level"


def _reason(path: str, exc: InputError) -> str:
    """Why the file gave no busy time: its path, the JSON path and the rule, no values."""
    if exc.field in ("path", "busy_file"):
        return f"{path}: {exc.problem}"
    return f"{path}: not a valid busy file: {safe_field(exc.field)}: {exc.problem}"


def _pick(bf: BusyFile, path: str, name: str | None) -> Availability | str:
    """The attendee's availability, or the reason there is none."""
    if name is None:
        if len(bf.availabilities) == 1:
            return bf.availabilities[0]
        return f"{path} holds {len(bf.availabilities)} attendees: name one as json:{path}#ID"
    for a in bf.availabilities:
        if a.id == name:
            return a
    # The file's other ids are not listed: they are its content.
    return f"{path} has no attendee {name!r}"


class JsonProvider:
    """``json:PATH#ID``: one attendee's busy time from a slotfinder busy file."""

    name = "json"
    description = "slotfinder busy files on this machine: json:path/busy.json#attendee"
    config_keys: tuple[ConfigKey, ...] = CONFIG_KEYS

    def attendee_defaults(self, ids: Sequence[str], config: ProviderConfig) -> dict[str, Attendee]:
        """What each id's busy file says of that attendee: zone, working hours and name.

        Ids whose file cannot be read, or that name no attendee, are left out: ``read``
        reports them as unknown with the reason. An attendee without its own ``tz`` lives in
        the file's.
        """
        try:
            access = Access.from_config(config, self.name)
        except InputError:  # the read names the reason
            return {}
        out: dict[str, Attendee] = {}
        for id in ids:
            path, name = split_id(id)
            try:
                bf = _CACHE.get(path, access) if path else None
            except Exception:  # the fetch reads it again and names the reason
                continue
            picked = _pick(bf, path, name) if bf is not None else "no path"
            if bf is None or isinstance(picked, str):
                continue
            person = next(a for a in bf.attendees if a.id == picked.id)
            out[id] = Attendee(
                id=id,
                zone=person.zone or bf.zone,
                working_hours=person.working_hours,
                name=person.name,
            )
        return out

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        """Availability per attendee; a bad file or missing attendee makes it unknown."""
        try:
            access = Access.from_config(config, self.name)
        except InputError as exc:  # no folders to read from: everyone unknown, never free
            return [Availability.unknown(a.id, f"{exc.field}: {exc.problem}") for a in attendees]
        out: list[Availability] = []
        for attendee in attendees:
            path, name = split_id(attendee.id)
            if not path:
                out.append(Availability.unknown(attendee.id, "expected json:PATH#ID, got no path"))
                continue
            try:
                bf = _CACHE.get(path, access)
            except InputError as exc:  # unknown with the reason, never free
                out.append(Availability.unknown(attendee.id, _reason(path, exc)))
                continue
            except Exception as exc:  # anything odd: unknown too, named by its kind only
                reason = f"{path}: cannot read ({type(exc).__name__})"
                out.append(Availability.unknown(attendee.id, reason))
                continue
            found = _pick(bf, path, name)
            if isinstance(found, str):
                out.append(Availability.unknown(attendee.id, found))
            else:
                out.append(Availability(id=attendee.id, busy=found.busy, covered=found.covered))
        return out
