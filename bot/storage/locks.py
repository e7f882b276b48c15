"""Locks a server registered for LINK voting: a name and an encrypted public link token."""

from __future__ import annotations

import builtins
import unicodedata
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.storage.database import AnyRow, Database
from bot.storage.errors import DuplicateLockName, DuplicateLockToken, GuildLimitReached
from bot.storage.schema import locks

_ROTATION_BATCH: Final = 200
AUTOCOMPLETE_LIMIT: Final = 25
NAME_MAX_LENGTH: Final = 32


# Unicode categories dropped from names: controls (Cc), format characters such as
# zero-width spaces and direction overrides (Cf), unassigned, private use, surrogates.
_INVISIBLE: Final = frozenset({"Cc", "Cf", "Cn", "Co", "Cs"})


def normalise_name(name: str) -> str:
    """A lock name as stored: NFKC, without invisible characters, single spaces.

    NFKC folds look-alike forms (full-width letters, ligatures) into one, and
    control and format characters (zero-width spaces and joiners, direction
    overrides) are dropped: two names that look the same are the same name,
    and no name can hide or reorder the text around it.
    """
    name = unicodedata.normalize("NFKC", name)
    visible = "".join(
        " " if character.isspace() else character
        for character in name
        if character.isspace() or unicodedata.category(character) not in _INVISIBLE
    )
    return " ".join(visible.split())


def name_key(name: str) -> str:
    """The form lock names are compared in: normalised, case-insensitive."""
    return normalise_name(name).casefold()


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
    # The token's keyed hash (bot.vault.Vault.token_hash); None until filled in at start.
    token_hash: bytes | None = field(default=None, repr=False)


_COLUMNS: Final = (
    locks.c.id,
    locks.c.guild_id,
    locks.c.name,
    locks.c.token_ciphertext,
    locks.c.owner_id,
    locks.c.allow_anonymous,
    locks.c.created_by,
    locks.c.created_at,
    locks.c.token_hash,
)

