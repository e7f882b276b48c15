import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.storage import Lock, Poll, Storage

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GUILD = 900_000_000_000_000_001
CHANNEL = 800_000_000_000_000_001
ADMIN = 700_000_000_000_000_001
MEMBER = 700_000_000_000_000_009


@pytest.fixture
async def lock(storage: Storage) -> Lock:
    return await storage.locks.add(GUILD, "Cage", b"cipher", None, True, ADMIN, NOW)


async def new_poll(storage: Storage, lock: Lock, minutes: int = 30) -> Poll:
    return await storage.polls.create(
        GUILD, CHANNEL, lock.id, ADMIN, NOW + timedelta(minutes=minutes), NOW
    )


async def test_create_and_post(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    assert poll.status == "open"
    assert (poll.guild_id, poll.channel_id, poll.lock_id) == (GUILD, CHANNEL, lock.id)
    assert poll.created_by == ADMIN
    assert poll.ends_at == NOW + timedelta(minutes=30)
    assert poll.message_id is None
    assert poll.winning_choice is None

    await storage.polls.set_message(poll.id, 42)
    assert (await storage.polls.get(poll.id)) == Poll(**{**_fields(poll), "message_id": 42})
    assert await storage.polls.get(poll.id + 1000) is None


def _fields(poll: Poll) -> dict[str, object]:
    return {name: getattr(poll, name) for name in Poll.__dataclass_fields__}


async def test_one_changeable_choice_per_member(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    assert await storage.polls.tally(poll.id) == {"add": 0, "sub": 0, "rand": 0}
    await storage.polls.set_choice(poll.id, MEMBER, "add")
    await storage.polls.set_choice(poll.id, MEMBER + 1, "add")
    await storage.polls.set_choice(poll.id, MEMBER + 2, "rand")
    await storage.polls.set_choice(poll.id, MEMBER, "sub")

    assert await storage.polls.tally(poll.id) == {"add": 1, "sub": 1, "rand": 1}


async def test_concurrent_clicks_by_one_member_leave_one_choice(
    storage: Storage, lock: Lock
) -> None:
    poll = await new_poll(storage, lock)

    results = await asyncio.gather(
        *(
            storage.polls.set_choice(poll.id, MEMBER, choice)
            for choice in ["add", "sub", "rand"] * 4
        )
    )

    assert all(results)
    assert sum((await storage.polls.tally(poll.id)).values()) == 1


async def test_invalid_choice_is_refused(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    with pytest.raises(ValueError, match="add, sub, rand"):
        await storage.polls.set_choice(poll.id, MEMBER, "double")  # type: ignore[arg-type]


async def test_no_choice_after_closing_began(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    await storage.polls.set_choice(poll.id, MEMBER, "add")
    await storage.polls.begin_close(poll.id, "add", NOW)

    assert await storage.polls.set_choice(poll.id, MEMBER, "sub") is False
    assert await storage.polls.set_choice(poll.id, MEMBER + 1, "sub") is False
    assert await storage.polls.tally(poll.id) == {"add": 1, "sub": 0, "rand": 0}


async def test_close_lifecycle(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    closing_at = NOW + timedelta(minutes=30)
    closed_at = closing_at + timedelta(seconds=2)

    assert await storage.polls.begin_close(poll.id, "rand", closing_at) is True
    closing = await storage.polls.get(poll.id)
    assert closing is not None
    assert (closing.status, closing.winning_choice, closing.closing_at) == (
        "closing",
        "rand",
        closing_at,
    )
    assert [p.id for p in await storage.polls.list_closing()] == [poll.id]
    assert await storage.polls.list_open() == []

    assert await storage.polls.finish_close(poll.id, "ok", '{"seconds": 5}', closed_at) is True
    closed = await storage.polls.get(poll.id)
    assert closed is not None
    assert (closed.status, closed.outcome, closed.result_json, closed.closed_at) == (
        "closed",
        "ok",
        '{"seconds": 5}',
        closed_at,
    )
    assert await storage.polls.list_closing() == []
    # Each step happens once.
    assert await storage.polls.begin_close(poll.id, "add", closed_at) is False
    assert await storage.polls.finish_close(poll.id, "ok", None, closed_at) is False


async def test_poll_without_votes_closes_with_nothing_to_cast(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    assert await storage.polls.begin_close(poll.id, None, NOW) is True
    assert await storage.polls.finish_close(poll.id, "no_votes", None, NOW) is True

    closed = await storage.polls.get(poll.id)
    assert closed is not None
    assert closed.winning_choice is None
    assert closed.outcome == "no_votes"


async def test_begin_close_succeeds_once_under_concurrency(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    results = await asyncio.gather(
        *(storage.polls.begin_close(poll.id, "add", NOW) for _ in range(8))
    )

    assert results.count(True) == 1


async def test_closing_found_at_start_becomes_in_doubt(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    still_open = await new_poll(storage, lock)
    await storage.polls.begin_close(poll.id, "sub", NOW)

    for stale in await storage.polls.list_closing():
        assert await storage.polls.mark_in_doubt(stale.id, NOW) is True

    in_doubt = await storage.polls.get(poll.id)
    assert in_doubt is not None
    assert in_doubt.status == "in_doubt"
    assert in_doubt.winning_choice == "sub"
    assert await storage.polls.mark_in_doubt(still_open.id, NOW) is False
    # An in-doubt poll is never picked up again for casting.
    assert await storage.polls.begin_close(poll.id, "sub", NOW) is False
    assert await storage.polls.finish_close(poll.id, "ok", None, NOW) is False
    assert [p.id for p in await storage.polls.list_open()] == [still_open.id]


async def test_list_open_orders_by_end(storage: Storage, lock: Lock) -> None:
    late = await new_poll(storage, lock, minutes=90)
    early = await new_poll(storage, lock, minutes=10)

    assert [p.id for p in await storage.polls.list_open()] == [early.id, late.id]


async def test_open_for_lock(storage: Storage, lock: Lock) -> None:
    running = await new_poll(storage, lock)
    closing = await new_poll(storage, lock)
    done = await new_poll(storage, lock)
    await storage.polls.begin_close(closing.id, "add", NOW)
    await storage.polls.begin_close(done.id, None, NOW)
    await storage.polls.finish_close(done.id, "no_votes", None, NOW)

    assert [p.id for p in await storage.polls.open_for_lock(lock.id)] == [running.id, closing.id]
