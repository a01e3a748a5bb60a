"""Live configuration: ``slotfinder.toml`` plus ``SLOTFINDER_<PROVIDER>_<KEY>`` variables.

Secrets belong in the environment; the file may hold them too. Either way a :class:`Config`
shows provider settings by key name only, errors about the file never quote its values, and
the values of secret keys are wrapped in :class:`slotfinder.providers.Secret` when a provider's
settings are built, so nothing downstream can print them by accident. A missing required key
is a :class:`ConfigError` naming the variable to set, raised before any call is made.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from slotfinder.errors import ConfigError, InputError
from slotfinder.model import Attendee, WorkingHours, check_zone
from slotfinder.providers import ConfigKey, Provider, ProviderConfig, Secret

__all__ = ["DEFAULT_PATH", "Config"]

DEFAULT_PATH = Path("slotfinder.toml")
_TOP_KEYS = {"tz", "defaults", "providers", "attendees"}


def _local_zone() -> str:
    """The machine's IANA zone, or UTC when it cannot be told."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if tz:
        try:
            return check_zone(tz)
        except InputError:
            pass
    try:
        link = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in link:
            return check_zone(link.split("zoneinfo/", 1)[1])
    except (OSError, InputError):
        pass
    return "UTC"


def _coerce(key: ConfigKey, value: object, where: str) -> str | int | float | bool | Secret:
    """Environment values arrive as text: convert to the type of the key's default."""
    if key.secret:
        return value if isinstance(value, Secret) else Secret(str(value))
    default = key.default
    if isinstance(default, bool) and isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise InputError(where, value, "expected true or false")
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(value, str):
        try:
            return int(value)
        except ValueError as exc:
            raise InputError(where, value, "expected a whole number") from exc
    if isinstance(default, float) and isinstance(value, str):
        try:
            return float(value)
        except ValueError as exc:
            raise InputError(where, value, "expected a number") from exc
    if isinstance(value, str | int | float | bool):
        return value
    raise InputError(where, value, "expected a string, number or boolean")


_ATTENDEE_KEYS = {"tz", "working_hours", "name"}


def _check_attendee(table: Mapping[str, Any], where: str) -> None:
    """Refuse misspelt keys (``timezone``) and bad zones or hours at load time, not later."""
    for extra in sorted(set(table) - _ATTENDEE_KEYS):
        expected = ", ".join(sorted(_ATTENDEE_KEYS))
        raise InputError(f"{where}.{extra}", table[extra], f"unknown key; expected {expected}")
    zone = table.get("tz")
    if zone is not None:
        check_zone(zone, f"{where}.tz")
    if table.get("working_hours") is not None:
        WorkingHours.parse(zone or "UTC", table["working_hours"], f"{where}.working_hours")


def _keys_only(providers: Mapping[str, Mapping[str, Any]]) -> str:
    """Provider settings by key name only: a secret may sit in the file."""
    return repr({name: sorted(table) for name, table in providers.items()})


