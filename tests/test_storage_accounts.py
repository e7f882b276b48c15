from datetime import UTC, datetime, timedelta

from bot.storage import Storage

NOW = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
USER = 123_456_789_012_345_678  # a real-sized Discord snowflake, beyond 32 bits


async def test_upsert_then_get(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"cipher-1", "Kitten", NOW)

    account = await storage.accounts.get(USER)

    assert account is not None
    assert account.user_id == USER
    assert account.token_ciphertext == b"cipher-1"
    assert account.nick == "Kitten"
    assert account.connected_at == NOW
    assert account.connected_at.utcoffset() == timedelta(0)
    assert account.needs_reconnect is False


async def test_unknown_user_has_no_account(storage: Storage) -> None:
    assert await storage.accounts.get(USER) is None


async def test_connecting_again_replaces_token_and_resets_state(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"old", "Old nick", NOW)
    await storage.accounts.mark_needs_reconnect(USER)

    await storage.accounts.upsert(USER, b"new", "New nick", LATER)

    account = await storage.accounts.get(USER)
    assert account is not None
    assert (account.token_ciphertext, account.nick) == (b"new", "New nick")
    assert account.connected_at == LATER
    assert account.needs_reconnect is False


async def test_mark_needs_reconnect_keeps_the_rest(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"cipher", "Kitten", NOW)

    await storage.accounts.mark_needs_reconnect(USER)

    account = await storage.accounts.get(USER)
    assert account is not None
    assert account.needs_reconnect is True
    assert account.token_ciphertext == b"cipher"


async def test_delete_reports_whether_there_was_an_account(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"cipher", "Kitten", NOW)

    assert await storage.accounts.delete(USER) is True
    assert await storage.accounts.get(USER) is None
    assert await storage.accounts.delete(USER) is False


async def test_repr_does_not_show_ciphertext(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"cipher-bytes", "Kitten", NOW)
    account = await storage.accounts.get(USER)
    assert "cipher-bytes" not in repr(account)


async def test_iterate_and_replace_ciphertexts(storage: Storage) -> None:
    for user_id in range(1, 9):
        await storage.accounts.upsert(user_id, f"c{user_id}".encode(), "n", NOW)

    # A batch of 3 makes the walk cross batch boundaries, including a full last one.
    seen = [pair async for pair in storage.accounts.iter_ciphertexts(batch_size=3)]
    exact = [pair async for pair in storage.accounts.iter_ciphertexts(batch_size=4)]

    expected = [(user_id, f"c{user_id}".encode()) for user_id in range(1, 9)]
    assert seen == expected
    assert exact == expected
    assert await storage.accounts.replace_ciphertext(7, b"c7", b"rotated") is True
    account = await storage.accounts.get(7)
    assert account is not None
    assert account.token_ciphertext == b"rotated"


async def test_replace_ciphertext_does_not_overwrite_a_newer_token(storage: Storage) -> None:
    await storage.accounts.upsert(USER, b"old", "Kitten", NOW)
    await storage.accounts.upsert(USER, b"reconnected", "Kitten", LATER)

    assert await storage.accounts.replace_ciphertext(USER, b"old", b"rotated-old") is False
    account = await storage.accounts.get(USER)
    assert account is not None
    assert account.token_ciphertext == b"reconnected"
