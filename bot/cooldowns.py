"""How long a cooldown refusal says to wait, when its words say it.

The contract fixes no wording for a cooldown. A wait is taken only from a
phrase that states one ("again in 23 h 59 min", "again after 24 hours",
"wait 2 hours"); anything less certain gives None, and then no reminder is offered.
"""

from __future__ import annotations

import re
from typing import Final

_UNIT_SECONDS: Final = {
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
}
_AMOUNT: Final = r"\d{1,6}\s*(?:days?|d|hours?|hrs?|h|minutes?|mins?|min|m|seconds?|secs?|sec|s)\b"
_WAIT: Final = re.compile(
    rf"\b(?:again\s+(?:in|after)|wait(?:ing)?(?:\s+for)?|in)\s+"
    rf"(?P<amounts>{_AMOUNT}(?:\s*(?:,|and)?\s*{_AMOUNT})*)",
    re.IGNORECASE,
)
_PART: Final = re.compile(r"(\d{1,6})\s*([a-z]+)", re.IGNORECASE)
MAX_WAIT: Final = 90 * 86400  # anything longer is not a cooldown worth a reminder


def known_wait(message: str | None) -> int | None:
    """Seconds until the refused play or vote is allowed again, or None if not stated."""
    if not message:
        return None
    match = _WAIT.search(message)
    if match is None:
        return None
    total = 0
    for amount, unit in _PART.findall(match["amounts"]):
        size = _UNIT_SECONDS.get(unit.lower())
        if size is None:
            return None
        total += int(amount) * size
    return total if 0 < total <= MAX_WAIT else None
