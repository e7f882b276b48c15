"""Per-member flood control: a token bucket checked before the API is called."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.embeds.format import discord_time
from bot.error_messages import UserError


class SlowDown(UserError):
    def __init__(self, retry_at: datetime) -> None:
        self.retry_at = retry_at
        super().__init__(
            f"⏳ Slow down: you are acting too fast. Try again {discord_time(retry_at, 'R')}."
        )


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class FloodGate:
    """``burst`` actions at once, then one every ``interval`` seconds, per member."""

    def __init__(
        self,
        burst: int,
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        max_members: int = 10_000,
    ) -> None:
        self._burst = float(burst)
        self._interval = interval
        self._monotonic = monotonic
        self._max_members = max_members
        self._buckets: dict[int, _Bucket] = {}

    def wait_time(self, member_id: int) -> float:
        """Take one action's token: 0.0 when allowed, else seconds until it would be."""
        now = self._monotonic()
        bucket = self._buckets.get(member_id)
        if bucket is None:
            self._forget_idle(now)
            bucket = self._buckets[member_id] = _Bucket(self._burst, now)
        bucket.tokens = min(self._burst, bucket.tokens + (now - bucket.updated) / self._interval)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) * self._interval

    def check(self, member_id: int, now: datetime) -> None:
        """Raise :class:`SlowDown` (with when to retry) if the member must wait."""
        wait = self.wait_time(member_id)
        if wait > 0:
            raise SlowDown(now + timedelta(seconds=max(1.0, wait)))

    def tracked(self) -> frozenset[int]:
        """The members the gate remembers (memory stays bounded by ``max_members``)."""
        return frozenset(self._buckets)

    def _forget_idle(self, now: float) -> None:
        # A full bucket carries no information; drop those once the map grows.
        if len(self._buckets) < self._max_members:
            return
        full_after = self._burst * self._interval
        for key in [k for k, b in self._buckets.items() if now - b.updated >= full_after]:
            del self._buckets[key]
