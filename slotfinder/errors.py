"""slotfinder's own exceptions.

Every error that reaches a user names what to fix: the field, the value and the limit. Callers
catch :class:`SlotfinderError` and get nothing else from slotfinder (the fuzz tests pin this).
Messages never carry secrets: values of secret configuration keys are never put into them.
"""

from __future__ import annotations


class SlotfinderError(Exception):
    """Base class of everything slotfinder raises on purpose."""


class InputError(SlotfinderError, ValueError):
    """Bad input, refused before any call is made.

    ``field`` is the dotted path of what is wrong (``request.duration``,
    ``attendees[2].working_hours.mon``), ``value`` what was given and ``problem`` the rule
    it breaks, including the limit.
    """

    def __init__(self, field: str, value: object, problem: str) -> None:
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{field}={_short(value)}: {problem}")


class ConfigError(SlotfinderError):
    """Configuration that cannot work: a missing credential, a secret the API refused.

    ``key`` names the setting to change (``providers.feishu.app_secret`` or the environment
    variable ``SLOTFINDER_FEISHU_APP_SECRET``); the message says how.
    """

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(f"{key}: {message}")


def _short(value: object, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters; never raises, so an error can always be made.

    An int of more than 4300 digits has no repr (Python's int-to-text limit), and a foreign
    object's ``__repr__`` may fail: both are named by their type instead.
    """
    try:
        text = repr(value)
    except Exception:  # whatever a foreign __repr__ raises, the type still names the value
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
