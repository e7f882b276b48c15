from bot.storage import Storage
from tests.fixtures.storage import DatabaseTarget


async def test_missing_key_reads_as_none(storage: Storage) -> None:
    assert await storage.meta.get("command_hash") is None


async def test_set_then_overwrite(storage: Storage) -> None:
    await storage.meta.set("command_hash", "abc")
    await storage.meta.set("command_hash", "def")
    await storage.meta.set("other", "x")
    assert await storage.meta.get("command_hash") == "def"
    assert await storage.meta.get("other") == "x"


async def test_values_survive_reopening(database_target: DatabaseTarget) -> None:
    first = await database_target.open()
    await first.meta.set("command_hash", "abc")
    await first.close()
    second = await database_target.open()
    try:
        assert await second.meta.get("command_hash") == "abc"
    finally:
        await second.close()
