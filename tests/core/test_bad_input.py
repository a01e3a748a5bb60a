"""Bad input is refused before any call, with an error naming the field, the value and the limit.

"Before any call" is proven two ways: both simulators run on 127.0.0.1 and their ``SimStats``
must show no data call and no token call afterwards, and a tripwire provider whose every
method fails the test is handed to :func:`slotfinder.suggest`.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import attrs
import pytest
from slotfinder_dingtalk.simulator import STATS as DINGTALK_STATS
from slotfinder_feishu.simulator import STATS as FEISHU_STATS

from slotfinder.api import suggest
from slotfinder.busyfile import load_busy_file
from slotfinder.cli import main
from slotfinder.config import Config
from slotfinder.errors import ConfigError, InputError
from slotfinder.model import Attendee, MeetingRequest, Span, WorkingHours
from slotfinder.plugins import get_providers
from slotfinder.providers import ConfigKey
from slotfinder.testing import get_simulators, simkit
from slotfinder.testing.simulation import DemoTenant

pytestmark = pytest.mark.timeout(60)

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, tzinfo=SHANGHAI)
END = datetime(2026, 11, 28, tzinfo=SHANGHAI)
WINDOW = Span(START, END)
HOUR = 3600


@attrs.define
class Sims:
    """Both simulators running, their demo tenants and a config file pointing at them."""

    apps: dict[str, Any]
    tenants: dict[str, DemoTenant]
    config_path: Path

    def config(self, drop: Sequence[tuple[str, str]] = ()) -> Config:
        """A Config for both simulators, without the ``(provider, key)`` pairs in ``drop``."""
        providers = {
            name: {k: v for k, v in t.config.items() if (name, k) not in drop}
            for name, t in self.tenants.items()
        }
        return Config(tz="Asia/Shanghai", providers=providers, env={})

    def assert_no_calls(self) -> None:
        """Neither simulator saw a data call or a token call."""
        feishu = self.apps["feishu"][FEISHU_STATS]
        dingtalk = self.apps["dingtalk"][DINGTALK_STATS]
        assert (feishu.calls, feishu.token_calls) == ({}, 0)
        assert (dingtalk.calls, dingtalk.token_calls) == ({}, 0)

    def feishu_user(self) -> str:
        return self.tenants["feishu"].people[0].id

    def dingtalk_user(self) -> str:
        return self.tenants["dingtalk"].people[0].id


def write_config(path: Path, tenants: dict[str, DemoTenant]) -> Path:
    lines = [
        'tz = "Asia/Shanghai"',
        "[defaults]",
        'working_hours = { "mon-fri" = ["09:00-18:00"] }',
    ]
    for name, tenant in tenants.items():
        lines.append(f"[providers.{name}]")
        lines += [f"{k} = {json.dumps(str(v))}" for k, v in tenant.config.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def sims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Sims]:
    """The Feishu and DingTalk simulators on loopback, with a slotfinder.toml for them."""
    for var in [v for v in os.environ if v.startswith("SLOTFINDER_")]:
        monkeypatch.delenv(var)
    async with simkit.serving(get_simulators(), ("feishu", "dingtalk"), seed=3) as served:
        apps: dict[str, Any] = {name: x.app for name, x in served.items()}
        tenants = {name: x.tenant for name, x in served.items()}
        yield Sims(apps, tenants, write_config(tmp_path / "slotfinder.toml", tenants))


class Tripwire:
    """An HttpProvider that fails the test if anything is planned, built or authorised."""

    name = "trip"
    description = "fails on any use"
    config_keys = (ConfigKey("app_secret", "never used", secret=True, required=True),)

    def _boom(self, *args: object, **kwargs: object) -> Any:
        pytest.fail("a provider was used although the input was bad")

    limits = plan = build = parse = token_key = token_request = parse_token = _boom


def request(**changes: Any) -> MeetingRequest:
    fields: dict[str, Any] = {
        "attendees": [Attendee(id="trip:a"), Attendee(id="trip:b")],
        "window": WINDOW,
        "duration": HOUR,
        "zone": "Asia/Shanghai",
    }
    fields.update(changes)
    return MeetingRequest(**fields)


def cli(argv: list[str]) -> tuple[int, str]:
    """Run the CLI in this thread (no event loop here); returns the status and stdout."""
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def suggest_argv(sims: Sims, *extra: str, attendees: Sequence[str] = ()) -> list[str]:
    people = list(attendees) or [sims.feishu_user(), sims.dingtalk_user()]
    argv = ["suggest", "--config", str(sims.config_path), "--attendee", *people]
    defaults = {
        "--start": "2026-11-23T00:00:00+08:00",
        "--end": "2026-11-28T00:00:00+08:00",
        "--duration": "45m",
    }
    for flag, value in defaults.items():
        if flag not in extra:
            argv += [flag, value]
    return argv + list(extra)


def one_error_line(err: str, *needles: str) -> None:
    """stderr is one ``slotfinder: error:`` line, no traceback, containing every needle."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("slotfinder: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- the request itself: refused on construction, so nothing can be called --------------------


