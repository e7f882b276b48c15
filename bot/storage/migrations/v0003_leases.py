"""0003: leases, so several processes on one database share the poll closes.

``leases`` holds who owns what until when (a process's own liveness, and the
poll scheduler); ``polls.closing_owner`` is the process that began a close, so
a close is in doubt only once that process's lease has expired.

A migration is a frozen snapshot: it defines its own table instead of importing
bot.storage.schema.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, String, Table

from bot.storage.types import UtcDateTime

metadata = MetaData()  # this migration's own

leases = Table(
    "leases",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)


def upgrade(conn: Connection) -> None:
    metadata.create_all(conn, checkfirst=False)
    conn.exec_driver_sql("ALTER TABLE polls ADD COLUMN closing_owner VARCHAR(128)")
