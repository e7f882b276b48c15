"""What happened to one lock through the bot: its votes' results and its polls, read-only.

The ledger keeps every vote with the API's answer (``detail_json``, which holds
the lock's new scheduled end); polls keep their outcome and the result of the
vote they cast. These queries read both for the timeline and the lock's stats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypeAlias

from sqlalchemy import ColumnElement, Connection, false, func, select

from bot.ctapi.models import Choice
from bot.storage.database import Database
from bot.storage.schema import ledger, poll_choices, polls

VoteRow: TypeAlias = tuple[datetime, str | None, str | None]
"""An accepted vote as the timeline reads it: when the lock moved, the choice, ``detail_json``."""
PollRow: TypeAlias = tuple[datetime, str | None]
"""A closed poll whose vote went through: when it closed, its ``result_json``."""


@dataclass(frozen=True, slots=True)
class LockVote:
    """One vote on a lock that Chastity Tracker accepted (status ``ok``)."""

    id: int
    user_id: int
    guild_id: int | None
    choice: Choice | None
    logged: bool
    detail_json: str | None
    at: datetime  # when the answer came (when the lock moved), else when it was sent


@dataclass(frozen=True, slots=True)
class LockPoll:
    id: int
    ends_at: datetime
    status: str
    outcome: str | None
    winning_choice: Choice | None
    closed_at: datetime | None
    result_json: str | None
    members: int  # how many members picked a choice


class LockHistoryRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def votes(
        self, lock_id: int, *, since: datetime | None = None, guild_id: int | None = None
    ) -> list[LockVote]:
        """Accepted public votes on the lock, oldest first."""
        query = select(
            ledger.c.id,
            ledger.c.user_id,
            ledger.c.guild_id,
            ledger.c.choice,
            ledger.c.logged,
            ledger.c.detail_json,
            ledger.c.created_at,
            ledger.c.finished_at,
        ).where(*_accepted_votes(lock_id))
        if since is not None:
            query = query.where(ledger.c.created_at >= since)
        if guild_id is not None:
            query = query.where(ledger.c.guild_id == guild_id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query.order_by(ledger.c.id))).all()
        return [
            LockVote(
                id=row.id,
                user_id=row.user_id,
                guild_id=row.guild_id,
                choice=Choice(row.choice) if row.choice else None,
                logged=bool(row.logged),
                detail_json=row.detail_json,
                at=row.finished_at or row.created_at,
            )
            for row in rows
        ]

    async def vote_rows(self, lock_id: int, *, since: datetime) -> list[VoteRow]:
        """Accepted public votes on the lock since ``since``, oldest first, as plain tuples.

        For the timeline, which hands them to its drawing process as they are:
        tuples cross a process boundary cheaply. Read through ``run_read``, as
        there may be hundreds: on SQLite, in one go on the database's own thread.
        """
        moved_at = func.coalesce(ledger.c.finished_at, ledger.c.created_at)
        query = (
            select(moved_at, ledger.c.choice, ledger.c.detail_json)
            .where(*_accepted_votes(lock_id), ledger.c.created_at >= since)
            .order_by(ledger.c.id)
        )

        def read(conn: Connection) -> list[VoteRow]:
            return [(at, choice, detail) for at, choice, detail in conn.execute(query)]

        return await self._db.run_read(read)

    async def latest_entry(self, lock_id: int) -> int:
        """The newest accepted vote on the lock (0 for none): it changes with every vote.

        Every chart request asks, so through ``run_read``: it takes no connection
        from the pool, which under a burst opens connections beyond its size (a
        thread and its set-up each) and closes them again.
        """
        query = select(func.max(ledger.c.id)).where(
            ledger.c.lock_id == lock_id, ledger.c.status == "ok"
        )
        newest = await self._db.run_read(lambda conn: conn.scalar(query))
        return int(newest or 0)

    async def poll_rows(self, lock_id: int, *, since: datetime) -> list[PollRow]:
        """The lock's polls closed since ``since`` whose vote went through, oldest first."""
        query = (
            select(polls.c.closed_at, polls.c.result_json)
            .where(
                polls.c.lock_id == lock_id,
                polls.c.outcome == "ok",
                polls.c.closed_at >= since,
            )
            .order_by(polls.c.id)
        )

        def read(conn: Connection) -> list[PollRow]:
            return [(closed_at, result) for closed_at, result in conn.execute(query)]

        return await self._db.run_read(read)

    async def polls(self, lock_id: int, *, limit: int | None = None) -> list[LockPoll]:
        """The lock's polls, newest first, with how many members chose in each."""
        members = (
            select(func.count())
            .where(poll_choices.c.poll_id == polls.c.id)
            .scalar_subquery()
            .label("members")
        )
        query = (
            select(
                polls.c.id,
                polls.c.ends_at,
                polls.c.status,
                polls.c.outcome,
                polls.c.winning_choice,
                polls.c.closed_at,
                polls.c.result_json,
                members,
            )
            .where(polls.c.lock_id == lock_id)
            .order_by(polls.c.id.desc())
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [
            LockPoll(
                id=row.id,
                ends_at=row.ends_at,
                status=row.status,
                outcome=row.outcome,
                winning_choice=Choice(row.winning_choice) if row.winning_choice else None,
                closed_at=row.closed_at,
                result_json=row.result_json,
                members=int(row.members or 0),
            )
            for row in rows
        ]


def _accepted_votes(lock_id: int) -> tuple[ColumnElement[bool], ...]:
    """Accepted public votes on the lock: what ``votes`` and ``vote_rows`` both read."""
    return (
        ledger.c.lock_id == lock_id,
        ledger.c.game == "link",
        ledger.c.dom == false(),
        ledger.c.status == "ok",
    )
