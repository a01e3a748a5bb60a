"""Live configuration: slotfinder.toml, SLOTFINDER_<PROVIDER>_<KEY> overrides, secrets, people."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import paths
import pytest

from slotfinder.cli import build_request, make_parser
from slotfinder.config import Config
from slotfinder.errors import ConfigError, InputError
from slotfinder.model import Attendee, Span
from slotfinder.plugins import get_providers
from slotfinder.providers import HttpProvider, Secret

FEISHU = get_providers()["feishu"]
DINGTALK = get_providers()["dingtalk"]
assert isinstance(FEISHU, HttpProvider)
assert isinstance(DINGTALK, HttpProvider)

TOML = """\
tz = "Asia/Shanghai"

[defaults]
working_hours = { "mon-fri" = ["09:00-12:00", "13:00-18:00"] }

[providers.feishu]
app_id = "cli_from_file"
app_secret = "file-secret"
base_url = "https://open.larksuite.com"

[providers.dingtalk]
app_key = "dingfile"
operator_union_id = "operatoriE"
max_days = 30

[attendees."feishu:ou_berlin"]
tz = "Europe/Berlin"
working_hours = { "mon-thu" = ["08:00-16:00"] }

[attendees."feishu:ou_tokyo"]
tz = "Asia/Tokyo"

[attendees."dingtalk:night"]
working_hours = { "sun-thu" = "22:00-06:00" }
"""


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "slotfinder.toml"
    path.write_text(TOML, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in [v for v in os.environ if v.startswith("SLOTFINDER_")]:
        monkeypatch.delenv(var)


def test_load_reads_every_section(config_file: Path) -> None:
    """Config.load reads tz, default working hours, provider tables and attendee tables."""
    config = Config.load(config_file, env={})
    assert config.tz == "Asia/Shanghai"
    assert config.working_hours == {"mon-fri": ["09:00-12:00", "13:00-18:00"]}
    assert set(config.providers) == {"feishu", "dingtalk"}
    assert set(config.attendees) == {"feishu:ou_berlin", "feishu:ou_tokyo", "dingtalk:night"}


def test_provider_config_from_the_file_with_defaults(config_file: Path) -> None:
    """File values are used, missing optional keys get their defaults, types are kept."""
    settings = Config.load(
        config_file, env={"SLOTFINDER_DINGTALK_APP_SECRET": "x"}
    ).provider_config(DINGTALK)
    assert settings["app_key"] == "dingfile"
    assert settings["operator_union_id"] == "operatoriE"
    assert settings["max_days"] == 30
    assert settings["base_url"] == "https://api.dingtalk.com"
    feishu = Config.load(config_file, env={}).provider_config(FEISHU)
    assert feishu["base_url"] == "https://open.larksuite.com"
    assert feishu["user_id_type"] == "open_id"


def test_environment_overrides_the_file(config_file: Path) -> None:
    """SLOTFINDER_FEISHU_APP_ID wins over app_id in the file; other keys still come from it."""
    env = {"SLOTFINDER_FEISHU_APP_ID": "cli_from_env", "SLOTFINDER_FEISHU_APP_SECRET": "env-secret"}
    settings = Config.load(config_file, env=env).provider_config(FEISHU)
    assert settings["app_id"] == "cli_from_env"
    assert isinstance(settings["app_secret"], Secret)
    assert settings["app_secret"].reveal() == "env-secret"
    assert settings["base_url"] == "https://open.larksuite.com"


def test_load_uses_the_process_environment_by_default(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without env=..., Config.load reads os.environ."""
    monkeypatch.setenv("SLOTFINDER_FEISHU_APP_ID", "cli_from_os")
    assert Config.load(config_file).provider_config(FEISHU)["app_id"] == "cli_from_os"


def test_empty_environment_variable_falls_back_to_the_file(config_file: Path) -> None:
    """An environment variable set to '' does not override the file."""
    settings = Config.load(config_file, env={"SLOTFINDER_FEISHU_APP_ID": ""}).provider_config(
        FEISHU
    )
    assert settings["app_id"] == "cli_from_file"