def test_naive_datetime_in_span_is_refused() -> None:
    """Span refuses a naive datetime, naming the field and showing the value."""
    with pytest.raises(InputError, match="naive") as info:
        Span(datetime(2026, 11, 23, 9), END)
    assert info.value.field == "span.start"
    assert "2026-11-23T09:00:00" in str(info.value)


def test_span_end_before_start_is_refused() -> None:
    """Span refuses an end before its start, naming span.end and the start it must not precede."""
    with pytest.raises(InputError, match="must not be before start") as info:
        Span(END, START)
    assert info.value.field == "span.end"


def test_empty_window_is_refused() -> None:
    """A window whose end equals its start is refused, naming window.end and the start."""
    with pytest.raises(InputError, match=r"must be after window\.start") as info:
        request(window=Span(START, START))
    assert info.value.field == "window.end"


@pytest.mark.parametrize(
    ("duration", "pattern"),
    [
        (0, "must be positive"),
        (-60, "must be positive"),
        (5 * 86_400 + 1, "longer than the window"),
    ],
)
def test_bad_duration_is_refused(duration: int, pattern: str) -> None:
    """A duration of zero, negative or longer than the window is refused with the limit."""
    with pytest.raises(InputError, match=pattern) as info:
        request(duration=duration)
    assert info.value.field == "duration"
    assert info.value.value == duration
    if duration > 0:
        assert "432000 seconds" in str(info.value)


@pytest.mark.parametrize("granularity", [7 * 60, 0, -900, 86_400 * 2, 11])
def test_granularity_that_does_not_divide_a_day_is_refused(granularity: int) -> None:
    """A granularity that is not a positive divisor of 86400 s is refused, naming the limit."""
    with pytest.raises(InputError, match="divide a day") as info:
        request(granularity=granularity)
    assert info.value.field == "granularity"
    assert info.value.value == granularity


def test_granularity_dividing_a_day_is_accepted() -> None:
    """Granularities such as 5m, 20m and 1h divide a day and are accepted."""
    for g in (300, 1200, 3600, 86_400):
        assert request(granularity=g).granularity == g


@pytest.mark.parametrize("zone", ["Mars/Base", "asia/shanghai ", "", "Asia/Shanghai/"])
def test_unknown_request_zone_is_refused(zone: str) -> None:
    """An unknown request zone is refused naming tz and the zone given."""
    with pytest.raises(InputError) as info:
        request(zone=zone)
    assert info.value.field == "tz"
    assert info.value.value == zone


@pytest.mark.parametrize("zone", ["America", "Europe", "x" * 300])
def test_zone_naming_a_tzdata_directory_is_refused(zone: str) -> None:
    """A zone that names a tzdata folder (America) or is absurdly long is an InputError."""
    with pytest.raises(InputError, match="unknown IANA time zone"):
        request(zone=zone)


def test_unknown_attendee_zone_is_refused() -> None:
    """An attendee zone that is not an IANA name is refused, naming the field and value."""
    with pytest.raises(InputError, match="unknown IANA time zone") as info:
        Attendee(id="trip:a", zone="Europe/Atlantis")
    assert info.value.field == "zone"
    assert info.value.value == "Europe/Atlantis"


def test_unknown_working_hours_zone_is_refused() -> None:
    """Working hours in an unknown zone are refused, naming working_hours.tz."""
    with pytest.raises(InputError, match="unknown IANA time zone") as info:
        WorkingHours.parse("Moon/Tranquility", {"mon-fri": "09:00-17:00"})
    assert info.value.field == "working_hours.tz"


def test_unknown_config_zone_is_refused() -> None:
    """A configuration file zone that is not an IANA name is refused, naming the file and tz."""
    with pytest.raises(InputError, match="unknown IANA time zone") as info:
        Config.from_mapping({"tz": "Atlantis"}, env={}, source="slotfinder.toml")
    assert info.value.field == "slotfinder.toml: tz"
    assert info.value.value == "Atlantis"


