"""Community polls: members pick a choice, the bot casts one anonymous vote at the end.

Closing is two-phase so a restart can never cast twice: ``begin_close`` moves
open -> closing, counts the choices and records the winning choice BEFORE the
vote is sent; ``finish_close`` moves closing -> closed with the outcome
afterwards. A poll still ``closing`` at start may or may not have reached
Chastity Tracker, so it becomes ``in_doubt`` (reported, never re-cast).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Insert

from bot.ctapi.models import Choice
from bot.storage.database import AnyRow, Database
from bot.storage.schema import locks, poll_choices, polls

_ACTIVE: Final = ("open", "closing")

PollStatus = Literal["open", "closing", "closed", "in_doubt"]


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    guild_id: int
    channel_id: int
    message_id: int | None  # None until the message has been posted
    lock_id: int | None  # None once the lock was removed
    created_by: int
    created_at: datetime
    ends_at: datetime
    status: PollStatus
    winning_choice: Choice | None
    closing_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    result_json: str | None
    closing_owner: str | None = None  # the process that began the close (its lease owner)


@dataclass(frozen=True, slots=True)
class Closing:
    """What ``begin_close`` froze: the final tally and the choice about to be cast."""

    tally: dict[Choice, int]
    winning_choice: Choice | None


@dataclass(frozen=True, slots=True)
class PollStartRefused:
    """Why a poll was not started: one is already active on the token (``existing``),
    or the server reached its limit of open polls (``existing`` None)."""

    existing: Poll | None


@dataclass(frozen=True, slots=True)
class ChoiceChange:
    """A member's choice was recorded; ``previous`` is what it replaced (None: a first choice)."""

    previous: Choice | None


PickWinner = Callable[[Mapping[Choice, int]], Choice | None]


_COLUMNS: Final = (
    polls.c.id,
    polls.c.guild_id,
    polls.c.channel_id,
    polls.c.message_id,
    polls.c.lock_id,
    polls.c.created_by,
    polls.c.created_at,
    polls.c.ends_at,
    polls.c.status,
    polls.c.winning_choice,
    polls.c.closing_at,
    polls.c.closed_at,
    polls.c.outcome,
    polls.c.result_json,
    polls.c.closing_owner,
)
_BY_ID: Final = select(*_COLUMNS).where(polls.c.id == bindparam("id"))

# A poll choice runs these: built once, so a choice only binds its values.
_STATUS_FOR_CHOICE: Final = (
    select(polls.c.status).where(polls.c.id == bindparam("poll_id")).with_for_update(read=True)
)
_PREVIOUS_CHOICE: Final = select(poll_choices.c.choice).where(
    poll_choices.c.poll_id == bindparam("poll_id"), poll_choices.c.user_id == bindparam("user_id")
)


def _poll(row: AnyRow) -> Poll:
    return Poll(
        id=row.id,
        guild_id=row.guild_id,
        channel_id=row.channel_id,
        message_id=row.message_id,
        lock_id=row.lock_id,
        created_by=row.created_by,
        created_at=row.created_at,
        ends_at=row.ends_at,
        status=row.status,
        winning_choice=Choice(row.winning_choice) if row.winning_choice else None,
        closing_at=row.closing_at,
        closed_at=row.closed_at,
        outcome=row.outcome,
        result_json=row.result_json,
        closing_owner=row.closing_owner,
    )


def _new_poll(  # noqa: PLR0917 - the poll's own columns, in order
    guild_id: int,
    channel_id: int,
    lock_id: int,
    created_by: int,
    ends_at: datetime,
    now: datetime,
) -> Insert:
    """The INSERT of an open poll, returning its row."""
    return (
        insert(polls)
        .values(
            guild_id=guild_id,
            channel_id=channel_id,
            lock_id=lock_id,
            created_by=created_by,
            created_at=now,
            ends_at=ends_at,
            status="open",
        )
        .returning(*_COLUMNS)
    )


def _check_choice(choice: str) -> Choice:
    try:
        return Choice(choice)
    except ValueError:
        allowed = ", ".join(Choice)
        raise ValueError(f"choice must be one of {allowed}, not {choice!r}") from None


class PollRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def start_unless_active(  # noqa: PLR0917 - the order of create's
        self,
        guild_id: int,
        channel_id: int,
        lock_id: int,
        created_by: int,
        ends_at: datetime,
        now: datetime,
        *,
        token_hashes: Sequence[bytes],
        guild_limit: int,
    ) -> Poll | PollStartRefused:
        """Create the poll unless one is open on the token (on any server) or the server
        has ``guild_limit`` open polls; the check and the insert are one transaction,
        serialised against other starts, so two racing starts end with one poll."""
        async with self._db.write() as conn:
            # One key for every server: a token may be registered on several.
            await self._db.serialise(conn, "poll-start")
            active = (await conn.execute(_active_on_tokens(token_hashes).limit(1))).one_or_none()
            if active is not None:
                return PollStartRefused(existing=_poll(active))
            open_here = await conn.scalar(
                select(func.count())
                .select_from(polls)
                .where(polls.c.guild_id == guild_id, polls.c.status.in_(_ACTIVE))
            )
            if int(open_here or 0) >= guild_limit:
                return PollStartRefused(existing=None)
            new_poll = _new_poll(guild_id, channel_id, lock_id, created_by, ends_at, now)
            row = (await conn.execute(new_poll)).one()
        return _poll(row)

    async def active_on_tokens(self, token_hashes: Sequence[bytes]) -> list[Poll]:
        """Open or closing polls on any server's lock with this token."""
        return await self._many(_active_on_tokens(token_hashes))

    async def create(  # noqa: PLR0917 - positional order is the documented interface
        self,
        guild_id: int,
        channel_id: int,
        lock_id: int,
        created_by: int,
        ends_at: datetime,
        now: datetime,
    ) -> Poll:
        statement = _new_poll(guild_id, channel_id, lock_id, created_by, ends_at, now)
        async with self._db.write() as conn:
            row = (await conn.execute(statement)).one()
        return _poll(row)

    async def set_message(self, poll_id: int, message_id: int) -> None:
        async with self._db.write() as conn:
            await conn.execute(
                update(polls).where(polls.c.id == poll_id).values(message_id=message_id)
            )

    async def get(self, poll_id: int) -> Poll | None:
        # Every choice reads the poll: the short way to the database.
        ids = {"id": poll_id}
        row = await self._db.run_read(lambda conn: conn.execute(_BY_ID, ids).one_or_none())
        return None if row is None else _poll(row)

    async def set_choice(
        self, poll_id: int, user_id: int, choice: Choice, now: datetime | None = None
    ) -> bool:
        """Set (or change) the member's choice while the poll is open.

        One atomic upsert, so concurrent clicks by one member leave one row.
        False when the poll is no longer open (the choice was not recorded).
        """
        return await self.change_choice(poll_id, user_id, choice, now) is not None

    async def change_choice(
        self, poll_id: int, user_id: int, choice: Choice, now: datetime | None = None
    ) -> ChoiceChange | None:
        """:meth:`set_choice`, saying which choice it replaced; None when the poll is not open."""
        stored = _check_choice(choice).value
        chosen_at = now if now is not None else datetime.now(UTC)
        statement = self._db.upsert_by_key(
            poll_choices, key=["poll_id", "user_id"], update=["choice", "chosen_at"]
        )
        row = {"poll_id": poll_id, "user_id": user_id, "choice": stored, "chosen_at": chosen_at}
        ids = {"poll_id": poll_id, "user_id": user_id}

        def choose(conn: Connection) -> ChoiceChange | None:
            # Checked inside the write transaction: SQLite's write lock, or the shared
            # row lock on PostgreSQL, keeps begin_close from slipping in between, while
            # members choosing at the same time do not wait for each other.
            if conn.scalar(_STATUS_FOR_CHOICE, {"poll_id": poll_id}) != "open":
                return None
            previous = conn.scalar(_PREVIOUS_CHOICE, ids)
            conn.execute(statement, row)
            return ChoiceChange(Choice(previous) if previous else None)

        return await self._db.run_write(choose)

    async def tally(self, poll_id: int) -> dict[Choice, int]:
        """Members per choice; every choice is present, zero when nobody picked it."""
        async with self._db.read() as conn:
            return await _count(conn, poll_id)

    async def list_open(self) -> list[Poll]:
        """Open polls, the one ending first first."""
        return await self._with_status("open")

    async def list_closing(self) -> list[Poll]:
        """Polls whose vote may have been sent but whose outcome was not recorded."""
        return await self._with_status("closing")

    async def begin_close(
        self, poll_id: int, now: datetime, pick: PickWinner, *, owner: str | None = None
    ) -> Closing | None:
        """open -> closing: freeze the choices, count them, record ``pick(tally)``.

        ``owner`` (the closing process's lease owner) is recorded with it, so
        another process can tell a close under way from one left by a crash.

        One transaction, so the tally is final: a member's choice either commits
        before it (and is counted) or is refused after it (``set_choice`` sees the
        poll is no longer open). Atomic compare-and-set: of several concurrent
        callers exactly one gets the :class:`Closing`, and only that one may send
        the vote; the others get None, as does a poll that was not open.
        """
        async with self._db.write() as conn:
            moved = await conn.execute(
                update(polls)
                .where(polls.c.id == poll_id, polls.c.status == "open")
                .values(status="closing", closing_at=now, closing_owner=owner)
            )
            if moved.rowcount != 1:
                return None
            tally = await _count(conn, poll_id)
            winner = pick(tally)
            if winner is not None:
                winner = _check_choice(winner)
                await conn.execute(
                    update(polls).where(polls.c.id == poll_id).values(winning_choice=winner.value)
                )
        return Closing(tally, winner)

    async def finish_close(
        self, poll_id: int, outcome: str, result_json: str | None, now: datetime
    ) -> bool:
        """closing -> closed with what happened; False if the poll was not closing."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(polls)
                .where(polls.c.id == poll_id, polls.c.status == "closing")
                .values(status="closed", outcome=outcome, result_json=result_json, closed_at=now)
            )
        return result.rowcount == 1

    async def mark_in_doubt(self, poll_id: int, now: datetime) -> bool:
        """closing -> in_doubt: found at start, the vote may or may not have been cast.
        It is never cast again. False if the poll was not closing."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(polls)
                .where(polls.c.id == poll_id, polls.c.status == "closing")
                .values(status="in_doubt", closed_at=now)
            )
        return result.rowcount == 1

    async def open_for_lock(self, lock_id: int) -> list[Poll]:
        """Open or closing polls on a lock (to warn before the lock is removed)."""
        query = (
            select(*_COLUMNS)
            .where(polls.c.lock_id == lock_id, polls.c.status.in_(("open", "closing")))
            .order_by(polls.c.ends_at, polls.c.id)
        )
        return await self._many(query)

    async def _with_status(self, status: PollStatus) -> list[Poll]:
        query = (
            select(*_COLUMNS).where(polls.c.status == status).order_by(polls.c.ends_at, polls.c.id)
        )
        return await self._many(query)

    async def _many(self, query: Select[Any]) -> list[Poll]:
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_poll(row) for row in rows]


def _active_on_tokens(token_hashes: Sequence[bytes]) -> Select[Any]:
    return (
        select(*_COLUMNS)
        .join(locks, locks.c.id == polls.c.lock_id)
        .where(locks.c.token_hash.in_(list(token_hashes)), polls.c.status.in_(_ACTIVE))
        .order_by(polls.c.ends_at, polls.c.id)
    )


async def _count(conn: AsyncConnection, poll_id: int) -> dict[Choice, int]:
    query = (
        select(poll_choices.c.choice, func.count())
        .where(poll_choices.c.poll_id == poll_id)
        .group_by(poll_choices.c.choice)
    )
    counts = dict.fromkeys(Choice, 0)
    for choice, count in (await conn.execute(query)).all():
        counts[Choice(choice)] = count
    return counts
