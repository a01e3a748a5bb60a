"""``python -m slotfinder``: the same as the ``slotfinder`` command."""

from slotfinder.cli import main

raise SystemExit(main())