@pytest.mark.parametrize(
    ("spec", "field", "pattern"),
    [
        ({"funday": "09:00-17:00"}, "working_hours.funday", "day names"),
        ({"mon-xyz": "09:00-17:00"}, "working_hours.mon-xyz", "day names"),
        ({"mon,,fri": "09:00-17:00"}, "working_hours.mon,,fri", "day names"),
        ({"mon": "25:00-26:00"}, "working_hours.mon", "hours 00-23"),
        ({"mon": "09:00-24:30"}, "working_hours.mon", "24:00 only as an end"),
        ({"mon": "09:60-10:00"}, "working_hours.mon", "minutes 00-59"),
        ({"mon": "09:00-09:00"}, "working_hours.mon", "start and end are equal"),
        ({"mon": "9-17"}, "working_hours.mon", "HH:MM-HH:MM"),
        ({"mon": ["09:00-12:00", 1300]}, "working_hours.mon", "HH:MM-HH:MM"),
        ({"mon": 9}, "working_hours.mon", "list of 'HH:MM-HH:MM'"),
    ],
)
def test_malformed_working_hours_are_refused(
    spec: dict[str, Any], field: str, pattern: str
) -> None:
    """Bad day names, impossible times and empty ranges are refused naming the day key."""
    with pytest.raises(InputError, match=pattern) as info:
        WorkingHours.parse("Asia/Shanghai", spec)
    assert info.value.field == field


