"""When the bot's one anonymous vote on a lock token was used, and when it frees up.

Chastity Tracker counts anonymous votes per address and the bot has one, so
this is shared by every server and every process of the bot: it lives in the
database (a restart or another shard must not send a vote it knows will be
refused), keyed by the token's keyed hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bot.storage.database import Database
from bot.storage.schema import anonymous_votes


@dataclass(frozen=True, slots=True)
class AnonymousVoteUse:
    used_at: datetime
    free_at: datetime
    wait_known: bool  # False: Chastity Tracker did not say; free_at is when to ask again


class AnonymousVoteRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def latest(self, hashes: Sequence[bytes]) -> AnonymousVoteUse | None:
        """The use that frees up last among ``hashes`` (one token under every key)."""
        query = (
            select(
                anonymous_votes.c.used_at, anonymous_votes.c.free_at, anonymous_votes.c.wait_known
            )
            .where(anonymous_votes.c.token_hash.in_(list(hashes)))
            .order_by(anonymous_votes.c.free_at.desc())
            .limit(1)
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            return None
        return AnonymousVoteUse(row.used_at, row.free_at, bool(row.wait_known))

    async def record(
        self, token_hash: bytes, used_at: datetime, free_at: datetime, *, wait_known: bool
    ) -> None:
        statement = self._db.upsert(
            anonymous_votes,
            {
                "token_hash": token_hash,
                "used_at": used_at,
                "free_at": free_at,
                "wait_known": wait_known,
            },
            key=["token_hash"],
            update=["used_at", "free_at", "wait_known"],
        )
        async with self._db.write() as conn:
            await conn.execute(statement)
