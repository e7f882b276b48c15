"""A clock the test controls, shared by the bot and the fake Discord.

It runs with real time (so a genuinely slow bot still misses Discord's
3-second window) and :meth:`TestClock.advance` jumps it forward, so tests can
make time pass (poll deadlines, expired interactions) without sleeping.
``frozen=True`` stops the real-time part for tests that need exact times.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


class TestClock:
    __test__ = False  # not a pytest test class

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._start = start or datetime.now(UTC)
        if self._start.tzinfo is None:
            raise ValueError("TestClock needs an aware datetime")
        self._frozen = frozen
        self._started = time.monotonic()
        self._advanced = 0.0

    def now(self) -> datetime:
        """The bot's ``clock``: the current aware UTC time."""
        return self._start + timedelta(seconds=self.elapsed())

    def elapsed(self) -> float:
        """Seconds since the clock started, real time plus every advance."""
        real = 0.0 if self._frozen else time.monotonic() - self._started
        return real + self._advanced

    def monotonic(self) -> float:
        """Real monotonic seconds plus every advance, frozen or not: Discord's own timers."""
        return time.monotonic() + self._advanced

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._advanced += seconds
