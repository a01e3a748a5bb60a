"""The README is documentation that runs: its Python examples are checked as doctests."""

from __future__ import annotations

import doctest
import os
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_readme_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ``>>>`` example in README.md gives the output shown."""
    monkeypatch.chdir(ROOT)  # the examples read examples/busy.json by a relative path
    failures, tried = doctest.testfile(
        str(Path(ROOT) / "README.md"),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert tried > 10
    assert failures == 0


def test_readme_quick_start_is_two_commands() -> None:
    """The quick start is exactly `make demo` and `make test`."""
    text = (Path(ROOT) / "README.md").read_text(encoding="utf-8")
    block = text.split("## Quick start", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    assert [line for line in block.splitlines() if line.strip()] == ["make demo", "make test"]
    assert os.path.exists(Path(ROOT) / "Makefile")
