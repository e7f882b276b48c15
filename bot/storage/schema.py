"""The tables as the repositories query them (the state after the newest migration).

Changing a table means adding a migration in ``bot/storage/migrations/`` and
updating this module; tests/test_storage_migrations.py checks they agree.

Deletion rules (chosen so removing a lock never silently loses anything else):
- ``panels.lock_id`` ON DELETE CASCADE: a panel is only a view of its lock.
- ``polls.lock_id`` ON DELETE SET NULL: the poll, its choices and its result
  stay; an open poll whose lock is gone is closed by the poll runner, which
  reports that no vote could be cast (it is not closed here behind its back).
- ``ledger.lock_id`` has no foreign key: the ledger is a history of what was
  sent and must never change when a lock is removed. Lock ids are never reused
  (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), so an old entry can
  never point at a different lock.

Lock names are unique per guild case-insensitively through ``name_key`` (the
casefolded name) and a unique index on (guild_id, name_key): the database,
not a read-then-insert check, rejects the second of two racing inserts, and
casefolding in Python behaves the same on SQLite (whose lower() only folds
ASCII) and PostgreSQL.

Tokens are found by ``token_hash`` (a keyed hash, see ``bot.vault.Vault``),
never by decrypting: ``locks.token_hash`` is indexed across servers (a DM vote
finds every server that registered a token) and unique per server, so two
racing ``/locks add`` of one token end with one lock. It is NULL only for a
lock stored before the hashes existed, until the next start fills it in.
``accounts.link_token_hash`` is the hash of the member's own LINK token (the
penalty guard); ``link_checked_at`` says when it was last learned (NULL: never).
``anonymous_votes`` remembers when the bot's one anonymous vote on a token is
used and when it frees up.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    false,
)

from bot.ctapi.models import Choice
from bot.storage.types import UtcDateTime

# SQLite only auto-assigns ids to a column declared exactly INTEGER PRIMARY KEY.
RowId: Final = BigInteger().with_variant(Integer(), "sqlite")

CHOICES: Final = tuple(choice.value for choice in Choice)
POLL_STATUSES: Final = ("open", "closing", "closed", "in_doubt")
LEDGER_STATUSES: Final = ("pending", "ok", "refused", "unknown", "error")


def _one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

accounts = Table(
    "accounts",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("token_ciphertext", LargeBinary, nullable=False),
    Column("nick", String(255), nullable=False),
    Column("connected_at", UtcDateTime, nullable=False),
    Column("needs_reconnect", Boolean, nullable=False, server_default=false()),
    Column("link_token_hash", LargeBinary, nullable=True),
    Column("link_checked_at", UtcDateTime, nullable=True),
)

locks = Table(
    "locks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("name", String(32), nullable=False),
    Column("name_key", String(128), nullable=False),
    Column("token_ciphertext", LargeBinary, nullable=False),
    Column("owner_id", BigInteger, nullable=True),
    Column("allow_anonymous", Boolean, nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("token_hash", LargeBinary, nullable=True),
    Index("uq_locks_guild_name_key", "guild_id", "name_key", unique=True),
    Index("uq_locks_guild_token_hash", "guild_id", "token_hash", unique=True),
    Index("ix_locks_token_hash", "token_hash"),
    sqlite_autoincrement=True,
)

panels = Table(
    "panels",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("lock_id", RowId, ForeignKey("locks.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_result_json", Text, nullable=True),
    Column("last_result_at", UtcDateTime, nullable=True),
    Index("ix_panels_lock_id", "lock_id"),
    sqlite_autoincrement=True,
)

polls = Table(
    "polls",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("guild_id", BigInteger, nullable=False),
    Column("channel_id", BigInteger, nullable=False),
    Column("message_id", BigInteger, nullable=True),
    Column("lock_id", RowId, ForeignKey("locks.id", ondelete="SET NULL"), nullable=True),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("winning_choice", String(8), nullable=True),
    Column("closing_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("outcome", String(32), nullable=True),
    Column("result_json", Text, nullable=True),
    # The process (its lease owner id) that began the close; see ``leases``.
    Column("closing_owner", String(128), nullable=True),
    _one_of("status", POLL_STATUSES, "ck_polls_status"),
    _one_of("winning_choice", CHOICES, "ck_polls_winning_choice"),
    Index("ix_polls_status_ends_at", "status", "ends_at"),
    Index("ix_polls_lock_id", "lock_id"),
    sqlite_autoincrement=True,
)

poll_choices = Table(
    "poll_choices",
    metadata,
    Column("poll_id", RowId, ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("choice", String(8), nullable=False),
    Column("chosen_at", UtcDateTime, nullable=False),
    _one_of("choice", CHOICES, "ck_poll_choices_choice"),
)

ledger = Table(
    "ledger",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("user_id", BigInteger, nullable=False),
    Column("guild_id", BigInteger, nullable=True),
    Column("game", String(16), nullable=False),
    Column("dom", Boolean, nullable=False),
    Column("session", BigInteger, nullable=True),
    Column("lock_id", RowId, nullable=True),
    Column("choice", String(8), nullable=True),
    Column("logged", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("detail_json", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    _one_of("status", LEDGER_STATUSES, "ck_ledger_status"),
    _one_of("choice", CHOICES, "ck_ledger_choice"),
    Index("ix_ledger_user_id_id", "user_id", "id"),
    sqlite_autoincrement=True,
)

anonymous_votes = Table(
    "anonymous_votes",
    metadata,
    Column("token_hash", LargeBinary, primary_key=True),
    Column("used_at", UtcDateTime, nullable=False),
    Column("free_at", UtcDateTime, nullable=False),
    Column("wait_known", Boolean, nullable=False),
)

# Who owns what until when, for several processes on one database: each
# process's own liveness (``process:<owner>``) and the poll scheduler
# (``poll-scheduler``). See bot/storage/leases.py.
leases = Table(
    "leases",
    metadata,
    Column("name", String(160), primary_key=True),
    Column("owner", String(128), nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
)

# One pending cooldown reminder per member and subject ("dice:<session>",
# "lock:<id>" ...): asking again moves it. A reminder is deleted once it fired.
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

# A lock whose registered wearer allowed its panels to show their live status.
# ON DELETE CASCADE: the permission is about that lock only.
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
