import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import CheckConstraint, Connection, inspect, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage import Storage, StorageError
from bot.storage.database import create_database
from bot.storage.migrations import (
    _PG_ADVISORY_LOCK_KEY,
    Migration,
    apply_migrations,
    discover,
    schema_version,
)
from bot.storage.schema import metadata
from tests.fixtures.storage import DatabaseTarget, DatabaseTargets


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


def reflect_schema(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every table's reflected structure, in a form two databases can be compared by.

    Both databases compared are always of the same backend, so no per-backend
    spelling has to be reconciled. The only normalisations:
    - a column type is kept as its DDL text for this dialect (type objects do not
      compare by value; "VARCHAR(32)" vs "VARCHAR(64)" still differ);
    - columns are keyed by name, not position: the code always names columns,
      and a column a later migration adds lands last whatever its place here;
    - lists the backend returns in no promised order (unique constraints,
      foreign keys, check constraints, indexes) are sorted by name.
    - SQLite: the inspector does not report AUTOINCREMENT (which keeps ids from
      being reused), so it is read from the table's CREATE statement.
    """
    inspector = inspect(conn)

    def by_name(items: list[Any]) -> list[Any]:
        return sorted(items, key=lambda item: (str(item.get("name")), repr(item)))

    def table(name: str) -> dict[str, Any]:
        columns = {
            column["name"]: {**column, "type": column["type"].compile(dialect=conn.dialect)}
            for column in inspector.get_columns(name)
        }
        reflected: dict[str, Any] = {
            "columns": columns,
            "primary key": inspector.get_pk_constraint(name),
            "unique constraints": by_name(inspector.get_unique_constraints(name)),
            "foreign keys": by_name(inspector.get_foreign_keys(name)),
            "check constraints": by_name(inspector.get_check_constraints(name)),
            "indexes": by_name(inspector.get_indexes(name)),
            "options": inspector.get_table_options(name),
        }
        if conn.dialect.name == "sqlite":
            create_sql = conn.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": name},
            )
            reflected["autoincrement"] = "AUTOINCREMENT" in str(create_sql).upper()
        return reflected

    return {name: table(name) for name in inspector.get_table_names()}


async def reflect(target: DatabaseTarget) -> dict[str, dict[str, Any]]:
    database = create_database(target.url, search_path=target.search_path)
    try:
        async with database.read() as conn:
            return await conn.run_sync(reflect_schema)
    finally:
        await database.dispose()


def schema_differences(
    migrated: dict[str, dict[str, Any]], declared: dict[str, dict[str, Any]]
) -> list[str]:
    differences = [
        f"table {name}: only in {'the migrated database' if name in migrated else 'schema.py'}"
        for name in sorted(migrated.keys() ^ declared.keys())
    ]
    for name in sorted(migrated.keys() & declared.keys()):
        for aspect, value in migrated[name].items():
            if aspect == "columns":
                for column in sorted(value.keys() | declared[name]["columns"].keys()):
                    got, want = value.get(column), declared[name]["columns"].get(column)
                    if got != want:
                        differences.append(f"{name}.{column}: migrated {got} != schema.py {want}")
            elif value != declared[name][aspect]:
                differences.append(
                    f"{name} {aspect}: migrated {value} != schema.py {declared[name][aspect]}"
                )
    return differences


async def test_schema_module_matches_the_migrated_database(
    database_targets: DatabaseTargets,
) -> None:
    migrated_target = await database_targets.new()
    storage = await migrated_target.open()
    await storage.close()
    declared_target = await database_targets.new()
    database = create_database(declared_target.url, search_path=declared_target.search_path)
    try:
        async with database.write() as conn:
            await conn.run_sync(metadata.create_all)
    finally:
        await database.dispose()

    migrated = await reflect(migrated_target)
    declared = await reflect(declared_target)

    assert migrated.pop("schema_version")["columns"].keys() == {
        c.name for c in schema_version.columns
    }
    differences = schema_differences(migrated, declared)
    assert differences == [], "\n".join(differences)
    # The reflection really sees what is compared (an aspect missing on both
    # sides would otherwise compare equal).
    assert {index["name"] for table in declared.values() for index in table["indexes"]} == {
        index.name for table in metadata.tables.values() for index in table.indexes
    }
    assert {
        check["name"] for table in declared.values() for check in table["check constraints"]
    } == {
        constraint.name
        for table in metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
    }
    assert {
        (name, fk["referred_table"], fk["options"].get("ondelete"))
        for name, table in declared.items()
        for fk in table["foreign keys"]
    } == {
        ("panels", "locks", "CASCADE"),
        ("polls", "locks", "SET NULL"),
        ("poll_choices", "polls", "CASCADE"),
        ("lock_shares", "locks", "CASCADE"),
    }


async def test_postgres_migrations_wait_for_the_advisory_lock(
    postgres_schema: tuple[str, str],
) -> None:
    url, schema = postgres_schema
    target = DatabaseTarget(url, schema)
    holder = create_database(url, search_path=schema)
    try:
        async with holder.write() as conn:
            await conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_ADVISORY_LOCK_KEY})")
            opening = asyncio.create_task(target.open())
            await wait_for_an_advisory_lock_waiter(conn)
            assert not opening.done()
            assert await table_columns(target) == {}
        storage = await opening
        await storage.close()
    finally:
        await holder.dispose()

    assert await versions(target) == [m.version for m in discover()]


async def wait_for_an_advisory_lock_waiter(conn: AsyncConnection) -> None:
    """Until another session of this database waits for an advisory lock (10 s at most)."""
    for _ in range(200):
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
        if waiting:
            return
        await asyncio.sleep(0.05)
    pytest.fail("opening the storage never waited for the migration advisory lock")


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
        assert conn.execute("SELECT count(*) FROM schema_version").fetchone() == (len(discover()),)


async def test_unreachable_database_is_a_clear_error_without_password() -> None:
    url = "postgresql+asyncpg://bot:hunter2-secret@127.0.0.1:9/ct"

    with pytest.raises(StorageError) as info:
        await Storage.open(url)

    message = str(info.value)
    assert "cannot open the database" in message
    assert "127.0.0.1:9" in message
    assert "hunter2" not in message
