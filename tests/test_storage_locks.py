import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import DuplicateLockName, Lock, Storage

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GUILD = 900_000_000_000_000_001
OTHER_GUILD = 900_000_000_000_000_002
ADMIN = 700_000_000_000_000_001
OWNER = 700_000_000_000_000_002


async def add(storage: Storage, name: str, guild_id: int = GUILD) -> Lock:
    return await storage.locks.add(
        guild_id, name, b"cipher-" + name.encode(), OWNER, True, ADMIN, NOW
    )


async def test_add_returns_the_stored_lock(storage: Storage) -> None:
    lock = await storage.locks.add(GUILD, "Cage", b"cipher", None, False, ADMIN, NOW)

    assert lock.guild_id == GUILD
    assert lock.name == "Cage"
    assert lock.token_ciphertext == b"cipher"
    assert lock.wearer_id is None
    assert lock.allow_anonymous is False
    assert lock.created_by == ADMIN
    assert lock.created_at == NOW
    assert await storage.locks.get(lock.id) == lock
    assert "cipher" not in repr(lock)


async def test_names_are_unique_per_guild_case_insensitively(storage: Storage) -> None:
    await add(storage, "Cage")

    with pytest.raises(DuplicateLockName) as info:
        await add(storage, "cAGE")

    assert "cAGE" in str(info.value)
    # The same name on another guild is a different lock.
    await add(storage, "cage", guild_id=OTHER_GUILD)


async def test_unicode_names_compare_casefolded(storage: Storage) -> None:
    await add(storage, "Straße")

    with pytest.raises(DuplicateLockName):
        await add(storage, "STRASSE")
    assert (await storage.locks.get_by_name(GUILD, "strasse")) is not None


async def test_racing_adds_of_one_name_leave_one_lock(storage: Storage) -> None:
    results = await asyncio.gather(
        *(add(storage, name) for name in ("Cage", "CAGE", "cage", "cAgE")),
        return_exceptions=True,
    )

    assert sum(isinstance(result, Lock) for result in results) == 1
    assert sum(isinstance(result, DuplicateLockName) for result in results) == 3
    assert len(await storage.locks.list(GUILD)) == 1


async def test_get_by_name_is_case_insensitive_and_per_guild(storage: Storage) -> None:
    lock = await add(storage, "Cage")

    assert await storage.locks.get_by_name(GUILD, "CAGE") == lock
    assert await storage.locks.get_by_name(OTHER_GUILD, "Cage") is None
    assert await storage.locks.get_by_name(GUILD, "Belt") is None
    assert await storage.locks.get(lock.id + 1000) is None


async def test_list_is_sorted_by_name_and_per_guild(storage: Storage) -> None:
    for name in ("beta", "Alpha", "gamma"):
        await add(storage, name)
    await add(storage, "other", guild_id=OTHER_GUILD)

    assert [lock.name for lock in await storage.locks.list(GUILD)] == ["Alpha", "beta", "gamma"]


async def test_remove(storage: Storage) -> None:
    await add(storage, "Cage")

    assert await storage.locks.remove(OTHER_GUILD, "Cage") is False
    assert await storage.locks.remove(GUILD, "CAGE") is True
    assert await storage.locks.get_by_name(GUILD, "Cage") is None
    assert await storage.locks.remove(GUILD, "Cage") is False
    # The name is free again.
    await add(storage, "Cage")


async def test_names_like_matches_prefix_literally(storage: Storage) -> None:
    for name in ("Cage", "cage_2", "Cagey", "Belt", "c%ge"):
        await add(storage, name)
    await add(storage, "Cage other guild", guild_id=OTHER_GUILD)

    assert await storage.locks.names_like(GUILD, "CAG") == ["Cage", "cage_2", "Cagey"]
    assert await storage.locks.names_like(GUILD, "cage_") == ["cage_2"]
    assert await storage.locks.names_like(GUILD, "c%") == ["c%ge"]
    assert await storage.locks.names_like(GUILD, "cag", limit=2) == ["Cage", "cage_2"]


async def test_name_length_is_checked(storage: Storage) -> None:
    with pytest.raises(ValueError, match="1 to 32"):
        await add(storage, "")
    with pytest.raises(ValueError, match="1 to 32"):
        await add(storage, "x" * 33)
    assert (await add(storage, "x" * 32)).name == "x" * 32


async def test_removing_a_lock_removes_its_panels_but_keeps_polls_and_ledger(
    storage: Storage,
) -> None:
    lock = await add(storage, "Cage")
    kept = await add(storage, "Belt")
    panel = await storage.panels.create(GUILD, 1, lock.id, NOW)
    other_panel = await storage.panels.create(GUILD, 1, kept.id, NOW)
    poll = await storage.polls.create(GUILD, 1, lock.id, ADMIN, NOW + timedelta(hours=1), NOW)
    entry = await storage.ledger.start(
        ADMIN, GUILD, "link", False, None, lock.id, "add", False, NOW
    )

    await storage.locks.remove(GUILD, "Cage")

    assert await storage.panels.get(panel.id) is None
    assert await storage.panels.get(other_panel.id) is not None
    orphan = await storage.polls.get(poll.id)
    assert orphan is not None
    assert orphan.status == "open"  # not closed behind the poll runner's back
    assert orphan.lock_id is None
    ledger_entry = await storage.ledger.get(entry)
    assert ledger_entry is not None
    assert ledger_entry.lock_id == lock.id


async def test_lock_ids_are_not_reused(storage: Storage) -> None:
    first = await add(storage, "Cage")
    await storage.locks.remove(GUILD, "Cage")

    second = await add(storage, "Cage")

    assert second.id > first.id


async def test_iterate_and_replace_ciphertexts(storage: Storage) -> None:
    locks = [await add(storage, f"lock{i}", guild_id=GUILD + i) for i in range(5)]

    seen = [pair async for pair in storage.locks.iter_ciphertexts(batch_size=2)]

    assert seen == [(lock.id, lock.token_ciphertext) for lock in locks]
    assert await storage.locks.replace_ciphertext(locks[0].id, b"stale", b"new") is False
    assert await storage.locks.replace_ciphertext(locks[0].id, locks[0].token_ciphertext, b"new")
    replaced = await storage.locks.get(locks[0].id)
    assert replaced is not None
    assert replaced.token_ciphertext == b"new"
