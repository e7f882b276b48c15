"""What a recorded vote did to its lock, read back from the ledger's copy of the answer.

The ledger stores the API's whole result (``bot.plays.result_detail``); the
timeline, the lock's stats and the wearer's card need only these few fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.ctapi.models import ParseError, parse_utc


@dataclass(frozen=True, slots=True)
class VoteMove:
    seconds: int  # added (> 0) or removed (< 0)
    scheduled_end: datetime  # the lock's scheduled end right after the vote
    penalty: bool


def vote_move(detail_json: str | None) -> VoteMove | None:
    """The move recorded in ``detail_json``; None when it is missing or unreadable."""
    try:
        detail = json.loads(detail_json or "")
        end = parse_utc(detail["scheduled_end"])
        seconds = abs(int(detail["seconds"]))
        added = str(detail.get("operation", "")).upper() == "ADD"
        penalty = bool(detail.get("penalty"))
    except (ValueError, KeyError, TypeError, ParseError):
        return None
    if end is None:
        return None
    return VoteMove(seconds if added else -seconds, end, penalty)
