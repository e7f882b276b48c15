"""The fake Discord enforces Discord's rules, and the bot copes with them."""

from __future__ import annotations

import logging

import aiohttp
import discord
import pytest

from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness, LogGuard
from tests.harness.logguard import guard_logs
from tests.harness.models import DM
from tests.harness.probe import Probe, add_probe


@pytest.fixture
async def probed(make_harness: HarnessFactory) -> Harness:
    return await make_harness(prepare=add_probe)


def probe_cog(harness: Harness) -> Probe:
    cog = harness.bot.get_cog("Probe")
    assert isinstance(cog, Probe)
    return cog


async def test_a_late_first_response_fails_with_unknown_interaction(
    probed: Harness, log_guard: LogGuard
) -> None:
    result = await probed.run("probe slow", wait=False)
    probed.clock.advance(3.1)
    probe_cog(probed).release.set()

    await result.wait_for(lambda r: bool(r.rejections))
    assert [(e.status, e.code, e.message) for e in result.rejections] == [
        (404, 10062, "Unknown interaction")
    ]
    assert result.response is None
    # The error handler knows nothing can be shown any more: it logs, and does
    # not try to respond again.
    await log_guard.wait_for(lambda: log_guard.saw("expired before the bot answered"))
    callbacks = [r for r in probed.fake.requests if r.interaction_id == result.id]
    assert len(callbacks) == 1


async def test_the_window_is_three_seconds_from_delivery(probed: Harness) -> None:
    assert probed.fake.response_window == 3.0
    result = await probed.run("probe slow", wait=False)
    probed.clock.advance(2.5)
    probe_cog(probed).release.set()

    answer = await result.wait_for_message()
    assert answer.content == "finally"
    assert result.rejections == []


async def test_a_second_acknowledgement_is_refused(harness: Harness) -> None:
    result = await harness.run("help")
    url = f"{harness.fake.base_url}/interactions/{result.id}/{result.interaction.token}/callback"

    again = {"type": 4, "data": {"content": "again"}}
    async with aiohttp.ClientSession() as session, session.post(url, json=again) as answer:
        assert answer.status == 400
        assert (await answer.json())["code"] == 40060

    assert len(result.followups) == 0
    assert result.response is not None
    assert result.response.embeds  # the first response stands


async def test_followups_need_a_response_first_and_expire_after_15_minutes(
    harness: Harness,
) -> None:
    result = await harness.run("help")
    hook = f"{harness.fake.base_url}/webhooks/{harness.world.application_id}"
    url = f"{hook}/{result.interaction.token}?wait=1"

    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"content": "later"}) as answer:
            assert answer.status == 200
        harness.clock.advance(15 * 60 + 1)
        async with session.post(url, json={"content": "too late"}) as answer:
            assert answer.status == 401
            assert (await answer.json())["code"] == 50027
        async with session.post(f"{hook}/not-a-token?wait=1", json={"content": "x"}) as answer:
            assert answer.status == 404
            assert (await answer.json())["code"] == 10015


async def test_editing_a_deleted_message_fails_with_unknown_message(probed: Harness) -> None:
    posted = await (await probed.run("probe echo", {"text": "hi"})).wait_for_message()
    channel = probed.bot.get_channel(probed.channel.id)
    assert isinstance(channel, discord.TextChannel)

    edited = await channel.get_partial_message(posted.id).edit(content="edited")
    assert edited.content == "edited"
    probed.fake.delete_message(posted.id)

    with pytest.raises(discord.NotFound) as caught:
        await channel.get_partial_message(posted.id).edit(content="again")
    assert caught.value.code == 10008
    assert probed.channel_messages() == []


async def test_channel_messages_are_recorded_in_order(harness: Harness) -> None:
    channel = harness.bot.get_channel(harness.other_channel.id)
    assert isinstance(channel, discord.TextChannel)

    first = await channel.send("one")
    second = await channel.send(embed=discord.Embed(title="two"))
    await first.delete()

    shown = harness.channel_messages(harness.other_channel)
    assert [m.id for m in shown] == [second.id]
    assert shown[0].embed is not None
    assert shown[0].embed["title"] == "two"
    assert [e.kind for e in harness.fake.events[-3:]] == [
        "channel_message",
        "channel_message",
        "channel_delete",
    ]


async def test_an_unknown_route_is_a_recorded_failure(harness: Harness) -> None:
    with pytest.raises(discord.NotFound):
        await harness.bot.fetch_guild(harness.guild.id)

    assert harness.fake.failures == [
        f"GET /api/v10/guilds/{harness.guild.id} is not a route the fake knows"
    ]
    harness.fake.failures.clear()  # expected here; any other test would fail on it


async def test_commands_work_in_direct_messages(harness: Harness) -> None:
    result = await harness.run("help", dm=True)

    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert answer.guild_id is None
    assert harness.fake.channels[answer.channel_id].type == DM


async def test_dynamic_buttons_keep_working_after_a_restart(probed: Harness) -> None:
    posted = await (await probed.run("probe buttons")).wait_for_message()

    await probed.restart(prepare=add_probe)
    await probed.click(posted, custom_id="probe:count:0")

    assert probed.fake.messages[posted.id].content == "count=1"
    assert probed.fake.sync_count() == 1


async def test_persistent_views_keep_working_after_a_restart(probed: Harness) -> None:
    answer = await probed.run("probe panel", {"channel": probed.other_channel})
    assert (await answer.wait_for_message()).content == f"posted in {probed.other_channel.mention}"
    [panel] = probed.channel_messages(probed.other_channel)

    await probed.restart(prepare=add_probe)
    clicked = await probed.click(panel, label="Ping", by=probed.new_member("late"))

    pong = await clicked.wait_for_message()
    assert pong.content == "pong"
    assert pong.ephemeral


async def test_a_member_cannot_click_someone_elses_ephemeral_message(probed: Harness) -> None:
    result = await probed.run("probe pick", {"fruit": "pear"})
    shown = await result.wait_for_message()
    assert shown.ephemeral

    with pytest.raises(AssertionError, match="only the member"):
        await probed.click(shown, label="anything", by=probed.admin)


def test_log_guard_flags_swallowed_exceptions_and_unexpected_errors() -> None:
    with guard_logs() as guard:
        logging.getLogger("discord.ui.view").error("Ignoring exception in view %r", "v")
        logging.getLogger("bot.app").warning("only a warning")
        logging.getLogger("aiosqlite").error("not ours")
        assert [r.getMessage() for r in guard.unexpected()] == ["Ignoring exception in view 'v'"]

        guard.expect_error(r"^Ignoring exception in view")
        assert guard.unexpected() == []
