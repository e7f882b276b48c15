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

Several processes may share one database (sharding on PostgreSQL). Each
holds a lease on its own liveness (``process:<owner>``), and one of them at
a time holds the ``poll-scheduler`` lease and closes the polls: the others
look again when that lease would expire, so when its holder crashed, one of
them takes over within ``lease_ttl``. The holder marks in doubt only the
closes whose process's lease has expired; a close another live process is
casting is left to it, and a process whose close was marked in doubt never
announces it as a success. Both
leases are renewed at every look of the scheduler (a heartbeat at most
``MAX_SLEEP`` apart) and released when the bot stops.

Time is the bot's injectable clock, and the scheduler's pauses its injectable
``sleep``. :meth:`PollService.run_due` closes every poll whose time is up; the
background loop calls it after each pause, and tests may call it directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.anonymous_votes import AnonymousVoteUsed, poll_link
from bot.ctapi import BadRequest, ChastityTrackerError, Choice, LinkResult
from bot.edits import EditCoalescer
from bot.embeds.format import discord_time, escape_name
from bot.embeds.voting import (
    POLL_LOCK_REMOVED,
    POLL_NO_VOTES,
    ResultSummary,
    poll_embed,
    poll_outcome,
    poll_result_embed,
)
from bot.error_messages import UserError, describe_error
from bot.error_messages import said as api_said
from bot.panels import CannotPost
from bot.plays import outcome_of
from bot.storage import Lock, Poll, Storage
from bot.storage.polls import PollStartRefused
from bot.timing import Sleep, done_within
from bot.vault import Vault, VaultError
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
CLOSE_CONCURRENCY: Final = 4
"""Polls closed at once: many polls ending together close a few at a time, each
waiting on Chastity Tracker and the database without holding up the others (or
other servers' interactions, which never wait on the closer)."""
STOP_GRACE: Final = 20.0
"""Seconds a stopping bot waits for a poll vote on its way to be answered and recorded."""
LEASE_TTL: Final = 90.0
"""Seconds a lease lasts unless renewed: three scheduler looks, so a slow close or a busy
database does not lose it; also how long a crashed process's polls wait for another."""
SCHEDULER_LEASE: Final = "poll-scheduler"
PROCESS_LEASE_PREFIX: Final = "process:"

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
        vault: Vault,
        max_open_polls: int = 10,
        close_concurrency: int = CLOSE_CONCURRENCY,
        lease_ttl: float = LEASE_TTL,
        owner: str | None = None,
    ) -> None:
        self._max_open_polls = max_open_polls
        self._vault = vault
        self._close_slots = asyncio.Semaphore(close_concurrency)
        # One look at a time in this process (the scheduler's, or a direct call): a
        # caller of run_due finds every due poll closed when it returns, by it or by
        # the look it waited for.
        self._looking = asyncio.Lock()
        self._client = client
        self._storage = storage
        self._votes = votes
        self._clock = clock
        self._sleep = sleep
        self._stop_grace = stop_grace
        self.lease_ttl = lease_ttl
        self.owner = owner or process_owner_id()
        """This process's lease owner id: host, process id and a random part."""
        self._leading = False
        self.edits = EditCoalescer(edit_interval)
        self._wake = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._stop_requested = asyncio.Event()
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
        self._stop_requested.set()
        self._wake.set()
        task, self._loop_task = self._loop_task, None
        if task is not None:
            # The loop ends after its current look. It is not cancelled at once:
            # cancelling could leave a vote that did count reported as in doubt, or
            # a database transaction half-way.
            await asyncio.wait({task}, timeout=self._stop_grace)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.edits.close()
        await self._release_leases()

    async def _scheduler(self) -> None:
        waiter: Any = getattr(self._client, "wait_until_ready", None)
        if waiter is not None:
            # A bot stopped before it was ready never starts the loop.
            ready = asyncio.ensure_future(waiter())
            stop = asyncio.ensure_future(self._stop_requested.wait())
            try:
                await asyncio.wait({ready, stop}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in (ready, stop):
                    waiting.cancel()
                await asyncio.wait({ready, stop})
            if self._stopping:
                return
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
        # The leases are renewed at each look: never pause for more than a third of them.
        longest = min(MAX_SLEEP, self.lease_ttl / 3)
        now = self._clock()
        if not self._leading:
            # Another process closes the polls: look again when its lease would expire.
            holder = await self._storage.leases.holder(SCHEDULER_LEASE, now)
            until = (holder.expires_at - now).total_seconds() if holder else 0.0
            return min(longest, max(MIN_SLEEP, until))
        open_polls = await self._storage.polls.list_open()
        if not open_polls:
            return longest
        until = (open_polls[0].ends_at - now).total_seconds()
        return min(longest, max(MIN_SLEEP, until))

    # -- leases --------------------------------------------------------------------------

    async def _lead(self) -> bool:
        """Renew this process's lease and take (or keep) the scheduler's; True if held.

        While it is held, the closes left by processes that are gone are
        recovered first.
        """
        await self._renew_own_lease()
        now = self._clock()
        expires = now + timedelta(seconds=self.lease_ttl)
        held = await self._storage.leases.take(SCHEDULER_LEASE, self.owner, now, expires)
        if held and not self._leading:
            log.info("This process (%s) closes the polls now", self.owner)
            await self._storage.leases.forget_expired(PROCESS_LEASE_PREFIX, now)
        if held:
            # At every look, not only on taking over: a crashed process's own lease
            # may outlive the scheduler lease it held by a moment.
            await self.recover()
            self._leading = True
        elif self._leading:
            log.warning("Another process took over closing the polls")
            self._leading = False
        return held

    async def _renew_own_lease(self) -> None:
        now = self._clock()
        expires = now + timedelta(seconds=self.lease_ttl)
        await self._storage.leases.take(PROCESS_LEASE_PREFIX + self.owner, self.owner, now, expires)

    async def _release_leases(self) -> None:
        try:
            await self._storage.leases.release(SCHEDULER_LEASE, self.owner)
            await self._storage.leases.release(PROCESS_LEASE_PREFIX + self.owner, self.owner)
        except Exception:
            # Not fatal: the leases expire on their own within lease_ttl.
            log.exception("Could not release the poll leases")
        self._leading = False

    async def _owner_alive(self, owner: str | None, now: datetime) -> bool:
        if owner is None:
            return False  # a close begun before leases existed
        if owner == self.owner:
            return True
        holder = await self._storage.leases.holder(PROCESS_LEASE_PREFIX + owner, now)
        return holder is not None and holder.owner == owner

    # -- starting and choosing ----------------------------------------------------------

    async def start(self, lock: Lock, channel_id: int, minutes: int, created_by: int) -> Poll:
        if not MIN_MINUTES <= minutes <= MAX_MINUTES:
            raise UserError(f"A poll lasts {MIN_MINUTES} to {MAX_MINUTES} minutes.")
        now = self._clock()
        started = await self._storage.polls.start_unless_active(
            lock.guild_id,
            channel_id,
            lock.id,
            created_by,
            now + timedelta(minutes=minutes),
            now,
            token_hashes=self._token_hashes(lock),
            guild_limit=self._max_open_polls,
        )
        if isinstance(started, PollStartRefused):
            raise _refusal(started, lock.guild_id, self._max_open_polls)
        poll = started
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
        self,
        member_id: int,
        poll_id: int,
        choice: Choice,
        *,
        guild_id: int | None,
        message_id: int | None,
    ) -> tuple[Poll, Choice | None]:
        """Record (or change) the member's choice; the poll it counts in, and the
        member's previous choice (None for a first choice).

        Only a click on the poll's own message, in its own server, counts: the
        button's custom_id is no proof of where it was clicked.
        """
        poll = await self._storage.polls.get(poll_id)
        if poll is None:
            raise PollGone()
        if poll.guild_id != guild_id or poll.message_id != message_id:
            log.warning("a click on poll %d came from another message or server", poll_id)
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
        """Close every open poll whose time is up; the ids closed by this call.

        Only the process holding the scheduler lease closes polls: in another,
        this does nothing (and returns no id). At most ``close_concurrency`` at once:
        a thousand polls ending together neither queue one behind the other nor flood
        Chastity Tracker and the database at once.
        """
        async with self._looking:
            return await self._close_due()

    async def _close_due(self) -> list[int]:
        if not await self._lead():
            return []
        now = self._clock()
        due = [poll for poll in await self._storage.polls.list_open() if poll.ends_at <= now]

        async def close_one(poll: Poll) -> int | None:
            async with self._close_slots:
                if self._stopping:
                    return None  # the next start closes the rest
                try:
                    return poll.id if await self.close_poll(poll) else None
                except Exception:
                    log.exception("Closing poll %d failed", poll.id)
                    return None

        results = await asyncio.gather(*(close_one(poll) for poll in due))
        return [poll_id for poll_id in results if poll_id is not None]

    def _token_hashes(self, lock: Lock) -> tuple[bytes, ...]:
        """The lock's token hashes, for finding a poll on the same token on any server."""
        try:
            return self._vault.token_hashes(self._vault.decrypt(lock.token_ciphertext))
        except VaultError:
            pass
        return (lock.token_hash,) if lock.token_hash is not None else ()

    async def close_poll(self, poll: Poll) -> bool:
        """Close ``poll``: at most one vote, ever. False if someone else closed it."""
        lock = await self._storage.locks.get(poll.lock_id) if poll.lock_id is not None else None

        def to_cast(tally: Mapping[Choice, int]) -> Choice | None:
            winner = winning_choice(tally)
            return winner if lock is not None else None

        self._closing.add(poll.id)
        try:
            # This process's lease outlives the close however many polls came before it.
            await self._renew_own_lease()
            # The intent is on record before anything is sent: a crash from here on
            # leaves the poll `closing`, which the next start reports and never re-casts.
            closing = await self._storage.polls.begin_close(
                poll.id, self._clock(), to_cast, owner=self.owner
            )
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
                    lock,
                    winner,
                    caster_id=self._caster_id(),
                    guild_id=poll.guild_id,
                    poll_id=poll.id,
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
        if not await self._storage.polls.finish_close(poll.id, outcome, detail, self._clock()):
            # Another process found this close abandoned (this one's lease had expired)
            # and reported it in doubt: that report stands, nothing more is said.
            log.warning(
                "Poll %d was reported in doubt by another process; outcome %s", poll.id, outcome
            )
            return
        log.info("Poll %d closed: %s", poll.id, outcome)
        await self._announce(poll, lock=lock, tally=tally, text=text, result=result, choice=winner)

    async def recover(self) -> list[int]:
        """Polls left `closing` by a process that is gone become in_doubt and are reported.

        Run at each look of the process holding the scheduler lease (so at start,
        and after taking over from a process that crashed). A close whose process
        still holds its lease is under way there, and is left alone.
        """
        now = self._clock()
        reported: list[int] = []
        for poll in await self._storage.polls.list_closing():
            if poll.id in self._closing:
                continue  # this service is casting it right now: not in doubt
            if await self._owner_alive(poll.closing_owner, now):
                continue  # another live process is casting it
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
        shown = escape_name(name) if name else "a removed lock"
        content = f"📊 **Community poll on {shown} closed.** {text}"
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


