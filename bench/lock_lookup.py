"""What finding a lock by its token costs as a server registers more locks.

A vote by token (``/link vote token:``, a share link, a DM) finds the lock
through its keyed hash: one indexed lookup, plus the anonymous-vote checks
(an open poll on the token, the remembered use). Before, every lock of the
server was decrypted until one matched. Prints, for each number of locks
registered on one server, the cost of planning one anonymous vote by token
(nothing is sent) and of the old decrypt-every-lock scan, on a SQLite file.

    .venv/bin/python -m bench.lock_lookup
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from cryptography.fernet import Fernet
from sqlalchemy import insert

from bot.accounts import AccountService
from bot.ctapi import ChastityTrackerClient, Choice
from bot.secrets import Secret
from bot.storage import Storage
from bot.storage.locks import name_key
from bot.storage.schema import locks
from bot.vault import Vault, VaultError
from bot.voting import VoteService

COUNTS = (10, 10_000)
ROUNDS = 100
GUILD = 1
VOTER = 42
NOW = datetime(2026, 6, 1, tzinfo=UTC)


async def seed(storage: Storage, vault: Vault, count: int) -> Secret:
    """``count`` locks on one server, in one transaction; returns the last one's token."""
    tokens = [Secret(secrets.token_urlsafe(24)) for _ in range(count)]
    rows = [
        {
            "guild_id": GUILD,
            "name": f"lock{index}",
            "name_key": name_key(f"lock{index}"),
            "token_ciphertext": vault.encrypt(token),
            "token_hash": vault.token_hash(token),
            "owner_id": None,
            "allow_anonymous": True,
            "created_by": 1,
            "created_at": NOW,
        }
        for index, token in enumerate(tokens)
    ]
    database = storage._database
    async with database.write() as conn:
        await conn.execute(insert(locks), rows)
    return tokens[-1]


async def per_call(run: Callable[[], Awaitable[object]], rounds: int, repeat: int = 5) -> float:
    """The best of ``repeat`` runs of ``rounds`` calls: the least disturbed by other load."""
    await run()  # warm up (statement caches, connection pool)
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(rounds):
            await run()
        best = min(best, (time.perf_counter() - started) / rounds)
    return best


async def measure(count: int, rounds: int, folder: Path) -> tuple[float, float]:
    """(seconds per vote planned by token, seconds per old decrypt-all scan)."""
    storage = await Storage.open(f"sqlite+aiosqlite:///{folder / f'locks-{count}.db'}")
    try:
        vault = Vault([Secret(Fernet.generate_key().decode())])
        token = await seed(storage, vault, count)
        api = cast("ChastityTrackerClient", None)  # nothing is sent
        accounts = AccountService(storage, vault, api, lambda: NOW)
        votes = VoteService(
            api=api, storage=storage, vault=vault, accounts=accounts, clock=lambda: NOW
        )

        async def vote_by_token() -> Any:
            target = await votes.resolve(GUILD, None, token)
            assert target.lock is not None
            return await votes.plan(VOTER, GUILD, target, Choice.ADD)

        async def decrypt_scan() -> Any:
            for lock in await storage.locks.list(GUILD):
                try:
                    if vault.decrypt(lock.token_ciphertext) == token:
                        return lock
                except VaultError:
                    continue
            return None

        lookup = await per_call(vote_by_token, rounds)
        scan = await per_call(decrypt_scan, max(1, rounds // 20), repeat=1)
        return lookup, scan
    finally:
        await storage.close()


async def run(counts: Sequence[int], rounds: int) -> list[tuple[int, float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        return [(count, *await measure(count, rounds, Path(folder))) for count in counts]


def main(counts: Sequence[int] = COUNTS, rounds: int = ROUNDS) -> None:
    results = asyncio.run(run(counts, rounds))
    first = results[0][1]
    print(f"{'locks':>8} {'ms per vote by token':>21} {'x first':>8} {'ms decrypt-all scan':>20}")
    for count, lookup, scan in results:
        print(f"{count:>8} {lookup * 1e3:>21.3f} {lookup / first:>8.2f} {scan * 1e3:>20.3f}")


if __name__ == "__main__":
    main()
