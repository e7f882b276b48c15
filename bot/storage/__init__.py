"""Persistent state: SQLite by default, PostgreSQL when DATABASE_URL says so.

``await Storage.open(url)`` creates the engine, applies pending migrations and
exposes one repository per concern as attributes. Rows come back as frozen
dataclasses; timestamps are aware UTC datetimes on both databases.
"""

from __future__ import annotations

from typing import Self

from sqlalchemy.exc import DBAPIError

from bot.storage.accounts import Account, AccountRepository
from bot.storage.anonymous_votes import AnonymousVoteRepository, AnonymousVoteUse
from bot.storage.database import Database, create_database
from bot.storage.errors import (
    DuplicateLockName,
    DuplicateLockToken,
    GuildLimitReached,
    StorageError,
)
from bot.storage.leases import Lease, LeaseRepository
from bot.storage.ledger import LedgerEntry, LedgerRepository, LedgerStatus, Outcome
from bot.storage.lock_history import LockHistoryRepository, LockPoll, LockVote
from bot.storage.locks import Lock, LockRepository
from bot.storage.meta import MetaRepository
from bot.storage.migrations import apply_migrations
from bot.storage.panels import Panel, PanelRepository
from bot.storage.polls import Poll, PollRepository, PollStatus
from bot.storage.reminders import Reminder, ReminderRepository
from bot.storage.shares import ShareRepository

__all__ = [
    "Account",
    "AccountRepository",
    "AnonymousVoteRepository",
    "AnonymousVoteUse",
    "DuplicateLockName",
    "DuplicateLockToken",
    "GuildLimitReached",
    "Lease",
    "LeaseRepository",
    "LedgerEntry",
    "LedgerRepository",
    "LedgerStatus",
    "Lock",
    "LockHistoryRepository",
    "LockPoll",
    "LockRepository",
    "LockVote",
    "MetaRepository",
    "Outcome",
    "Panel",
    "PanelRepository",
    "Poll",
    "PollRepository",
    "PollStatus",
    "Reminder",
    "ReminderRepository",
    "ShareRepository",
    "Storage",
    "StorageError",
]


class Storage:
    def __init__(self, database: Database) -> None:
        self._database = database
        self.meta = MetaRepository(database)
        self.accounts = AccountRepository(database)
        self.locks = LockRepository(database)
        self.panels = PanelRepository(database)
        self.polls = PollRepository(database)
        self.ledger = LedgerRepository(database)
        self.anonymous_votes = AnonymousVoteRepository(database)
        self.leases = LeaseRepository(database)
        self.lock_history = LockHistoryRepository(database)
        self.reminders = ReminderRepository(database)
        self.shares = ShareRepository(database)

    def __repr__(self) -> str:
        return f"Storage({self._database!r})"

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._database.dialect

    @classmethod
    async def open(cls, url: str, *, search_path: str | None = None) -> Self:
        """Connect to ``url`` and migrate it; raises :class:`StorageError` if it cannot.

        ``search_path`` (PostgreSQL only) puts every table in that schema.
        """
        database = create_database(url, search_path=search_path)
        try:
            await apply_migrations(database)
        except (DBAPIError, OSError) as exc:
            await database.dispose()
            reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
            raise StorageError(
                f"cannot open the database {database.url_for_display}: {reason}"
            ) from exc
        except BaseException:
            await database.dispose()
            raise
        return cls(database)

    async def close(self) -> None:
        await self._database.dispose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()
