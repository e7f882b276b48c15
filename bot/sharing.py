"""The wearer's card: a lock's live status on its panels, only when its wearer allows it.

The lock's registered wearer (``Lock.wearer_id``), with a connected account,
opts in per lock (``/account share``) and out at any time. Only then does the
bot read their Chastity Tracker status for that lock's panels, and only what
the card shows: locked since, the scheduled end, and the time this server's
votes added or removed today. Without the opt-in nothing of theirs is read
or shown, and their session's history stays out of the lock's timeline.

Chastity Tracker is asked at most every :data:`CARD_MAX_AGE` seconds per lock;
between two reads a vote's own answer (the ledger's newest scheduled end)
keeps the card current.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from bot.ctapi import ChastityTrackerError, Stats, Unauthorized
from bot.error_messages import UserError
from bot.secrets import Secret
from bot.storage import Lock
from bot.vote_results import vote_move

if TYPE_CHECKING:
    from bot.accounts import AccountService
    from bot.ctapi import ChastityTrackerClient
    from bot.storage import Storage

log = logging.getLogger(__name__)

CARD_MAX_AGE: Final = 300.0
"""Seconds a wearer's status read from Chastity Tracker is used before it is read again."""


class NotTheWearer(UserError):
    def __init__(self, lock_name: str) -> None:
        super().__init__(
            f"Only the wearer registered for **{lock_name}** can share its status. "
            "A server admin sets the wearer with `/locks add ... owner:`."
        )


class ShareNeedsAccount(UserError):
    def __init__(self) -> None:
        super().__init__(
            "Connect your Chastity Tracker account first (`/account connect`): the card "
            "shows your lock's status as Chastity Tracker reports it to you."
        )


@dataclass(frozen=True, slots=True)
class WearerCard:
    locked: bool
    locked_since: datetime | None
    scheduled_end: datetime | None
    added_today: int  # seconds this server's votes added since midnight UTC
    removed_today: int


@dataclass(frozen=True, slots=True)
class _Read:
    stats: Stats
    at: datetime


class SharingService:
    def __init__(
        self,
        *,
        storage: Storage,
        accounts: AccountService,
        api: ChastityTrackerClient,
        clock: Callable[[], datetime],
        max_age: float = CARD_MAX_AGE,
    ) -> None:
        self._storage = storage
        self._accounts = accounts
        self._api = api
        self._clock = clock
        self._max_age = timedelta(seconds=max_age)
        self._reads: dict[int, _Read] = {}

    async def set_shared(self, member_id: int, lock: Lock, enabled: bool) -> bool:
        """Opt in or out; True if that changed anything. Only the lock's wearer may."""
        if lock.wearer_id != member_id:
            raise NotTheWearer(lock.name)
        self._reads.pop(lock.id, None)
        if not enabled:
            return await self._storage.shares.unshare(lock.id)
        if await self._accounts.get(member_id) is None:
            raise ShareNeedsAccount()
        already = await self._storage.shares.shared_by(lock.id) == member_id
        await self._storage.shares.share(lock.id, member_id, self._clock())
        return not already

    async def wearer_bearer(self, lock: Lock) -> Secret | None:
        """The wearer's token when they share this lock and are connected; else None."""
        if lock.wearer_id is None:
            return None
        if await self._storage.shares.shared_by(lock.id) != lock.wearer_id:
            return None
        try:
            return await self._accounts.optional_bearer(lock.wearer_id)
        except UserError:
            return None  # the token needs renewing: nothing is shown meanwhile

    async def card(self, lock: Lock) -> WearerCard | None:
        """The lock's live status, or None when its wearer does not share it."""
        bearer = await self.wearer_bearer(lock)
        if bearer is None:
            return None
        read = await self._read(lock, bearer)
        now = self._clock()
        midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
        today = await self._storage.lock_history.votes(
            lock.id, since=midnight, guild_id=lock.guild_id
        )
        added = removed = 0
        latest_end: tuple[datetime, datetime] | None = None
        for vote in today:
            move = vote_move(vote.detail_json)
            if move is None:
                continue
            if move.seconds >= 0:
                added += move.seconds
            else:
                removed -= move.seconds
            latest_end = (vote.at, move.scheduled_end)
        scheduled_end = read.stats.scheduled_end if read is not None else None
        if latest_end is not None and (read is None or latest_end[0] >= read.at):
            scheduled_end = latest_end[1]  # a vote since the last read moved it
        if read is None and latest_end is None:
            return None
        return WearerCard(
            locked=read.stats.locked if read is not None else True,
            locked_since=read.stats.current_lock_start if read is not None else None,
            scheduled_end=scheduled_end,
            added_today=added,
            removed_today=removed,
        )

    async def _read(self, lock: Lock, bearer: Secret) -> _Read | None:
        now = self._clock()
        cached = self._reads.get(lock.id)
        if cached is not None and now - cached.at < self._max_age:
            return cached
        try:
            stats = await self._api.stats(bearer)
        except Unauthorized:
            assert lock.wearer_id is not None
            await self._accounts.token_refused(lock.wearer_id)
            self._reads.pop(lock.id, None)
            return None
        except ChastityTrackerError as error:
            log.info("Could not read the shared status of lock %d: %s", lock.id, error)
            return cached
        read = _Read(stats, now)
        self._reads[lock.id] = read
        return read