def test_environment_values_are_converted_to_the_key_type(config_file: Path) -> None:
    """SLOTFINDER_DINGTALK_MAX_DAYS=14 becomes the integer 14; 'two weeks' is refused by name."""
    base = {"SLOTFINDER_DINGTALK_APP_SECRET": "s"}
    config = Config.load(config_file, env={**base, "SLOTFINDER_DINGTALK_MAX_DAYS": "14"})
    assert config.provider_config(DINGTALK)["max_days"] == 14
    config = Config.load(config_file, env={**base, "SLOTFINDER_DINGTALK_MAX_DAYS": "two weeks"})
    with pytest.raises(InputError, match="expected a whole number") as info:
        config.provider_config(DINGTALK)
    assert info.value.field == "SLOTFINDER_DINGTALK_MAX_DAYS"


@pytest.mark.parametrize("source", ["file", "env"])
def test_secrets_are_wrapped_in_secret(config_file: Path, source: str) -> None:
    """app_secret from the file or the environment reaches providers as a Secret, others plain."""
    env = {"SLOTFINDER_FEISHU_APP_SECRET": "env-secret"} if source == "env" else {}
    settings = Config.load(config_file, env=env).provider_config(FEISHU)
    secret = settings["app_secret"]
    assert isinstance(secret, Secret)
    assert secret.reveal() == ("env-secret" if source == "env" else "file-secret")
    assert not any(isinstance(v, Secret) for k, v in settings.items() if k != "app_secret")
    assert "secret" not in repr(settings).replace("app_secret", "")


def test_missing_required_key_names_the_variable(config_file: Path) -> None:
    """A required key in neither file nor environment is a ConfigError naming the variable."""
    with pytest.raises(ConfigError) as info:
        Config.load(config_file, env={}).provider_config(DINGTALK)
    assert info.value.key == "SLOTFINDER_DINGTALK_APP_SECRET"
    assert "SLOTFINDER_DINGTALK_APP_SECRET" in str(info.value)
    assert "[providers.dingtalk]" in str(info.value)


def test_no_file_and_no_default_file_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config and without ./slotfinder.toml, the configuration is empty but valid."""
    monkeypatch.chdir(tmp_path)
    config = Config.load(env={})
    assert config.providers == {}
    assert config.attendees == {}


def test_default_file_in_the_current_directory_is_read(
    config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --config, ./slotfinder.toml is read."""
    monkeypatch.chdir(config_file.parent)
    assert Config.load(env={}).tz == "Asia/Shanghai"


def test_missing_explicit_file_is_refused(tmp_path: Path) -> None:
    """An explicit --config that does not exist is an InputError naming --config and the path."""
    with pytest.raises(InputError, match="no such file") as info:
        Config.load(tmp_path / "nope.toml", env={})
    assert info.value.field == "--config"
    assert "nope.toml" in str(info.value)


def test_invalid_toml_is_refused(tmp_path: Path) -> None:
    """A file that is not TOML is refused naming --config and the parser's complaint."""
    path = tmp_path / "bad.toml"
    path.write_text('tz = "Asia/Shanghai\n', encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML") as info:
        Config.load(path, env={})
    assert info.value.field == "--config"


# --- unknown keys --------------------------------------------------------------------------------


def test_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    """A misspelt top-level table ([provider.feishu]) is refused naming the file and the key."""
    path = tmp_path / "slotfinder.toml"
    path.write_text('[provider.feishu]\napp_id = "x"\n', encoding="utf-8")
    with pytest.raises(InputError, match="unknown key") as info:
        Config.load(path, env={})
    assert info.value.field == f"{path}: provider"


def test_unknown_provider_key_is_refused(config_file: Path) -> None:
    """An unknown key under [providers.feishu] is refused naming it and listing the known ones."""
    text = config_file.read_text(encoding="utf-8").replace(
        'app_id = "cli_from_file"', 'app_id = "cli_from_file"\nappsecret = "oops"'
    )
    config_file.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="unknown key") as info:
        Config.load(config_file, env={}).provider_config(FEISHU)
    assert info.value.field == "providers.feishu.appsecret"
    assert "app_secret" in str(info.value)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"tz": 8}, "tz"),
        ({"defaults": "09:00-18:00"}, "defaults"),
        ({"defaults": {"working_hours": {"weekdays": "09:00-18:00"}}}, "defaults.working_hours"),
        ({"providers": {"feishu": "cli_x"}}, "providers.feishu"),
        ({"attendees": ["feishu:ou_x"]}, "attendees"),
    ],
)
def test_malformed_sections_are_refused(data: dict[str, Any], field: str) -> None:
    """Sections of the wrong shape are refused naming the section."""
    with pytest.raises(InputError) as info:
        Config.from_mapping(data, env={})
    assert info.value.field.startswith(field)


