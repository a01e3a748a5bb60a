"""Where the tests find the project and its shared data, wherever a test file sits."""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SAMPLES = TESTS / "samples"
"""Captured provider replies, fed to the providers' parsers."""
ICS_CORPUS = ROOT.parent / "shared" / "ics-corpus"
