"""The ``slotfinder`` command.

Exit status: 0 slots found; 1 none (the explanation is printed); 2 bad input, configuration or
a file or port the system refused (one line naming the flag and the value, no traceback); 3
none, and a required attendee or a room left unknown by provider failures; 70 an internal
error (one line, and ``--debug`` shows the traceback); 130 interrupted (Ctrl-C); 141 the
reader of the output left.

Only ``argparse`` and :mod:`slotfinder.errors` (which imports nothing) are imported up front:
each command imports what it needs when it runs, so ``slotfinder --help`` and ``slotfinder
slots`` never load the HTTP client, the plugins or the simulators. Secrets never reach the
output: configuration values of secret keys are shown as set/unset, errors are built without
them, and an unexpected error's line is scrubbed of the values of secret ``SLOTFINDER_*``
variables.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from slotfinder.errors import ConfigError, InputError, SlotfinderError

if TYPE_CHECKING:
    from pathlib import Path

    from aiohttp import web

    from slotfinder.config import Config
    from slotfinder.fetch import Progress
    from slotfinder.fetch.store import Store
    from slotfinder.groups import Group
    from slotfinder.model import Attendee, LoadCaps, MeetingRequest, Span, SuggestionResult

__all__ = ["EXIT_CODES", "main", "parse_duration", "parse_when"]

EXIT_OK, EXIT_NONE, EXIT_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3
EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE = 70, 130, 141
EXIT_CODES = frozenset(
    {EXIT_OK, EXIT_NONE, EXIT_INPUT, EXIT_UNKNOWN, EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PIPE}
)
_UNITS = {
    "d": 86_400, "day": 86_400, "days": 86_400,
    "h": 3_600, "hr": 3_600, "hrs": 3_600, "hour": 3_600, "hours": 3_600,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
}  # fmt: skip
_PART_RE = re.compile(r"(\d+)\s*([a-z]+)", re.ASCII)
_DURATION_RULE = "expected a duration such as 30m, 45min, 1h30m, 2h, 90s or 2d"
_RELATIVE_RE = re.compile(r"\+(\d+)d", re.ASCII)
_WHEN_RULE = (
    "expected an RFC 3339 time ('2027-03-02T09:00:00+08:00'), a local time or date in the "
    "request's zone ('2027-03-02T09:00', '2027-03-02'), today, tomorrow or +3d"
)
_ARGUMENT_RE = re.compile(r"argument (--[\w-]+)[^:]*: (.*)")
_REQUIRED_RE = re.compile(r"the following arguments are required: (.*)")
_SECRET_NAME = re.compile(r"^SLOTFINDER_\w*(SECRET|TOKEN|PASSWORD)\w*$")


class UsageError(Exception):
    """argparse's complaint, turned into one error line instead of usage and exit.

    ``message`` is argparse's own words (the service answers with them); the text adds the
    command line's ``--help`` hint."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(f"{message} (see {prog} --help)")
        self.message = message


def request_from_flags(argv: Sequence[str], config: Config) -> MeetingRequest:
    """The request a ``suggest`` command line describes (the service reads its JSON fields
    through this, so a field means what its flag means). :class:`InputError` when wrong."""
    try:
        args = make_parser().parse_args(["suggest", *argv])
    except UsageError as exc:  # argparse's words, naming the flag
        text = exc.message
        if m := _ARGUMENT_RE.fullmatch(text):
            raise InputError(m.group(1), "<field>", m.group(2)) from None
        if m := _REQUIRED_RE.fullmatch(text):
            missing = m.group(1).split(", ")
            names = ", ".join(f.removeprefix("--") for f in missing)
            raise InputError(missing[0], "<field>", f"required (missing: {names})") from None
        raise InputError("request", "<fields>", text) from None
    return build_request(args, config)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)


def parse_duration(text: str, field: str = "duration") -> int:
    """Seconds from ``30m``, ``45min``, ``1h30m``, ``2h``, ``90s``, ``2d`` or bare minutes.

    Units run from days down to seconds, each at most once (every unit shorter than the one
    before), so ``30m1h`` (probably a typo) is refused rather than guessed.
    """
    value = text.strip().lower()
    if value.isdigit():
        return int(value) * 60
    total, pos, last = 0, 0, float("inf")
    for match in _PART_RE.finditer(value):
        unit = _UNITS.get(match.group(2))
        if match.start() != pos or unit is None or unit >= last:
            break
        total, pos, last = total + int(match.group(1)) * unit, match.end(), unit
    else:
        if pos == len(value) and pos:
            return total
    raise InputError(field, text, _DURATION_RULE)