# Every vote looks its lock up with one of these: built once, so a vote only binds values.
_BY_ID: Final = select(*_COLUMNS).where(locks.c.id == bindparam("id"))
_BY_NAME: Final = select(*_COLUMNS).where(
    locks.c.guild_id == bindparam("guild_id"), locks.c.name_key == bindparam("name_key")
)
_BY_TOKEN: Final = (
    select(*_COLUMNS)
    .where(
        locks.c.guild_id == bindparam("guild_id"),
        locks.c.token_hash.in_(bindparam("hashes", expanding=True)),
    )
    .order_by(locks.c.id)
    .limit(1)
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
        token_hash=bytes(row.token_hash) if row.token_hash is not None else None,
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
        *,
        token_hash: bytes | None = None,
        guild_limit: int | None = None,
    ) -> Lock:
        """Register a lock; raises :class:`DuplicateLockName` if the guild has the name,
        :class:`DuplicateLockToken` if it has the token (the database decides, so two
        racing inserts end with one lock); :class:`GuildLimitReached` when the guild
        has ``guild_limit`` locks (counted in the inserting transaction)."""
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
                token_hash=token_hash,
            )
            .returning(*_COLUMNS)
        )
        try:
            async with self._db.write() as conn:
                if guild_limit is not None:
                    await self._db.serialise(conn, f"locks:{guild_id}")
                    counted = await conn.scalar(
                        select(func.count()).select_from(locks).where(locks.c.guild_id == guild_id)
                    )
                    if int(counted or 0) >= guild_limit:
                        raise GuildLimitReached(guild_id, guild_limit)
                row = (await conn.execute(statement)).one()
        except IntegrityError as exc:
            # Two unique indexes besides the generated id: the token's and the name's.
            if "token_hash" in str(exc.orig):
                raise DuplicateLockToken(guild_id) from exc
            raise DuplicateLockName(guild_id, name) from exc
        return _lock(row)

    async def get(self, lock_id: int) -> Lock | None:
        return await self._one(_BY_ID, {"id": lock_id})

    async def get_by_name(self, guild_id: int, name: str) -> Lock | None:
        return await self._one(_BY_NAME, {"guild_id": guild_id, "name_key": name_key(name)})

    async def find_by_token(self, guild_id: int, hashes: Sequence[bytes]) -> Lock | None:
        """The guild's lock whose token hash is one of ``hashes`` (one indexed lookup)."""
        return await self._one(_BY_TOKEN, {"guild_id": guild_id, "hashes": list(hashes)})

    async def everywhere_by_token(self, hashes: Sequence[bytes]) -> builtins.list[Lock]:
        """Every server's registration of the token (a DM vote follows them all)."""
        query = select(*_COLUMNS).where(locks.c.token_hash.in_(list(hashes))).order_by(locks.c.id)
        async with self._db.read() as conn:
            rows = (await conn.execute(query)).all()
        return [_lock(row) for row in rows]

    async def count(self, guild_id: int) -> int:
        async with self._db.read() as conn:
            counted = await conn.scalar(
                select(func.count()).select_from(locks).where(locks.c.guild_id == guild_id)
            )
        return int(counted or 0)

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
        # Every keystroke of a crowd typing a name: the short way, batched on SQLite.
        return await self._db.run_read(lambda conn: builtins.list(conn.scalars(query).all()))

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

    async def replace_ciphertext(
        self, lock_id: int, old: bytes, new: bytes, *, token_hash: bytes | None = None
    ) -> bool:
        """Swap ``old`` for ``new`` (and set the hash, when given) only if ``old`` is still
        stored; True if replaced."""
        values: dict[str, Any] = {"token_ciphertext": new}
        if token_hash is not None:
            values["token_hash"] = token_hash
        statement = update(locks).where(locks.c.id == lock_id, locks.c.token_ciphertext == old)
        try:
            async with self._db.write() as conn:
                result = await conn.execute(statement.values(**values))
        except IntegrityError:
            # The server has this token under another lock too (both stored before
            # hashes existed): that one keeps the hash.
            async with self._db.write() as conn:
                result = await conn.execute(statement.values(token_ciphertext=new))
        return result.rowcount > 0

    async def iter_hashes(
        self, batch_size: int = _ROTATION_BATCH
    ) -> AsyncIterator[tuple[int, bytes, bytes | None]]:
        """Every (lock_id, token_ciphertext, token_hash), in batches."""
        after = 0
        while True:
            query = (
                select(locks.c.id, locks.c.token_ciphertext, locks.c.token_hash)
                .where(locks.c.id > after)
                .order_by(locks.c.id)
                .limit(batch_size)
            )
            async with self._db.read() as conn:
                batch = (await conn.execute(query)).all()
            for lock_id, ciphertext, token_hash in batch:
                yield lock_id, bytes(ciphertext), None if token_hash is None else bytes(token_hash)
            if len(batch) < batch_size:
                return
            after = batch[-1].id

    async def set_token_hash(self, lock_id: int, ciphertext: bytes, token_hash: bytes) -> bool:
        """Store the hash of the token ``ciphertext`` holds, if the lock still holds it.

        False also when the server already has this token under another lock (two
        locks stored before hashes existed): that one keeps the hash, this one is
        left without and is found by name only.
        """
        try:
            async with self._db.write() as conn:
                result = await conn.execute(
                    update(locks)
                    .where(locks.c.id == lock_id, locks.c.token_ciphertext == ciphertext)
                    .values(token_hash=token_hash)
                )
        except IntegrityError:
            return False
        return result.rowcount > 0

    async def _one(self, query: Select[Any], values: dict[str, Any]) -> Lock | None:
        # Votes look their lock up on every click: the short way to the database.
        row = await self._db.run_read(lambda conn: conn.execute(query, values).one_or_none())
        return None if row is None else _lock(row)
