"""One entry to every renderer: ``render(result, "table" | "json" | "timeline" | "html")``,
or :func:`write` to a stream.

The CLI and the demo choose a format by name; the renderers themselves stay one module each
under :mod:`slotfinder.render`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from slotfinder.errors import InputError

if TYPE_CHECKING:
    from slotfinder.model import SuggestionResult

__all__ = ["FORMATS", "render", "write"]

FORMATS = ("table", "json", "timeline", "html")


def write(
    result: SuggestionResult,
    fmt: str,
    fp: TextIO,
    *,
    stats: bool = False,
    color: bool = False,
    full_lists: bool = False,
    newline: bool = False,
) -> None:
    """:func:`render` written to ``fp``; JSON goes out slot by slot, never as one string, since
    a year of slots for many attendees runs to hundreds of megabytes. ``newline`` ends the
    output with one (for a terminal) unless it already does."""
    if fmt != "json":
        text = render(result, fmt, stats=stats, color=color)
        fp.write(text + "\n" if newline and not text.endswith("\n") else text)
        return
    from slotfinder.render import json

    json.write(result, fp, stats=stats, full_lists=full_lists)
    if newline:
        fp.write("\n")


def render(
    result: SuggestionResult,
    fmt: str,
    *,
    stats: bool = False,
    color: bool = False,
    full_lists: bool = False,
) -> str:
    """The result as text in ``fmt``; ``stats`` adds the call statistics, ``full_lists`` the
    free attendees of each JSON slot."""
    if fmt == "json":
        from slotfinder.render.json import dumps

        return dumps(result, stats=stats, full_lists=full_lists)
    if fmt == "table":
        from slotfinder.render.table import render_table

        return render_table(result, stats=stats)
    if fmt == "timeline":
        from slotfinder.render.timeline import render_timeline

        return render_timeline(result, color=color)
    if fmt == "html":
        from slotfinder.render.html import render_html

        return render_html(result)
    raise InputError("--format", fmt, f"expected one of {', '.join(FORMATS)}")
