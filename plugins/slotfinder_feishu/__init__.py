"""Built-in slotfinder provider: feishu."""
