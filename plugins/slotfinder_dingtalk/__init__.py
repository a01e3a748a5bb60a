"""Built-in slotfinder provider: dingtalk."""
