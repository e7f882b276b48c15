"""Community polls: many members choose, the bot casts ONE anonymous vote at the end.

Anonymous votes through the bot share one vote per lock and cooldown window
(they all come from the bot's address), so a poll turns many anonymous
members into one well-founded anonymous vote.

Closing is crash-safe (see ``bot.storage.polls``): ``begin_close`` freezes the
choices and records the winning choice before the vote is sent, and
``finish_close`` the outcome after. A poll found ``closing`` at start may or
may not have reached Chastity Tracker: it is marked ``in_doubt``, reported in
its channel and never cast again. A bot that stops while casting lets that one
vote finish first (within a grace period), so a plain restart does not leave
a poll in doubt.

Time is the bot's injectable clock, and the scheduler's pauses its injectable
``sleep``. :meth:`PollService.run_due` closes every poll whose time is up; the
background loop calls it after each pause, and tests may call it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.ctapi import BadRequest, ChastityTrackerError, Choice, LinkResult
from bot.edits import EditCoalescer
from bot.embeds.voting import (
    POLL_LOCK_REMOVED,
    POLL_NO_VOTES,
    ResultSummary,
    poll_embed,
    poll_outcome,
    poll_result_embed,
)
from bot.error_messages import UserError, describe_error
from bot.panels import CannotPost
from bot.plays import outcome_of
from bot.storage import Lock, Poll, Storage
from bot.timing import Sleep, done_within
from bot.views.buttons import poll_view
from bot.voting import VoteService

log = logging.getLogger(__name__)

MIN_MINUTES: Final = 5
MAX_MINUTES: Final = 1440
POLL_EDIT_INTERVAL: Final = 5.0
"""Seconds between two tally edits of one poll message."""
MAX_SLEEP: Final = 30.0
"""The scheduler looks at least this often (the clock can jump, e.g. after a suspend)."""
MIN_SLEEP: Final = 0.5
"""Shortest pause between two looks, so a poll that will not close cannot spin the loop."""
RETRY_SLEEP: Final = MAX_SLEEP
"""Pause after the scheduler itself failed (e.g. the database was unreachable)."""
STOP_GRACE: Final = 30.0
"""Seconds a stopping bot waits for a poll vote on its way to be answered and recorded."""

# What finish_close records as the outcome, besides the ledger outcomes (ok, refused, ...).
NO_VOTES: Final = POLL_NO_VOTES
LOCK_REMOVED: Final = POLL_LOCK_REMOVED


class PollClosed(UserError):
    def __init__(self) -> None:
        super().__init__("This poll has ended: choices can no longer change.")


class PollGone(UserError):
    def __init__(self) -> None:
        super().__init__("This poll no longer exists.")


def winning_choice(tally: Mapping[Choice, int]) -> Choice | None:
    """The choice most members picked; a tie goes to rand; nobody chose: None."""
    best = max(tally.values(), default=0)
    if best == 0:
        return None
    leaders = [choice for choice, count in tally.items() if count == best]
    return Choice(leaders[0]) if len(leaders) == 1 else Choice.RAND


class PollService:
    def __init__(
        self,
        *,
        client: discord.Client,
        storage: Storage,
        votes: VoteService,
        clock: Callable[[], datetime],
        sleep: Sleep = asyncio.sleep,
        edit_interval: float = POLL_EDIT_INTERVAL,
        stop_grace: float = STOP_GRACE,
    ) -> None:
        self._client = client
        self._storage = storage
        self._votes = votes
        self._clock = clock
        self._sleep = sleep
        self._stop_grace = stop_grace
        self.edits = EditCoalescer(edit_interval)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        # Polls this service is closing right now: `closing` in storage, but not in doubt.
        self._closing: set[int] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start_scheduler(self) -> None:
        """Recover and close overdue polls once the bot is ready, then keep watching."""
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._scheduler(), name="poll-scheduler")

    def wake(self) -> None:
        """Make the scheduler look at the polls now (e.g. after the clock jumped)."""
        self._wake.set()

    async def close(self) -> None:
        """Stop the scheduler; a poll vote on its way is let finish and recorded first."""
        self._stopping = True
        self._wake.set()
        task, self._loop_task = self._loop_task, None
        if task is not None:
            if self._closing:
                # Cancelling now could leave a vote that did count reported as in doubt.
                await asyncio.wait({task}, timeout=self._stop_grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.edits.close()

    async def _scheduler(self) -> None:
        waiter: Any = getattr(self._client, "wait_until_ready", None)
        if waiter is not None:
            await waiter()
        try:
            await self.recover()
        except Exception:
            log.exception("Recovering polls at start failed")
        while not self._stopping:
            # Cleared before looking, so a wake-up during the look is not lost.
            self._wake.clear()
            try:
                await self.run_due()
                pause = await self._next_pause()
            except Exception:
                log.exception("The poll scheduler failed; trying again shortly")
                pause = RETRY_SLEEP
            if self._wake.is_set():
                continue  # woken during the look: look again at once
            woken = asyncio.create_task(self._wake.wait())
            try:
                await done_within(woken, pause, self._sleep)
            finally:
                woken.cancel()
                await asyncio.wait({woken})

    async def _next_pause(self) -> float:
        open_polls = await self._storage.polls.list_open()
        if not open_polls:
            return MAX_SLEEP
        until = (open_polls[0].ends_at - self._clock()).total_seconds()
        return min(MAX_SLEEP, max(MIN_SLEEP, until))

    # -- starting and choosing ----------------------------------------------------------

    async def start(self, lock: Lock, channel_id: int, minutes: int, created_by: int) -> Poll:
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise UserError(f"A poll lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.")
        now = self._clock()
        poll = await self._storage.polls.create(
            lock.guild_id, channel_id, lock.id, created_by, now + timedelta(minutes=minutes), now
        )
        channel = self._client.get_partial_messageable(channel_id, guild_id=lock.guild_id)
        try:
            message = await channel.send(
                embed=poll_embed(
                    lock_name=lock.name, ends_at=poll.ends_at, tally={}, started_by=created_by
                ),
                view=poll_view(poll.id),
            )
        except discord.HTTPException as error:
            # Never shown, so nobody chose: close it as empty at once.
            log.info("Could not post poll %d in channel %d: %s", poll.id, channel_id, error)
            if await self._storage.polls.begin_close(poll.id, now, _nothing_to_cast):
                await self._storage.polls.finish_close(poll.id, "not_posted", None, now)
            raise CannotPost(channel_id) from None
        await self._storage.polls.set_message(poll.id, message.id)
        self._wake.set()
        return poll

    async def choose(
        self, member_id: int, poll_id: int, choice: Choice
    ) -> tuple[Poll, Choice | None]:
        """Record (or change) the member's choice; the poll it counts in, and the
        member's previous choice (None for a first choice)."""
        poll = await self._storage.polls.get(poll_id)
        if poll is None:
            raise PollGone()
        now = self._clock()
        if poll.status != "open" or now >= poll.ends_at:
            self._wake.set()
            raise PollClosed()
        change = await self._storage.polls.change_choice(poll_id, member_id, choice, now)
        if change is None:
            raise PollClosed()
        self.refresh(poll_id)
        return poll, change.previous

    # -- closing -------------------------------------------------------------------------

    async def run_due(self) -> list[int]:
        """Close every open poll whose time is up; the ids closed by this call."""
        now = self._clock()
        due = [poll for poll in await self._storage.polls.list_open() if poll.ends_at <= now]
        closed: list[int] = []
        for poll in due:
            if self._stopping:
                break  # the next start closes the rest
            try:
                if await self.close_poll(poll):
                    closed.append(poll.id)
            except Exception:
                log.exception("Closing poll %d failed", poll.id)
        return closed

    async def close_poll(self, poll: Poll) -> bool:
        """Close ``poll``: at most one vote, ever. False if someone else closed it."""
        lock = await self._storage.locks.get(poll.lock_id) if poll.lock_id is not None else None

        def to_cast(tally: Mapping[Choice, int]) -> Choice | None:
            winner = winning_choice(tally)
            return winner if lock is not None else None

        self._closing.add(poll.id)
        try:
            # The intent is on record before anything is sent: a crash from here on
            # leaves the poll `closing`, which the next start reports and never re-casts.
            closing = await self._storage.polls.begin_close(poll.id, self._clock(), to_cast)
            if closing is None:
                return False
            try:
                await self._cast_and_report(poll, lock, closing.tally)
            except Exception:
                # The vote may or may not have gone out: say so now, never send it again.
                log.exception("Closing poll %d failed", poll.id)
                await self._report_in_doubt(poll.id, "Something went wrong while casting")
        finally:
            self._closing.discard(poll.id)
        return True

    async def _cast_and_report(
        self, poll: Poll, lock: Lock | None, tally: Mapping[Choice, int]
    ) -> None:
        winner = winning_choice(tally)
        result: LinkResult | None = None
        detail: str | None = None
        reason: str | None = None
        failure: str | None = None
        if winner is None:
            outcome = NO_VOTES
        elif lock is None:
            outcome = LOCK_REMOVED
        else:
            try:
                result = await self._votes.cast_anonymous(
                    lock, winner, caster_id=self._caster_id(), guild_id=poll.guild_id
                )
            except (ChastityTrackerError, UserError) as error:
                outcome = outcome_of(error) if isinstance(error, ChastityTrackerError) else "error"
                reason = _refusal_reason(error)
                failure = type(error).__name__
            else:
                outcome = "ok"
                detail = ResultSummary.of(result, winner, self._clock()).to_json()
        text = poll_outcome(outcome, winner, reason=reason) or ""
        if failure is not None:
            detail = json.dumps({"error": failure, "message": text})
        await self._storage.polls.finish_close(poll.id, outcome, detail, self._clock())
        log.info("Poll %d closed: %s", poll.id, outcome)
        await self._announce(poll, lock=lock, tally=tally, text=text, result=result, choice=winner)

    async def recover(self) -> list[int]:
        """At start: polls left `closing` by a crash become in_doubt and are reported."""
        reported: list[int] = []
        for poll in await self._storage.polls.list_closing():
            if poll.id in self._closing:
                continue  # this service is casting it right now: not in doubt
            if await self._report_in_doubt(poll.id, "The bot stopped while casting"):
                log.warning("Poll %d was closing during a stop; marked in doubt", poll.id)
                reported.append(poll.id)
        return reported

    async def _report_in_doubt(self, poll_id: int, what_happened: str) -> bool:
        """closing -> in_doubt, said in the poll's channel; False if it was not closing."""
        if not await self._storage.polls.mark_in_doubt(poll_id, self._clock()):
            return False
        poll = await self._storage.polls.get(poll_id)
        if poll is None:
            return True
        lock = await self._storage.locks.get(poll.lock_id) if poll.lock_id else None
        tally = await self._storage.polls.tally(poll.id)
        choice = poll.winning_choice
        what = f" for **{choice.label}**" if choice else ""
        text = (
            f"{what_happened} this poll's anonymous vote{what}. It may or may not have reached "
            "Chastity Tracker, so it will **not** be sent again: check the lock's history on "
            "Chastity Tracker."
        )
        await self._announce(poll, lock=lock, tally=tally, text=text, result=None, choice=None)
        return True

    async def _announce(
        self,
        poll: Poll,
        *,
        lock: Lock | None,
        tally: Mapping[Choice, int],
        text: str,
        result: LinkResult | None,
        choice: Choice | None,
    ) -> None:
        """Reply once to the poll message with the outcome and the final tally, then
        show the poll message itself as closed."""
        name = lock.name if lock is not None else None
        embed = poll_result_embed(lock_name=name, tally=tally, result=result, choice=choice)
        channel = self._client.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        content = f"📊 **Community poll on {name or 'a removed lock'} closed.** {text}"
        reference = (
            channel.get_partial_message(poll.message_id).to_reference(fail_if_not_exists=False)
            if poll.message_id is not None
            else None
        )
        try:
            try:
                await channel.send(content, embed=embed, reference=reference)  # type: ignore[arg-type]
            except discord.HTTPException:
                if reference is None:
                    raise
                # A reply needs Read Message History (Discord's 160002); without it, the
                # same post stands alone. Posting again plays nothing twice.
                await channel.send(content, embed=embed)
        except discord.HTTPException as error:
            log.warning("Could not post the result of poll %d: %s", poll.id, error)
        await self.edits.now(("poll", poll.id), lambda: self.redraw(poll.id, outcome=text))

    def _caster_id(self) -> int:
        # The ledger names who acted; a poll's vote is the bot's own.
        user = self._client.user
        return user.id if user is not None else 0

    # -- drawing -------------------------------------------------------------------------

    def refresh(self, poll_id: int) -> None:
        self.edits.request(("poll", poll_id), lambda: self.redraw(poll_id))

    async def redraw(self, poll_id: int, *, outcome: str | None = None) -> None:
        poll = await self._storage.polls.get(poll_id)
        if poll is None or poll.message_id is None:
            return
        lock = await self._storage.locks.get(poll.lock_id) if poll.lock_id is not None else None
        tally = await self._storage.polls.tally(poll_id)
        closed = poll.status != "open"
        embed = poll_embed(
            lock_name=lock.name if lock is not None else None,
            ends_at=poll.ends_at,
            tally=tally,
            started_by=poll.created_by,
            closed=closed,
            outcome=outcome or _stored_outcome(poll),
        )
        channel = self._client.get_partial_messageable(poll.channel_id, guild_id=poll.guild_id)
        try:
            await channel.get_partial_message(poll.message_id).edit(
                embed=embed, view=poll_view(poll.id, closed=closed)
            )
        except discord.NotFound:
            log.info("Poll %d's message is gone; the poll goes on without it", poll.id)


def _nothing_to_cast(_tally: Mapping[Choice, int]) -> None:
    return None


def _refusal_reason(error: BaseException) -> str | None:
    """Why a poll's vote was not counted, for :func:`poll_outcome`."""
    if isinstance(error, ChastityTrackerError) and outcome_of(error) == "unknown":
        return None  # poll_outcome says it for every unknown outcome
    if isinstance(error, BadRequest) and error.is_cooldown:
        said = f" ({error.message})" if error.message else ""
        return (
            f"Chastity Tracker refused the vote for cooldown{said}. Anonymous votes through "
            "the bot share one vote per lock and cooldown window, and it was already used."
        )
    return f"The vote was not counted. {describe_error(error) or 'It failed.'}"


def _stored_outcome(poll: Poll) -> str | None:
    if poll.status in {"in_doubt", "closing"}:
        return poll_outcome(poll.status, poll.winning_choice)
    return poll_outcome(poll.outcome, poll.winning_choice)
