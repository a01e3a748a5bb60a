"""File providers: which files they may read, and that reasons never carry file content."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from slotfinder_files import IcsProvider, JsonProvider

import slotfinder
from slotfinder import Config, MeetingRequest
from slotfinder.model import Attendee, Availability, Span, WorkingHours

T0 = 1_795_000_000
WINDOW = Span(T0, T0 + 86_400)
SECRET = "s3cr3t-4pp-v4lue-d0-n0t-l34k"
PROVIDERS = {"ics": IcsProvider(), "json": JsonProvider()}


def _read(ids: list[str], config: dict[str, str | int]) -> list[Availability]:
    """Each id through its own provider, in order."""
    out = []
    for i in ids:
        provider = PROVIDERS[i.partition(":")[0]]
        out += provider.read([Attendee(id=i)], WINDOW, "UTC", config)
    return out


@pytest.fixture
def secrets(tmp_path: Path) -> list[Path]:
    """Files that are not calendars but hold a secret: an .env, a JSON credentials file."""
    env = tmp_path / ".env"
    env.write_text(f"SLOTFINDER_FEISHU_APP_SECRET={SECRET}\nOTHER=1\n")
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"app_id": "cli_x", "app_secret": SECRET}))
    keyed = tmp_path / "keyed.json"
    keyed.write_text(json.dumps({SECRET: {"window": 1}}))
    window = tmp_path / "window.json"
    window.write_text(json.dumps({"window": {"start": SECRET, "end": SECRET}}))
    return [env, creds, keyed, window]


def test_secret_files_read_by_both_providers_never_leak(
    tmp_path: Path, secrets: list[Path]
) -> None:
    """An .env or credentials file named as ics: or json: is unknown; no reason holds the secret."""
    ids = [f"{kind}:{path}" for path in secrets for kind in ("ics", "json")]
    out = _read(ids, {"roots": str(tmp_path)})
    assert [a.id for a in out] == ids
    for a in out:
        assert not a.known
        assert a.error
        assert SECRET not in a.error
        assert "SLOTFINDER_FEISHU" not in a.error
    reasons = {a.id: a.error or "" for a in out}
    assert "line 1" in reasons[f"ics:{secrets[0]}"]
    assert "not JSON" in reasons[f"json:{secrets[0]}"]
    assert "app_secret" not in reasons[f"json:{secrets[1]}"]


def test_secret_files_never_leak_through_suggest(
    tmp_path: Path, secrets: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through suggest_sync: the ids are unknown and no reason holds the secret."""
    monkeypatch.chdir(tmp_path)  # the default root: the working directory
    hours = WorkingHours.parse("UTC", {"mon-sun": "09:00-17:00"})
    ids = [f"{kind}:{path.name}" for path in secrets for kind in ("ics", "json")]
    request = MeetingRequest(
        attendees=[Attendee(id=i, working_hours=hours) for i in ids],
        window=WINDOW,
        duration=1800,
        zone="UTC",
    )
    result = slotfinder.suggest_sync(
        request, config=Config(tz="UTC", env={}), providers=PROVIDERS, lookahead=0
    )
    assert sorted(u.id for u in result.unknown) == sorted(ids)
    assert result.slots == ()
    text = repr(result)
    assert SECRET not in text


def test_proc_self_environ_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """/proc/self/environ is never read, even with / as a root, and its content never shown."""
    monkeypatch.setenv("SLOTFINDER_FEISHU_APP_SECRET", SECRET)
    out = _read(["ics:/proc/self/environ", "json:/proc/self/environ"], {"roots": "/"})
    for a in out:
        assert not a.known
        assert "/proc or /sys" in (a.error or "")
        assert SECRET not in (a.error or "")


