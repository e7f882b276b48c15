"""Several processes on one database: leases decide who closes the polls and whose close
is abandoned. A second process is a second PollService with its own owner id on the same
storage (the multi-process test with real processes is tests/test_poll_processes.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.polls import LEASE_TTL, SCHEDULER_LEASE, PollService
from bot.storage import Storage
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import GAMES_PATH, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness
from tests.test_polls import (
    choose,
    closing_messages,
    poll_of,
    polls,
    scheduler_paused,
    start_poll,
    time_is_up,
)
from tests.voting_support import game_posts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    harness = await make_harness(sleep=FakeSleep())
    await scheduler_paused(harness)
    return harness


def other_process(harness: Harness) -> PollService:
    """The polls of another bot process on the same database."""
    return PollService(
        client=harness.bot,
        storage=harness.storage,
        votes=harness.bot.votes,
        vault=harness.vault,
        clock=harness.clock.now,
        owner="other-host:4242:abcd",
    )


async def test_a_lease_is_held_by_one_owner_until_it_expires_or_is_released(
    storage: Storage,
) -> None:
    later = NOW + timedelta(seconds=90)
    leases = storage.leases
    assert await leases.take("x", "a", NOW, later)
    assert await leases.take("x", "a", NOW, later)  # renewing
    assert not await leases.take("x", "b", NOW + timedelta(seconds=89), later)
    holder = await leases.holder("x", NOW)
    assert holder is not None
    assert (holder.owner, holder.expires_at) == ("a", later)

    assert await leases.take("x", "b", later, later + timedelta(seconds=90))  # a expired
    assert not await leases.take("x", "a", later, later + timedelta(seconds=90))
    await leases.release("x", "a")  # not a's any more: nothing happens
    assert (await leases.holder("x", later)) is not None
    await leases.release("x", "b")
    assert await leases.holder("x", later) is None
    assert await leases.take("x", "a", later, later + timedelta(seconds=1))


async def test_of_many_owners_asking_at_once_one_gets_the_lease(storage: Storage) -> None:
    later = NOW + timedelta(seconds=90)
    taken = await asyncio.gather(
        *(storage.leases.take("x", f"owner{i}", NOW, later) for i in range(8))
    )
    assert taken.count(True) == 1


async def test_a_start_leaves_a_close_another_live_process_is_casting(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.delay(1.0))
    time_is_up(harness)
    closing = asyncio.create_task(polls(harness).run_due())
    await ct_fake.wait_for_requests(1, path=GAMES_PATH)

    # Another process starts while this one is casting: not in doubt, and it does not close.
    other = other_process(harness)
    assert await other.recover() == []
    assert await other.run_due() == []

    assert await closing == [(await poll_of(harness, message)).id]
    stored = await poll_of(harness, message)
    assert (stored.status, stored.outcome) == ("closed", "ok")
    (announcement,) = closing_messages(harness)
    assert "one anonymous vote for **Add time**" in announcement.content
    assert len(game_posts(ct_fake)) == 1


async def test_an_expired_process_s_close_is_in_doubt_and_never_announced_as_a_success(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.delay(1.0))
    time_is_up(harness)
    closing = asyncio.create_task(polls(harness).run_due())
    await ct_fake.wait_for_requests(1, path=GAMES_PATH)

    # This process looks dead to the others (it stopped renewing its lease).
    harness.clock.advance(LEASE_TTL + 1)
    other = other_process(harness)
    assert await other.run_due() == []  # it takes the scheduler over: nothing due is open
    assert (await poll_of(harness, message)).status == "in_doubt"

    await closing
    (report,) = closing_messages(harness)
    assert "may or may not have reached Chastity Tracker" in report.content
    assert (await poll_of(harness, message)).status == "in_doubt"
    await other.close()


async def test_another_process_takes_the_polls_over_once_the_lease_expires(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Remove time", harness.member)
    holder = await harness.storage.leases.holder(SCHEDULER_LEASE, harness.clock.now())
    assert holder is not None
    assert holder.owner == polls(harness).owner
    other = other_process(harness)
    time_is_up(harness)
    now = harness.clock.now()
    # The holder's heartbeat, as its scheduler renews the lease at each look.
    assert await harness.storage.leases.take(
        SCHEDULER_LEASE, holder.owner, now, now + timedelta(seconds=LEASE_TTL)
    )
    assert await other.run_due() == []
    assert (await poll_of(harness, message)).status == "open"

    harness.clock.advance(LEASE_TTL)  # the holder stopped renewing: it crashed
    poll = await poll_of(harness, message)
    assert await other.run_due() == [poll.id]
    assert (await poll_of(harness, message)).outcome == "ok"
    assert len(game_posts(ct_fake)) == 1
    assert await polls(harness).run_due() == []  # the old holder lost the lease
    await other.close()
