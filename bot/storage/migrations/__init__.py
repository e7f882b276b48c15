"""Numbered schema migrations, applied when the storage opens.

Each module ``vNNNN_<what>.py`` here defines ``upgrade(conn)``; the applied
versions are recorded in ``schema_version``. All pending migrations run in ONE
transaction, so a failed upgrade leaves the database as it was. Two processes
starting at once are serialised: on SQLite by the write lock the transaction
takes up front (BEGIN IMMEDIATE), on PostgreSQL by a transaction-scoped
advisory lock; the second one then finds nothing left to do.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, func, insert, select

from bot.storage.database import Database
from bot.storage.errors import StorageError
from bot.storage.types import UtcDateTime

_MODULE_NAME: Final = re.compile(r"^v(\d{4})_[a-z0-9_]+$")
# Any fixed number works; it only has to be the same in every process of this bot.
_PG_ADVISORY_LOCK_KEY: Final = 0x43_54_42_4F_54  # "CTBOT"

schema_version = Table(
    "schema_version",
    MetaData(),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("name", String(100), nullable=False),
    Column("applied_at", UtcDateTime, nullable=False),
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    upgrade: Callable[[Connection], None]


def discover() -> list[Migration]:
    """The migrations in this package, in version order (versions must be 1, 2, 3 ...)."""
    found: list[Migration] = []
    for module_info in pkgutil.iter_modules(__path__):
        match = _MODULE_NAME.match(module_info.name)
        if match is None:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        found.append(Migration(int(match.group(1)), module_info.name, module.upgrade))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise StorageError(f"migration versions must be 1..n without gaps, found {versions}")
    return found


async def apply_migrations(
    database: Database, migrations: Sequence[Migration] | None = None
) -> list[int]:
    """Bring the schema up to date; returns the versions applied now (empty if none)."""
    pending = list(discover() if migrations is None else migrations)
    async with database.write() as conn:
        return await conn.run_sync(_apply, pending)


def _apply(conn: Connection, migrations: Sequence[Migration]) -> list[int]:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_ADVISORY_LOCK_KEY})")
    schema_version.create(conn, checkfirst=True)
    current = conn.scalar(select(func.max(schema_version.c.version))) or 0
    newest_known = migrations[-1].version if migrations else 0
    if current > newest_known:
        raise StorageError(
            f"the database schema is version {current}, newer than this bot knows "
            f"({newest_known}); run a newer version of the bot"
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version <= current:
            continue
        migration.upgrade(conn)
        conn.execute(
            insert(schema_version).values(
                version=migration.version, name=migration.name, applied_at=datetime.now(UTC)
            )
        )
        applied.append(migration.version)
    return applied
