"""The engine and its connection rules, shared by every repository.

SQLite gets WAL mode (readers never wait for the writer), enforced foreign keys
and a busy timeout. Its Python driver would otherwise decide on its own when
to BEGIN (never before DDL or SELECT), so it is told not to, and BEGIN is
emitted here: plain for reads, IMMEDIATE for writes, so a write transaction
takes the write lock up front and waits for it instead of failing midway with
"database is locked".

Two ways to run a transaction. ``read()`` and ``write()`` hand the block an
``AsyncConnection``. ``run_read(work)`` and ``run_write(work)`` run a plain
function on a plain ``Connection``, for the statements every play and vote
awaits: on SQLite, aiosqlite crosses to its thread and back for every cursor,
statement, fetch, commit and rollback, about a dozen times per transaction,
and each crossing costs more than the statement. So with a database file the
whole function runs in one crossing, on a dedicated thread with a synchronous
engine on the same file (same connection rules) and two connections it keeps
open, one for reads and one for writes. Work that queues up there
while the thread is busy (a crowd's plays) shares one transaction: one commit
for many ledger entries. So such a function must only use its connection: if
one of a batch raises, the others run again, each in its own transaction. On
PostgreSQL it runs through ``AsyncConnection.run_sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import sqlite3
import stat
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeAlias, TypeVar

from sqlalchemy import ColumnElement, Row, Table, create_engine, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.dml import Insert

log = logging.getLogger(__name__)

# A result row of any shape; repositories turn it into their own dataclass at once.
AnyRow: TypeAlias = Row[*tuple[Any, ...]]

SQLITE_BUSY_TIMEOUT_MS: Final = 15_000
_WRITE_OPTION: Final = "ct_write_transaction"
_T = TypeVar("_T")

Work: TypeAlias = Callable[[Connection], _T]
"""Statements run in one transaction by ``run_read`` / ``run_write``; returns their result."""


class Database:
    """An engine and the ways repositories use it: read()/write(), run_read()/run_write().

    ``sync_url``, for a SQLite database file, is where the synchronous engine of
    ``run_read``/``run_write`` connects (created on first use).
    """

    def __init__(self, engine: AsyncEngine, *, sync_url: URL | None = None) -> None:
        self.engine = engine
        self.dialect: Final = engine.dialect.name
        self._sync_url = sync_url
        self._sync_engine: Engine | None = None
        self._worker: SqliteThread | None = None
        # The SQLite thread's two connections (reads, writes), kept open between
        # batches: opening and returning one per batch cost more than a play's statement.
        self._held: dict[bool, Connection] = {}
        self._upserts: dict[tuple[str, tuple[str, ...], tuple[str, ...]], Insert] = {}

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

    async def run_read(self, work: Work[_T]) -> _T:
        """``work`` in a read transaction (rolled back after); its result."""
        return await self._run(work, write=False)

    async def run_write(self, work: Work[_T]) -> _T:
        """``work`` in a write transaction, committed when it returns; its result."""
        return await self._run(work, write=True)

    async def _run(self, work: Work[_T], *, write: bool) -> _T:
        if self._sync_url is None:
            transaction = self.write() if write else self.read()
            async with transaction as conn:
                return await conn.run_sync(work)
        if self._worker is None:
            self._worker = SqliteThread(self._run_batch)
        result: _T = await self._worker.run(work, write=write)
        return result

    def _run_batch(self, works: Sequence[Work[Any]], write: bool) -> list[_Outcome]:
        """On the SQLite thread: ``works`` that queued up together, in one transaction.

        Group commit: under a crowd, a transaction per play costs more than its
        statements. Each caller still hears only after the commit. If any work
        raises, that transaction is rolled back and each work runs again in a
        transaction of its own, so a failure reaches only its own caller.
        """
        if len(works) > 1:
            try:
                return [(True, value) for value in self._in_transaction(works, write)]
            except Exception:
                log.debug("a batch of %d failed; running them one by one", len(works))
        outcomes: list[_Outcome] = []
        for work in works:
            try:
                outcomes.append((True, self._in_transaction([work], write)[0]))
            except BaseException as error:  # handed to the awaiting task, whatever it is
                outcomes.append((False, error))
        return outcomes

    def _sync(self) -> Engine:
        if self._sync_engine is None:
            assert self._sync_url is not None
            self._sync_engine = create_engine(self._sync_url)
            _configure_sqlite(self._sync_engine)
        return self._sync_engine

    def _in_transaction(self, works: Sequence[Work[Any]], write: bool) -> list[Any]:
        """On the SQLite thread: ``works`` in one transaction, committed if ``write``."""
        conn = self._held_connection(write)
        try:
            with conn.begin() as transaction:
                results = [work(conn) for work in works]
                if not write:
                    transaction.rollback()
        except BaseException:
            # Whatever state the failure left the connection in, the next batch starts
            # on a fresh one.
            self._drop_held(write)
            raise
        return results

    def _held_connection(self, write: bool) -> Connection:
        conn = self._held.get(write)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._sync().connect()
            if write:
                conn.execution_options(**{_WRITE_OPTION: True})
            self._held[write] = conn
        return conn

    def _drop_held(self, write: bool) -> None:
        conn = self._held.pop(write, None)
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.close()

    def _close_sync(self) -> None:
        """On the SQLite thread, at the end: its connections, then its engine."""
        for write in list(self._held):
            self._drop_held(write)
        if self._sync_engine is not None:
            self._sync_engine.dispose()
            self._sync_engine = None

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
        return self._on_conflict(table, values, key, update, where)

    def _on_conflict(
        self,
        table: Table,
        values: Mapping[str, Any],
        key: Sequence[str],
        update: Sequence[str],
        where: Callable[[Any], ColumnElement[bool]] | None,
    ) -> Insert:
        if self.dialect == "postgresql":
            # Imported here: a bot on SQLite never loads PostgreSQL's dialect (2 MB).
            from sqlalchemy.dialects import postgresql

            pg_statement = postgresql.insert(table)
            if values:
                pg_statement = pg_statement.values(**values)
            return pg_statement.on_conflict_do_update(
                index_elements=list(key),
                set_={name: pg_statement.excluded[name] for name in update},
                where=where(pg_statement.excluded) if where is not None else None,
            )
        statement = sqlite.insert(table)
        if values:
            statement = statement.values(**values)
        return statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: statement.excluded[name] for name in update},
            where=where(statement.excluded) if where is not None else None,
        )

    def upsert_by_key(self, table: Table, *, key: Sequence[str], update: Sequence[str]) -> Insert:
        """:meth:`upsert` without values, built once per shape: execute it with the row.

        For the upserts a crowd runs (a poll choice, a connect, an anonymous vote):
        building the statement anew for every row costs more than running it. The
        columns inserted are the keys of the parameters it is executed with.
        """
        shape = (table.name, tuple(key), tuple(update))
        statement = self._upserts.get(shape)
        if statement is None:
            statement = self._upserts[shape] = self._on_conflict(table, {}, key, update, None)
        return statement

    async def dispose(self) -> None:
        if self._worker is not None:
            worker, self._worker = self._worker, None
            await worker.call(self._close_sync)
            worker.stop()
        await self.engine.dispose()


class SqliteThread:
    """One thread running the database's work for the event loop, in order.

    One thread, because SQLite takes one writer at a time anyway and the
    synchronous engine's connection then always stays on the thread that made
    it. Lighter than a ``ThreadPoolExecutor``: a queue in, a callback out.

    Work that queued up while the thread was busy is handed to ``run_batch``
    together (consecutive reads, or consecutive writes, at most ``BATCH_LIMIT``),
    and its callers are woken with one callback.
    """

    BATCH_LIMIT: Final = 100

    def __init__(self, run_batch: Callable[[Sequence[Work[Any]], bool], list[_Outcome]]) -> None:
        self._run_batch = run_batch
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="sqlite", daemon=True)
        self._thread.start()

    async def run(self, work: Work[_T], *, write: bool) -> _T:
        """``work`` in a transaction, maybe with others queued at the same time."""
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(work, write, future))
        return await future

    async def call(self, function: Callable[[], _T]) -> _T:
        """``function`` on this thread, by itself and outside any transaction."""
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        self._jobs.put(_Job(None, False, future, alone=function))
        return await future

    def stop(self) -> None:
        """The thread ends once the jobs already queued are done."""
        self._jobs.put(None)

    def _serve(self) -> None:
        waiting: deque[_Job] = deque()
        stopping = False
        while waiting or not stopping:
            if not waiting:
                job = self._jobs.get()
                if job is None:
                    return
                waiting.append(job)
            stopping = self._take_queued(waiting) or stopping
            batch = self._next_batch(waiting)
            alone = batch[0].alone
            if alone is not None:
                outcomes = [_outcome_of(alone)]
            else:
                works = [job.work for job in batch if job.work is not None]
                outcomes = self._run_batch(works, batch[0].write)
            by_loop: dict[asyncio.AbstractEventLoop, list[_Settled]] = {}
            for job, outcome in zip(batch, outcomes, strict=True):
                by_loop.setdefault(job.future.get_loop(), []).append((job.future, outcome))
            for loop, settled in by_loop.items():
                # A closed loop (RuntimeError) has nobody waiting any more.
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(_settle_all, settled)

    def _next_batch(self, waiting: deque[_Job]) -> list[_Job]:
        """The first job waiting, with those after it that can share its transaction."""
        first = waiting.popleft()
        batch = [first]
        if first.alone is not None:
            return batch
        while (
            waiting
            and waiting[0].alone is None
            and waiting[0].write == first.write
            and len(batch) < self.BATCH_LIMIT
        ):
            batch.append(waiting.popleft())
        return batch

    def _take_queued(self, waiting: deque[_Job]) -> bool:
        """Move every job queued meanwhile to ``waiting``; True if a stop came with them."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return False
            if job is None:
                return True
            waiting.append(job)


