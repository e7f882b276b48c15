import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.exc import StatementError

from bot.storage import Storage, StorageError
from bot.storage.database import create_database
from bot.storage.migrations import Migration, apply_migrations, discover, schema_version
from bot.storage.schema import metadata
from tests.fixtures.storage import DatabaseTarget


async def versions(target: DatabaseTarget) -> list[int]:
    database = create_database(target.url, search_path=target.search_path)
    try:
        async with database.read() as conn:
            return list(await conn.scalars(select(schema_version.c.version)))
    finally:
        await database.dispose()


async def table_columns(target: DatabaseTarget) -> dict[str, set[str]]:
    def read(conn: Connection) -> dict[str, set[str]]:
        inspector = inspect(conn)
        return {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in inspector.get_table_names()
        }

    database = create_database(target.url, search_path=target.search_path)
    try:
        async with database.read() as conn:
            return await conn.run_sync(read)
    finally:
        await database.dispose()


async def test_migrations_apply_once(database_target: DatabaseTarget) -> None:
    first = await database_target.open()
    await first.close()
    database = create_database(database_target.url, search_path=database_target.search_path)
    try:
        assert await apply_migrations(database) == []
    finally:
        await database.dispose()
    second = await database_target.open()
    await second.close()

    assert await versions(database_target) == [m.version for m in discover()]


async def test_processes_starting_together_migrate_once(database_target: DatabaseTarget) -> None:
    opened = await asyncio.gather(*(database_target.open() for _ in range(4)))
    for storage in opened:
        await storage.close()

    assert await versions(database_target) == [m.version for m in discover()]


async def test_schema_module_matches_the_migrated_database(
    database_target: DatabaseTarget,
) -> None:
    storage = await database_target.open()
    await storage.close()

    expected = {table.name: {c.name for c in table.columns} for table in metadata.tables.values()}
    expected["schema_version"] = {c.name for c in schema_version.columns}
    assert await table_columns(database_target) == expected


async def test_a_failing_migration_leaves_the_database_untouched(
    database_target: DatabaseTarget,
) -> None:
    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE half_done (id INTEGER)"))
        raise RuntimeError("migration bug")

    migrations = [*discover(), Migration(len(discover()) + 1, "v_broken", broken)]
    database = create_database(database_target.url, search_path=database_target.search_path)
    try:
        with pytest.raises(RuntimeError, match="migration bug"):
            await apply_migrations(database, migrations)
    finally:
        await database.dispose()

    assert await table_columns(database_target) == {}


async def test_a_newer_database_is_refused(database_target: DatabaseTarget) -> None:
    storage = await database_target.open()
    await storage.close()
    database = create_database(database_target.url, search_path=database_target.search_path)
    try:
        async with database.write() as conn:
            await conn.execute(
                schema_version.insert().values(
                    version=99, name="future", applied_at=datetime.now(UTC)
                )
            )
    finally:
        await database.dispose()

    with pytest.raises(StorageError, match="version 99"):
        await database_target.open()


def test_discover_finds_the_numbered_modules_in_order() -> None:
    migrations = discover()

    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))
    assert migrations[0].name == "v0001_initial"


async def test_timestamps_come_back_as_aware_utc(storage: Storage) -> None:
    tokyo = timezone(timedelta(hours=9))
    moment = datetime(2026, 6, 1, 9, 0, tzinfo=tokyo)

    await storage.accounts.upsert(1, b"c", "n", moment)

    account = await storage.accounts.get(1)
    assert account is not None
    assert account.connected_at == moment
    assert account.connected_at.tzinfo == UTC
    assert account.connected_at.hour == 0


async def test_naive_timestamps_are_refused(storage: Storage) -> None:
    with pytest.raises(StatementError, match="timezone-aware"):
        await storage.accounts.upsert(1, b"c", "n", datetime(2026, 6, 1, 9, 0))
    assert await storage.accounts.get(1) is None


async def test_sqlite_file_setup(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "data" / "bot.db"

    storage = await Storage.open(f"sqlite+aiosqlite:///{path}")
    try:
        assert storage.dialect == "sqlite"
        async with storage._database.read() as conn:
            assert await conn.scalar(text("PRAGMA journal_mode")) == "wal"
            assert await conn.scalar(text("PRAGMA foreign_keys")) == 1
            assert await conn.scalar(text("PRAGMA busy_timeout")) >= 1000
    finally:
        await storage.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (1,)


async def test_unreachable_database_is_a_clear_error_without_password() -> None:
    url = "postgresql+asyncpg://bot:hunter2-secret@127.0.0.1:9/ct"

    with pytest.raises(StorageError) as info:
        await Storage.open(url)

    message = str(info.value)
    assert "cannot open the database" in message
    assert "127.0.0.1:9" in message
    assert "hunter2" not in message