def _today(zone: str, now: float | None) -> int:
    """The epoch day number of today in ``zone``."""
    import time
    from datetime import UTC, datetime

    from slotfinder.times import zone_info

    at = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return (at.astimezone(zone_info(zone)).date() - datetime(1970, 1, 1).date()).days


def parse_when(text: str, field: str, zone: str, now: float | None = None) -> int:
    """Epoch seconds of a window edge: an RFC 3339 time, a wall-clock time in ``zone``
    (``2027-03-02T09:00``), a date (its local midnight), ``today``, ``tomorrow`` or ``+3d``
    (the local midnight that many days from today)."""
    from slotfinder import times

    value = text.strip()
    word = value.lower()
    relative = _RELATIVE_RE.fullmatch(word)
    try:
        if word in ("today", "tomorrow") or relative:
            ahead = int(relative.group(1)) if relative else (word == "tomorrow")
            return times.midnight(_today(zone, now) + ahead, zone)
        if len(value) == 10:
            return times.midnight(times.read_date(value, field), zone)
        return times.instant(value, field, zone)
    except InputError as exc:  # name the flag and the text given, and every form it takes
        problem = _WHEN_RULE if exc.problem == times.INSTANT_RULE else exc.problem
        raise InputError(field, text, problem) from None


def _quorum(text: str | None) -> int | float | None:
    if text is None:
        return None
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text) if "." in text else int(text)
    except ValueError as exc:
        raise InputError("--quorum", text, "expected a count (3), a fraction (0.6) or 60%") from exc


