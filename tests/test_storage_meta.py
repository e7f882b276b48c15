from bot.storage import Storage
from tests.fixtures.storage import StorageOpener


async def test_missing_key_reads_as_none(storage: Storage) -> None:
    assert await storage.meta.get("command_hash") is None


async def test_set_then_overwrite(storage: Storage) -> None:
    await storage.meta.set("command_hash", "abc")
    await storage.meta.set("command_hash", "def")
    await storage.meta.set("other", "x")
    assert await storage.meta.get("command_hash") == "def"
    assert await storage.meta.get("other") == "x"


async def test_values_survive_reopening(storage_opener: StorageOpener) -> None:
    first = await storage_opener()
    await first.meta.set("command_hash", "abc")
    await first.close()
    second = await storage_opener()
    try:
        assert await second.meta.get("command_hash") == "abc"
    finally:
        await second.close()
