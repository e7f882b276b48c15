"""Connected Chastity Tracker accounts: one encrypted bearer token per Discord user."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Connection, bindparam, delete, select, update

from bot.storage.database import AnyRow, Database
from bot.storage.schema import accounts

_ROTATION_BATCH: Final = 200


@dataclass(frozen=True, slots=True)
class Account:
    user_id: int
    # Ciphertext, not the token, but there is no reason to print it either.
    token_ciphertext: bytes = field(repr=False)
    nick: str
    connected_at: datetime
    needs_reconnect: bool
    # The keyed hash of the member's own LINK token (the penalty guard), and when it
    # was last learned from Chastity Tracker (None: never; the hash None: no LINK game).
    link_token_hash: bytes | None = field(default=None, repr=False)
    link_checked_at: datetime | None = None


def _account(row: AnyRow) -> Account:
    return Account(
        user_id=row.user_id,
        token_ciphertext=bytes(row.token_ciphertext),
        nick=row.nick,
        connected_at=row.connected_at,
        needs_reconnect=bool(row.needs_reconnect),
        link_token_hash=None if row.link_token_hash is None else bytes(row.link_token_hash),
        link_checked_at=row.link_checked_at,
    )


_COLUMNS: Final = (
    accounts.c.user_id,
    accounts.c.token_ciphertext,
    accounts.c.nick,
    accounts.c.connected_at,
    accounts.c.needs_reconnect,
    accounts.c.link_token_hash,
    accounts.c.link_checked_at,
)


# Every play reads the member's account: built once, so a play only binds the id.
_BY_ID: Final = select(*_COLUMNS).where(accounts.c.user_id == bindparam("user_id"))


_REPLACED_AT_CONNECT: Final = (
    "token_ciphertext",
    "nick",
    "connected_at",
    "needs_reconnect",
    "link_token_hash",
    "link_checked_at",
)


class AccountRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def upsert(
        self,
        user_id: int,
        token_ciphertext: bytes,
        nick: str,
        now: datetime,
        *,
        link_token_hash: bytes | None = None,
        link_checked_at: datetime | None = None,
    ) -> None:
        """Store the account; connecting again replaces the token and starts afresh."""
        statement = self._db.upsert_by_key(accounts, key=["user_id"], update=_REPLACED_AT_CONNECT)
        row = {
            "user_id": user_id,
            "token_ciphertext": token_ciphertext,
            "nick": nick,
            "connected_at": now,
            "needs_reconnect": False,
            "link_token_hash": link_token_hash,
            "link_checked_at": link_checked_at,
        }

        def store(conn: Connection) -> None:
            conn.execute(statement, row)

        # A crowd connecting at once writes one account each: the short way.
        await self._db.run_write(store)

    async def get(self, user_id: int) -> Account | None:
        def one(conn: Connection) -> AnyRow | None:
            return conn.execute(_BY_ID, {"user_id": user_id}).one_or_none()

        row = await self._db.run_read(one)
        return None if row is None else _account(row)

    async def delete(self, user_id: int) -> bool:
        """True if there was an account to delete."""
        async with self._db.write() as conn:
            result = await conn.execute(delete(accounts).where(accounts.c.user_id == user_id))
        return result.rowcount > 0

    async def mark_needs_reconnect(self, user_id: int) -> None:
        """Chastity Tracker refused the token; keep it, but tell the user to reconnect."""
        async with self._db.write() as conn:
            await conn.execute(
                update(accounts).where(accounts.c.user_id == user_id).values(needs_reconnect=True)
            )

    async def set_link_hash(
        self, user_id: int, link_token_hash: bytes | None, now: datetime
    ) -> None:
        """Remember the member's own LINK token's hash (None: they have no LINK game)."""
        async with self._db.write() as conn:
            await conn.execute(
                update(accounts)
                .where(accounts.c.user_id == user_id)
                .values(link_token_hash=link_token_hash, link_checked_at=now)
            )

    async def forget_link_hashes(self) -> int:
        """Forget every learned LINK hash (after a key rotation they are relearned)."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(accounts)
                .where(accounts.c.link_checked_at.is_not(None))
                .values(link_token_hash=None, link_checked_at=None)
            )
        return result.rowcount

    async def iter_ciphertexts(
        self, batch_size: int = _ROTATION_BATCH
    ) -> AsyncIterator[tuple[int, bytes]]:
        """Every (user_id, token_ciphertext), read in batches so none stays locked while
        the caller rewrites them with :meth:`replace_ciphertext`."""
        after: int | None = None
        while True:
            query = select(accounts.c.user_id, accounts.c.token_ciphertext)
            if after is not None:
                query = query.where(accounts.c.user_id > after)
            query = query.order_by(accounts.c.user_id).limit(batch_size)
            async with self._db.read() as conn:
                batch = (await conn.execute(query)).all()
            for user_id, ciphertext in batch:
                yield user_id, bytes(ciphertext)
            if len(batch) < batch_size:
                return
            after = batch[-1].user_id

    async def replace_ciphertext(self, user_id: int, old: bytes, new: bytes) -> bool:
        """Swap ``old`` for ``new`` only if the stored token is still ``old``, so a
        reconnect that happened meanwhile is not overwritten. True if replaced."""
        async with self._db.write() as conn:
            result = await conn.execute(
                update(accounts)
                .where(accounts.c.user_id == user_id, accounts.c.token_ciphertext == old)
                .values(token_ciphertext=new)
            )
        return result.rowcount > 0
