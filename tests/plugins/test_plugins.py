"""The plugin loader: entry points, the SLOTFINDER_LOAD_PLUGINS allow-list, and validation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import entry_points

import pytest

from slotfinder.hookspecs import hookimpl
from slotfinder.model import Attendee, Availability, Span
from slotfinder.plugins import (
    ENTRY_POINT_GROUP,
    PluginError,
    get_plugin_manager,
    get_providers,
)
from slotfinder.providers import ConfigKey, LocalProvider, Provider, ProviderConfig
from slotfinder.testing import get_simulators


@pytest.fixture(autouse=True)
def fresh_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts and ends with a fresh plugin manager and no allow-list."""
    monkeypatch.delenv("SLOTFINDER_LOAD_PLUGINS", raising=False)
    get_plugin_manager.cache_clear()
    yield
    get_plugin_manager.cache_clear()


class Office:
    """A tiny LocalProvider: everyone is free."""

    name = "office"
    description = "test provider"
    config_keys: tuple[ConfigKey, ...] = ()

    def read(
        self, attendees: Sequence[Attendee], window: Span, zone: str, config: ProviderConfig
    ) -> list[Availability]:
        return [Availability(id=a.id) for a in attendees]


class Registers:
    """An inline plugin registering whatever it is given."""

    def __init__(self, *providers: object) -> None:
        self.providers = providers

    @hookimpl
    def slotfinder_register_providers(self, register: Callable[[Provider], None]) -> None:
        for p in self.providers:
            register(p)  # type: ignore[arg-type]  # deliberately wrong shapes too


def _with_plugin(plugin: object) -> dict[str, Provider]:
    pm = get_plugin_manager()
    pm.register(plugin, name="inline-test-plugin")
    try:
        return get_providers()
    finally:
        pm.unregister(plugin)


def test_files_entry_point_is_declared() -> None:
    """The built-in files plugin is found through the ``slotfinder`` entry-point group."""
    eps = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert eps.get("files") == "slotfinder_files"


def test_default_load_finds_the_files_providers() -> None:
    """Without an allow-list every entry point loads, the files providers among them."""
    providers = get_providers()
    assert {"ics", "json"} <= set(providers)
    assert all(isinstance(providers[n], LocalProvider) for n in ("ics", "json"))
    assert list(providers) == sorted(providers)
    assert get_plugin_manager().get_plugin("files") is not None


def test_allow_list_limits_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """``SLOTFINDER_LOAD_PLUGINS=files`` loads only the files plugin; unknown names are ignored."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", " files , no_such_plugin ")
    assert set(get_providers()) == {"ics", "json"}
    assert get_simulators() == {}


def test_empty_allow_list_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty allow-list loads no plugin at all."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", "")
    assert get_providers() == {}


def test_manager_is_built_once() -> None:
    """The manager is cached: a later allow-list change needs ``cache_clear`` to be seen."""
    assert get_plugin_manager() is get_plugin_manager()


def test_allow_list_in_a_fresh_process() -> None:
    """In a new process the variable is read on first use, as the CLI would see it."""
    code = (
        "import json; from slotfinder.plugins import get_providers; "
        "print(json.dumps(sorted(get_providers())))"
    )
    env = {**os.environ, "SLOTFINDER_LOAD_PLUGINS": "files"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout) == ["ics", "json"]


def test_inline_plugin_registers_a_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """A plugin object registered on the manager adds its provider; unregistering removes it."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", "files")
    office = Office()
    providers = _with_plugin(Registers(office))
    assert providers["office"] is office
    assert "office" not in get_providers()


def test_same_object_twice_is_fine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering the very same provider object twice is not a conflict."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", "")
    office = Office()
    assert _with_plugin(Registers(office, office)) == {"office": office}


class Nameless:
    description = "no name"
    config_keys = ()

    def read(self, *args: object) -> list[Availability]:
        return []


def _named(name: object) -> Office:
    p = Office()
    p.name = name  # type: ignore[assignment]
    return p


class Shapeless:
    """Has a good name but neither ``read`` nor the HTTP methods."""

    name = "shapeless"
    description = "nothing to call"
    config_keys = ()


@pytest.mark.parametrize(
    ("providers", "match"),
    [
        pytest.param((_named("Bad-Name"),), "expected lower-case", id="bad-name"),
        pytest.param((_named("9lives"),), "expected lower-case", id="digit-first"),
        pytest.param((_named(""),), "expected lower-case", id="empty-name"),
        pytest.param((_named(42),), "expected lower-case", id="name-not-str"),
        pytest.param((Nameless(),), "expected lower-case", id="no-name"),
        pytest.param((Shapeless(),), "neither HttpProvider nor LocalProvider", id="wrong-shape"),
        pytest.param((Office(), Office()), "registered twice", id="duplicate-in-plugin"),
        pytest.param((_named("ics"),), "registered twice", id="duplicate-of-builtin"),
    ],
)
def test_bad_registrations_raise_plugin_error(
    monkeypatch: pytest.MonkeyPatch, providers: tuple[object, ...], match: str
) -> None:
    """Bad names, wrong shapes and duplicate names are PluginErrors, not silent overrides."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", "files")
    with pytest.raises(PluginError, match=match):
        _with_plugin(Registers(*providers))
    assert "office" not in get_providers()  # unregistered again


def test_bad_simulator_raises_plugin_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A simulator hook handing over something that is not a Simulator is a PluginError."""
    monkeypatch.setenv("SLOTFINDER_LOAD_PLUGINS", "")

    class BadSim:
        @hookimpl
        def slotfinder_register_simulators(self, register: Callable[[object], None]) -> None:
            register(object())

    plugin = BadSim()
    pm = get_plugin_manager()
    pm.register(plugin)
    try:
        with pytest.raises(PluginError, match="not a Simulator"):
            get_simulators()
    finally:
        pm.unregister(plugin)
