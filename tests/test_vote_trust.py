"""Votes a community can trust, end to end: the bot's one anonymous vote per lock is
held by an open poll and remembered once used; a DM follows the strictest server;
a proxy's 5xx is reported in doubt everywhere; per-server limits hold; buttons only
count on their own message."""

from __future__ import annotations

import asyncio
import dataclasses
import re

import discord
import pytest

from bot.anonymous_votes import parse_wait
from bot.secrets import Secret
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import STATS_PATH, CooldownWording, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.harness import FakeMessage, Harness
from tests.test_polls import (
    MINUTES,
    choose,
    closing_messages,
    poll_of,
    scheduler_paused,
    start_poll,
    time_is_up,
)
from tests.voting_support import connect, game_posts, latest, register, vote_body, wearer

RELATIVE_TIME = re.compile(r"<t:\d+:R>")


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    harness = await make_harness(sleep=FakeSleep())
    await scheduler_paused(harness)
    return harness


async def post_panel(harness: Harness, name: str = "cage") -> FakeMessage:
    answer = await (
        await harness.run("locks panel", {"name": name}, by=harness.admin)
    ).wait_for_message()
    assert "posted in" in answer.text(), answer.text()
    return [m for m in harness.channel_messages() if m.buttons()][-1]


def poll_url(harness: Harness, message: FakeMessage) -> str:
    return f"https://discord.com/channels/{harness.guild.id}/{message.channel_id}/{message.id}"


# -- 1. a poll holds the bot's anonymous vote -------------------------------------------


