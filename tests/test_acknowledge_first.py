"""Every member action is acknowledged before it waits on the database.

A crowd's acknowledgements must not queue behind storage: these tests stall
every database read and write, and expect each action's first response anyway.
Refusals decided after the acknowledgement reach only the member who acted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from sqlalchemy import Connection

from bot.storage.database import Database
from tests.fakes.ct_api import FakeChastityTracker
from tests.games_support import add_session
from tests.harness import Harness, InteractionResult
from tests.harness.fake_discord import DEFERRED_CHANNEL_MESSAGE
from tests.voting_support import connect, game_posts, register, wearer

Opener = Callable[[Database], AbstractAsyncContextManager[Any]]
Runner = Callable[[Database, Callable[[Connection], Any]], Awaitable[Any]]


def stall_database(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """Every database read and write waits until the returned event is set."""
    release = asyncio.Event()

    def stalled(original: Opener) -> Opener:
        @asynccontextmanager
        async def opened(self: Database) -> AsyncIterator[Any]:
            await release.wait()
            async with original(self) as conn:
                yield conn

        return opened

    def stalled_run(original: Runner) -> Runner:
        async def run(self: Database, work: Callable[[Connection], Any]) -> Any:
            await release.wait()
            return await original(self, work)

        return run

    monkeypatch.setattr(Database, "read", stalled(Database.read))
    monkeypatch.setattr(Database, "write", stalled(Database.write))
    # The other way in: plain functions in a transaction (SQLite's own thread).
    monkeypatch.setattr(Database, "run_read", stalled_run(Database.run_read))
    monkeypatch.setattr(Database, "run_write", stalled_run(Database.run_write))
    return release


async def private_refusal(result: InteractionResult) -> str:
    """The refusal, shown only to the member, with no public message left behind."""
    message = await result.wait_for_message()
    assert message.ephemeral
    assert [m.id for m in result.visible_messages if not m.ephemeral] == []
    assert result.rejections == []
    return message.text()


async def test_each_action_is_acknowledged_while_the_database_is_stalled(
    harness: Harness, ct_fake: FakeChastityTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    panel_answer = await (
        await harness.run("locks panel", {"name": "cage"}, by=harness.admin)
    ).wait_for_message()
    assert "posted" in panel_answer.text()
    [panel] = [m for m in harness.channel_messages() if m.buttons()]
    poll_answer = await (
        await harness.run("locks poll", {"name": "cage", "minutes": 10}, by=harness.admin)
    ).wait_for_message()
    assert "started" in poll_answer.text()
    poll = harness.channel_messages()[-1]
    player = harness.new_member("player")
    user = ct_fake.add_user("player")
    session = add_session(ct_fake, user)
    await connect(harness, player, user)
    # Logged voters: while the poll is open, it holds the bot's one anonymous vote.
    voters = [harness.new_member(f"voter{i}") for i in range(2)]
    for index, voter in enumerate(voters):
        await connect(harness, voter, ct_fake.add_user(f"voter{index}"))

    release = stall_database(monkeypatch)
    started = [
        await harness.run("dice", {"session": session.id}, by=player, wait=False),
        await harness.run("link vote", {"choice": "add", "lock": "cage"}, by=voters[0], wait=False),
        await harness.click(panel, label="Remove time", by=voters[1], wait=False),
        await harness.click(poll, label="Random", by=harness.member, wait=False),
        await harness.run("history", by=harness.member, wait=False),
        await harness.run("account status", by=player, wait=False),
        await harness.run("account disconnect", by=harness.new_member("leaver"), wait=False),
        await harness.run("locks list", by=harness.admin, wait=False),
    ]

    for result in started:
        response = await result.wait_for_response()
        assert response.type == DEFERRED_CHANNEL_MESSAGE, result
    assert game_posts(ct_fake) == []  # nothing got past the stalled database yet

    release.set()
    for result in started:
        message = await result.wait_for_message()
        assert message.text()
    assert len(game_posts(ct_fake)) == 3  # the dice, the command vote and the panel vote


async def test_an_unknown_lock_is_refused_only_to_the_voter(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)

    result = await harness.run("link vote", {"choice": "add", "lock": "nowhere"})

    text = await private_refusal(result)
    assert "No lock named **nowhere**" in text
    assert game_posts(ct_fake) == []


async def test_a_removed_panel_is_refused_only_to_the_clicker(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    await (await harness.run("locks panel", {"name": "cage"}, by=harness.admin)).wait_for_message()
    [panel] = [m for m in harness.channel_messages() if m.buttons()]
    # Removed behind the bot's back, so the panel still shows its buttons.
    await harness.storage.locks.remove(harness.guild.id, "cage")

    text = await private_refusal(await harness.click(panel, label="Add time"))

    assert "no longer takes votes" in text
    assert game_posts(ct_fake) == []


async def test_a_logged_vote_still_shows_publicly_after_a_private_acknowledgement(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    voter = ct_fake.add_user("voter")
    await connect(harness, harness.member, voter)

    result = await harness.run("link vote", {"choice": "add", "lock": "cage"})

    assert result.response is not None
    assert result.response.ephemeral  # logged or not was unknown when acknowledged
    answer = await result.wait_for_message()
    assert not answer.ephemeral
    assert answer.embeds
    assert len(game_posts(ct_fake)) == 1
