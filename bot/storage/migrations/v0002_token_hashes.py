"""0002: tokens recognised by a keyed hash, and the bot's anonymous vote remembered.

- ``locks.token_hash`` with a unique index per server and an index across
  servers; ``accounts.link_token_hash`` and ``link_checked_at`` (the member's own
  LINK token, for the penalty guard); the table ``anonymous_votes``.

The hashes need the encryption key, which a migration does not have: existing
locks keep ``token_hash`` NULL here and the bot fills it in at its next start,
before it connects to Discord (``bot.vault.fill_token_hashes``). Accounts learn
their LINK token at the next ``/account connect``, ``/account status`` or logged
vote.

Frozen like every migration: its tables are its own, not bot.storage.schema's.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Index,
    LargeBinary,
    MetaData,
    Table,
    text,
)
from sqlalchemy.schema import CreateColumn

from bot.storage.types import UtcDateTime

metadata = MetaData()

_locks = Table(
    "locks",
    metadata,
    Column("guild_id", BigInteger, nullable=False),
    Column("token_hash", LargeBinary, nullable=True),
)
_accounts = Table(
    "accounts",
    metadata,
    Column("link_token_hash", LargeBinary, nullable=True),
    Column("link_checked_at", UtcDateTime, nullable=True),
)
_indexes = (
    Index("uq_locks_guild_token_hash", _locks.c.guild_id, _locks.c.token_hash, unique=True),
    Index("ix_locks_token_hash", _locks.c.token_hash),
)
anonymous_votes = Table(
    "anonymous_votes",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("used_at", UtcDateTime, nullable=False),
    Column("free_at", UtcDateTime, nullable=False),
    Column("wait_known", Boolean, nullable=False),
)


def _add_column(conn: Connection, table: Table, name: str) -> None:
    definition = CreateColumn(table.c[name]).compile(dialect=conn.dialect)
    conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {definition}"))


def upgrade(conn: Connection) -> None:
    _add_column(conn, _locks, "token_hash")
    _add_column(conn, _accounts, "link_token_hash")
    _add_column(conn, _accounts, "link_checked_at")
    for index in _indexes:
        index.create(conn)
    anonymous_votes.create(conn)
