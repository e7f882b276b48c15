"""Cooldown reminders: "tell me when I can play (or vote) again", by direct message.

A refused play or vote whose answer states the wait offers a "Remind me"
button (``bot.views.reminders``). Clicking it stores one reminder per member
and subject (a game on a session, or a lock): asking again moves it. The bot
first sends a direct message saying when it will remind, so a member whose
DMs are closed learns it at once, and nothing is stored for them.

Reminders live in the database, so they survive a restart; the scheduler
deletes each one as it fires (``ReminderRepository.claim``), so it fires once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.cooldowns import known_wait
from bot.ctapi import BadRequest, Game
from bot.embeds.format import discord_time
from bot.error_messages import AnonymousCooldown
from bot.secrets import Secret
from bot.storage import Reminder, Storage
from bot.timing import Sleep, done_within

log = logging.getLogger(__name__)

DMS_CLOSED: Final = 50007
MAX_SLEEP: Final = 300.0
MIN_SLEEP: Final = 0.5
RETRY_SLEEP: Final = 30.0


class DirectMessagesClosed(Exception):
    """Discord refused a direct message to the member (their privacy settings)."""


@dataclass(frozen=True, slots=True)
class ReminderOffer:
    """What a "Remind me" button carries: whose, about what, and when."""

    member_id: int
    subject: str
    due_at: datetime


def offer_for_play(
    member_id: int, game: Game, session: int | None, error: BaseException, now: datetime
) -> ReminderOffer | None:
    if not isinstance(error, BadRequest) or not error.is_cooldown:
        return None
    wait = known_wait(error.message)
    if wait is None:
        return None
    subject = f"{game.value}:{session if session is not None else 'active'}"
    return ReminderOffer(member_id, subject, now + timedelta(seconds=wait))


def offer_for_vote(
    member_id: int,
    lock_id: int | None,
    link_token: Secret,
    error: BaseException,
    now: datetime,
) -> ReminderOffer | None:
    if isinstance(error, BadRequest) and error.is_cooldown:
        wait = known_wait(error.message)
    elif isinstance(error, AnonymousCooldown):
        wait = known_wait(str(error))
    else:
        return None
    if wait is None:
        return None
    if lock_id is not None:
        subject = f"lock:{lock_id}"
    else:
        # A bare token: only a digest of it goes into the button and the database.
        digest = hashlib.sha256(link_token.reveal().encode()).hexdigest()[:16]
        subject = f"token:{digest}"
    return ReminderOffer(member_id, subject, now + timedelta(seconds=wait))


class ReminderService:
    def __init__(
        self,
        *,
        client: discord.Client,
        storage: Storage,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._client = client
        self._storage = storage
        self._clock = clock
        self._sleep = sleep
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- asking --------------------------------------------------------------------------

    async def label(self, subject: str) -> str:
        """What the member waits for, in words: "play DICE on session #12"."""
        kind, _, key = subject.partition(":")
        if kind == "lock" and key.isdigit():
            lock = await self._storage.locks.get(int(key))
            return f"vote on **{lock.name}**" if lock is not None else "vote on that lock"
        if kind == "token":
            return "vote on that lock"
        game = kind.upper()
        return f"play {game} on session #{key}" if key.isdigit() else f"play {game}"

    async def remind(self, offer: ReminderOffer) -> Reminder:
        """Store the reminder after telling the member by DM; DirectMessagesClosed if refused."""
        label = await self.label(offer.subject)
        await self.direct_message(
            offer.member_id,
            f"⏰ I will remind you here when you can {label} again "
            f"({discord_time(offer.due_at, 'R')}).",
        )
        reminder = await self._storage.reminders.set(
            offer.member_id, offer.subject, label, offer.due_at, self._clock()
        )
        self._wake.set()
        return reminder

    async def direct_message(self, member_id: int, text: str) -> None:
        try:
            channel = await self._client.create_dm(discord.Object(id=member_id))
            await channel.send(text)
        except discord.Forbidden as error:
            if error.code == DMS_CLOSED:
                raise DirectMessagesClosed() from None
            raise

    # -- firing --------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._scheduler(), name="reminder-scheduler")

    def wake(self) -> None:
        """Look at the reminders now (e.g. after the clock jumped)."""
        self._wake.set()

    async def close(self) -> None:
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_due(self) -> int:
        """Send every reminder that is due; returns how many were sent."""
        sent = 0
        for reminder in await self._storage.reminders.due(self._clock()):
            if not await self._storage.reminders.claim(reminder):
                continue  # fired elsewhere, or moved meanwhile
            try:
                await self.direct_message(
                    reminder.user_id, f"⏰ You can {reminder.label} again now."
                )
                sent += 1
            except (DirectMessagesClosed, discord.HTTPException) as error:
                # Claimed already: it is not tried again, so it can never arrive twice.
                log.info("Could not send reminder %d: %s", reminder.id, error)
        return sent

    async def _scheduler(self) -> None:
        waiter: Any = getattr(self._client, "wait_until_ready", None)
        if waiter is not None:
            await waiter()
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_due()
                pause = await self._next_pause()
            except Exception:
                log.exception("The reminder scheduler failed; trying again shortly")
                pause = RETRY_SLEEP
            if self._wake.is_set():
                continue
            woken = asyncio.create_task(self._wake.wait())
            try:
                await done_within(woken, pause, self._sleep)
            finally:
                woken.cancel()
                await asyncio.wait({woken})

    async def _next_pause(self) -> float:
        due = await self._storage.reminders.next_due()
        if due is None:
            return MAX_SLEEP
        return min(MAX_SLEEP, max(MIN_SLEEP, (due - self._clock()).total_seconds()))
