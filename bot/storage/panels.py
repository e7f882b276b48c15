"""Voting panels: a message with buttons that vote on one lock, kept across restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update

from bot.storage.database import AnyRow, Database
from bot.storage.errors import GuildLimitReached
from bot.storage.schema import panels


@dataclass(frozen=True, slots=True)
class Panel:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None  # None until the message has been posted
    lock_id: int
    created_at: datetime
    last_result_json: str | None
    last_result_at: datetime | None


_COLUMNS: Final = (
    panels.c.id,
    panels.c.guild_id,
    panels.c.channel_id,
    panels.c.message_id,
    panels.c.lock_id,
    panels.c.created_at,
    panels.c.last_result_json,
    panels.c.last_result_at,
)
_BY_ID: Final = select(*_COLUMNS).where(panels.c.id == bindparam("id"))


def _panel(row: AnyRow) -> Panel:
    return Panel(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        message_id=row.message_id,
        lock_id=row.lock_id,
        created_at=row.created_at,
        last_result_json=row.last_result_json,
        last_result_at=row.last_result_at,
    )


class PanelRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def create(
        self,
        guild_id: int,
        channel_id: int,
        lock_id: int,
        now: datetime,
        *,
        guild_limit: int | None = None,
    ) -> Panel:
        """Record the panel before posting it, so its buttons can carry its id.

        :class:`GuildLimitReached` when the guild has ``guild_limit`` panels.
        """
        statement = (
            insert(panels)
            .values(guild_id=guild_id, channel_id=channel_id, lock_id=lock_id, created_at=now)
            .returning(*_COLUMNS)
        )
        async with self._db.write() as conn:
            if guild_limit is not None:
                await self._db.serialise(conn, f"panels:{guild_id}")
                counted = await conn.scalar(
                    select(func.count()).select_from(panels).where(panels.c.guild_id == guild_id)
                )
                if int(counted or 0) >= guild_limit:
                    raise GuildLimitReached(guild_id, guild_limit)
            row = (await conn.execute(statement)).one()
        return _panel(row)

    async def set_message(self, panel_id: int, message_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(panels).where(panels.c.id == panel_id).values(message_id=message_id)
            )

    async def get(self, panel_id: int) -> Panel | None:
        # Every click on a panel reads it: the short way to the database.
        ids = {"id": panel_id}
        row = await self._db.run_read(lambda conn: conn.execute(_BY_ID, ids).one_or_none())
        return None if row is None else _panel(row)

    async def record_result(self, panel_id: int, summary_json: str, now: datetime) -> None:
        """Remember the latest result shown on the panel (to redraw it after a restart)."""
        statement = (
            update(panels)
            .where(panels.c.id == panel_id)
            .values(last_result_json=summary_json, last_result_at=now)
        )

        def record(conn: Connection) -> None:
            conn.execute(statement)

        await self._db.run_write(record)

    async def delete(self, panel_id: int) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(delete(panels).where(panels.c.id == panel_id))
        return result.rowcount > 0

    async def for_lock(self, lock_id: int) -> list[Panel]:
        """The lock's panels, oldest first."""
        query = select(*_COLUMNS).where(panels.c.lock_id == lock_id).order_by(panels.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_panel(row) for row in rows]

    async def count(self, guild_id: int) -> int:
        """The server's panels (for its limit)."""
        async with self._db.read() as conn:
            counted = await conn.scalar(
                select(func.count()).select_from(panels).where(panels.c.guild_id == guild_id)
            )
        return int(counted or 0)
