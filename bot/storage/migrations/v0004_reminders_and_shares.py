"""0004: cooldown reminders, and the locks whose wearer shares their live status.

A frozen snapshot like 0001: it defines its own tables.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

from bot.storage.types import UtcDateTime

RowId: Final = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

# The locks table as 0001 created it, only so the foreign key below can name it.
Table("locks", metadata, Column("id", RowId, primary_key=True))

reminders = Table(
    "reminders",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("subject", String(64), nullable=False),
    Column("label", String(100), nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("uq_reminders_user_subject", "user_id", "subject", unique=True),
    Index("ix_reminders_due_at", "due_at"),
    sqlite_autoincrement=True,
)

lock_shares = Table(
    "lock_shares",
    metadata,
    Column(
        "lock_id",
        RowId,
        ForeignKey("locks.id", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("user_id", BigInteger, nullable=False),
    Column("shared_at", UtcDateTime, nullable=False),
)


def upgrade(conn: Connection) -> None:
    reminders.create(conn, checkfirst=False)
    lock_shares.create(conn, checkfirst=False)