def _engine_options(parser: argparse.ArgumentParser) -> None:
    from slotfinder.output import FORMATS

    parser.add_argument("--duration", required=True, help="meeting length: 30m, 45min, 1h30m, 2h")
    parser.add_argument("--granularity", default="15m", help="slot start grid (default 15m)")
    parser.add_argument("--buffer", help="free time needed before and after (e.g. 10m)")
    parser.add_argument("--buffer-before", help="free time needed before the meeting")
    parser.add_argument("--buffer-after", help="free time needed after the meeting")
    parser.add_argument("--min-notice", help="hide slots starting sooner than this from now (2h)")
    parser.add_argument("--quorum", help="required attendees needed: a count, 0.6 or 60%%")
    parser.add_argument(
        "--group", action="append", metavar="[NAME=]N:ID,ID,...",
        help="a group of required attendees of whom N (or 'all') must be free; repeatable",
    )  # fmt: skip
    parser.add_argument("--tentative", choices=("busy", "free"), default="busy")
    parser.add_argument(
        "--unanswered", choices=("busy", "tentative", "free"), default="tentative",
        help="an invitation nobody answered counts as busy, tentative (default) or free",
    )  # fmt: skip
    parser.add_argument("--unknown", choices=("exclude", "flag"), default="exclude")
    parser.add_argument("--max", type=int, default=10, dest="max_results")
    parser.add_argument("--order", choices=("score", "start"), default="score")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument(
        "--output", help="write the report to this file, '-' for standard output "
        "(html defaults to slotfinder-report.html)"
    )  # fmt: skip
    parser.add_argument("--tz", help="the request's IANA zone (output times, slot grid)")
    # Load caps: defaults for attendees whose busy file or configuration sets none.
    for what in ("day", "week"):
        parser.add_argument(
            f"--max-meetings-per-{what}",
            metavar="N",
            help=f"default cap: meetings per local {what}",
        )
        parser.add_argument(
            f"--max-busy-hours-per-{what}", metavar="H", help=f"default cap: busy hours per {what}"
        )
    # Recurring series (slotfinder.engine.series).
    parser.add_argument(
        "--repeat", metavar="RRULE",
        help="a recurring series (RFC 5545 RRULE, e.g. FREQ=WEEKLY;COUNT=8): every occurrence "
        "must fit",
    )  # fmt: skip
    parser.add_argument(
        "--allow-conflicts", metavar="N", type=int, default=0,
        help="with --repeat: offer series with up to N occurrences that do not fit",
    )  # fmt: skip
    parser.add_argument(
        "--full-lists", action="store_true",
        help="json: list every attendee in each slot (ids of the free ones, and their states); "
        "by default a slot counts the free and lists only the others",
    )  # fmt: skip


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The engine flags as :class:`MeetingRequest` fields (which checks each value)."""

    def optional(text: str | None, flag: str, default: int = 0) -> int:
        return parse_duration(text, flag) if text else default

    both = optional(args.buffer, "--buffer")
    return {
        "duration": parse_duration(args.duration, "--duration"),
        "granularity": parse_duration(args.granularity, "--granularity"),
        "buffer_before": optional(args.buffer_before, "--buffer-before", both),
        "buffer_after": optional(args.buffer_after, "--buffer-after", both),
        "min_notice": optional(args.min_notice, "--min-notice"),
        "quorum": _quorum(args.quorum),
        "tentative": args.tentative,
        "unanswered": args.unanswered,
        "unknown": args.unknown,
        "max_results": args.max_results,
        "order": args.order,
        "repeat": args.repeat,
        "allow_conflicts": args.allow_conflicts,
    }


def _groups(args: argparse.Namespace) -> tuple[Group, ...]:
    """The ``--group`` flags as groups; a bad one is refused naming the flag and its text."""
    from slotfinder.groups import parse_spec

    out = []
    for i, text in enumerate(args.group or ()):
        try:
            out.append(parse_spec(text, i + 1))
        except InputError as exc:
            raise InputError("--group", text, exc.problem) from None
    return tuple(out)


def default_caps(args: argparse.Namespace) -> LoadCaps | None:
    """The load caps the ``--max-...`` flags give as a default (``None`` when none is given)."""
    from slotfinder.model import CAP_KEYS, LoadCaps

    spec: dict[str, object] = {}
    for key in CAP_KEYS:
        text = getattr(args, key, None)
        if text is None:
            continue
        try:
            spec[key] = float(text) if "hours" in key else int(text)
        except ValueError:
            what = "a number of hours" if "hours" in key else "a whole number of meetings"
            raise InputError("--" + key.replace("_", "-"), text, f"expected {what}") from None
    try:
        return LoadCaps.parse(spec)
    except InputError as exc:
        raise InputError("--" + exc.field.replace("_", "-"), exc.value, exc.problem) from None


def with_caps(attendees: Sequence[Attendee], default: LoadCaps | None) -> tuple[Attendee, ...]:
    """``attendees`` with each cap they leave unset taken from ``default``."""
    import attrs

    if default is None:
        return tuple(attendees)
    return tuple(
        attrs.evolve(a, caps=default if a.caps is None else a.caps.over(default)) for a in attendees
    )


def _emit(result: SuggestionResult, args: argparse.Namespace, out: TextIO, stats: bool) -> int:
    from slotfinder.output import write

    fmt = args.format
    target = args.output or ("slotfinder-report.html" if fmt == "html" else None)
    to_file = bool(target and target != "-")
    color = out.isatty() and args.output is None

    def report(fp: TextIO) -> None:
        full = args.full_lists
        write(result, fmt, fp, stats=stats, color=color, full_lists=full, newline=not to_file)

    if to_file and target:
        path = write_file(target, report, "--output")
        print(f"report written to {path}", file=out)
    else:
        report(out)
    return _status(result)


def write_file(target: str, text: str | Callable[[TextIO], object], flag: str) -> Path:
    """Write ``text`` (or what the callable writes to the file it is given) to ``target`` all
    at once: a temporary file beside it, renamed over it.

    An interrupted or failed write leaves neither a half-written report nor the temporary
    file. OS errors become :class:`InputError` naming ``flag``.
    """
    import tempfile
    from pathlib import Path

    path = Path(target)
    with _os_errors(flag, target):
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory", target)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
        try:
            os.chmod(tmp, 0o666 & ~_umask())  # as open() would (mkstemp's file is private)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                if isinstance(text, str):
                    fh.write(text)
                else:
                    text(fh)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    try:
        return path.resolve()
    except (OSError, RuntimeError) as exc:
        raise InputError(flag, target, str(exc)) from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def _os_errors(flag: str, value: str) -> Iterator[None]:
    """OS errors on a file the user named become one line naming the flag."""
    try:
        yield
    except SlotfinderError:
        raise  # already says what is wrong with the file
    except OSError as exc:
        raise InputError(flag, value, exc.strerror or str(exc)) from None
    except ValueError as exc:  # an embedded NUL byte in the path
        raise InputError(flag, value, f"not a usable path ({exc})") from None


def _status(result: SuggestionResult) -> int:
    if result.slots:
        return EXIT_OK
    request = result.request
    required = {a.id for a in request.required} if request else set()
    # A room that could not be read might have been the free one, as might a person.
    if any(u.id in required or u.room for u in result.unknown):
        return EXIT_UNKNOWN
    return EXIT_NONE


_FLAGS = {
    "duration": "--duration",
    "granularity": "--granularity",
    "buffer_before": "--buffer-before",
    "buffer_after": "--buffer-after",
    "min_notice": "--min-notice",
    "quorum": "--quorum",
    "max_results": "--max",
    "tz": "--tz",
    "repeat": "--repeat",
    "allow_conflicts": "--allow-conflicts",
    "window.end": "--end",
    "window.start": "--start",
}


def _flag(field: str, value: object, args: argparse.Namespace) -> str:
    """The flag behind a request field's error: ``--buffer`` for a buffer it set, and the id
    flag (``--attendee``, ``--optional``, ``--room``, ``--group``) that named a refused id."""
    if field in ("buffer_before", "buffer_after") and args.buffer and not getattr(args, field):
        return "--buffer"
    if field.startswith(("attendees[", "rooms[")):
        for flag, given in (
            ("--attendee", getattr(args, "attendee", None)),
            ("--optional", getattr(args, "optional", None)),
            ("--room", getattr(args, "room", None)),
            ("--group", [m for g in _groups(args) for m in g.members]),
        ):
            if value in (given or ()):
                return flag
    return "--group" if field.startswith("groups") else _FLAGS.get(field, field)


@contextmanager
def _named_by_flags(args: argparse.Namespace) -> Iterator[None]:
    """Errors in building or running a request name the command-line flag, not the Python
    field (:func:`_flag`)."""
    try:
        yield
    except InputError as exc:
        raise InputError(_flag(exc.field, exc.value, args), exc.value, exc.problem) from None


def _check_zone(zone: str | None, flag: str) -> str | None:
    from slotfinder.model import check_zone

    return None if zone is None else check_zone(zone, flag)


def _load_config(args: argparse.Namespace) -> Config:
    """The configuration, with the file providers' ``roots`` defaulting to the working
    directory and the configuration file's folder (the library itself assumes no folder)."""
    from slotfinder.config import Config

    with _os_errors("--config", str(args.config)):
        config = Config.load(args.config)
        here = os.getcwd()
        folders = [here, os.path.dirname(os.path.abspath(args.config or "slotfinder.toml"))]
    return with_default_roots(config, list(dict.fromkeys(folders)))