def test_outside_the_roots_is_refused(tmp_path: Path) -> None:
    """A file outside the roots, and a symlink inside them resolving outside, are unknown."""
    inside, outside = tmp_path / "in", tmp_path / "out"
    inside.mkdir()
    outside.mkdir()
    target = outside / "cal.ics"
    target.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    link = inside / "cal.ics"
    link.symlink_to(target)
    here = inside / "ok.ics"
    here.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    ids = [f"ics:{target}", f"ics:{link}", f"ics:{inside}/../out/cal.ics", f"ics:{here}"]
    out = _read(ids, {"roots": str(inside)})
    assert [a.known for a in out] == [False, False, False, True]
    for a in out[:3]:
        assert "outside the folders" in (a.error or "")


def test_symlink_inside_the_roots_is_followed(tmp_path: Path) -> None:
    """A symlink to another file under the roots is read."""
    target = tmp_path / "real.ics"
    target.write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    (tmp_path / "link.ics").symlink_to(target)
    [a] = _read([f"ics:{tmp_path / 'link.ics'}"], {"roots": str(tmp_path)})
    assert a.known


def test_without_roots_the_library_reads_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without roots a library caller reads no file, not even in the working directory: the
    id is unknown with a reason naming the setting (the command line sets its own roots)."""
    (tmp_path / "a.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    monkeypatch.chdir(tmp_path)
    (a,) = _read(["ics:a.ics"], {})
    assert not a.known
    assert "providers.ics.roots" in (a.error or "")


def test_several_roots_as_a_path_list(tmp_path: Path) -> None:
    """``roots`` separated by os.pathsep: a file under any of them is read."""
    cal = "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n"
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "c.ics").write_text(cal)
    roots = os.pathsep.join([str(tmp_path / "one"), str(tmp_path / "two")])
    out = _read(
        [f"ics:{tmp_path / 'one/c.ics'}", f"ics:{tmp_path / 'two/c.ics'}"], {"roots": roots}
    )
    assert all(a.known for a in out)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_and_folder_are_refused_without_blocking(tmp_path: Path) -> None:
    """A FIFO (which would block a plain open) and a folder are not regular files: unknown."""
    fifo = tmp_path / "pipe.ics"
    os.mkfifo(fifo)
    out = _read([f"ics:{fifo}", f"json:{fifo}", f"ics:{tmp_path}"], {"roots": str(tmp_path)})
    for a in out:
        assert not a.known
        assert "not a regular file" in (a.error or "")


def test_device_is_refused() -> None:
    """/dev/zero (endless) is a device, not a regular file."""
    [a] = _read(["ics:/dev/zero"], {"roots": "/dev"})
    assert not a.known
    assert "not a regular file" in (a.error or "")


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    """A file over max_bytes is unknown, naming the limit; at the limit it is read."""
    cal = "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n"
    path = tmp_path / "cal.ics"
    path.write_text(cal)
    size = len(cal.encode())
    small, exact = (
        _read([f"ics:{path}"], {"roots": str(tmp_path), "max_bytes": limit})[0]
        for limit in (size - 1, size)
    )
    assert not small.known
    assert "max_bytes" in (small.error or "")
    assert exact.known


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    """A missing file is unknown with the path and the system's reason."""
    [a] = _read([f"json:{tmp_path / 'nope.json'}#x"], {"roots": str(tmp_path)})
    assert not a.known
    assert "nope.json" in (a.error or "")
    assert "No such file" in (a.error or "")


def test_bad_roots_setting_is_an_input_error() -> None:
    """A max_bytes that is not a positive whole number leaves the id unknown, naming it."""
    (a,) = _read(["ics:x.ics"], {"max_bytes": 0, "roots": "."})
    assert not a.known
    assert "providers.ics.max_bytes" in (a.error or "")


def test_load_plugins_without_files_switches_them_off() -> None:
    """SLOTFINDER_LOAD_PLUGINS without ``files``: no ics or json provider is registered."""
    code = "from slotfinder.plugins import get_providers; print(sorted(get_providers()))"
    env = {**os.environ, "SLOTFINDER_LOAD_PLUGINS": "feishu,dingtalk"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['dingtalk', 'feishu']"
