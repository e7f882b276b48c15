import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from bot.storage import Lock, Poll, Storage
from bot.storage.polls import Choice, Closing
from bot.storage.schema import polls

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GUILD = 900_000_000_000_000_001
CHANNEL = 800_000_000_000_000_001
ADMIN = 700_000_000_000_000_001
MEMBER = 700_000_000_000_000_009


@pytest.fixture
async def lock(storage: Storage) -> Lock:
    return await storage.locks.add(GUILD, "Cage", b"cipher", None, True, ADMIN, NOW)


def picks(choice: Choice | None) -> Callable[[Mapping[str, int]], Choice | None]:
    """A winner rule that ignores the tally."""
    return lambda _tally: choice


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
    await storage.polls.begin_close(poll.id, NOW, picks("add"))

    assert await storage.polls.set_choice(poll.id, MEMBER, "sub") is False
    assert await storage.polls.set_choice(poll.id, MEMBER + 1, "sub") is False
    assert await storage.polls.tally(poll.id) == {"add": 1, "sub": 0, "rand": 0}


async def test_close_lifecycle(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    closing_at = NOW + timedelta(minutes=30)
    closed_at = closing_at + timedelta(seconds=2)

    assert await storage.polls.begin_close(poll.id, closing_at, picks("rand")) == Closing(
        {"add": 0, "sub": 0, "rand": 0}, "rand"
    )
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
    assert await storage.polls.begin_close(poll.id, closed_at, picks("add")) is None
    assert await storage.polls.finish_close(poll.id, "ok", None, closed_at) is False


async def test_poll_without_votes_closes_with_nothing_to_cast(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    assert await storage.polls.begin_close(poll.id, NOW, picks(None)) is not None
    assert await storage.polls.finish_close(poll.id, "no_votes", None, NOW) is True

    closed = await storage.polls.get(poll.id)
    assert closed is not None
    assert closed.winning_choice is None
    assert closed.outcome == "no_votes"


async def test_a_choice_waits_for_a_close_in_flight_and_is_then_refused(
    storage: Storage, lock: Lock
) -> None:
    """The poll row lock (FOR SHARE on PostgreSQL, the write lock on SQLite) at work.

    Without it, PostgreSQL would let the choice read the last committed status
    ("open") and record a choice the closing tally never counts.
    """
    poll = await new_poll(storage, lock)

    async with storage._database.write() as conn:
        await conn.execute(
            update(polls).where(polls.c.id == poll.id).values(status="closing", closing_at=NOW)
        )
        choosing = asyncio.create_task(storage.polls.set_choice(poll.id, MEMBER, "add"))
        await asyncio.sleep(0.5)
        assert not choosing.done()

    assert await choosing is False
    assert await storage.polls.tally(poll.id) == {"add": 0, "sub": 0, "rand": 0}


async def test_begin_close_succeeds_once_under_concurrency(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)

    results = await asyncio.gather(
        *(storage.polls.begin_close(poll.id, NOW, picks("add")) for _ in range(8))
    )

    assert len([closing for closing in results if closing is not None]) == 1


async def test_closing_found_at_start_becomes_in_doubt(storage: Storage, lock: Lock) -> None:
    poll = await new_poll(storage, lock)
    still_open = await new_poll(storage, lock)
    await storage.polls.begin_close(poll.id, NOW, picks("sub"))

    for stale in await storage.polls.list_closing():
        assert await storage.polls.mark_in_doubt(stale.id, NOW) is True

    in_doubt = await storage.polls.get(poll.id)
    assert in_doubt is not None
    assert in_doubt.status == "in_doubt"
    assert in_doubt.winning_choice == "sub"
    assert await storage.polls.mark_in_doubt(still_open.id, NOW) is False
    # An in-doubt poll is never picked up again for casting.
    assert await storage.polls.begin_close(poll.id, NOW, picks("sub")) is None
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
    await storage.polls.begin_close(closing.id, NOW, picks("add"))
    await storage.polls.begin_close(done.id, NOW, picks(None))
    await storage.polls.finish_close(done.id, "no_votes", None, NOW)

    assert [p.id for p in await storage.polls.open_for_lock(lock.id)] == [running.id, closing.id]


async def test_begin_close_counts_the_final_choices_and_records_the_pick(
    storage: Storage, lock: Lock
) -> None:
    poll = await new_poll(storage, lock)
    await storage.polls.set_choice(poll.id, MEMBER, "sub")
    await storage.polls.set_choice(poll.id, MEMBER + 1, "sub")
    await storage.polls.set_choice(poll.id, MEMBER + 2, "add")
    seen: list[dict[str, int]] = []

    def pick(tally: Mapping[str, int]) -> Choice | None:
        seen.append(dict(tally))
        return "sub"

    closing = await storage.polls.begin_close(poll.id, NOW, pick)

    assert closing == Closing({"add": 1, "sub": 2, "rand": 0}, "sub")
    assert seen == [closing.tally]
    stored = await storage.polls.get(poll.id)
    assert stored is not None
    assert (stored.status, stored.winning_choice) == ("closing", "sub")


async def test_a_choice_racing_the_close_is_either_counted_or_refused(
    storage: Storage, lock: Lock
) -> None:
    # Members keep clicking while the poll closes: every choice that was accepted
    # must be in the tally the winner was picked from, and none may land after it.
    poll = await new_poll(storage, lock)
    members = [MEMBER + n for n in range(40)]

    async def choose(member: int) -> bool:
        return await storage.polls.set_choice(poll.id, member, "add")

    async def close_midway() -> Closing | None:
        await asyncio.sleep(0)
        return await storage.polls.begin_close(poll.id, NOW, picks("add"))

    *accepted, closing = await asyncio.gather(*(choose(m) for m in members), close_midway())

    assert closing is not None
    assert closing.tally["add"] == accepted.count(True)
    assert await storage.polls.tally(poll.id) == closing.tally