async def test_poll_sniping_by_command_panel_and_dm_sends_nothing_and_points_to_the_poll(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, poll_message = await start_poll(harness, ct_fake)
    panel = await post_panel(harness)
    link = poll_url(harness, poll_message)

    by_command = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    by_panel = await (
        await harness.click(panel, label="Add time", by=harness.new_member("clicker"))
    ).wait_for_message()
    by_dm = await (
        await harness.run("link vote", {"choice": "add", "token": lock.token}, dm=True)
    ).wait_for_message()

    for answer in (by_command, by_panel, by_dm):
        assert answer.ephemeral
        text = answer.text()
        first, *bullets = text.splitlines()
        assert first.startswith("⏳ Not sent: a community poll"), text
        assert RELATIVE_TIME.search(first)
        assert len(bullets) == 2
        assert link in bullets[0]
        assert "/account connect" in bullets[1]
    assert game_posts(ct_fake) == []
    assert await harness.storage.ledger.recent(harness.member.id) == []


async def test_logged_votes_still_go_through_while_a_poll_is_open(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await start_poll(harness, ct_fake)
    await connect(harness, harness.member, ct_fake.add_user("voter"))

    answer = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert "Logged vote" in answer.embeds[0]["footer"]["text"]
    assert len(game_posts(ct_fake)) == 1


async def test_the_poll_casts_its_vote_after_the_sniping_attempt(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    await choose(harness, message, "Remove time", harness.new_member("m"))

    time_is_up(harness)
    await harness.bot.polls.run_due()

    (announcement,) = closing_messages(harness)
    assert "cast one anonymous vote for **Remove time**" in announcement.content
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "sub")]


async def test_one_open_poll_per_lock_even_across_servers(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)

    again = await (
        await harness.run("locks poll", {"name": "cage", "minutes": MINUTES}, by=harness.admin)
    ).wait_for_message()

    assert "already open on this lock" in again.text()
    assert poll_url(harness, message) in again.text()
    assert len(harness.channel_messages()) == 1
    # The same token registered by another server: still the one anonymous vote.
    other = await harness.bot.locks.add(
        harness.guild.id + 1, "elsewhere", Secret(lock.token), None, True, 1
    )
    with pytest.raises(Exception, match="another server"):
        await harness.bot.polls.start(other, harness.channel.id + 1, MINUTES, 1)


# -- 1. a DM follows the strictest server ----------------------------------------------------


async def test_an_anonymous_vote_in_a_dm_on_a_no_anonymous_lock_sends_nothing(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token, allow_anonymous=False)
    # Another server allows it; the strictest rule wins.
    await harness.bot.locks.add(harness.guild.id + 1, "open", Secret(lock.token), None, True, 1)

    answer = await (
        await harness.run("link vote", {"choice": "add", "token": lock.token}, dm=True)
    ).wait_for_message()

    assert "does not take anonymous votes" in answer.text()
    assert "strictest" in answer.text()
    assert game_posts(ct_fake) == []


# -- 1. the anonymous vote remembered ---------------------------------------------------------


async def test_a_known_cooldown_is_answered_without_a_request(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    assert len(game_posts(ct_fake)) == 1

    again = await (
        await harness.run("link vote", {"choice": "sub"}, by=harness.new_member("other"))
    ).wait_for_message()

    first, *bullets = again.text().splitlines()
    assert first.startswith("⏳ Not sent: the bot's one anonymous vote on **cage** is used")
    expected = int((harness.clock.now()).timestamp()) + 24 * 3600
    (shown,) = [int(t) for t in re.findall(r"<t:(\d+):R>", first)]
    assert abs(shown - expected) <= 5
    assert len(bullets) == 2
    assert "/account connect" in bullets[0]
    assert "community poll" in bullets[1]
    assert len(game_posts(ct_fake)) == 1  # answered from memory


async def test_a_cooldown_refusal_with_its_wait_is_remembered_across_a_restart(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    ct_fake.inject(
        Fault.status(400, error_code="COOLDOWN", message="You can vote again in 2 h 5 min.")
    )
    refused = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    assert "Chastity Tracker says: You can vote again in 2 h 5 min" in refused.text()

    await harness.restart()
    again = await (
        await harness.run("link vote", {"choice": "add", "token": lock.token}, dm=True)
    ).wait_for_message()

    (shown,) = [int(t) for t in re.findall(r"<t:(\d+):R>", again.text())]
    expected = int(harness.clock.now().timestamp()) + 2 * 3600 + 5 * 60
    assert abs(shown - expected) <= 5
    assert len(game_posts(ct_fake)) == 1


def test_waits_are_read_only_where_the_answer_names_one() -> None:
    assert parse_wait("You can vote again in 23 h 59 min.") is not None
    assert parse_wait("vote again after 24 hours").total_seconds() == 86400  # type: ignore[union-attr]
    assert parse_wait("try again in 2 d 3 h").total_seconds() == 2 * 86400 + 3 * 3600  # type: ignore[union-attr]
    assert parse_wait("You have already voted on this lock.") is None
    assert parse_wait(None) is None


# -- 2. the penalty guard asks before a logged self-vote (see also test_vote_penalty) ----------


async def test_account_status_learns_the_members_link_token(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)
    await (await harness.run("account status")).wait_for_message()
    reads = len(ct_fake.requests_to(STATS_PATH))

    dialog = await (
        await harness.run("link vote", {"choice": "add", "token": lock.token})
    ).wait_for_message()

    assert "penalty" in dialog.text().lower()
    assert len(ct_fake.requests_to(STATS_PATH)) == reads
    assert game_posts(ct_fake) == []


# -- 3. never claim more than is known --------------------------------------------------------


async def test_a_502_after_the_vote_counted_is_in_doubt_in_the_reply_and_history(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    ct_fake.inject(Fault.error_page(502, after_apply=True))

    answer = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert "may or may not" in answer.text()
    assert "/history" in answer.text()
    assert "failed" not in answer.text().lower()
    assert len(ct_fake.votes) == 1  # it did count
    (entry,) = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "unknown"
    history = await (await harness.run("history")).wait_for_message()
    assert "outcome unknown" in history.embeds[0]["description"]


@pytest.mark.parametrize("status", [503, 504])
async def test_a_gateway_error_on_a_dice_play_is_in_doubt(
    harness: Harness, ct_fake: FakeChastityTracker, status: int
) -> None:
    from tests.games_support import players

    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.error_page(status))

    answer = await (await harness.run("dice", {"session": world.session.id})).wait_for_message()

    assert f"HTTP {status}" in answer.text()
    assert "may or may not" in answer.text()
    (entry,) = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "unknown"


async def test_an_error_in_the_apis_own_envelope_stays_definite(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    ct_fake.inject(Fault.status(500, error_code="INTERNAL", message="Database down."))

    answer = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert "may or may not" not in answer.text()
    (entry,) = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "error"


async def test_a_502_on_a_polls_vote_is_announced_in_doubt(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.error_page(502, after_apply=True))

    time_is_up(harness)
    await harness.bot.polls.run_due()

    (announcement,) = closing_messages(harness)
    assert "may or may not have been counted" in announcement.content
    assert (await poll_of(harness, message)).outcome == "unknown"
    assert len(ct_fake.votes) == 1


# -- 4. fairness between servers ----------------------------------------------------------------


async def test_the_per_server_limits_hold(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(
        guild_max_locks=2, guild_max_panels=1, guild_max_open_polls=1, flood_burst=50
    )
    await register(harness, "one", wearer(ct_fake, "a").token)
    await register(harness, "two", wearer(ct_fake, "b").token)

    third = await (
        await harness.run(
            "locks add", {"name": "three", "token": wearer(ct_fake, "c").token}, by=harness.admin
        )
    ).wait_for_message()
    assert "its limit" in third.text()
    assert [lock.name for lock in await harness.storage.locks.list(harness.guild.id)] == [
        "one",
        "two",
    ]

    await post_panel(harness, "one")
    second_panel = await (
        await harness.run("locks panel", {"name": "two"}, by=harness.admin)
    ).wait_for_message()
    assert "its limit" in second_panel.text()
    assert await harness.storage.panels.count(harness.guild.id) == 1

    started = await (
        await harness.run("locks poll", {"name": "one", "minutes": MINUTES}, by=harness.admin)
    ).wait_for_message()
    assert "started" in started.text()
    refused = await (
        await harness.run("locks poll", {"name": "two", "minutes": MINUTES}, by=harness.admin)
    ).wait_for_message()
    assert "its limit" in refused.text()
    assert len(await harness.storage.polls.list_open()) == 1


async def test_admin_commands_pass_flood_control(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=2, flood_interval=60.0)

    answers = [
        await (await harness.run("locks list", by=harness.admin)).wait_for_message()
        for _ in range(3)
    ]

    assert "Slow down" not in answers[1].text()
    assert "Slow down" in answers[2].text()


async def test_many_polls_ending_together_close_a_few_at_a_time(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    votes = harness.bot.votes
    real_cast = votes.cast_anonymous
    running = 0
    most = 0

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            await asyncio.sleep(0.05)
            return await real_cast(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            running -= 1

    votes.cast_anonymous = counted  # type: ignore[method-assign]
    started: list[int] = []
    for index in range(10):
        lock = wearer(ct_fake, f"w{index}")
        await harness.bot.locks.add(
            harness.guild.id, f"lock{index}", Secret(lock.token), None, True, 1
        )
        poll = await harness.bot.polls.start(
            (await harness.storage.locks.get_by_name(harness.guild.id, f"lock{index}")),  # type: ignore[arg-type]
            harness.channel.id,
            MINUTES,
            harness.admin.id,
        )
        await harness.storage.polls.set_choice(poll.id, harness.member.id, "add")  # type: ignore[arg-type]
        started.append(poll.id)

    time_is_up(harness)
    # Closed by this call or by the scheduler's look it waited for: either way at once.
    await harness.bot.polls.run_due()

    closed = [await harness.storage.polls.get(poll_id) for poll_id in started]
    assert [poll.status if poll else None for poll in closed] == ["closed"] * 10
    assert 1 < most <= 4
    assert len(ct_fake.votes) == 10


# -- 5. defence in depth -----------------------------------------------------------------------


async def test_a_panel_button_counts_only_on_its_own_message(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    panel = await post_panel(harness)
    # The panel's buttons on another of the bot's messages (the custom_id alone is no proof).
    copy = dataclasses.replace(
        panel, id=harness.snowflake(), channel_id=harness.other_channel.id, history=[]
    )
    harness.fake.messages[copy.id] = copy

    answer = await (await harness.click(copy, label="Add time")).wait_for_message()

    assert "does not belong" in answer.text()
    assert game_posts(ct_fake) == []


async def test_a_panel_goes_only_where_the_admin_can_send(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    harness.set_member_permissions(
        harness.admin, harness.other_channel, discord.Permissions(view_channel=True)
    )

    answer = await (
        await harness.run(
            "locks panel", {"name": "cage", "channel": harness.other_channel}, by=harness.admin
        )
    ).wait_for_message()

    assert "You cannot view and send messages" in answer.text()
    assert harness.channel_messages(harness.other_channel) == []
    assert await harness.storage.panels.count(harness.guild.id) == 0


async def test_lock_names_are_normalised_and_escaped(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    answer = await (
        await harness.run(
            "locks add",
            {"name": "ｃａ\u200bｇｅ**x**", "token": wearer(ct_fake).token},
            by=harness.admin,
        )
    ).wait_for_message()

    assert "Registered **ca\u200bge" not in answer.text()
    assert "Registered **cage\\*\\*x\\*\\***" in answer.text()
    (lock,) = await harness.storage.locks.list(harness.guild.id)
    assert lock.name == "cage**x**"


async def test_two_concurrent_adds_of_one_token_end_with_one_lock(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    token = wearer(ct_fake).token
    first, second = await asyncio.gather(
        harness.run("locks add", {"name": "one", "token": token}, by=harness.admin),
        harness.run("locks add", {"name": "two", "token": token}, by=harness.admin),
    )

    texts = sorted([(await r.wait_for_message()).text() for r in (first, second)])
    assert texts[0].startswith("Registered")
    assert texts[1].startswith("❌ That token is already registered here")
    assert len(await harness.storage.locks.list(harness.guild.id)) == 1


async def test_api_messages_are_capped_everywhere(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    _, message = await start_poll_on(harness, "cage")
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.status(400, error_code="COOLDOWN", message="cooldown " + "x" * 3000))

    time_is_up(harness)
    await harness.bot.polls.run_due()

    (announcement,) = closing_messages(harness)
    assert len(announcement.content) < 1200
    assert "…" in announcement.content


async def start_poll_on(harness: Harness, name: str) -> tuple[None, FakeMessage]:
    await (
        await harness.run("locks poll", {"name": name, "minutes": MINUTES}, by=harness.admin)
    ).wait_for_message()
    (message,) = [m for m in harness.channel_messages() if m.buttons()]
    await scheduler_paused(harness)
    return None, message


__all__ = ["CooldownWording", "latest"]
