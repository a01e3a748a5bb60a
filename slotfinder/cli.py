"""The ``slotfinder`` command.

Exit status: 0 slots found; 1 none (the explanation is printed); 2 bad input or configuration
(one line naming the field and the value, no traceback); 3 required attendees left unknown by
provider failures. Secrets never reach the output: configuration values of secret keys are
shown as set/unset, and errors are built without them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from slotfinder.config import Config
from slotfinder.errors import ConfigError, InputError, SlotfinderError
from slotfinder.fetch import Progress
from slotfinder.model import MeetingRequest, Span, SuggestionResult, to_epoch
from slotfinder.output import FORMATS, render
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, ProviderConfig
from slotfinder.testing import get_simulators

__all__ = ["main", "parse_duration"]

EXIT_OK, EXIT_NONE, EXIT_INPUT, EXIT_UNKNOWN = 0, 1, 2, 3
_UNITS = {"d": 86_400, "h": 3_600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str, field: str = "duration") -> int:
    """Seconds from ``30m``, ``1h30m``, ``90s``, ``2d`` or a bare number of minutes."""
    value = text.strip().lower()
    if value.isdigit():
        return int(value) * 60
    match = _DURATION_RE.match(value)
    if not value or match is None or not any(match.groups()):
        raise InputError(field, text, "expected a duration such as 30m, 1h30m, 90s or 2d")
    return sum(int(g) * _UNITS[u] for g, u in zip(match.groups(), "dhms", strict=True) if g)


def parse_time(text: str, field: str) -> int:
    """Epoch seconds from an ISO 8601 time with an offset; a naive time is refused."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise InputError(
            field, text, "expected an ISO 8601 time such as 2026-11-23T09:00+08:00"
        ) from exc
    return to_epoch(value, field)


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
    parser.add_argument("--duration", required=True, help="meeting length: 30m, 1h, 1h30m")
    parser.add_argument("--granularity", default="15m", help="slot start grid (default 15m)")
    parser.add_argument("--buffer", help="free time needed before and after (e.g. 10m)")
    parser.add_argument("--buffer-before", help="free time needed before the meeting")
    parser.add_argument("--buffer-after", help="free time needed after the meeting")
    parser.add_argument("--min-notice", help="hide slots starting sooner than this from now")
    parser.add_argument("--quorum", help="required attendees needed: a count, 0.6 or 60%%")
    parser.add_argument("--tentative", choices=("busy", "free"), default="busy")
    parser.add_argument("--unknown", choices=("exclude", "flag"), default="exclude")
    parser.add_argument("--max", type=int, default=10, dest="max_results")
    parser.add_argument("--order", choices=("score", "start"), default="score")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--output", help="write the report here (html defaults to a file)")
    parser.add_argument("--tz", help="the request's IANA zone (output times, slot grid)")


def _options(args: argparse.Namespace) -> dict[str, object]:
    both = parse_duration(args.buffer, "--buffer") if args.buffer else 0
    return {
        "duration": parse_duration(args.duration, "--duration"),
        "granularity": parse_duration(args.granularity, "--granularity"),
        "buffer_before": parse_duration(args.buffer_before, "--buffer-before")
        if args.buffer_before
        else both,
        "buffer_after": parse_duration(args.buffer_after, "--buffer-after")
        if args.buffer_after
        else both,
        "min_notice": parse_duration(args.min_notice, "--min-notice") if args.min_notice else 0,
        "quorum": _quorum(args.quorum),
        "tentative": args.tentative,
        "unknown": args.unknown,
        "max_results": args.max_results,
        "order": args.order,
    }


def _emit(result: SuggestionResult, args: argparse.Namespace, out: TextIO, stats: bool) -> int:
    fmt = args.format
    text = render(result, fmt, stats=stats, color=out.isatty())
    target = args.output or ("slotfinder-report.html" if fmt == "html" else None)
    if target:
        Path(target).write_text(text, encoding="utf-8")
        print(f"report written to {Path(target).resolve()}", file=out)
    else:
        out.write(text if text.endswith("\n") else text + "\n")
    return _status(result)


def _status(result: SuggestionResult) -> int:
    if result.slots:
        return EXIT_OK
    request = result.request
    required = {a.id for a in request.required} if request else set()
    if any(u.id in required for u in result.unknown):
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
    "window.end": "--end",
    "window.start": "--start",
    "span.end": "--end",
    "span.start": "--start",
}


def _request(**fields: object) -> MeetingRequest:
    """A MeetingRequest whose errors name the command-line flag, not the Python field."""
    try:
        return MeetingRequest(**fields)  # type: ignore[arg-type]
    except InputError as exc:
        raise InputError(_FLAGS.get(exc.field, exc.field), exc.value, exc.problem) from None


