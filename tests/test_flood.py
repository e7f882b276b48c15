from datetime import UTC, datetime

import pytest

from bot.flood import FloodGate, SlowDown


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill() -> None:
    clock = Clock()
    gate = FloodGate(burst=3, interval=2.0, monotonic=clock)
    assert [gate.wait_time(1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert gate.wait_time(1) == pytest.approx(2.0)
    clock.now += 1.0
    assert gate.wait_time(1) == pytest.approx(1.0)
    clock.now += 1.0
    assert gate.wait_time(1) == 0.0


def test_members_are_independent() -> None:
    gate = FloodGate(burst=1, interval=10.0, monotonic=Clock())
    assert gate.wait_time(1) == 0.0
    assert gate.wait_time(1) > 0
    assert gate.wait_time(2) == 0.0


def test_check_raises_with_a_discord_timestamp() -> None:
    gate = FloodGate(burst=1, interval=30.0, monotonic=Clock())
    now = datetime(2026, 1, 1, tzinfo=UTC)
    gate.check(7, now)
    with pytest.raises(SlowDown) as info:
        gate.check(7, now)
    assert info.value.retry_at > now
    assert f"<t:{int(info.value.retry_at.timestamp())}:R>" in str(info.value)


def test_idle_members_are_forgotten_when_the_map_is_full() -> None:
    clock = Clock()
    gate = FloodGate(burst=1, interval=1.0, monotonic=clock, max_members=2)
    gate.wait_time(1)
    gate.wait_time(2)
    clock.now += 5
    gate.wait_time(3)
    assert gate.tracked() == {3}
