"""EditCoalescer: a burst of requests becomes a leading and a trailing edit, never overlapping."""

from __future__ import annotations

import asyncio

from bot.edits import EditCoalescer
from tests.fake_time import FakeSleep


async def test_a_burst_becomes_two_edits_and_the_last_state_lands() -> None:
    time = FakeSleep()
    coalescer = EditCoalescer(interval=5.0, monotonic=time.monotonic, sleep=time)
    state = {"value": 0}
    drawn: list[int] = []

    async def edit() -> None:
        drawn.append(state["value"])

    for value in range(1, 21):
        state["value"] = value
        coalescer.request("panel", edit)
        await asyncio.sleep(0)

    # The first request edits at once; the rest wait out the interval together.
    assert await time.next_request() == 5.0
    assert drawn == [1]
    time.release()
    await coalescer.flush()

    assert drawn == [1, 20]
    assert time.requested == [5.0]


async def test_only_what_is_left_of_the_interval_is_waited() -> None:
    time = FakeSleep()
    coalescer = EditCoalescer(interval=5.0, monotonic=time.monotonic, sleep=time)
    drawn: list[float] = []

    async def edit() -> None:
        drawn.append(time.monotonic())

    coalescer.request("panel", edit)
    await coalescer.flush()
    time.advance(2.0)
    coalescer.request("panel", edit)

    assert await time.next_request() == 3.0
    time.release()
    await coalescer.flush()
    time.advance(6.0)
    coalescer.request("panel", edit)  # the interval is over: at once
    await coalescer.flush()

    assert drawn == [0.0, 5.0, 11.0]
    assert time.requested == [3.0]


async def test_keys_do_not_wait_for_each_other() -> None:
    coalescer = EditCoalescer(interval=60.0)
    drawn: list[str] = []

    async def edit(key: str) -> None:
        drawn.append(key)

    coalescer.request("a", lambda: edit("a"))
    coalescer.request("b", lambda: edit("b"))
    await coalescer.flush()

    assert sorted(drawn) == ["a", "b"]


async def test_edits_of_one_key_never_overlap() -> None:
    coalescer = EditCoalescer(interval=0.0)
    running = 0
    most = 0

    async def edit() -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await asyncio.sleep(0.01)
        running -= 1

    coalescer.request("poll", edit)
    await asyncio.sleep(0)
    now = asyncio.create_task(coalescer.now("poll", edit))
    coalescer.request("poll", edit)
    await now
    await coalescer.flush()

    assert most == 1


async def test_a_failing_edit_does_not_stop_later_ones() -> None:
    coalescer = EditCoalescer(interval=0.0)
    calls: list[str] = []

    async def broken() -> None:
        calls.append("broken")
        raise RuntimeError("edit failed")

    async def fine() -> None:
        calls.append("fine")

    coalescer.request("panel", broken)
    await coalescer.flush()
    coalescer.request("panel", fine)
    await coalescer.flush()

    assert calls == ["broken", "fine"]


async def test_close_runs_a_waiting_edit_once_then_ignores_requests() -> None:
    coalescer = EditCoalescer(interval=60.0)
    state = {"value": 1}
    drawn: list[int] = []

    async def edit() -> None:
        drawn.append(state["value"])

    coalescer.request("panel", edit)
    await coalescer.flush()
    state["value"] = 2
    coalescer.request("panel", edit)  # waits for the interval
    await coalescer.close()
    coalescer.request("panel", edit)  # ignored once closed
    await coalescer.flush()

    assert drawn == [1, 2]


async def test_close_with_nothing_waiting_edits_nothing() -> None:
    coalescer = EditCoalescer(interval=60.0)
    drawn: list[int] = []

    async def edit() -> None:
        drawn.append(1)

    coalescer.request("panel", edit)
    await coalescer.flush()
    await coalescer.close()

    assert drawn == [1]
