"""``Database.run_read`` / ``run_write``: plain functions in one transaction, on both databases.

On a SQLite file they run on the database's own thread with a synchronous
engine; elsewhere through ``AsyncConnection.run_sync``. Either way a write is
committed before ``run_write`` returns, and undone when the function raises.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, insert, select

from bot.storage import Storage
from bot.storage.database import SqliteThread
from bot.storage.schema import ledger

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def pending(user_id: int) -> dict[str, object]:
    return {
        "user_id": user_id,
        "game": "dice",
        "dom": False,
        "logged": True,
        "status": "pending",
        "created_at": NOW,
    }


async def users_in_ledger(storage: Storage) -> list[int]:
    async with storage._database.read() as conn:
        return list((await conn.scalars(select(ledger.c.user_id))).all())


async def test_a_write_is_committed_when_run_write_returns(storage: Storage) -> None:
    def add(conn: Connection) -> int:
        return int(
            conn.execute(insert(ledger).values(pending(7)).returning(ledger.c.id)).scalar_one()
        )

    entry_id = await storage._database.run_write(add)
    # Seen through the other way to the database: it is committed, not just written.
    assert await users_in_ledger(storage) == [7]
    entry = await storage.ledger.get(entry_id)
    assert entry is not None
    assert entry.created_at == NOW


async def test_a_write_that_raises_leaves_nothing(storage: Storage) -> None:
    def add_then_fail(conn: Connection) -> None:
        conn.execute(insert(ledger).values(pending(8)))
        raise LookupError("after the insert")

    with pytest.raises(LookupError, match="after the insert"):
        await storage._database.run_write(add_then_fail)
    assert await users_in_ledger(storage) == []


async def test_a_read_sees_what_the_async_side_wrote(storage: Storage) -> None:
    await storage.ledger.start(9, None, "dice", False, 5, None, None, True, NOW)

    def count(conn: Connection) -> list[int]:
        return list(conn.scalars(select(ledger.c.session)).all())

    assert await storage._database.run_read(count) == [5]


async def test_the_sqlite_thread_survives_errors_and_abandoned_jobs() -> None:
    worker = SqliteThread()
    release = threading.Event()
    try:
        with pytest.raises(ZeroDivisionError):
            await worker.run(lambda: 1 / 0)
        # A job whose task gives up still runs to its end; the thread goes on after it.
        slow = asyncio.create_task(worker.run(lambda: release.wait(5)))
        await asyncio.sleep(0.01)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        release.set()
        assert await worker.run(lambda: threading.current_thread().name) == "sqlite"
    finally:
        worker.stop()
