"""The engine and its connection rules, shared by every repository.

SQLite gets WAL mode (readers never wait for the writer), enforced foreign keys
and a busy timeout. Its Python driver would otherwise decide on its own when
to BEGIN (never before DDL or SELECT), so it is told not to, and BEGIN is
emitted here: plain for reads, IMMEDIATE for writes, so a write transaction
takes the write lock up front and waits for it instead of failing midway with
"database is locked".
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Final, TypeAlias

from sqlalchemy import ColumnElement, Row, Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert

log = logging.getLogger(__name__)

# A result row of any shape; repositories turn it into their own dataclass at once.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]

SQLITE_BUSY_TIMEOUT_MS: Final = 15_000
_WRITE_OPTION: Final = "ct_write_transaction"


class Database:
    """An engine plus the two ways repositories use it: ``read()`` and ``write()``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect: Final = engine.dialect.name

    def __repr__(self) -> str:
        return f"Database({self.url_for_display!r})"

    @property
    def url_for_display(self) -> str:
        """The URL with any password masked, for messages and logs."""
        return self.engine.url.render_as_string(hide_password=True)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A transaction committed when the block ends, rolled back if it raises."""
        async with self.engine.connect() as plain:
            conn = await plain.execution_options(**{_WRITE_OPTION: True})
            async with conn.begin():
                yield conn

    async def serialise(self, conn: AsyncConnection, key: str) -> None:
        """Inside a write transaction: wait for any other holding ``key`` until it ends.

        For a check followed by an insert (a count against a limit). SQLite
        needs nothing: a write transaction holds the database's one write lock.
        PostgreSQL takes a transaction-scoped advisory lock on the key's hash.
        """
        if self.dialect == "postgresql":
            await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})

    def upsert(
        self,
        table: Table,
        values: Mapping[str, Any],
        *,
        key: Sequence[str],
        update: Sequence[str],
        where: Callable[[Any], ColumnElement[bool]] | None = None,
    ) -> Insert:
        """INSERT ... ON CONFLICT (key) DO UPDATE: one atomic statement on both databases.

        ``where(excluded)`` limits the update to the existing rows it accepts
        (``excluded`` holds the values that were offered).
        """
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = dialect_insert(table).values(**values)
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: statement.excluded[name] for name in update},
            where=where(statement.excluded) if where is not None else None,
        )

    async def dispose(self) -> None:
        await self.engine.dispose()


def create_database(url: str, *, search_path: str | None = None) -> Database:
    """Build the engine for ``url`` (``sqlite+aiosqlite://`` or ``postgresql+asyncpg://``).

    ``search_path`` (PostgreSQL only) selects the schema every connection uses;
    tests use it to give each test its own schema.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            prepare_sqlite_file(Path(database))
        engine = create_async_engine(parsed)
        _configure_sqlite(engine)
        return Database(engine)
    connect_args: dict[str, Any] = {}
    if search_path is not None:
        connect_args["server_settings"] = {"search_path": search_path}
    # pool_pre_ping: a PostgreSQL restart must not surface as a failed command.
    engine = create_async_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    return Database(engine)


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only, before SQLite opens it.

    SQLite would create it with 0644 (less the umask); created here with 0600,
    and SQLite gives its -wal and -shm files the database file's own mode, so
    all three stay private. An existing file is left as it is, with a warning
    if others can read it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning("%s can be read by other users; restrict it with chmod 600", path)
    else:
        os.close(descriptor)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Stop the driver from issuing BEGIN itself; _on_begin does it instead.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            # busy_timeout first, so what follows waits for a busy database, not fails.
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            _switch_to_wal(cursor)
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def _switch_to_wal(cursor: DBAPICursor) -> None:
    """Put the database file in WAL mode (a lasting property of the file, not the link).

    Switching needs a moment of exclusive access, and SQLite reports "locked" at
    once (no busy wait) when another connection is switching at the same time.
    That other connection completes the switch, and every connection follows
    the file's mode from its next transaction on, so the error can be ignored.
    """
    try:
        cursor.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        log.debug("another connection is switching the database to WAL mode")
