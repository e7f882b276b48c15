from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from bot.storage import Lock, Storage

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GUILD = 900_000_000_000_000_001
CHANNEL = 800_000_000_000_000_001
MESSAGE = 810_000_000_000_000_001


@pytest.fixture
async def lock(storage: Storage) -> Lock:
    return await storage.locks.add(GUILD, "Cage", b"cipher", None, True, 1, NOW)


async def test_create_then_post(storage: Storage, lock: Lock) -> None:
    panel = await storage.panels.create(GUILD, CHANNEL, lock.id, NOW)

    assert (panel.guild_id, panel.channel_id, panel.lock_id) == (GUILD, CHANNEL, lock.id)
    assert panel.message_id is None
    assert panel.created_at == NOW
    assert panel.last_result_json is None

    await storage.panels.set_message(panel.id, MESSAGE)

    posted = await storage.panels.get(panel.id)
    assert posted is not None
    assert posted.message_id == MESSAGE


async def test_record_result(storage: Storage, lock: Lock) -> None:
    panel = await storage.panels.create(GUILD, CHANNEL, lock.id, NOW)

    await storage.panels.record_result(panel.id, '{"seconds": 60}', NOW + timedelta(minutes=5))

    updated = await storage.panels.get(panel.id)
    assert updated is not None
    assert updated.last_result_json == '{"seconds": 60}'
    assert updated.last_result_at == NOW + timedelta(minutes=5)


async def test_delete_and_for_lock(storage: Storage, lock: Lock) -> None:
    first = await storage.panels.create(GUILD, CHANNEL, lock.id, NOW)
    second = await storage.panels.create(GUILD, CHANNEL + 1, lock.id, NOW)

    assert [panel.id for panel in await storage.panels.for_lock(lock.id)] == [first.id, second.id]
    assert await storage.panels.delete(first.id) is True
    assert await storage.panels.delete(first.id) is False
    assert await storage.panels.get(first.id) is None
    assert [panel.id for panel in await storage.panels.for_lock(lock.id)] == [second.id]


async def test_a_panel_needs_an_existing_lock(storage: Storage) -> None:
    # Foreign keys are enforced on SQLite too (they are off unless switched on).
    with pytest.raises(IntegrityError):
        await storage.panels.create(GUILD, CHANNEL, 424242, NOW)
