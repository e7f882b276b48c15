"""Tokens found by their keyed hash: stored beside the ciphertext, filled in at start for
locks stored before hashes existed, recomputed by ``reencrypt`` after a key rotation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from bot.secrets import Secret
from bot.storage import DuplicateLockToken, Storage
from bot.vault import Vault, fill_token_hashes, reencrypt_all

NOW = datetime(2026, 1, 2, tzinfo=UTC)
LOCK_TOKEN = "link-token-fedcba9876543210"


def vault(*keys: str) -> Vault:
    return Vault([Secret(key) for key in keys])


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_the_hash_is_keyed_and_never_the_token() -> None:
    one, two = vault(new_key()), vault(new_key())
    token = Secret(LOCK_TOKEN)

    assert one.token_hash(token) == one.token_hash(Secret(LOCK_TOKEN))
    assert one.token_hash(token) != two.token_hash(token)
    assert one.token_hash(token) != one.token_hash(Secret(LOCK_TOKEN + "x"))
    assert LOCK_TOKEN.encode() not in one.token_hash(token)
    assert len(one.token_hash(token)) == 32


async def test_locks_stored_without_a_hash_get_one_at_start(storage: Storage) -> None:
    keys = vault(new_key())
    # As migration 0002 leaves a lock registered before it: no hash.
    await storage.locks.add(9, "Cage", keys.encrypt(Secret(LOCK_TOKEN)), None, True, 1, NOW)
    hashes = keys.token_hashes(Secret(LOCK_TOKEN))
    assert await storage.locks.find_by_token(9, hashes) is None

    assert await fill_token_hashes(storage, keys) == 1

    found = await storage.locks.find_by_token(9, hashes)
    assert found is not None
    assert found.name == "Cage"
    assert await fill_token_hashes(storage, keys) == 0  # nothing left to fill


async def test_during_a_rotation_both_hashes_find_the_lock_and_reencrypt_moves_it(
    storage: Storage,
) -> None:
    old, new = new_key(), new_key()
    before = vault(old)
    token = Secret(LOCK_TOKEN)
    await storage.locks.add(
        9, "Cage", before.encrypt(token), None, True, 1, NOW, token_hash=before.token_hash(token)
    )
    await storage.accounts.upsert(
        5, before.encrypt(Secret("bearer")), "n", NOW, link_token_hash=b"h", link_checked_at=NOW
    )
    rotating = vault(new, old)

    # new,old before reencrypt: the old hash is still found.
    assert await storage.locks.find_by_token(9, rotating.token_hashes(token)) is not None

    report = await reencrypt_all(storage, rotating)

    assert report.locks == 1
    lock = await storage.locks.find_by_token(9, vault(new).token_hashes(token))
    assert lock is not None
    assert lock.token_hash == vault(new).token_hash(token)
    # The member's own LINK hash cannot be recomputed: it is learned again.
    account = await storage.accounts.get(5)
    assert account is not None
    assert (account.link_token_hash, account.link_checked_at) == (None, None)


async def test_the_database_refuses_a_second_lock_with_the_same_token(storage: Storage) -> None:
    keys = vault(new_key())
    token = Secret(LOCK_TOKEN)
    token_hash = keys.token_hash(token)
    cipher = keys.encrypt(token)
    await storage.locks.add(9, "One", cipher, None, True, 1, NOW, token_hash=token_hash)

    with pytest.raises(DuplicateLockToken):
        await storage.locks.add(9, "Two", cipher, None, True, 1, NOW, token_hash=token_hash)
    # Another server may register the same token.
    await storage.locks.add(10, "One", cipher, None, True, 1, NOW, token_hash=token_hash)
    assert len(await storage.locks.everywhere_by_token([token_hash])) == 2
