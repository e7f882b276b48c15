"""A fake Chastity Tracker API v2 server (games, stats, sessions, histories) for tests.

``python -m tests.fakes.ct_api --seed-demo`` serves it on its own for a local bot.
"""

from tests.fakes.ct_api.faults import Fault
from tests.fakes.ct_api.models import (
    DiceConfig,
    FakeSession,
    FakeUser,
    GameCounters,
    HistoryRow,
    LinkConfig,
    LuckConfig,
    RecordedRequest,
    Vote,
)
from tests.fakes.ct_api.server import (
    GAMES_PATH,
    HISTORIES_PATH,
    SESSIONS_PATH,
    STATS_PATH,
    FakeChastityTracker,
)

__all__ = [
    "GAMES_PATH",
    "HISTORIES_PATH",
    "SESSIONS_PATH",
    "STATS_PATH",
    "DiceConfig",
    "FakeChastityTracker",
    "FakeSession",
    "FakeUser",
    "Fault",
    "GameCounters",
    "HistoryRow",
    "LinkConfig",
    "LuckConfig",
    "RecordedRequest",
    "Vote",
]
