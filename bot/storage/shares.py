"""Locks whose registered wearer allowed the bot to show their live status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select

from bot.storage.database import Database
from bot.storage.schema import lock_shares


class ShareRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def share(self, lock_id: int, user_id: int, now: datetime) -> None:
        statement = self._db.upsert(
            lock_shares,
            {"lock_id": lock_id, "user_id": user_id, "shared_at": now},
            key=["lock_id"],
            update=["user_id", "shared_at"],
        )
        async with self._db.write() as conn:
            await conn.execute(statement)

    async def unshare(self, lock_id: int) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(delete(lock_shares).where(lock_shares.c.lock_id == lock_id))
        return result.rowcount > 0

    async def shared_by(self, lock_id: int) -> int | None:
        """The member who shares the lock's status, or None when nobody does."""
        query = select(lock_shares.c.user_id).where(lock_shares.c.lock_id == lock_id)
        async with self._db.read() as conn:
            user_id: int | None = await conn.scalar(query)
        return user_id
