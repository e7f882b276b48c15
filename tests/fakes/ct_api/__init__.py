"""A fake Chastity Tracker API v2 server (games, stats, sessions, histories) for tests.

Typical use (or the ``ct_fake`` fixture, which yields a started one)::

    async with FakeChastityTracker(seed=1) as ct:
        wearer = ct.add_user("wearer")
        session = ct.add_session(wearer, dice=DiceConfig(), link=LinkConfig())
        ...  # point the client at ct.base_url
        ct.inject(Fault.hang(after_apply=True))
        assert ct.histories(session.id)[0].source == "DICE"

The rules it enforces, and the choices made where the contract is silent, are
documented in ``games.py`` (games endpoint), ``readers.py`` (stats, sessions,
histories) and ``faults.py`` (fault injection).
``python -m tests.fakes.ct_api --seed-demo`` serves it on its own for a local bot.
"""

from tests.fakes.ct_api.faults import Fault
from tests.fakes.ct_api.games import CooldownWording
from tests.fakes.ct_api.models import (
    DiceConfig,
    FakeSession,
    FakeUser,
    GameCounters,
    HistoryRow,
    LinkConfig,
    LuckConfig,
    RecordedRequest,
    RecordedResponse,
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
    "CooldownWording",
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
    "RecordedResponse",
    "Vote",
]
