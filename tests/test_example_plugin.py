"""The example plugin in docs/example-plugin installs with pip and is found via its entry point."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "example-plugin"

# pip failures that say "this machine cannot build wheels offline", not "the example is wrong".
_ENVIRONMENTAL = (
    "invalid command 'bdist_wheel'",
    "No matching distribution found for setuptools",
    "Could not find a version that satisfies the requirement setuptools",
)


def _pip_install(source: Path, target: Path) -> None:
    """``pip install --no-deps --target``: without build isolation first, then with it.

    Without isolation the venv's own setuptools builds the wheel (offline, fast) when it can;
    older setuptools need ``wheel``, so the isolated build (which fetches setuptools from the
    configured index) is the fallback. If neither can build for environmental reasons the
    test is skipped with pip's message; any other pip failure fails the test.
    """
    base = [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target)]
    errors = []
    for extra in (["--no-build-isolation"], []):
        run = subprocess.run(
            [*base, *extra, str(source)], capture_output=True, text=True, timeout=240, check=False
        )
        if run.returncode == 0:
            return
        errors.append(run.stdout + run.stderr)
        shutil.rmtree(target, ignore_errors=True)
    if all(any(marker in e for marker in _ENVIRONMENTAL) for e in errors):
        pytest.skip(f"cannot build a wheel on this machine: {errors[-1].strip()[-300:]}")
    pytest.fail("pip could not install the example plugin:\n" + "\n---\n".join(errors))


READ = textwrap.dedent(
    """
    import json
    from slotfinder.config import Config
    from slotfinder.model import Attendee, Span
    from slotfinder.plugins import get_providers

    providers = get_providers()
    office = providers["office"]
    config = Config.load().provider_config(office)   # SLOTFINDER_OFFICE_FILE
    window = Span(1_795_000_000, 1_795_000_000 + 60 * 86_400)
    result = office.read(
        [Attendee(id="office:alice", zone="Europe/Berlin"), Attendee(id="office:bob")],
        window,
        "Asia/Shanghai",
        config,
    )
    print(json.dumps({
        "module": type(office).__module__,
        "names": sorted(providers),
        "read": [
            {"id": a.id, "error": a.error,
             "rows": [[int(s), int(e), int(c)] for s, e, c in
                      zip(a.busy.starts, a.busy.ends, a.busy.status)]}
            for a in result
        ],
    }))
    """
)

CSV = """who,start,end,status
*,2026-12-24,2026-12-27,oof
alice,2026-11-25T14:00:00+01:00,2026-11-25T16:00:00+01:00,busy
bob,2026-11-26,,tentative
carol,2026-11-26,,busy
"""


def t(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.timeout(600)
def test_example_plugin_installs_and_reads(tmp_path: Path) -> None:
    """pip-installing the example makes ``office`` a provider that reads the CSV per attendee."""
    source = tmp_path / "src"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    target = tmp_path / "site"
    _pip_install(source, target)
    assert (target / "slotfinder_office" / "__init__.py").is_file()

    work = tmp_path / "work"
    work.mkdir()
    (work / "office.csv").write_text(CSV, encoding="utf-8")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")]),
        "SLOTFINDER_OFFICE_FILE": "office.csv",  # relative to the current directory
    }
    env.pop("SLOTFINDER_LOAD_PLUGINS", None)
    run = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["module"] == "slotfinder_office"
    assert {"office", "ics", "json"} <= set(out["names"])

    alice, bob = out["read"]
    assert alice["error"] is None
    assert bob["error"] is None

    oof, busy, tentative = 3, 2, 1
    # The office closure is local to each attendee: Berlin for alice, Shanghai (request) for bob.
    assert sorted(alice["rows"]) == [
        [t("2026-11-25T14:00:00+01:00"), t("2026-11-25T16:00:00+01:00"), busy],
        [t("2026-12-24T00:00:00+01:00"), t("2026-12-27T00:00:00+01:00"), oof],
    ]
    assert sorted(bob["rows"]) == [
        [t("2026-11-26T00:00:00+08:00"), t("2026-11-27T00:00:00+08:00"), tentative],
        [t("2026-12-24T00:00:00+08:00"), t("2026-12-27T00:00:00+08:00"), oof],
    ]


@pytest.mark.timeout(120)
def test_example_plugin_reports_a_missing_file_as_unknown(tmp_path: Path) -> None:
    """Imported from source, the example marks attendees unknown when its CSV is missing."""
    code = textwrap.dedent(
        """
        import json
        from slotfinder.model import Attendee, Span
        from slotfinder_office import OfficeProvider
        [a] = OfficeProvider().read(
            [Attendee(id="office:alice")], Span(0, 86_400), "UTC", {"file": "nope.csv"}
        )
        print(json.dumps([a.known, a.error]))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(EXAMPLE), "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    known, error = json.loads(run.stdout)
    assert not known
    assert "nope.csv" in error
