"""``Database.run_read`` / ``run_write``: plain functions in one transaction, on both databases.

On a SQLite file they run on the database's own thread with a synchronous
engine; elsewhere through ``AsyncConnection.run_sync``. Either way a write is
committed before ``run_write`` returns, and undone when the function raises.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, insert, select
from sqlalchemy.exc import OperationalError

from bot.storage import Storage
from bot.storage import database as database_module
from bot.storage.database import SqliteThread, Work
from bot.storage.schema import ledger
from tests.fixtures.storage import sqlite_url

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


def run_each(works: Sequence[Work[Any]], write: bool) -> list[tuple[bool, Any]]:
    """A stand-in for the database: each work called with no connection."""
    outcomes: list[tuple[bool, Any]] = []
    for work in works:
        try:
            outcomes.append((True, work(None)))  # type: ignore[arg-type]
        except Exception as error:
            outcomes.append((False, error))
    return outcomes


async def test_the_sqlite_thread_survives_errors_and_abandoned_jobs() -> None:
    worker = SqliteThread(run_each)
    release = threading.Event()
    try:
        with pytest.raises(ZeroDivisionError):
            await worker.run(lambda _conn: 1 / 0, write=False)
        # A job whose task gives up still runs to its end; the thread goes on after it.
        slow = asyncio.create_task(worker.call(lambda: release.wait(5)))
        await asyncio.sleep(0.01)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        release.set()
        assert await worker.call(lambda: threading.current_thread().name) == "sqlite"
    finally:
        worker.stop()


def returns(value: int) -> Work[int]:
    return lambda _conn: value


async def test_work_queued_together_is_batched_by_kind_in_order() -> None:
    batches: list[tuple[bool, list[int]]] = []

    def record(works: Sequence[Work[Any]], write: bool) -> list[tuple[bool, Any]]:
        outcomes = run_each(works, write)
        batches.append((write, [value for _, value in outcomes]))
        return outcomes

    worker = SqliteThread(record)
    release = threading.Event()
    try:
        held = asyncio.create_task(worker.call(lambda: release.wait(5)))
        await asyncio.sleep(0.01)
        kinds = [True, True, True, False, False, True]
        jobs = [
            asyncio.create_task(worker.run(returns(n), write=write))
            for n, write in enumerate(kinds)
        ]
        await asyncio.sleep(0.01)
        release.set()
        assert await held
        assert await asyncio.gather(*jobs) == list(range(len(kinds)))
    finally:
        worker.stop()
    assert batches == [(True, [0, 1, 2]), (False, [3, 4]), (True, [5])]


async def hold_the_thread(storage: Storage, release: threading.Event) -> asyncio.Task[bool]:
    """Keep the SQLite thread busy until ``release``, so the next work queues up."""
    database = storage._database
    await database.run_read(lambda conn: None)  # the thread exists from here on
    assert database._worker is not None
    held = asyncio.create_task(database._worker.call(lambda: release.wait(5)))
    await asyncio.sleep(0.01)
    return held


def count_transactions(storage: Storage) -> list[str]:
    started: list[str] = []
    engine = storage._database._sync_engine
    assert engine is not None
    event.listen(engine, "begin", lambda conn: started.append("begin"))
    return started


async def test_plays_starting_together_share_one_commit_and_each_get_their_entry(
    sqlite_storage: Storage,
) -> None:
    release = threading.Event()
    held = await hold_the_thread(sqlite_storage, release)
    transactions = count_transactions(sqlite_storage)
    starts = [
        asyncio.create_task(
            sqlite_storage.ledger.start(user, None, "dice", False, 5, None, None, True, NOW)
        )
        for user in range(20)
    ]
    await asyncio.sleep(0.01)
    release.set()
    await held
    entry_ids = await asyncio.gather(*starts)
    assert len(transactions) == 1
    assert len(set(entry_ids)) == 20
    for user, entry_id in enumerate(entry_ids):
        entry = await sqlite_storage.ledger.get(entry_id)
        assert entry is not None
        assert (entry.user_id, entry.status) == (user, "pending")


async def test_a_failing_work_in_a_batch_fails_alone(sqlite_storage: Storage) -> None:
    def add(user_id: int) -> Work[int]:
        def work(conn: Connection) -> int:
            return int(
                conn.execute(
                    insert(ledger).values(pending(user_id)).returning(ledger.c.id)
                ).scalar_one()
            )

        return work

    def add_then_fail(conn: Connection) -> None:
        conn.execute(insert(ledger).values(pending(99)))
        raise LookupError("after the insert")

    release = threading.Event()
    held = await hold_the_thread(sqlite_storage, release)
    database = sqlite_storage._database
    jobs = [
        asyncio.create_task(database.run_write(add(1))),
        asyncio.create_task(database.run_write(add_then_fail)),
        asyncio.create_task(database.run_write(add(2))),
    ]
    await asyncio.sleep(0.01)
    release.set()
    await held
    first, failed, last = await asyncio.gather(*jobs, return_exceptions=True)
    assert isinstance(failed, LookupError)
    assert isinstance(first, int)
    assert isinstance(last, int)
    assert sorted(await users_in_ledger(sqlite_storage)) == [1, 2]


async def test_a_read_queued_after_a_write_sees_it(sqlite_storage: Storage) -> None:
    release = threading.Event()
    held = await hold_the_thread(sqlite_storage, release)
    start = asyncio.create_task(
        sqlite_storage.ledger.start(3, None, "dice", False, 11, None, None, True, NOW)
    )
    sessions = asyncio.create_task(
        sqlite_storage._database.run_read(
            lambda conn: list(conn.scalars(select(ledger.c.session)).all())
        )
    )
    await asyncio.sleep(0.01)
    release.set()
    await held
    await start
    assert await sessions == [11]


def count_checkouts(storage: Storage) -> list[str]:
    checkouts: list[str] = []
    engine = storage._database._sync_engine
    assert engine is not None
    event.listen(engine.pool, "checkout", lambda *_args: checkouts.append("checkout"))
    return checkouts


async def test_the_sqlite_thread_keeps_one_connection_per_kind_between_batches(
    sqlite_storage: Storage,
) -> None:
    database = sqlite_storage._database
    await database.run_read(lambda conn: None)  # the engine exists from here on
    checkouts = count_checkouts(sqlite_storage)
    for user in range(5):
        entry_id = await sqlite_storage.ledger.start(
            user, None, "dice", False, 5, None, None, True, NOW
        )
        assert await sqlite_storage.ledger.finish(entry_id, "ok", "{}", NOW)
        await database.run_read(lambda conn: list(conn.scalars(select(ledger.c.id))))
    # At most the write connection is new here; the read one was opened above.
    assert len(checkouts) <= 1
    # Nothing is left open between batches: a read ended its transaction too.
    assert all(not conn.in_transaction() for conn in database._held.values())
    assert sorted(await users_in_ledger(sqlite_storage)) == list(range(5))


async def test_after_a_failed_batch_the_next_starts_on_a_fresh_connection(
    sqlite_storage: Storage,
) -> None:
    database = sqlite_storage._database
    await database.run_write(lambda conn: None)
    checkouts = count_checkouts(sqlite_storage)

    def add_then_fail(conn: Connection) -> None:
        conn.execute(insert(ledger).values(pending(4)))
        raise LookupError("after the insert")

    with pytest.raises(LookupError):
        await database.run_write(add_then_fail)
    assert checkouts == []
    entry_id = await sqlite_storage.ledger.start(5, None, "dice", False, 5, None, None, True, NOW)
    assert checkouts == ["checkout"]
    assert await users_in_ledger(sqlite_storage) == [5]
    assert (await sqlite_storage.ledger.get(entry_id)) is not None


async def test_closing_the_storage_closes_the_sqlite_threads_connections(
    sqlite_storage: Storage,
) -> None:
    database = sqlite_storage._database
    await database.run_write(lambda conn: None)
    await database.run_read(lambda conn: None)
    held = list(database._held.values())
    assert len(held) == 2
    await sqlite_storage.close()
    assert all(conn.closed for conn in held)
    assert database._held == {}


async def write_nothing(storage: Storage, way: str) -> None:
    if way == "run_write":
        await storage._database.run_write(lambda conn: None)
    else:
        async with storage._database.write():
            pass


@pytest.mark.parametrize("way", ["run_write", "write"])
async def test_a_database_locked_by_another_writer_is_reported_as_sqlalchemy_reports_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str
) -> None:
    # BEGIN goes straight to the driver; its failure must still look like any other.
    monkeypatch.setattr(database_module, "SQLITE_BUSY_TIMEOUT_MS", 50)
    storage = await Storage.open(sqlite_url(tmp_path))
    other = sqlite3.connect(tmp_path / "bot.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="locked"):
            await write_nothing(storage, way)
        other.execute("ROLLBACK")
        # Once the other writer is gone, writing works again.
        await storage.ledger.start(1, None, "dice", False, 5, None, None, True, NOW)
        assert await users_in_ledger(storage) == [1]
    finally:
        other.close()
        await storage.close()
