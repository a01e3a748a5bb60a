"""slotfinder: find meeting times across calendars."""
