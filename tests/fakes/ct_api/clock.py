"""The fake's clock: real UTC time shifted by ``advance``, or frozen at a given instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.fakes.ct_api.models import require_utc


class FakeClock:
    """Cooldowns and histories read this clock, so tests can jump a day without waiting.

    Unfrozen (the default) it follows the wall clock plus every ``advance``;
    frozen it stands still except for ``advance``.
    """

    def __init__(self, frozen_at: datetime | None = None) -> None:
        self._frozen_at = None if frozen_at is None else require_utc(frozen_at, "frozen_at")
        self._offset = timedelta()

    def now(self) -> datetime:
        base = self._frozen_at if self._frozen_at is not None else datetime.now(UTC)
        return base + self._offset

    def advance(self, delta: timedelta) -> None:
        if delta < timedelta():
            raise ValueError("the clock only moves forward")
        self._offset += delta