def test_working_hours_that_are_not_a_mapping_are_refused() -> None:
    """Working hours given as a list instead of a mapping are refused."""
    with pytest.raises(InputError, match="mapping of days"):
        WorkingHours.parse("UTC", ["09:00-17:00"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("quorum", "pattern"),
    [
        (0, "between 1 and 2 required attendees"),
        (3, "between 1 and 2 required attendees"),
        (-1, "between 1 and 2 required attendees"),
        (1.5, r"fraction must be in \(0, 1\]"),
        (0.0, r"fraction must be in \(0, 1\]"),
        (True, "expected a count or a fraction"),
        ("half", "expected a count or a fraction"),
    ],
)
def test_quorum_out_of_range_is_refused(quorum: object, pattern: str) -> None:
    """A quorum of 0, above the required count, a fraction above 1 or a non-number is refused."""
    with pytest.raises(InputError, match=pattern) as info:
        request(quorum=quorum)
    assert info.value.field == "quorum"
    assert info.value.value == quorum


def test_quorum_counts_only_required_attendees() -> None:
    """With one of three attendees optional, a quorum of 3 exceeds the 2 required ones."""
    people = [Attendee(id="trip:a"), Attendee(id="trip:b"), Attendee(id="trip:c", optional=True)]
    with pytest.raises(InputError, match="between 1 and 2"):
        request(attendees=people, quorum=3)
    assert request(attendees=people, quorum=0.5).quorum_count() == 1


def test_no_attendee_is_refused() -> None:
    """A request without attendees is refused naming attendees."""
    with pytest.raises(InputError, match="at least one attendee") as info:
        request(attendees=[])
    assert info.value.field == "attendees"


# --- ids and credentials: refused by suggest() before any call ------------------------------


@pytest.mark.parametrize(
    ("ident", "pattern"),
    [
        ("ou_123", "expected PROVIDER:ID"),
        ("feishu:", "expected PROVIDER:ID"),
        (":ou_123", "expected PROVIDER:ID"),
        ("zoom:ou_123", "unknown provider 'zoom'"),
        ("Feishu:ou_123", "unknown provider 'Feishu'"),
    ],
)
async def test_bad_ids_are_refused_before_any_call(sims: Sims, ident: str, pattern: str) -> None:
    """An id without a provider prefix or with an unknown one fails before either API is asked."""
    people = [
        Attendee(id=sims.feishu_user()),
        Attendee(id=sims.dingtalk_user()),
        Attendee(id=ident),
    ]
    bad = request(attendees=people)
    with pytest.raises(InputError, match=pattern) as info:
        await suggest(bad, config=sims.config())
    assert info.value.field == "attendees[2].id"
    assert info.value.value == ident
    assert "providers: dingtalk, feishu, ics, json" in str(info.value)
    sims.assert_no_calls()


async def test_bad_room_id_is_refused_before_any_call(sims: Sims) -> None:
    """A room id without a known provider fails before any call, naming rooms[i].id."""
    bad = request(attendees=[Attendee(id=sims.feishu_user())], rooms=[Attendee(id="webex:room-1")])
    with pytest.raises(InputError, match="unknown provider 'webex'") as info:
        await suggest(bad, config=sims.config())
    assert info.value.field == "rooms[0].id"
    sims.assert_no_calls()


@pytest.mark.parametrize(
    ("provider", "key", "variable"),
    [
        ("feishu", "app_secret", "SLOTFINDER_FEISHU_APP_SECRET"),
        ("feishu", "app_id", "SLOTFINDER_FEISHU_APP_ID"),
        ("dingtalk", "app_secret", "SLOTFINDER_DINGTALK_APP_SECRET"),
        ("dingtalk", "app_key", "SLOTFINDER_DINGTALK_APP_KEY"),
        ("dingtalk", "operator_union_id", "SLOTFINDER_DINGTALK_OPERATOR_UNION_ID"),
    ],
)
async def test_missing_credentials_fail_before_any_call(
    sims: Sims, provider: str, key: str, variable: str
) -> None:
    """A missing credential of either provider is a ConfigError naming the variable to set,
    and neither simulator (not even the fully configured one) is called."""
    people = [Attendee(id=sims.feishu_user()), Attendee(id=sims.dingtalk_user())]
    with pytest.raises(ConfigError) as info:
        await suggest(request(attendees=people), config=sims.config(drop=[(provider, key)]))
    assert info.value.key == variable
    assert f"set the environment variable {variable}" in str(info.value)
    assert f"[providers.{provider}]" in str(info.value)
    sims.assert_no_calls()


async def test_tripwire_provider_is_never_touched_by_bad_input() -> None:
    """Bad ids and missing credentials are caught by suggest() without using the provider."""
    providers = {**get_providers(), "trip": Tripwire()}
    with pytest.raises(InputError, match="expected PROVIDER:ID"):
        await suggest(
            request(attendees=[Attendee(id="trip:a"), Attendee(id="nobody")]),
            config=Config(tz="UTC", env={}),
            providers=providers,
        )
    with pytest.raises(ConfigError, match="SLOTFINDER_TRIP_APP_SECRET"):
        await suggest(request(), config=Config(tz="UTC", env={}), providers=providers)


async def test_empty_environment_variable_counts_as_missing(sims: Sims) -> None:
    """SLOTFINDER_FEISHU_APP_SECRET set to an empty string does not count as configured."""
    config = attrs.evolve(
        sims.config(drop=[("feishu", "app_secret")]), env={"SLOTFINDER_FEISHU_APP_SECRET": ""}
    )
    with pytest.raises(ConfigError, match="SLOTFINDER_FEISHU_APP_SECRET"):
        await suggest(request(attendees=[Attendee(id=sims.feishu_user())]), config=config)
    sims.assert_no_calls()


# --- duplicates are merged, not refused ------------------------------------------------------


def test_duplicate_attendees_are_merged_and_required_wins() -> None:
    """The same id twice becomes one attendee; a required mention beats an optional one."""
    merged = request(
        attendees=[
            Attendee(id="trip:a", optional=True, zone="Europe/Berlin"),
            Attendee(id="trip:b"),
            Attendee(id="trip:a"),
            Attendee(id="trip:b", optional=True),
        ],
        rooms=[Attendee(id="trip:r"), Attendee(id="trip:r")],
        quorum=2,
    )
    assert [(a.id, a.optional, a.zone) for a in merged.attendees] == [
        ("trip:a", False, "Europe/Berlin"),
        ("trip:b", False, None),
    ]
    assert [r.id for r in merged.rooms] == ["trip:r"]


def test_duplicate_attendees_in_a_busy_file_are_merged() -> None:
    """A busy file naming alice twice gives one alice with both busy entries pooled."""
    doc = {
        "window": {"start": "2026-11-23T00:00:00+08:00", "end": "2026-11-28T00:00:00+08:00"},
        "attendees": [
            {
                "id": "alice",
                "optional": True,
                "busy": [{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"}],
            },
            {"id": "bob"},
            {
                "id": "alice",
                "tz": "Europe/Berlin",
                "busy": [{"start": "2026-11-24T10:00:00Z", "end": "2026-11-24T11:00:00Z"}],
            },
        ],
    }
    bf = load_busy_file(json.dumps(doc))
    assert [a.id for a in bf.attendees] == ["alice", "bob"]
    alice = bf.attendees[0]
    assert (alice.optional, alice.zone) == (False, "Europe/Berlin")
    assert len(bf.availability("alice").busy) == 2


async def test_duplicate_ids_are_fetched_once(sims: Sims) -> None:
    """Naming the same Feishu user three times costs one call and lists them once."""
    me = sims.feishu_user()
    dup = request(
        attendees=[Attendee(id=me), Attendee(id=me, optional=True), Attendee(id=me)],
        duration=30 * 60,
    )
    result = await suggest(dup, config=sims.config())
    assert result.calls == {"feishu/freebusy/list": 1}
    assert sims.apps["feishu"][FEISHU_STATS].calls == {"freebusy/list": 1}
    assert all(s.available == (me,) for s in result.slots)


# --- the CLI: the same refusals as one line on stderr, exit 2, no call ------------------------


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        (("--start", "2026-11-23T25:00:00"), ("--start", "no such time of day")),
        (("--end", "2026-02-30"), ("--end", "no such date")),
        (("--start", "next monday"), ("--start", "RFC 3339")),
        (("--end", "2026-11-23T00:00:00+08:00"), ("--end", "must be after --start")),
        (("--end", "2026-11-22T00:00:00+08:00"), ("--end", "must be after --start")),
        (("--duration", "0m"), ("duration=0", "must be positive")),
        (("--duration", "6d"), ("duration=518400", "longer than the window")),
        (("--duration", "half an hour"), ("--duration", "30m")),
        (("--granularity", "7m"), ("granularity=420", "divide a day")),
        (("--granularity", "30s"), ("granularity=30", "whole minutes")),
        (("--buffer", "2d"), ("--buffer=172800", "at most 86400 seconds")),
        (("--buffer-after", "2d"), ("--buffer-after=172800", "at most 86400 seconds")),
        (("--tz", "Mars/Base"), ("tz='Mars/Base'", "unknown IANA time zone")),
        (("--quorum", "0"), ("quorum=0", "between 1 and 2")),
        (("--quorum", "3"), ("quorum=3", "between 1 and 2")),
        (("--quorum", "1.5"), ("quorum=1.5", "(0, 1]")),
        (("--quorum", "150%"), ("quorum=1.5", "(0, 1]")),
        (("--quorum", "most"), ("--quorum", "60%")),
        (("--max", "0"), ("--max=0", "at least 1")),
        (("--buffer=-5m",), ("--buffer", "30m")),
        (("--room", "room-1"), ("--room='room-1'", "PROVIDER:ID")),
        (("--optional", "teams:bob"), ("--optional='teams:bob'", "unknown provider")),
        (("--group", "1:teams:bob,teams:eve"), ("--group='teams:bob'", "unknown provider")),
        (("--end", "yesterday"), ("--end='yesterday'", "RFC 3339", "today, tomorrow or +3d")),
        (("--end", "+99999999999d"), ("--end='+99999999999d'", "outside")),
    ],
)
async def test_cli_refuses_bad_input_before_any_call(
    sims: Sims, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    """`slotfinder suggest` with one bad option exits 2 with one line naming it; no API call."""
    status, out = await asyncio.to_thread(cli, suggest_argv(sims, *extra))
    err = capsys.readouterr().err
    assert status == 2, (out, err)
    one_error_line(err, *needles)
    sims.assert_no_calls()


async def test_cli_missing_secret_names_the_variable(
    sims: Sims, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config without the Feishu secret exits 2 naming SLOTFINDER_FEISHU_APP_SECRET; no call."""
    text = sims.config_path.read_text(encoding="utf-8")
    secret = str(sims.tenants["feishu"].config["app_secret"])
    stripped = "\n".join(line for line in text.splitlines() if secret not in line)
    path = tmp_path / "nosecret.toml"
    path.write_text(stripped + "\n", encoding="utf-8")
    argv = suggest_argv(sims)
    argv[argv.index("--config") + 1] = str(path)
    status, _ = await asyncio.to_thread(cli, argv)
    assert status == 2
    one_error_line(capsys.readouterr().err, "SLOTFINDER_FEISHU_APP_SECRET")
    sims.assert_no_calls()


async def test_cli_bad_attendee_config_fails_before_any_call(
    sims: Sims, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bad [attendees."id"] working hours or zone exit 2 naming that table; no call is made."""
    me = sims.feishu_user()
    for table, needle in (
        ('working_hours = { "mon" = ["09:00-09:00"] }', "start and end are equal"),
        ('tz = "Pluto/Base"', "unknown IANA time zone"),
    ):
        path = tmp_path / "attendee.toml"
        path.write_text(
            sims.config_path.read_text(encoding="utf-8") + f'[attendees."{me}"]\n{table}\n',
            encoding="utf-8",
        )
        argv = suggest_argv(sims)
        argv[argv.index("--config") + 1] = str(path)
        status, _ = await asyncio.to_thread(cli, argv)
        assert status == 2
        one_error_line(capsys.readouterr().err, f'attendees."{me}"', needle)
    sims.assert_no_calls()