def with_default_roots(config: Config, folders: Sequence[str]) -> Config:
    """``config`` with ``providers.ics.roots`` and ``providers.json.roots`` set to ``folders``
    where neither the file nor ``SLOTFINDER_<PROVIDER>_ROOTS`` sets them."""
    import attrs

    providers = {name: dict(table) for name, table in config.providers.items()}
    for name in ("ics", "json"):
        table = providers.setdefault(name, {})
        if not config.env.get(f"SLOTFINDER_{name.upper()}_ROOTS") and not table.get("roots"):
            table["roots"] = os.pathsep.join(folders)
    return attrs.evolve(config, providers=providers)


def cmd_slots(args: argparse.Namespace, out: TextIO) -> int:
    from pathlib import Path

    from slotfinder.busyfile import load_busy_file
    from slotfinder.engine import find_slots
    from slotfinder.model import MeetingRequest

    try:
        busy = load_busy_file(Path(args.busy))
    except InputError as exc:
        if exc.field != "busy_file" or exc.value != str(Path(args.busy)):
            raise
        raise InputError("--busy", args.busy, exc.problem) from None
    zone = _check_zone(args.tz, "--tz") or busy.zone
    groups = _groups(args) or (busy.groups if args.quorum is None else ())
    attendees = with_caps(busy.attendees, default_caps(args))
    window = _starts_window(args, busy.window, zone)
    with _named_by_flags(args):
        request = MeetingRequest(
            attendees=attendees, window=window, zone=zone, groups=groups, **_options(args)
        )
    return _emit(find_slots(busy.availabilities, request), args, out, stats=False)


