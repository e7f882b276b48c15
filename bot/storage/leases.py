"""Leases: who owns something until when, for several processes sharing one database.

A lease is a row (name, owner, expires_at). :meth:`LeaseRepository.take`
gives it to ``owner`` when nobody holds it, when it has expired, or when
``owner`` already holds it (then it is renewed): one atomic statement, so of
several processes asking at once exactly one gets it. An owner keeps a lease
by taking it again before it expires (a heartbeat); a process that crashed
stops doing so, and its leases pass to the next one to ask once they expire.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select

from bot.storage.database import Database
from bot.storage.schema import leases


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    owner: str
    expires_at: datetime


class LeaseRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def take(self, name: str, owner: str, now: datetime, expires_at: datetime) -> bool:
        """Take or renew ``name`` for ``owner`` until ``expires_at``; False if another holds it."""
        statement = self._db.upsert(
            leases,
            {"name": name, "owner": owner, "expires_at": expires_at},
            key=["name"],
            update=["owner", "expires_at"],
            where=lambda offered: or_(leases.c.owner == offered.owner, leases.c.expires_at <= now),
        )
        async with self._db.write() as conn:
            await conn.execute(statement)
            holder = await conn.scalar(select(leases.c.owner).where(leases.c.name == name))
        return bool(holder == owner)

    async def holder(self, name: str, now: datetime) -> Lease | None:
        """Who holds ``name`` now; None when nobody does (never taken, released or expired)."""
        async with self._db.read() as conn:
            row = (
                await conn.execute(
                    select(leases.c.name, leases.c.owner, leases.c.expires_at).where(
                        leases.c.name == name, leases.c.expires_at > now
                    )
                )
            ).one_or_none()
        return None if row is None else Lease(row.name, row.owner, row.expires_at)

    async def release(self, name: str, owner: str) -> None:
        """Give ``name`` up at once, if ``owner`` holds it (another may take it now)."""
        async with self._db.write() as conn:
            await conn.execute(delete(leases).where(leases.c.name == name, leases.c.owner == owner))

    async def forget_expired(self, prefix: str, now: datetime) -> int:
        """Delete the expired leases whose name starts with ``prefix``; how many."""
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(leases).where(leases.c.name.startswith(prefix), leases.c.expires_at <= now)
            )
        return result.rowcount