_Outcome: TypeAlias = tuple[bool, Any]
"""(True, the work's result) or (False, the exception it raised)."""


@dataclass(frozen=True, slots=True)
class _Job:
    work: Work[Any] | None
    write: bool
    future: asyncio.Future[Any]
    alone: Callable[[], Any] | None = None  # not database work: run by itself, as it is


def _outcome_of(function: Callable[[], Any]) -> _Outcome:
    try:
        return (True, function())
    except BaseException as error:  # handed to the awaiting task, whatever it is
        return (False, error)


_Settled: TypeAlias = tuple["asyncio.Future[Any]", _Outcome]


def _settle_all(settled: list[_Settled]) -> None:
    for future, (succeeded, value) in settled:
        if future.cancelled():
            continue  # the awaiting task gave up; the work itself is done
        if succeeded:
            future.set_result(value)
        else:
            future.set_exception(value)


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
        _configure_sqlite(engine.sync_engine)
        in_file = bool(database) and database != ":memory:" and not database.startswith("file:")
        sync_url = parsed.set(drivername="sqlite") if in_file else None
        return Database(engine, sync_url=sync_url)
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


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
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

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION)
        _execute_on_driver(conn, "BEGIN IMMEDIATE" if write else "BEGIN")


def _execute_on_driver(conn: Connection, statement: str) -> None:
    """``statement`` straight on the driver's connection, its errors raised as SQLAlchemy's.

    For BEGIN: through SQLAlchemy's execution path it cost as much as a play's
    whole INSERT, and every transaction starts with one.
    """
    dbapi_connection = conn.connection.dbapi_connection
    assert dbapi_connection is not None  # a connection that is beginning is open
    driver_error = conn.dialect.loaded_dbapi.Error
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(statement)
    except driver_error as error:
        raise DBAPIError.instance(statement, None, error, driver_error) from error
    finally:
        cursor.close()


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