def test_unknown_defaults_key_is_refused() -> None:
    """A misspelt key in [defaults] is refused naming it, not silently ignored."""
    with pytest.raises(InputError, match="working_hour") as info:
        Config.from_mapping({"defaults": {"working_hour": {"mon-fri": "09:00-18:00"}}}, env={})
    assert "defaults.working_hour" in info.value.field


@pytest.mark.parametrize("key", ["timezone", "working_hour"])
def test_unknown_attendee_key_is_refused(key: str) -> None:
    """A misspelt key in an [attendees."ID"] table is refused naming the table and key."""
    data = {"attendees": {"feishu:ou_x": {key: "Europe/Berlin"}}}
    with pytest.raises(InputError, match=key) as info:
        Config.from_mapping(data, env={}).attendee("feishu:ou_x")
    assert 'attendees."feishu:ou_x"' in info.value.field


# --- attendees: zones and working hours -------------------------------------------------------


def test_attendee_table_gives_zone_and_working_hours(config_file: Path) -> None:
    """[attendees."ID"] sets the attendee's zone and working hours in that zone."""
    berlin = Config.load(config_file, env={}).attendee("feishu:ou_berlin")
    assert berlin.zone == "Europe/Berlin"
    assert berlin.working_hours is not None
    assert berlin.working_hours.zone == "Europe/Berlin"
    assert berlin.working_hours.to_spec() == {
        day: ["08:00-16:00"] for day in ("mon", "tue", "wed", "thu")
    }


def test_attendee_zone_without_hours_gets_defaults_in_their_zone(config_file: Path) -> None:
    """An attendee with only a zone gets [defaults] working hours in that zone."""
    tokyo = Config.load(config_file, env={}).attendee("feishu:ou_tokyo")
    assert tokyo.zone == "Asia/Tokyo"
    assert tokyo.working_hours is not None
    assert tokyo.working_hours.zone == "Asia/Tokyo"
    assert tokyo.working_hours.to_spec()["mon"] == ["09:00-12:00", "13:00-18:00"]
    assert "sat" not in tokyo.working_hours.to_spec()


def test_attendee_hours_without_zone_use_the_request_zone(config_file: Path) -> None:
    """Working hours without a zone are read in the request's zone (overnight ranges allowed)."""
    config = Config.load(config_file, env={})
    night = config.attendee("dingtalk:night", zone="Europe/London")
    assert night.zone == "Europe/London"  # the zone its hours were read in: all-day events agree
    assert night.working_hours is not None
    assert night.working_hours.zone == "Europe/London"
    assert (6, 22 * 60, 30 * 60) in night.working_hours.rules  # sunday 22:00 to 06:00
    assert config.attendee("dingtalk:night").working_hours.zone == "Asia/Shanghai"  # type: ignore[union-attr]


def test_unlisted_attendee_gets_defaults_and_rooms_get_none(config_file: Path) -> None:
    """An attendee without a table gets [defaults] hours; a room gets no working hours."""
    config = Config.load(config_file, env={})
    person = config.attendee("feishu:ou_anyone", optional=True)
    assert person.optional
    assert person.zone == "Asia/Shanghai"  # the configuration's zone, as its hours
    assert person.working_hours is not None
    assert person.working_hours.zone == "Asia/Shanghai"
    room = config.attendee("dingtalk:room1", room=True)
    assert room.working_hours is None


def test_no_defaults_means_no_working_hours_limit() -> None:
    """Without [defaults].working_hours an attendee has no working-hours limit."""
    assert Config(tz="UTC", env={}).attendee("feishu:ou_x").working_hours is None


