"""A sleep the test controls: it records the seconds asked for and ends when released.

Pass a :class:`FakeSleep` wherever the bot takes a ``sleep`` (``make_harness(sleep=...)``,
``PollService``, ``SessionChoices``, ``EditCoalescer``). Its :meth:`monotonic` is a
clock that only moves when a sleep is released or the test calls :meth:`advance`,
for the code that also reads time (``EditCoalescer(monotonic=...)``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Sleeper:
    seconds: float
    deadline: float
    released: asyncio.Event = field(default_factory=asyncio.Event)


class FakeSleep:
    def __init__(self) -> None:
        self.requested: list[float] = []
        """Every pause asked for, in order (also those cut short by a cancellation)."""
        self._now = 0.0
        self._sleepers: list[_Sleeper] = []
        self._seen = 0
        self._changed = asyncio.Condition()

    async def __call__(self, seconds: float) -> None:
        sleeper = _Sleeper(seconds, self._now + seconds)
        self.requested.append(seconds)
        self._sleepers.append(sleeper)
        try:
            await self._notify()
            await sleeper.released.wait()
        finally:
            if sleeper in self._sleepers:
                self._sleepers.remove(sleeper)

    def monotonic(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move :meth:`monotonic` on without ending any sleep."""
        self._now += seconds

    @property
    def pending(self) -> list[float]:
        """The pauses under way now, in the order they were asked for."""
        return [sleeper.seconds for sleeper in self._sleepers]

    async def next_request(self, timeout: float = 5.0) -> float:  # noqa: ASYNC109
        """The next pause asked for since the last call; waits until there is one."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.requested) > self._seen)
        self._seen += 1
        return self.requested[self._seen - 1]

    async def sleeping(self, seconds: float, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a pause of exactly ``seconds`` is under way."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: seconds in self.pending)

    def release(self) -> None:
        """End every pause under way, as if its time were up (the clock moves to it)."""
        released, self._sleepers = self._sleepers, []
        for sleeper in released:
            self._now = max(self._now, sleeper.deadline)
            sleeper.released.set()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
