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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from slotfinder.errors import ConfigError, InputError
from slotfinder.model import (
    CAP_KEYS,
    Attendee,
    LoadCaps,
    MeetingRequest,
    Span,
    WorkingHours,
    check_zone,
)
from slotfinder.providers import ConfigKey, Provider, ProviderConfig, Secret

__all__ = ["DEFAULT_PATH", "Config"]

DEFAULT_PATH = Path("slotfinder.toml")
_TOP_KEYS = {"tz", "defaults", "providers", "attendees", "redis_url", "cache"}


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
    if key.name == "roots" and isinstance(value, list | tuple):
        # Settings are scalars; a TOML list of folders travels as the os.pathsep form the
        # environment variable uses, so both spellings reach the provider alike.
        if all(isinstance(v, str) and v and os.pathsep not in v for v in value):
            return os.pathsep.join(value)
        raise InputError(where, "<list>", "expected a list of folder names")
    raise InputError(where, value, "expected a string, number or boolean")


_ATTENDEE_KEYS = {"tz", "working_hours", "name", *CAP_KEYS}


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
    LoadCaps.parse(table, where)


def _layered(*caps: LoadCaps | None) -> LoadCaps | None:
    """Each cap from the first of ``caps`` that sets it (``None`` when none sets any)."""
    out: LoadCaps | None = None
    for layer in caps:
        if layer is not None:
            out = layer if out is None else out.over(layer)
    return out


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
    redis_url: str | None = attrs.field(default=None, repr=False)
    """Share the busy cache, rate windows and tokens through Redis (``SLOTFINDER_REDIS_URL``
    wins); kept out of reprs, since a URL may hold a password."""
    cache_ttl: Mapping[str, float] = attrs.field(factory=dict)
    """Seconds busy time stays fresh, per provider name (``[cache] ttl.feishu = 120``)."""
    caps: LoadCaps | None = None
    """Load caps for people whose own settings leave a cap unset (``[defaults]
    max_meetings_per_day`` and the like; the command line's ``--max-...`` flags)."""

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
        for extra in sorted(set(defaults) - {"working_hours", *CAP_KEYS}):
            raise InputError(
                f"{where}defaults.{extra}",
                "<hidden>",
                f"unknown key; expected working_hours, {', '.join(CAP_KEYS)}",
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
        redis_url = data.get("redis_url")
        if redis_url is not None and not isinstance(redis_url, str):
            raise InputError(f"{where}redis_url", "<hidden>", "expected a redis:// URL")
        cache = data.get("cache", {})
        ttl = cache.get("ttl", {}) if isinstance(cache, Mapping) else None
        if (
            not isinstance(ttl, Mapping)
            or set(cache) - {"ttl"}
            or not all(
                isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
                for v in ttl.values()
            )
        ):
            raise InputError(
                f"{where}cache", "<table>", "expected [cache] ttl.PROVIDER = seconds (0 or more)"
            )
        environ = dict(os.environ if env is None else env)
        return cls(
            tz=tz or _local_zone(),
            working_hours=hours,
            providers=data.get("providers", {}),
            attendees=data.get("attendees", {}),
            env=environ,
            redis_url=environ.get("SLOTFINDER_REDIS_URL") or redis_url,
            cache_ttl={str(k): float(v) for k, v in ttl.items()},
            caps=LoadCaps.parse(defaults, f"{where}defaults"),
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
        self,
        id: str,
        *,
        optional: bool = False,
        room: bool = False,
        zone: str | None = None,
        found: Attendee | None = None,
    ) -> Attendee:
        """An attendee with the zone, working hours and name the configuration gives it.

        ``[attendees."ID"]`` wins; then ``found``, what the attendee's own calendar says of
        them (a busy file's ``tz`` and ``working_hours``, see :meth:`request`); otherwise
        people get ``[defaults].working_hours`` (in their own zone, or ``zone``, the
        request's, or :attr:`tz`), and rooms get no working hours. A zone and its hours travel
        together: a table that sets either replaces both of ``found``'s. Load caps are taken
        cap by cap from ``[attendees."ID"]``, then ``found``, then :attr:`caps`; rooms get none.
        """
        settings = self.attendees.get(id, {})
        where = f'attendees."{id}"'
        own = settings.get("tz")
        if own is not None:
            check_zone(own, f"{where}.tz")
        name = settings.get("name")
        if name is not None and not isinstance(name, str):
            raise InputError(f"{where}.name", name, "expected a string")
        name = name or (found.name if found is not None else None)
        caps = None
        if not room:
            caps = _layered(
                LoadCaps.parse(settings, where), found.caps if found else None, self.caps
            )
        hours = None
        if (
            found is not None
            and found.zone is not None
            and not ({"tz", "working_hours"} & set(settings))
        ):
            own, hours = found.zone, found.working_hours
        # The zone the hours are read in is the attendee's zone: all-day events must block
        # the same local day the working hours speak of.
        own = own or zone or self.tz
        hours_spec = settings.get("working_hours", None if room else self.working_hours)
        if hours is None and hours_spec is not None:
            hours = WorkingHours.parse(own, hours_spec, f"{where}.working_hours")
        return Attendee(
            id=id, optional=optional, zone=own, working_hours=hours, name=name, caps=caps
        )

    def request(
        self,
        attendees: Iterable[str | Attendee],
        *,
        window: Span,
        duration: int,
        optional: Iterable[str | Attendee] = (),
        rooms: Iterable[str | Attendee] = (),
        zone: str | None = None,
        providers: Mapping[str, Provider] | None = None,
        **options: Any,
    ) -> MeetingRequest:
        """A :class:`MeetingRequest` whose people are shaped by this configuration.

        Ids become attendees as :meth:`attendee` makes them; an :class:`Attendee` keeps what it
        sets and takes the rest (zone, working hours, name) from the configuration, so code
        gets the same defaults as the command line. ``zone`` defaults to :attr:`tz`.
        Providers that know their people (a busy file names each attendee's zone and hours)
        answer ``attendee_defaults(ids, settings)``; that reads local files only, never the
        network, and an id it cannot read is left for the fetch to report as unknown.
        ``options`` are further :class:`MeetingRequest` fields (``granularity``, ``order``...).
        """
        zone = check_zone(zone, "tz") if zone is not None else self.tz
        wanted = [
            *((a, False, False) for a in attendees),
            *((a, True, False) for a in optional),
            *((r, False, True) for r in rooms),
        ]
        for i, (who, _, _) in enumerate(wanted):
            if not isinstance(who, str | Attendee):
                raise InputError(f"attendees[{i}]", who, "expected an id or an Attendee")
        ids = [w.id if isinstance(w, Attendee) else w for w, _, _ in wanted]
        found = self.found(ids, providers)
        people: list[Attendee] = []
        places: list[Attendee] = []
        for who, opt, room in wanted:
            if isinstance(who, str):
                made = self.attendee(who, optional=opt, room=room, zone=zone, found=found.get(who))
            else:
                made = self._complete(who, room=room, zone=zone, found=found.get(who.id))
                made = attrs.evolve(made, optional=made.optional or opt)
            (places if room else people).append(made)
        return MeetingRequest(
            attendees=people, rooms=places, window=window, duration=duration, zone=zone, **options
        )

    def _complete(
        self, who: Attendee, *, room: bool, zone: str, found: Attendee | None
    ) -> Attendee:
        """``who`` with what it leaves unset taken from the configuration."""
        base = self.attendee(who.id, room=room, zone=who.zone or zone, found=found)
        hours = who.working_hours or base.working_hours
        own = who.zone or (hours.zone if hours is not None else base.zone) or zone
        if hours is not None and hours.zone != own:
            hours = WorkingHours.parse(own, hours.to_spec(), f'attendees."{who.id}".working_hours')
        caps = None if room else _layered(who.caps, base.caps)
        return attrs.evolve(
            who, zone=own, working_hours=hours, name=who.name or base.name, caps=caps
        )

    def found(
        self, ids: Iterable[str], providers: Mapping[str, Provider] | None = None
    ) -> dict[str, Attendee]:
        """What the providers' own data says of these people (zone, working hours, name).

        Asks each provider with an ``attendee_defaults(ids, settings)`` method (the ``json:``
        provider reads its busy files); other providers, and ids a provider cannot read, give
        nothing. ``providers`` defaults to the registered plugins.
        """
        by_name: dict[str, list[str]] = {}
        for id in dict.fromkeys(ids):
            prefix, sep, rest = id.partition(":")
            if sep and rest:
                by_name.setdefault(prefix, []).append(id)
        if not by_name:
            return {}
        if providers is None:
            from slotfinder.plugins import get_providers

            providers = get_providers()
        out: dict[str, Attendee] = {}
        for name, group in by_name.items():
            provider = providers.get(name)
            lookup = getattr(provider, "attendee_defaults", None)
            if provider is None or lookup is None:
                continue
            answer = lookup(group, self.provider_config(provider))
            out.update({k: v for k, v in answer.items() if k in group and isinstance(v, Attendee)})
        return out
