"""Start-up's objects are left out of full garbage collections; later garbage is not."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest

import bot.app
from bot.app import start_settled
from bot.startup_memory import settle_startup_objects


@pytest.fixture
def thawed() -> Iterator[None]:
    """Whatever a test freezes is unfrozen after it: the rest of the suite collects as usual."""
    yield
    gc.unfreeze()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def cycle() -> weakref.ref[Node]:
    """Two objects that only reference each other: garbage only a collection frees."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_objects_alive_at_start_up_are_frozen_and_later_garbage_is_collected(
    thawed: None,
) -> None:
    before_start_up = cycle()
    kept = [Node() for _ in range(100)]

    frozen = settle_startup_objects()

    # start-up's own garbage was collected first, not frozen
    assert before_start_up() is None
    assert frozen == gc.get_freeze_count()
    assert frozen >= len(kept)
    assert all(gc.is_tracked(node) for node in kept)
    later = cycle()
    assert later() is not None
    gc.collect()
    assert later() is None


async def test_the_bot_settles_between_login_and_connecting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[str] = []

    class Bot:
        async def login(self, token: str) -> None:
            steps.append(f"login {token}")

        async def connect(self) -> None:
            steps.append("connect")

    monkeypatch.setattr(bot.app, "settle_startup_objects", lambda: steps.append("settle"))
    fake: Any = Bot()

    await start_settled(fake, "token")

    assert steps == ["login token", "settle", "connect"]
