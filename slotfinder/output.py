"""One entry to every renderer: ``render(result, "table" | "json" | "timeline" | "html")``.

The CLI and the demo choose a format by name; the renderers themselves stay one module each
under :mod:`slotfinder.render`.
"""

from __future__ import annotations

from slotfinder.errors import InputError
from slotfinder.model import SuggestionResult

__all__ = ["FORMATS", "render"]

FORMATS = ("table", "json", "timeline", "html")


def render(result: SuggestionResult, fmt: str, *, stats: bool = False, color: bool = False) -> str:
    """The result as text in ``fmt``; ``stats`` adds the call statistics."""
    if fmt == "json":
        from slotfinder.render.json import dumps

        return dumps(result, stats=stats)
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