def cmd_slots(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.busyfile import load_busy_file
    from slotfinder.engine import find_slots

    busy = load_busy_file(Path(args.busy))
    request = _request(
        attendees=busy.attendees, window=busy.window, zone=args.tz or busy.zone, **_options(args)
    )
    return _emit(find_slots(busy.availabilities, request), args, out, stats=False)


class _ProgressBar:
    """A one-line progress bar on stderr, shown only once a fetch has taken over a second."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.shown = False

    def __call__(self, p: Progress) -> None:
        if time.monotonic() - self.started < 1.0 or not self.stream.isatty():
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


def build_request(args: argparse.Namespace, config: Config) -> MeetingRequest:
    zone = args.tz or config.tz
    people = [config.attendee(i, zone=zone) for i in args.attendee or []]
    people += [config.attendee(i, optional=True, zone=zone) for i in args.optional or []]
    rooms = [config.attendee(i, room=True, zone=zone) for i in args.room or []]
    start, end = parse_time(args.start, "--start"), parse_time(args.end, "--end")
    if end <= start:
        raise InputError("--end", args.end, f"must be after --start {args.start}")
    window = Span(start, end)
    return _request(attendees=people, rooms=rooms, window=window, zone=zone, **_options(args))


def cmd_suggest(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.api import suggest

    config = Config.load(args.config)
    request = build_request(args, config)
    bar = _ProgressBar(sys.stderr)
    try:
        result = asyncio.run(suggest(request, config=config, progress=bar))
    finally:
        bar.close()
    return _emit(result, args, out, stats=True)


def cmd_providers(args: argparse.Namespace, out: TextIO) -> int:
    config = Config.load(args.config)
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
    from slotfinder.testing import simkit

    simulators = get_simulators()
    if args.provider not in simulators:
        raise InputError("PROVIDER", args.provider, f"no simulator; have {', '.join(simulators)}")
    sim = simulators[args.provider]

    provider = get_providers().get(sim.name)
    secret = {k.name for k in provider.config_keys if k.secret} if provider else set()

    async def serve() -> None:
        app = sim.app(seed=args.seed)
        async with simkit.running(app, port=args.port) as base_url:
            tenant = sim.demo(base_url, seed=args.seed)
            print(
                f"{sim.name} simulator on {base_url} (seed {args.seed}); Ctrl-C stops it", file=out
            )
            # Even a simulator's credentials stay out of the output: they go to a private file.
            path = _write_sim_config(sim.name, dict(tenant.config), args.write_config)
            print(f"configuration (credentials included): {path}", file=out)
            print(f"  use it: slotfinder suggest --config {path} ...", file=out)
            print(f"[providers.{sim.name}]", file=out)
            for key, value in tenant.config.items():
                shown = f"<in {path.name}>" if key in secret else value
                print(f'{key} = "{shown}"', file=out)
            for person in tenant.people[:5] + tenant.rooms:
                print(
                    f"# {'room' if person.room else 'user'} {person.id} ({person.zone})", file=out
                )
            out.flush()
            await asyncio.Event().wait()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return EXIT_OK


def _write_sim_config(name: str, settings: dict[str, str], where: str | None) -> Path:
    """Write ``[providers.NAME]`` for a running simulator to a file only the user can read."""
    path = Path(where) if where else Path(tempfile.mkdtemp(prefix="slotfinder-sim-")) / "sim.toml"
    lines = [f"[providers.{name}]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path.resolve()


def cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from slotfinder.demo import run_demo

    return run_demo(out, seed=args.seed, output=args.output)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slotfinder", description="Find meeting times.")
    sub = parser.add_subparsers(dest="command", required=True)

    slots = sub.add_parser("slots", help="offline: slots from a busy file")
    slots.add_argument("--busy", required=True, help="busy file (JSON)")
    _engine_options(slots)
    slots.set_defaults(func=cmd_slots)

    sug = sub.add_parser("suggest", help="live: fetch through the providers, then find slots")
    sug.add_argument("--attendee", action="extend", nargs="+", help="PROVIDER:ID, required")
    sug.add_argument("--optional", action="extend", nargs="+", help="PROVIDER:ID, optional")
    sug.add_argument("--room", action="extend", nargs="+", help="PROVIDER:ROOMID")
    sug.add_argument("--start", required=True, help="window start, ISO 8601 with offset")
    sug.add_argument("--end", required=True, help="window end, ISO 8601 with offset")
    sug.add_argument("--config", help="configuration file (default ./slotfinder.toml)")
    _engine_options(sug)
    sug.set_defaults(func=cmd_suggest)

    demo = sub.add_parser("demo", help="run a mixed-provider suggest against local simulators")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--output", help="HTML report path (default reports/slotfinder-demo.html)")
    demo.set_defaults(func=cmd_demo)

    prov = sub.add_parser("providers", help="registered providers, limits and settings")
    prov.add_argument("--config", help="configuration file (default ./slotfinder.toml)")
    prov.set_defaults(func=cmd_providers)

    sim = sub.add_parser("simulate", help="run one provider simulator on 127.0.0.1")
    sim.add_argument("provider")
    sim.add_argument("--port", type=int, default=0)
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument(
        "--write-config", help="where to write its configuration (default: a private temp file)"
    )
    sim.set_defaults(func=cmd_simulate)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the command; returns the exit status (see the module docstring)."""
    stream = out or sys.stdout
    args = make_parser().parse_args(argv)
    if getattr(args, "command", None) == "suggest" and not (args.attendee or args.optional):
        print("slotfinder: error: --attendee: at least one attendee is needed", file=sys.stderr)
        return EXIT_INPUT
    func: Callable[[argparse.Namespace, TextIO], int] = args.func
    try:
        return func(args, stream)
    except (InputError, ConfigError) as exc:
        print(f"slotfinder: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except SlotfinderError as exc:
        print(f"slotfinder: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `slotfinder demo | head`: the reader left; say nothing more, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def entry() -> None:
    """Console-script entry point."""
    raise SystemExit(main())
