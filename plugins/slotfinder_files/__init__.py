"""Built-in slotfinder provider: files."""
