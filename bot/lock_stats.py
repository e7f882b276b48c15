"""A lock's statistics through the bot: votes by choice, time moved, voters, polls.

Anonymous voters are never named or counted one by one: the ledger knows who
clicked, but an anonymous vote was asked to be anonymous, so only their total
is given. The busiest voters are counted among logged votes alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.ctapi import Choice
from bot.storage import Lock, LockPoll
from bot.vote_results import vote_move

if TYPE_CHECKING:
    from bot.storage import Storage

TOP_VOTERS: Final = 5
POLLS_LISTED: Final = 5


@dataclass(frozen=True, slots=True)
class LockStats:
    lock_name: str
    by_choice: dict[Choice, int]
    penalties: int
    logged: int
    anonymous: int
    added_seconds: int
    removed_seconds: int
    top_voters: tuple[tuple[int, int], ...]  # (member id, logged votes), busiest first
    polls: tuple[LockPoll, ...]  # newest first
    poll_count: int

    @property
    def votes(self) -> int:
        return self.logged + self.anonymous


class LockStatsService:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def of(self, lock: Lock) -> LockStats:
        votes = await self._storage.lock_history.votes(lock.id)
        polls = await self._storage.lock_history.polls(lock.id)
        by_choice = dict.fromkeys(Choice, 0)
        voters: Counter[int] = Counter()
        penalties = added = removed = logged = 0
        for vote in votes:
            if vote.choice is not None:
                by_choice[vote.choice] += 1
            if vote.logged:
                logged += 1
                voters[vote.user_id] += 1
            move = vote_move(vote.detail_json)
            if move is None:
                continue
            penalties += move.penalty
            if move.seconds >= 0:
                added += move.seconds
            else:
                removed -= move.seconds
        return LockStats(
            lock_name=lock.name,
            by_choice=by_choice,
            penalties=penalties,
            logged=logged,
            anonymous=len(votes) - logged,
            added_seconds=added,
            removed_seconds=removed,
            # Ties go to who voted first, so the order is stable.
            top_voters=tuple(voters.most_common(TOP_VOTERS)),
            polls=tuple(polls[:POLLS_LISTED]),
            poll_count=len(polls),
        )
