"""Small key/value settings the bot keeps for itself (e.g. the command-sync hash)."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.database import Database
from bot.storage.schema import meta


class MetaRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, key: str) -> str | None:
        async with self._db.read() as conn:
            value: str | None = await conn.scalar(select(meta.c.value).where(meta.c.key == key))
            return value

    async def set(self, key: str, value: str) -> None:
        statement = self._db.upsert(
            meta, {"key": key, "value": value}, key=["key"], update=["value"]
        )
        async with self._db.write() as conn:
            await conn.execute(statement)
