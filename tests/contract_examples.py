"""The response examples of games-api-v2.md, once, for every test that needs an answer.

Tests vary them with ``{**DICE_EXAMPLE, "sum": 7}`` rather than writing them out again.
"""

from __future__ import annotations

from typing import Any

LINK_EXAMPLE: dict[str, Any] = {
    "game": "link",
    "operation": "ADD",
    "multiplier": 1.37,
    "time": 3600,
    "unit": "hour",
    "int": 1,
    "seconds": 3600,
    "dom": 0,
    "scheduledend_utc": "2026-02-10 00:00:00",
    "session": 123,
    "penalty": None,
}
DICE_EXAMPLE: dict[str, Any] = {
    "game": "dice",
    "operation": "SUB",
    "time": 7200,
    "sum": -3,
    "dices": [6, 1, 2],
    "dicesops": ["", "s", ""],
    "calc": "+6-1+2",
    "multiplier": 1.11,
    "seconds": 7200,
    "dom": 0,
    "scheduledend_utc": "2026-02-10 00:00:00",
    "session": 123,
}
LUCK_EXAMPLE: dict[str, Any] = {
    "game": "luck",
    "operation": "ADD",
    "time": 86400,
    "int": 1,
    "multiplier": 1.22,
    "seconds": 86400,
    "dom": 1,
    "scheduledend_utc": "2026-02-11 00:00:00",
    "session": 123,
}


def envelope(data: object) -> dict[str, Any]:
    """A v2 success envelope around ``data``."""
    return {"ok": True, "data": data, "meta": {"version": 2}}


def refusal(code: str, message: str) -> dict[str, Any]:
    """A v2 error envelope."""
    return {"ok": False, "error": {"code": code, "message": message}, "meta": {"version": 2}}
