"""Every play and vote attempt, recorded before it is sent and finished after.

An entry left ``pending`` means the bot stopped between sending and recording
the answer; like ``unknown``, its outcome must be checked on Chastity Tracker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, get_args

from sqlalchemy import Connection, bindparam, func, insert, select, update

from bot.ctapi.models import Choice
from bot.storage.database import AnyRow, Database
from bot.storage.schema import ledger

Outcome = Literal["ok", "refused", "unknown", "error"]
LedgerStatus = Literal["pending", "ok", "refused", "unknown", "error"]
_OUTCOMES: Final = get_args(Outcome)


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    id: int
    user_id: int
    guild_id: int | None
    game: str
    dom: bool
    session: int | None
    lock_id: int | None
    choice: Choice | None
    logged: bool
    status: LedgerStatus
    detail_json: str | None
    created_at: datetime
    finished_at: datetime | None


_COLUMNS: Final = (
    ledger.c.id,
    ledger.c.user_id,
    ledger.c.guild_id,
    ledger.c.game,
    ledger.c.dom,
    ledger.c.session,
    ledger.c.lock_id,
    ledger.c.choice,
    ledger.c.logged,
    ledger.c.status,
    ledger.c.detail_json,
    ledger.c.created_at,
    ledger.c.finished_at,
)


def _entry(row: AnyRow) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        user_id=row.user_id,
        guild_id=row.guild_id,
        game=row.game,
        dom=bool(row.dom),
        session=row.session,
        lock_id=row.lock_id,
        choice=Choice(row.choice) if row.choice else None,
        logged=bool(row.logged),
        status=row.status,
        detail_json=row.detail_json,
        created_at=row.created_at,
        finished_at=row.finished_at,
    )


# Every play runs these two: built once, so a play only binds its values.
_START: Final = insert(ledger).values(status="pending").returning(ledger.c.id)
_FINISH: Final = (
    update(ledger)
    .where(ledger.c.id == bindparam("entry_id"), ledger.c.status == "pending")
    .values(
        status=bindparam("outcome"),
        detail_json=bindparam("detail"),
        finished_at=bindparam("now"),
    )
)


class LedgerRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def start(  # noqa: PLR0917 - positional order is the documented interface
        self,
        user_id: int,
        guild_id: int | None,
        game: str,
        dom: bool,
        session: int | None,
        lock_id: int | None,
        choice: Choice | None,
        logged: bool,
        now: datetime,
    ) -> int:
        """Record an attempt as pending (call before sending); returns the entry id."""
        values = {
            "user_id": user_id,
            "guild_id": guild_id,
            "game": game,
            "dom": dom,
            "session": session,
            "lock_id": lock_id,
            "choice": Choice(choice).value if choice else None,
            "logged": logged,
            "created_at": now,
        }

        def insert_pending(conn: Connection) -> int:
            return int(conn.execute(_START, values).scalar_one())

        # Committed before this returns: the attempt is durable before it is sent.
        return await self._db.run_write(insert_pending)

    async def finish(
        self, entry_id: int, outcome: Outcome, detail_json: str, now: datetime
    ) -> bool:
        """Record how the attempt ended; False if the entry was not pending."""
        if outcome not in _OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(_OUTCOMES)}, not {outcome!r}")
        values = {"entry_id": entry_id, "outcome": outcome, "detail": detail_json, "now": now}

        def finish_pending(conn: Connection) -> bool:
            return conn.execute(_FINISH, values).rowcount == 1

        return await self._db.run_write(finish_pending)

    async def get(self, entry_id: int) -> LedgerEntry | None:
        async with self._db.read() as conn:
            row = (
                await conn.execute(select(*_COLUMNS).where(ledger.c.id == entry_id))
            ).one_or_none()
        return None if row is None else _entry(row)

    async def recent(self, user_id: int, limit: int = 10) -> list[LedgerEntry]:
        """The member's latest attempts, newest first."""
        query = (
            select(*_COLUMNS)
            .where(ledger.c.user_id == user_id)
            .order_by(ledger.c.id.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_entry(row) for row in rows]

    async def recent_sessions(self, user_id: int, limit: int = 10) -> list[int]:
        """Distinct sessions the member played through the bot, most recently played first."""
        last_played = func.max(ledger.c.id)
        query = (
            select(ledger.c.session)
            .where(ledger.c.user_id == user_id, ledger.c.session.is_not(None))
            .group_by(ledger.c.session)
            .order_by(last_played.desc())
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [int(session) for session in (await conn.scalars(query)).all()]
