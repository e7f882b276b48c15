"""The bot's permissions per channel: what Discord tells it, and what Discord refuses it.

``harness.set_bot_permissions(channel, permissions)`` sets what the bot may do
in a channel. Interactions there carry it as ``app_permissions``; channel
routes answer 403 like Discord (50001 Missing Access without View Channel,
50013 Missing Permissions without Send Messages) and drop embeds sent without
Embed Links.
"""

from __future__ import annotations

import discord
import pytest

from tests.fakes.ct_api import FakeChastityTracker
from tests.harness import Harness, LogGuard
from tests.harness.models import BOT_PERMISSIONS
from tests.voting_support import register, wearer

MINUTES = 10


def without(**denied: bool) -> discord.Permissions:
    """The bot's usual permissions, less ``denied`` (``send_messages=False``...)."""
    permissions = discord.Permissions(BOT_PERMISSIONS.value)
    permissions.update(**denied)
    return permissions


def rejections(harness: Harness) -> list[tuple[int, int]]:
    return [(e.error.status, e.error.code) for e in harness.fake.events if e.error is not None]


# -- what Discord tells the bot --------------------------------------------------------


async def test_interactions_carry_the_bots_permissions_in_their_channel(harness: Harness) -> None:
    muted = without(send_messages=False, embed_links=False)
    harness.set_bot_permissions(harness.other_channel, muted)

    there = await harness.run("help", channel=harness.other_channel)
    here = await harness.run("help")

    assert there.interaction.payload["app_permissions"] == str(muted.value)
    assert here.interaction.payload["app_permissions"] == str(BOT_PERMISSIONS.value)
    # An interaction answer is a webhook, not a channel message: it needs no permission.
    assert (await there.wait_for_message()).embeds


# -- what Discord refuses the bot --------------------------------------------------------


async def test_posting_needs_view_channel_and_send_messages(harness: Harness) -> None:
    channel = harness.bot.get_partial_messageable(harness.other_channel.id)

    harness.set_bot_permissions(harness.other_channel, without(send_messages=False))
    with pytest.raises(discord.Forbidden) as muted:
        await channel.send("hello")
    harness.set_bot_permissions(harness.other_channel, without(view_channel=False))
    with pytest.raises(discord.Forbidden) as hidden:
        await channel.send("hello")

    assert (muted.value.code, muted.value.text) == (50013, "Missing Permissions")
    assert (hidden.value.code, hidden.value.text) == (50001, "Missing Access")
    assert harness.channel_messages(harness.other_channel) == []
    assert harness.fake.failures == []  # a refusal, not a malformed body


async def test_editing_and_reading_need_access_to_the_channel(harness: Harness) -> None:
    channel = harness.bot.get_partial_messageable(harness.other_channel.id)
    posted = await channel.send("hello")

    harness.set_bot_permissions(harness.other_channel, without(read_message_history=False))
    with pytest.raises(discord.Forbidden) as unread:
        await channel.fetch_message(posted.id)
    harness.set_bot_permissions(harness.other_channel, without(send_messages=False))
    await channel.get_partial_message(posted.id).edit(content="edited while muted")
    harness.set_bot_permissions(harness.other_channel, without(view_channel=False))
    with pytest.raises(discord.Forbidden) as hidden:
        await channel.get_partial_message(posted.id).edit(content="edited unseen")

    assert unread.value.code == 50001
    assert hidden.value.code == 50001
    assert harness.fake.messages[posted.id].content == "edited while muted"


async def test_embeds_without_embed_links_are_dropped(harness: Harness) -> None:
    harness.set_bot_permissions(harness.other_channel, without(embed_links=False))
    channel = harness.bot.get_partial_messageable(harness.other_channel.id)

    posted = await channel.send("text stays", embed=discord.Embed(title="dropped"))
    with pytest.raises(discord.HTTPException) as empty:
        await channel.send(embed=discord.Embed(title="nothing left"))

    assert harness.fake.messages[posted.id].content == "text stays"
    assert harness.fake.messages[posted.id].embeds == []
    assert empty.value.code == 50006
    assert harness.fake.failures == []


# -- the bot, end to end -----------------------------------------------------------------

CANNOT_POST = [
    pytest.param(without(send_messages=False), 50013, id="no-send-messages"),
    pytest.param(without(view_channel=False), 50001, id="no-view-channel"),
]


@pytest.mark.parametrize(("permissions", "code"), CANNOT_POST)
async def test_a_panel_where_the_bot_cannot_post_is_refused_privately_and_not_kept(
    harness: Harness, ct_fake: FakeChastityTracker, permissions: discord.Permissions, code: int
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    harness.set_bot_permissions(harness.other_channel, permissions)

    result = await harness.run(
        "locks panel", {"name": "cage", "channel": harness.other_channel}, by=harness.admin
    )

    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert f"I could not post in <#{harness.other_channel.id}>" in answer.text()
    assert (403, code) in rejections(harness)
    assert harness.channel_messages(harness.other_channel) == []
    lock = await harness.storage.locks.get_by_name(harness.guild.id, "cage")
    assert lock is not None
    assert await harness.storage.panels.for_lock(lock.id) == []


@pytest.mark.parametrize(("permissions", "code"), CANNOT_POST)
async def test_a_poll_where_the_bot_cannot_post_is_refused_privately_and_closed(
    harness: Harness, ct_fake: FakeChastityTracker, permissions: discord.Permissions, code: int
) -> None:
    lock = await register(harness, "cage", wearer(ct_fake).token)
    harness.set_bot_permissions(harness.other_channel, permissions)

    result = await harness.run(
        "locks poll",
        {"name": "cage", "minutes": MINUTES},
        by=harness.admin,
        channel=harness.other_channel,
    )

    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert f"I could not post in <#{harness.other_channel.id}>" in answer.text()
    assert (403, code) in rejections(harness)
    assert harness.channel_messages(harness.other_channel) == []
    assert await harness.storage.polls.list_open() == []
    assert await harness.storage.polls.open_for_lock(lock.id) == []


async def test_a_panel_the_bot_can_no_longer_see_is_kept_for_later(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    await (
        await harness.run(
            "locks panel", {"name": "cage", "channel": harness.other_channel}, by=harness.admin
        )
    ).wait_for_message()
    (message,) = harness.channel_messages(harness.other_channel)
    harness.set_bot_permissions(harness.other_channel, without(view_channel=False))

    vote = await (await harness.click(message, label="Add time")).wait_for_message()
    await harness.bot.panels.edits.flush()

    assert vote.ephemeral
    assert log_guard.saw("Could not redraw panel")
    assert (403, 50001) in rejections(harness)
    lock = await harness.storage.locks.get_by_name(harness.guild.id, "cage")
    assert lock is not None
    assert len(await harness.storage.panels.for_lock(lock.id)) == 1