@attrs.frozen
class Config:
    """Settings for a live ``suggest``: zone, default working hours, providers, attendees."""

    tz: str = attrs.field(factory=_local_zone)
    working_hours: Mapping[str, Any] | None = None
    providers: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict, repr=_keys_only)
    attendees: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    env: Mapping[str, str] = attrs.field(factory=lambda: dict(os.environ), repr=False)

    @classmethod
    def load(
        cls, path: str | Path | None = None, *, env: Mapping[str, str] | None = None
    ) -> Config:
        """Read ``path`` (default ``./slotfinder.toml`` when it exists; none is fine)."""
        environ = dict(os.environ if env is None else env)
        file = Path(path) if path is not None else DEFAULT_PATH
        if path is None and not file.exists():
            return cls(env=environ)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise InputError("--config", str(file), "no such file") from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError("--config", str(file), f"not valid TOML ({exc})") from exc
        return cls.from_mapping(data, env=environ, source=str(file))

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Any], *, env: Mapping[str, str] | None = None, source: str = ""
    ) -> Config:
        """Build from an already parsed mapping (the TOML structure), validating it."""
        where = f"{source}: " if source else ""
        for extra in sorted(set(data) - _TOP_KEYS):
            # The value is not quoted: a misspelt [provider.feishu] table holds the secret.
            expected = ", ".join(sorted(_TOP_KEYS))
            raise InputError(f"{where}{extra}", "<hidden>", f"unknown key; expected {expected}")
        tz = data.get("tz")
        if tz is not None:
            check_zone(tz, f"{where}tz")
        defaults = data.get("defaults", {})
        if not isinstance(defaults, Mapping):
            raise InputError(f"{where}defaults", defaults, "expected a table")
        for extra in sorted(set(defaults) - {"working_hours"}):
            raise InputError(
                f"{where}defaults.{extra}", "<hidden>", "unknown key; expected working_hours"
            )
        hours = defaults.get("working_hours")
        if hours is not None:
            WorkingHours.parse("UTC", hours, f"{where}defaults.working_hours")
        for section in ("providers", "attendees"):
            value = data.get(section, {})
            if not isinstance(value, Mapping):
                raise InputError(f"{where}{section}", "<hidden>", "expected tables of settings")
            for name, table in value.items():
                if not isinstance(table, Mapping):
                    raise InputError(f"{where}{section}.{name}", "<hidden>", "expected a table")
                if section == "attendees":
                    _check_attendee(table, f'{where}attendees."{name}"')
        return cls(
            tz=tz or _local_zone(),
            working_hours=hours,
            providers=data.get("providers", {}),
            attendees=data.get("attendees", {}),
            env=dict(os.environ if env is None else env),
        )

    def provider_config(self, provider: Provider) -> ProviderConfig:
        """The provider's settings: file, then environment (which wins), then defaults.

        Raises :class:`ConfigError` for a missing required key, naming the variable to set.
        """
        name = provider.name
        raw = dict(self.providers.get(name, {}))
        out: dict[str, str | int | float | bool | Secret] = {}
        known = {k.name for k in provider.config_keys}
        for extra in sorted(set(raw) - known):
            raise InputError(
                f"providers.{name}.{extra}",
                "<hidden>",
                f"unknown key; {name} reads {sorted(known)}",
            )
        for key in provider.config_keys:
            env_var = key.env_var(name)
            where = f"providers.{name}.{key.name}"
            if env_var in self.env and self.env[env_var] != "":
                out[key.name] = _coerce(key, self.env[env_var], env_var)
            elif key.name in raw:
                out[key.name] = _coerce(key, raw[key.name], where)
            elif key.default is not None:
                out[key.name] = key.default
            elif key.required:
                raise ConfigError(
                    env_var,
                    f"missing {name} setting '{key.name}' ({key.help}); set the environment "
                    f"variable {env_var} or add {key.name} to [providers.{name}] in "
                    "slotfinder.toml",
                )
        return out

    def attendee(
        self, id: str, *, optional: bool = False, room: bool = False, zone: str | None = None
    ) -> Attendee:
        """An attendee with the zone and working hours the configuration gives it.

        ``[attendees."ID"]`` wins; otherwise people get ``[defaults].working_hours`` (in their
        own zone, or the request's), and rooms get no working hours.
        """
        settings = self.attendees.get(id, {})
        where = f'attendees."{id}"'
        own = settings.get("tz")
        if own is not None:
            check_zone(own, f"{where}.tz")
        hours_spec = settings.get("working_hours", None if room else self.working_hours)
        hours = (
            WorkingHours.parse(own or zone or self.tz, hours_spec, f"{where}.working_hours")
            if hours_spec is not None
            else None
        )
        name = settings.get("name")
        if name is not None and not isinstance(name, str):
            raise InputError(f"{where}.name", name, "expected a string")
        # The zone the hours were read in is the attendee's zone: all-day events must block
        # the same local day the working hours speak of.
        return Attendee(
            id=id, optional=optional, zone=own or zone or self.tz, working_hours=hours, name=name
        )
