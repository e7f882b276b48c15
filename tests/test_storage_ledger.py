from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Storage

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = 700_000_000_000_000_001
OTHER = 700_000_000_000_000_002
GUILD = 900_000_000_000_000_001


async def play(storage: Storage, session: int | None, user_id: int = USER, minute: int = 0) -> int:
    return await storage.ledger.start(
        user_id, GUILD, "dice", False, session, None, None, True, NOW + timedelta(minutes=minute)
    )


async def test_start_records_a_pending_attempt(storage: Storage) -> None:
    entry_id = await storage.ledger.start(USER, None, "link", True, 7, 3, "rand", True, NOW)

    entry = await storage.ledger.get(entry_id)

    assert entry is not None
    assert (entry.user_id, entry.guild_id, entry.game, entry.dom) == (USER, None, "link", True)
    assert (entry.session, entry.lock_id, entry.choice, entry.logged) == (7, 3, "rand", True)
    assert entry.status == "pending"
    assert entry.detail_json is None
    assert entry.created_at == NOW
    assert entry.finished_at is None


async def test_finish_records_the_outcome_once(storage: Storage) -> None:
    entry_id = await play(storage, 7)

    assert await storage.ledger.finish(entry_id, "ok", '{"seconds": 60}', NOW) is True
    assert await storage.ledger.finish(entry_id, "error", "{}", NOW) is False

    entry = await storage.ledger.get(entry_id)
    assert entry is not None
    assert (entry.status, entry.detail_json, entry.finished_at) == ("ok", '{"seconds": 60}', NOW)


async def test_finish_refuses_unknown_outcomes(storage: Storage) -> None:
    entry_id = await play(storage, 7)
    with pytest.raises(ValueError, match="ok, refused, unknown, error"):
        await storage.ledger.finish(entry_id, "pending", "{}", NOW)  # type: ignore[arg-type]


async def test_recent_is_newest_first_and_per_user(storage: Storage) -> None:
    ids = [await play(storage, session, minute=i) for i, session in enumerate([1, 2, 3])]
    await play(storage, 9, user_id=OTHER)

    recent = await storage.ledger.recent(USER)
    assert [entry.id for entry in recent] == ids[::-1]
    assert [entry.id for entry in await storage.ledger.recent(USER, limit=2)] == ids[:0:-1]


async def test_recent_sessions_are_distinct_newest_first(storage: Storage) -> None:
    for minute, session in enumerate([5, 6, 5, None, 7, 6]):
        await play(storage, session, minute=minute)
    await play(storage, 99, user_id=OTHER)

    assert await storage.ledger.recent_sessions(USER) == [6, 7, 5]
    assert await storage.ledger.recent_sessions(USER, limit=2) == [6, 7]
    assert await storage.ledger.recent_sessions(OTHER) == [99]