def _starts_window(args: argparse.Namespace, file_window: Span, zone: str) -> Span:
    """``slots --start/--end``: where slots may start, inside the busy file's window (which
    stays what the data covers, so a series' later occurrences can be read from it)."""
    from slotfinder.model import Span

    start = file_window.start if args.start is None else parse_when(args.start, "--start", zone)
    end = file_window.end if args.end is None else parse_when(args.end, "--end", zone)
    if not file_window.start <= start < end <= file_window.end:
        raise InputError(
            "--end" if args.end is not None else "--start",
            args.end if args.end is not None else args.start,
            "--start must be before --end, both inside the busy file's window",
        )
    return Span(start, end)


class _ProgressBar:
    """A one-line progress bar on stderr, shown only once a fetch has taken over a second."""

    def __init__(self, stream: TextIO) -> None:
        import time

        self.clock = time.monotonic
        self.stream = stream
        self.started = self.clock()
        self.shown = False

    def __call__(self, p: Progress) -> None:
        if self.clock() - self.started < 1.0 or not self.stream.isatty():
            return
        width = 30
        filled = width * p.calls_done // max(1, p.calls_planned)
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(
            f"\rfetching [{bar}] {p.calls_done}/{p.calls_planned} calls, "
            f"{p.ids_done}/{p.ids_total} calendars"
        )
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")


def build_request(
    args: argparse.Namespace, config: Config, now: float | None = None
) -> MeetingRequest:
    """The request the ``suggest`` flags describe, attendees shaped by ``config`` (load-cap
    flags replace its ``[defaults]`` caps, cap by cap)."""
    import attrs

    from slotfinder.model import Span

    flagged = default_caps(args)
    if flagged is not None:
        config = attrs.evolve(config, caps=flagged.over(config.caps))

    zone = _check_zone(args.tz, "--tz") or config.tz
    start = parse_when(args.start, "--start", zone, now)
    end = parse_when(args.end, "--end", zone, now)
    if end <= start:
        raise InputError("--end", args.end, f"must be after --start {args.start}")
    try:
        window = Span(start, end)
    except InputError as exc:  # an edge outside the years Span allows
        flag, text = ("--start", args.start) if exc.field == "span.start" else ("--end", args.end)
        raise InputError(flag, text, exc.problem) from None
    groups = _groups(args)
    named = [*(args.attendee or []), *(args.optional or [])]
    members = [m for g in groups for m in g.members if m not in named]  # become required
    with _named_by_flags(args):
        return config.request(
            [*(args.attendee or []), *dict.fromkeys(members)],
            groups=groups,
            optional=args.optional or [],
            rooms=args.room or [],
            window=window,
            zone=zone,
            **_options(args),
        )


def _store(args: argparse.Namespace, config: Config) -> Store:
    """Redis when configured; otherwise a cache file shared by successive runs."""
    import attrs

    from slotfinder.api import default_store
    from slotfinder.fetch.store import Store

    if args.no_cache:
        return Store.local(cache=False)
    if config.redis_url or config.env.get("SLOTFINDER_REDIS_URL"):
        return default_store(config)
    return attrs.evolve(Store.sqlite(), ttl=config.cache_ttl)