def test_cli_request_uses_the_configuration(config_file: Path) -> None:
    """`suggest` builds attendees from the config: zones, hours, optional, rooms, --tz wins."""
    args = make_parser().parse_args(
        [
            "suggest",
            "--attendee",
            "feishu:ou_berlin",
            "feishu:ou_new",
            "--optional",
            "feishu:ou_tokyo",
            "--room",
            "dingtalk:room1",
            "--start",
            "2026-11-23T00:00:00+08:00",
            "--end",
            "2026-11-28T00:00:00+08:00",
            "--duration",
            "30m",
            "--tz",
            "America/New_York",
        ]
    )
    request = build_request(args, Config.load(config_file, env={}))
    assert request.zone == "America/New_York"
    people = {a.id: a for a in request.attendees}
    assert people["feishu:ou_berlin"].zone == "Europe/Berlin"
    assert people["feishu:ou_new"].working_hours.zone == "America/New_York"  # type: ignore[union-attr]
    assert people["feishu:ou_tokyo"].optional
    assert [r.id for r in request.rooms] == ["dingtalk:room1"]
    assert request.rooms[0].working_hours is None


# --- requests built in code ------------------------------------------------------------------


def _week() -> Span:
    return Span(datetime(2026, 11, 23, tzinfo=UTC), datetime(2026, 11, 28, tzinfo=UTC))


def test_request_built_in_code_takes_the_configured_defaults(config_file: Path) -> None:
    """Config.request gives ids and bare Attendee objects the configured zone and hours; the
    request's zone is the configuration's; what an Attendee sets itself is kept."""
    config = Config.load(config_file, env={})
    request = config.request(
        ["feishu:ou_anyone", Attendee("feishu:ou_mine", zone="Europe/Paris")],
        optional=["feishu:ou_berlin"],
        rooms=["dingtalk:room1"],
        window=_week(),
        duration=1800,
        order="start",
    )
    assert request.zone == "Asia/Shanghai"
    anyone, mine, berlin = request.attendees
    assert anyone.working_hours is not None
    assert anyone.working_hours.zone == "Asia/Shanghai"
    assert mine.zone == "Europe/Paris"
    assert mine.working_hours is not None
    assert mine.working_hours.zone == "Europe/Paris"
    assert mine.working_hours.to_spec()["mon"] == ["09:00-12:00", "13:00-18:00"]
    assert berlin.optional
    assert berlin.working_hours.zone == "Europe/Berlin"  # type: ignore[union-attr]
    assert request.rooms[0].working_hours is None
    assert request.order == "start"


def test_json_attendees_take_their_busy_file_settings(tmp_path: Path) -> None:
    """A json:FILE#id attendee gets the file's zone and working hours (as `slots --busy`
    does), unless [attendees."ID"] says otherwise; [defaults] does not override the file."""
    busy = paths.ROOT / "examples" / "busy.json"
    alice, bruno = (f"json:{busy}#{x}" for x in ("alice", "bruno"))
    config = Config.from_mapping(
        {
            "tz": "UTC",
            "defaults": {"working_hours": {"mon-sun": "00:00-24:00"}},
            "providers": {"json": {"roots": [str(busy.parent)]}},
            "attendees": {bruno: {"tz": "America/New_York", "name": "Bruno"}},
        },
        env={},
    )
    a, b = config.request([alice, bruno], window=_week(), duration=1800).attendees
    assert a.zone == "Asia/Shanghai"
    assert a.working_hours is not None
    assert a.working_hours.to_spec()["mon"] == ["09:00-12:00", "13:00-19:00"]
    assert (b.zone, b.name) == ("America/New_York", "Bruno")
    assert b.working_hours.to_spec()["sun"] == ["00:00-24:00"]  # type: ignore[union-attr]


def test_roots_may_be_a_toml_list() -> None:
    """`roots = ["a", "b"]` reaches the provider as one os.pathsep-joined setting."""
    json_provider = get_providers()["json"]
    config = Config.from_mapping({"providers": {"json": {"roots": ["/srv/a", "/srv/b"]}}}, env={})
    assert config.provider_config(json_provider)["roots"] == os.pathsep.join(["/srv/a", "/srv/b"])
    bad = Config.from_mapping({"providers": {"json": {"roots": ["/srv/a", 3]}}}, env={})
    with pytest.raises(InputError, match="roots"):
        bad.provider_config(json_provider)
