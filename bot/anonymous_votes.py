"""The bot's one anonymous vote per lock: who holds it, and when it frees up.

Chastity Tracker counts anonymous votes per address (games-api-v2: "Anonymous
voter (no bearer): uniqueness is by (token, session, ip)"), and every anonymous
vote the bot sends comes from its one address. So per lock token there is ONE
anonymous vote per cooldown window, shared by every member of every server.
This module keeps it from being wasted:

- while a community poll is open on the token (on any server), the poll holds
  it and single anonymous votes are refused with a pointer to the poll;
- once it is used (the bot's own success, or a cooldown refusal), further
  anonymous attempts are answered from memory, without a request that would
  be refused, with when it frees up.

The memory is in the database (``anonymous_votes``): shards of one bot share
the address, and a restart must not forget a window that lasts a day. The
contract documents the window ("waitint=1: vote again after 24 hours";
waitint=0: once ever) but no wait in its answers: after the bot's own success
the vote frees up in 24 hours at the earliest; after a refusal whose message
names a wait ("again in 23 h 59 min") that wait is used; after one that names
none, the bot asks again after :data:`RECHECK_AFTER`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

from bot.embeds.format import discord_time
from bot.error_messages import WAIT, UserError
from bot.storage import AnonymousVoteUse, Poll, Storage

VOTE_WINDOW: Final = timedelta(hours=24)
"""The documented LINK vote window (waitint=1); a once-ever lock never frees up."""
RECHECK_AFTER: Final = timedelta(hours=1)
"""After a cooldown refusal that names no wait: when the bot asks Chastity Tracker again."""

_UNIT_SECONDS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_AMOUNT: Final = re.compile(
    r"(\d{1,5})\s*(d(?:ays?)?|h(?:ours?|rs?)?|m(?:in(?:ute)?s?)?|s(?:ec(?:ond)?s?)?)\b",
    re.IGNORECASE,
)
_WAIT: Final = re.compile(
    r"\b(?:in|after)\s+((?:\d{1,5}\s*[a-z]+\s*(?:,|and)?\s*)+)", re.IGNORECASE
)


def parse_wait(message: str | None) -> timedelta | None:
    """The wait a refusal names ("vote again in 2 h 5 min"), or None when it names none."""
    if not message:
        return None
    match = _WAIT.search(message)
    if match is None:
        return None
    seconds = sum(
        int(amount) * _UNIT_SECONDS[unit[0].lower()]
        for amount, unit in _AMOUNT.findall(match.group(1))
    )
    return timedelta(seconds=seconds) if seconds > 0 else None


class AnonymousVoteMemory:
    """When the bot's anonymous vote on a token is used, in storage."""

    def __init__(self, storage: Storage, clock: Callable[[], datetime]) -> None:
        self._storage = storage
        self._clock = clock

    async def in_use(self, hashes: Sequence[bytes]) -> AnonymousVoteUse | None:
        """The use that still holds the vote, or None when it is free (as far as known)."""
        use = await self._storage.anonymous_votes.latest(hashes)
        if use is None or use.free_at <= self._clock():
            return None
        return use

    async def used(self, token_hash: bytes) -> None:
        """The bot's anonymous vote on the token just counted."""
        now = self._clock()
        await self._storage.anonymous_votes.record(
            token_hash, now, now + VOTE_WINDOW, wait_known=True
        )

    async def refused(self, token_hash: bytes, message: str | None) -> None:
        """Chastity Tracker refused an anonymous vote for cooldown."""
        now = self._clock()
        wait = parse_wait(message)
        await self._storage.anonymous_votes.record(
            token_hash, now, now + (wait or RECHECK_AFTER), wait_known=wait is not None
        )


# -- what members read -------------------------------------------------------------------


def _lock_words(lock_name: str | None) -> str:
    """``lock_name`` comes escaped and in bold (``bot.voting``), or is unknown."""
    return lock_name or "this lock"


def _connect_way(connected: bool) -> str:
    if connected:
        return "• Vote as yourself: vote again without `anonymous:true` (counted per member)."
    return "• Vote as yourself: connect your account with `/account connect`, then vote again."


def poll_link(poll: Poll) -> str:
    if poll.message_id is None:
        return f"<#{poll.channel_id}>"
    return f"https://discord.com/channels/{poll.guild_id}/{poll.channel_id}/{poll.message_id}"


class PollHoldsAnonymousVote(UserError):
    """A community poll is open on the lock: its vote is the bot's anonymous one."""

    def __init__(
        self, poll: Poll, *, lock_name: str | None, voter_guild_id: int | None, connected: bool
    ) -> None:
        self.poll = poll
        where = (
            " (on another server that registered this lock)"
            if voter_guild_id is not None and poll.guild_id != voter_guild_id
            else ""
        )
        super().__init__(
            f"{WAIT} Not sent: a community poll{where} holds the bot's one anonymous vote on "
            f"{_lock_words(lock_name)} and casts it {discord_time(poll.ends_at, 'R')}.\n"
            f"• Join the poll: {poll_link(poll)}\n"
            f"{_connect_way(connected)}"
        )


class AnonymousVoteUsed(UserError):
    """The bot's anonymous vote on the lock is known to be used: nothing is sent."""

    def __init__(self, use: AnonymousVoteUse, *, lock_name: str | None, connected: bool) -> None:
        self.use = use
        if use.wait_known:
            line = (
                f"{WAIT} Not sent: the bot's one anonymous vote on {_lock_words(lock_name)} is "
                "used; "
                f"it frees up {discord_time(use.free_at, 'R')} at the earliest."
            )
        else:
            line = (
                f"{WAIT} Not sent: the bot's one anonymous vote on {_lock_words(lock_name)} is "
                "used (Chastity Tracker did not say until when); the bot tries again "
                f"{discord_time(use.free_at, 'R')}."
            )
        super().__init__(
            f"{line}\n{_connect_way(connected)}\n"
            "• Or join a community poll on this lock (admins start one with `/locks poll`)."
        )


class AnonymousVoteBeingSent(UserError):
    def __init__(self, lock_name: str | None) -> None:
        super().__init__(
            f"{WAIT} Not sent: the bot's one anonymous vote on {_lock_words(lock_name)} is being "
            "sent "
            "right now for another member. Connect your account (`/account connect`) to vote "
            "as yourself."
        )