def cmd_suggest(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from slotfinder.api import suggest

    config = _load_config(args)
    request = build_request(args, config)
    store = _store(args, config)
    bar = _ProgressBar(sys.stderr)
    try:
        with _named_by_flags(args):  # an id no provider takes: name the flag that gave it
            result = asyncio.run(
                suggest(request, config=config, progress=bar, store=store, refresh=args.refresh)
            )
    finally:
        bar.close()
    return _emit(result, args, out, stats=True)


def cmd_serve(args: argparse.Namespace, out: TextIO) -> int:
    import asyncio

    from slotfinder.serve import TOKEN_ENV, ServeOptions, make_app

    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ConfigError(TOKEN_ENV, "set a bearer token for the service's callers")
    options = ServeOptions(
        token=token,
        max_body=args.max_body,
        time_limit=args.time_limit,
        allow_files=args.allow_files,
    )
    config = _load_config(args)
    app = make_app(config, options, read=lambda argv: request_from_flags(argv, config))
    asyncio.run(_serve_app(app, args.host, args.port, out))
    return EXIT_OK


async def _serve_app(app: web.Application, host: str, port: int, out: TextIO) -> None:
    """Serve until SIGINT or SIGTERM; a port in use is one line naming --port."""
    import asyncio
    import contextlib
    import signal

    from aiohttp import web

    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    try:
        with _os_errors("--port", str(port)):
            await web.TCPSite(runner, host, port).start()
        bound = runner.addresses[0]
        print(f"slotfinder serving on http://{bound[0]}:{bound[1]} (Ctrl-C stops)", file=out)
        out.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()


def cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.plugins import get_providers
    from slotfinder.providers import HttpProvider, ProviderConfig

    config = _load_config(args)
    for name, provider in get_providers().items():
        print(f"{name}: {provider.description}", file=out)
        if isinstance(provider, HttpProvider):
            settings: ProviderConfig
            try:
                settings = config.provider_config(provider)
            except SlotfinderError:
                settings = {
                    k.name: k.default for k in provider.config_keys if k.default is not None
                }
            lim = provider.limits(settings)
            for e in lim.endpoints:
                rate = " and ".join(f"{w.calls}/{w.seconds:g}s" for w in e.rate + lim.rate)
                ids = f"{e.max_ids}" if e.min_ids == e.max_ids else f"{e.min_ids}-{e.max_ids}"
                print(
                    f"  endpoint {e.name}: {e.kind}s, {ids} id(s) a call, "
                    f"at most {e.max_span / 86400:g} days a call, rate {rate or 'unlimited'}",
                    file=out,
                )
            print(f"  concurrency {lim.concurrency}, timeout {lim.timeout:g} s", file=out)
        for key in provider.config_keys:
            env_var = key.env_var(name)
            present = bool(config.env.get(env_var)) or key.name in config.providers.get(name, {})
            if key.secret:
                shown = "set" if present else "unset"
            elif present:
                shown = str(config.env.get(env_var) or config.providers[name][key.name])
            else:
                shown = f"default {key.default!r}" if key.default is not None else "unset"
            flags = ", ".join(
                f for f in ("required" if key.required else "", "secret" if key.secret else "") if f
            )
            print(
                f"  {key.name} ({env_var}){f' [{flags}]' if flags else ''}: {shown} — {key.help}",
                file=out,
            )
    return EXIT_OK


def cmd_simulate(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.demo import simulate

    return simulate(
        args.provider, out, port=args.port, seed=args.seed, write_config=args.write_config
    )


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.demo import run_demo

    return run_demo(out, write_file, seed=args.seed, output=args.output)


def _port(text: str) -> int:
    """A TCP port number (0: any free one), refused by argparse as ``--port`` otherwise."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def make_parser() -> argparse.ArgumentParser:
    """The whole command line; building it loads no numpy, HTTP client or plugin."""
    debug = _Parser(add_help=False)
    debug.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show the traceback of an unexpected error",
    )
    parser = _Parser(prog="slotfinder", description="Find meeting times.", parents=[debug])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    slots = sub.add_parser("slots", help="offline: slots from a busy file", parents=[debug])
    slots.add_argument("--busy", required=True, help="busy file (JSON)")
    slots.add_argument("--start", help="slots start from here (default: the file's window)")
    slots.add_argument("--end", help="and end by here, e.g. leaving a series' weeks to read")
    _engine_options(slots)
    slots.set_defaults(func=cmd_slots)

    sug = sub.add_parser(
        "suggest", help="live: fetch through the providers, then find slots", parents=[debug]
    )
    sug.add_argument("--attendee", action="extend", nargs="+", help="PROVIDER:ID, required")
    sug.add_argument("--optional", action="extend", nargs="+", help="PROVIDER:ID, optional")
    sug.add_argument("--room", action="extend", nargs="+", help="PROVIDER:ROOMID")
    when = (
        "an RFC 3339 time, a local time or date in --tz (2027-03-02T09:00, 2027-03-02 is "
        "its midnight), today, tomorrow or +3d"
    )
    sug.add_argument("--start", required=True, help=f"window start: {when}")
    sug.add_argument("--end", required=True, help="window end, read like --start")
    sug.add_argument("--config", help="configuration file (default ./slotfinder.toml)")
    sug.add_argument(
        "--refresh", action="store_true", help="read these calendars again, whatever is cached"
    )
    sug.add_argument(
        "--no-cache", action="store_true", help="neither read nor keep cached busy time"
    )
    _engine_options(sug)
    sug.set_defaults(func=cmd_suggest)

    srv = sub.add_parser(
        "serve", help="answer suggest requests over HTTP (token: SLOTFINDER_SERVE_TOKEN)",
        parents=[debug],
    )  # fmt: skip
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    srv.add_argument("--port", type=_port, default=8080, help="port to listen on (8080)")
    srv.add_argument("--config", help="configuration file (default ./slotfinder.toml)")
    srv.add_argument("--allow-files", action="store_true", help="let callers name ics:/json: files")
    srv.add_argument("--max-body", type=int, default=64 * 1024, help="largest body, bytes")
    srv.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds a request may take (60)"
    )
    srv.set_defaults(func=cmd_serve)

    demo = sub.add_parser(
        "demo", help="run a mixed-provider suggest against local simulators", parents=[debug]
    )
    demo.add_argument("--seed", type=int, default=7, help="the simulated organisation's seed")
    demo.add_argument("--output", help="HTML report path (default reports/slotfinder-demo.html)")
    demo.set_defaults(func=cmd_demo)

    prov = sub.add_parser(
        "providers", help="registered providers, limits and settings", parents=[debug]
    )
    prov.add_argument("--config", help="configuration file (default ./slotfinder.toml)")
    prov.set_defaults(func=cmd_providers)

    sim = sub.add_parser(
        "simulate", help="run a provider simulator (or all) on 127.0.0.1", parents=[debug]
    )
    sim.add_argument("provider", help="the simulator to run (feishu, dingtalk), or all")
    sim.add_argument(
        "--port", type=_port, default=0, help="port to listen on (all: the first of consecutive "
        "ports); default a free one"
    )  # fmt: skip
    sim.add_argument("--seed", type=int, default=0, help="seed of the simulated organisation")
    sim.add_argument(
        "--write-config",
        help="where to write the [providers.*] configuration (default: a private temporary "
        "file, removed when the simulator stops)",
    )
    sim.set_defaults(func=cmd_simulate)
    return parser


def _scrub(text: str) -> str:
    """The line with the values of secret ``SLOTFINDER_*`` variables blanked out."""
    for name, value in os.environ.items():
        if value and len(value) >= 4 and _SECRET_NAME.match(name):
            text = text.replace(value, "<secret>")
    return text


def _error(message: str) -> None:
    print(f"slotfinder: error: {_scrub(message)}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    stream = out or sys.stdout
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = make_parser().parse_args(argv)
    except UsageError as exc:
        _error(str(exc))
        return EXIT_INPUT
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    if args.command == "suggest" and not (args.attendee or args.optional or args.group):
        _error("--attendee: at least one attendee is needed")
        return EXIT_INPUT
    func: Callable[[argparse.Namespace, TextIO], int] = args.func
    return _run(func, args, stream, debug)


def _run(
    func: Callable[[argparse.Namespace, TextIO], int],
    args: argparse.Namespace,
    stream: TextIO,
    debug: bool,
) -> int:
    """Run one command, turning every way it can end into an exit status and one line."""
    try:
        return func(args, stream)
    except SlotfinderError as exc:
        _error(str(exc))
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("slotfinder: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `slotfinder demo | head`: the reader left; say nothing more, as Unix tools do.
        _quiet_stdout()
        return EXIT_PIPE
    except Exception as exc:  # the last line of defence: one line, not a traceback
        if debug:
            import traceback

            sys.stderr.write(_scrub("".join(traceback.format_exception(exc))))
        detail = _scrub(f"{type(exc).__name__}: {exc}")
        print(
            f"slotfinder: internal error: {detail} (rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def _quiet_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
