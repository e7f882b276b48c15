"""The poll scheduler's timing: how long it pauses, what wakes it, what it does after.

The bot's clock is frozen and its sleep is a :class:`FakeSleep`, so each pause the
scheduler asks for is an exact number and ends only when the test releases it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.polls import MAX_SLEEP, MIN_SLEEP, RETRY_SLEEP, PollService
from bot.storage import Poll
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import FakeChastityTracker
from tests.fixtures.discord import HarnessFactory
from tests.harness import FakeMessage, Harness, LogGuard, TestClock
from tests.voting_support import Wearer, game_posts, register, vote_body, wearer

START = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
MINUTES = 10


@pytest.fixture
def sleep() -> FakeSleep:
    return FakeSleep()


@pytest.fixture
async def harness(make_harness: HarnessFactory, sleep: FakeSleep) -> Harness:
    harness = await make_harness(clock=TestClock(START, frozen=True), sleep=sleep)
    # At start nothing is open: the scheduler looks, then waits its longest pause.
    assert await sleep.next_request() == MAX_SLEEP
    return harness


def polls(harness: Harness) -> PollService:
    return harness.bot.polls


async def start_poll(
    harness: Harness, ct_fake: FakeChastityTracker, name: str
) -> tuple[Wearer, FakeMessage]:
    lock = wearer(ct_fake, nick=f"wearer-{name}")
    await register(harness, name, lock.token)
    result = await harness.run("locks poll", {"name": name, "minutes": MINUTES}, by=harness.admin)
    assert "started" in (await result.wait_for_message()).text()
    return lock, harness.channel_messages()[-1]


async def poll_of(harness: Harness, message: FakeMessage) -> Poll:
    poll_id = int(message.buttons()[0]["custom_id"].split(":")[1])
    poll = await harness.storage.polls.get(poll_id)
    assert poll is not None
    return poll


def closing_messages(harness: Harness) -> list[FakeMessage]:
    return [m for m in harness.channel_messages() if "closed.**" in m.content]


async def test_a_new_poll_wakes_the_scheduler_to_wait_until_the_nearest_deadline(
    harness: Harness, ct_fake: FakeChastityTracker, sleep: FakeSleep
) -> None:
    await start_poll(harness, ct_fake, "cage")
    # Ten minutes away: the pause is capped, since the clock may jump meanwhile.
    assert await sleep.next_request() == MAX_SLEEP

    harness.clock.advance(MINUTES * 60 - 15)
    await start_poll(harness, ct_fake, "belt")

    # The new poll woke it; the first poll's end, 15 s away, is the nearest one.
    assert await sleep.next_request() == 15.0
    assert sleep.pending == [15.0]  # the earlier pause was cut short, not left running


async def test_when_the_pause_ends_the_due_poll_is_closed(
    harness: Harness, ct_fake: FakeChastityTracker, sleep: FakeSleep
) -> None:
    lock, message = await start_poll(harness, ct_fake, "cage")
    assert await sleep.next_request() == MAX_SLEEP
    await (await harness.click(message, label="Remove time")).wait_for_message()
    harness.clock.advance(MINUTES * 60)

    # Time is up, but the scheduler is still in its pause: nothing closes yet.
    assert (await poll_of(harness, message)).status == "open"
    assert game_posts(ct_fake) == []

    sleep.release()

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    stored = await poll_of(harness, message)
    assert (stored.status, stored.outcome) == ("closed", "ok")
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "sub")]
    # Nothing left open: back to the longest pause.
    assert await sleep.next_request() == MAX_SLEEP


async def test_a_failing_look_is_tried_again_after_the_retry_pause(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    sleep: FakeSleep,
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_guard.expect_error(r"The poll scheduler failed")
    _, message = await start_poll(harness, ct_fake, "cage")
    assert await sleep.next_request() == MAX_SLEEP
    list_open = harness.storage.polls.list_open
    failures = [ConnectionError("database unreachable")]

    async def fails_once() -> list[Poll]:
        if failures:
            raise failures.pop()
        return await list_open()

    monkeypatch.setattr(harness.storage.polls, "list_open", fails_once)
    harness.clock.advance(MINUTES * 60)
    polls(harness).wake()

    assert await sleep.next_request() == RETRY_SLEEP
    assert failures == []
    assert (await poll_of(harness, message)).status == "open"

    sleep.release()

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    assert (await poll_of(harness, message)).status == "closed"


async def test_a_poll_that_failed_to_close_is_tried_again_after_the_shortest_pause(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    sleep: FakeSleep,
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_guard.expect_error(r"Closing poll \d+ failed")
    _, message = await start_poll(harness, ct_fake, "cage")
    assert await sleep.next_request() == MAX_SLEEP
    begin_close = harness.storage.polls.begin_close
    failures = [ConnectionError("database unreachable")]

    async def fails_once(*args: Any, **kwargs: Any) -> Any:
        if failures:
            raise failures.pop()
        return await begin_close(*args, **kwargs)

    monkeypatch.setattr(harness.storage.polls, "begin_close", fails_once)
    harness.clock.advance(MINUTES * 60)
    sleep.release()

    # Overdue and still open: looked at again soon, without spinning.
    assert await sleep.next_request() == MIN_SLEEP
    assert failures == []
    assert (await poll_of(harness, message)).status == "open"

    sleep.release()

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    assert (await poll_of(harness, message)).status == "closed"