def _refusal(refused: PollStartRefused, guild_id: int, limit: int) -> UserError:
    poll = refused.existing
    if poll is None:
        return UserError(
            f"This server has {limit} community polls open, its limit. Start this one when "
            "one of them has ended."
        )
    where = poll_link(poll) if poll.guild_id == guild_id else "on another server"
    return UserError(
        "A community poll is already open on this lock "
        f"({where}, ending {discord_time(poll.ends_at, 'R')}): the bot has one anonymous "
        "vote per lock, so one poll at a time. Start this one when it has ended."
    )


def process_owner_id() -> str:
    """Who this process is, in leases and logs: host, process id, and a random part
    (a restarted container may get the same host name and process id)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"


def _nothing_to_cast(_tally: Mapping[Choice, int]) -> None:
    return None


def _refusal_reason(error: BaseException) -> str | None:
    """Why a poll's vote was not counted, for :func:`poll_outcome`."""
    if isinstance(error, AnonymousVoteUsed):
        return (
            "Not sent: the bot's one anonymous vote on this lock was already used; it "
            f"frees up {discord_time(error.use.free_at, 'R')}."
        )
    if isinstance(error, ChastityTrackerError) and outcome_of(error) == "unknown":
        return None  # poll_outcome says it for every unknown outcome
    if isinstance(error, BadRequest) and error.is_cooldown:
        said = f" ({api_said(error.message)})" if error.message else ""
        return (
            f"Chastity Tracker refused the vote for cooldown{said}. Anonymous votes through "
            "the bot share one vote per lock and cooldown window, and it was already used."
        )
    return f"The vote was not counted. {describe_error(error) or 'It failed.'}"


def _stored_outcome(poll: Poll) -> str | None:
    if poll.status in {"in_doubt", "closing"}:
        return poll_outcome(poll.status, poll.winning_choice)
    return poll_outcome(poll.outcome, poll.winning_choice)
