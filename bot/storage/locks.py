"""Locks a server registered for LINK voting: a name and an encrypted public link token."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.database import AnyRow, Database
from bot.storage.errors import DuplicateLockName
from bot.storage.schema import locks

_ROTATION_BATCH: Final = 200
AUTOCOMPLETE_LIMIT: Final = 25
NAME_MAX_LENGTH: Final = 32


def name_key(name: str) -> str:
    """The form lock names are compared in: case-insensitive, Unicode-aware."""
    return name.casefold()


@dataclass(frozen=True, slots=True)
class Lock:
    id: int
    guild_id: int
    name: str
    token_ciphertext: bytes = field(repr=False)
    wearer_id: int | None  # the member who wears the lock (stored as owner_id)
    allow_anonymous: bool
    created_by: int
    created_at: datetime


_COLUMNS: Final = (
    locks.c.id,
    locks.c.guild_id,
    locks.c.name,
    locks.c.token_ciphertext,
    locks.c.owner_id,
    locks.c.allow_anonymous,
    locks.c.created_by,
    locks.c.created_at,
)


def _lock(row: AnyRow) -> Lock:
    return Lock(
        id=row.id,
        guild_id=row.guild_id,
        name=row.name,
        token_ciphertext=bytes(row.token_ciphertext),
        wearer_id=row.owner_id,
        allow_anonymous=bool(row.allow_anonymous),
        created_by=row.created_by,
        created_at=row.created_at,
    )


class LockRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(  # noqa: PLR0917 - positional order is the documented interface
        self,
        guild_id: int,
        name: str,
        token_ciphertext: bytes,
        wearer_id: int | None,
        allow_anonymous: bool,
        created_by: int,
        now: datetime,
    ) -> Lock:
        """Register a lock; raises :class:`DuplicateLockName` if the guild has the name."""
        if not 1 <= len(name) <= NAME_MAX_LENGTH:
            raise ValueError(f"a lock name has 1 to {NAME_MAX_LENGTH} characters")
        statement = (
            insert(locks)
            .values(
                guild_id=guild_id,
                name=name,
                name_key=name_key(name),
                token_ciphertext=token_ciphertext,
                owner_id=wearer_id,
                allow_anonymous=allow_anonymous,
                created_by=created_by,
                created_at=now,
            )
            .returning(*_COLUMNS)
        )
        try:
            async with self._db.write() as conn:
                row = (await conn.execute(statement)).one()
        except IntegrityError as exc:
            # The only unique constraint besides the generated id is the name index.
            raise DuplicateLockName(guild_id, name) from exc
        return _lock(row)

    async def get(self, lock_id: int) -> Lock | None:
        return await self._one(select(*_COLUMNS).where(locks.c.id == lock_id))

    async def get_by_name(self, guild_id: int, name: str) -> Lock | None:
        return await self._one(
            select(*_COLUMNS).where(
                locks.c.guild_id == guild_id, locks.c.name_key == name_key(name)
            )
        )

    async def list(self, guild_id: int) -> builtins.list[Lock]:
        """The guild's locks sorted by name (case-insensitively)."""
        query = (
            select(*_COLUMNS)
            .where(locks.c.guild_id == guild_id)
            .order_by(locks.c.name_key, locks.c.id)
        )
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_lock(row) for row in rows]

    async def remove(self, guild_id: int, name: str) -> bool:
        """Delete the lock and its panels (polls keep their history); True if it existed."""
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(locks).where(
                    locks.c.guild_id == guild_id, locks.c.name_key == name_key(name)
                )
            )
        return result.rowcount > 0

    async def names_like(
        self, guild_id: int, prefix: str, limit: int = AUTOCOMPLETE_LIMIT
    ) -> builtins.list[str]:
        """Names starting with ``prefix`` (case-insensitive), sorted, for autocomplete."""
        query = (
            select(locks.c.name)
            .where(
                locks.c.guild_id == guild_id,
                locks.c.name_key.startswith(name_key(prefix), autoescape=True),
            )
            .order_by(locks.c.name_key)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return builtins.list((await conn.scalars(query)).all())

    async def iter_ciphertexts(
        self, batch_size: int = _ROTATION_BATCH
    ) -> AsyncIterator[tuple[int, bytes]]:
        """Every (lock_id, token_ciphertext), in batches (see AccountRepository)."""
        after = 0
        while True:
            query = (
                select(locks.c.id, locks.c.token_ciphertext)
                .where(locks.c.id > after)
                .order_by(locks.c.id)
                .limit(batch_size)
            )
            async with self._db.read() as conn:
                batch = (await conn.execute(query)).all()
            for lock_id, ciphertext in batch:
                yield lock_id, bytes(ciphertext)
            if len(batch) < batch_size:
                return
            after = batch[-1].id

    async def replace_ciphertext(self, lock_id: int, old: bytes, new: bytes) -> bool:
        """Swap ``old`` for ``new`` only if it is still stored; True if replaced."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(locks)
                .where(locks.c.id == lock_id, locks.c.token_ciphertext == old)
                .values(token_ciphertext=new)
            )
        return result.rowcount > 0

    async def _one(self, query: Select[Any]) -> Lock | None:
        # Votes look their lock up on every click: the short way to the database.
        row = await self._db.run_read(lambda conn: conn.execute(query).one_or_none())
        return None if row is None else _lock(row)
