"""Voting panels: posted by admins, a click votes like /link vote, redrawn with the result."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from bot.ctapi import Choice
from bot.edits import EditCoalescer
from bot.embeds import format_duration
from bot.panels import PanelService
from bot.secrets import Secret
from bot.storage import Panel
from bot.views.buttons import PanelButton, PollButton
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import FakeChastityTracker, Fault, RecordedRequest
from tests.fixtures.discord import HarnessFactory
from tests.harness import FakeMessage, Harness
from tests.harness.fake_discord import Event
from tests.voting_support import (
    Wearer,
    connect,
    game_posts,
    latest,
    register,
    vote_body,
    wearer,
)


def panels(harness: Harness) -> PanelService:
    return harness.bot.panels


async def post_panel(harness: Harness, name: str = "cage") -> FakeMessage:
    """``/locks panel`` in the other channel; returns the panel message."""
    result = await harness.run(
        "locks panel", {"name": name, "channel": harness.other_channel}, by=harness.admin
    )
    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert "posted in" in answer.text()
    (message,) = harness.channel_messages(harness.other_channel)
    return message


async def only_panel(harness: Harness, lock_name: str) -> Panel:
    lock = await harness.storage.locks.get_by_name(harness.guild.id, lock_name)
    assert lock is not None
    (panel,) = await harness.storage.panels.for_lock(lock.id)
    return panel


def panel_edits(harness: Harness, message: FakeMessage) -> list[Event]:
    return [
        e for e in harness.fake.events if e.kind == "channel_edit" and e.message_id == message.id
    ]


def field(message: FakeMessage, name: str) -> str:
    assert message.embed is not None
    for embed_field in message.embed.get("fields", []):
        if embed_field["name"] == name:
            return str(embed_field["value"])
    raise AssertionError(f"no field {name!r} in {message.embed}")


def answered(request: RecordedRequest) -> dict[str, Any]:
    """The data Chastity Tracker answered to ``request``."""
    assert request.response is not None, "the fake has not answered this request"
    data: dict[str, Any] = request.response.data
    return data


SIGNS = {"Add time": "➕", "Remove time": "➖", "Random": "🎲"}


def discord_full_time(utc: str) -> str:
    """``scheduledend_utc`` as the ``<t:…:F>`` markup Discord renders."""
    when = datetime.strptime(utc, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return f"<t:{int(when.timestamp())}:F>"


def assert_latest_result(message: FakeMessage, answer: dict[str, Any], vote: str) -> None:
    """The panel's latest result tells what ``answer`` said, and the vote cast."""
    added = answer["operation"] == "ADD"
    amount = ("+" if added else "−") + format_duration(answer["seconds"])
    if answer["penalty"]:
        what = f"⚠️ **Penalty {amount}**"
    else:
        what = f"{'➕' if added else '➖'} **{amount}**"
    shown = field(message, "Latest vote")
    assert shown.startswith(f"{what} · "), shown
    multiplier = f"×{answer['multiplier']:.2f}".rstrip("0").rstrip(".")
    assert f" · {multiplier} · chose {SIGNS[vote]} {vote}" in shown
    assert discord_full_time(answer["scheduledend_utc"]) in field(message, "Scheduled end")


async def shows_scheduled_end(harness: Harness, message: FakeMessage, lock: Wearer) -> None:
    end = lock.session.scheduled_end
    assert end is not None

    def drawn() -> bool:
        current = latest(harness, message)
        fields = (current.embed or {}).get("fields", [])
        return any(f"<t:{int(end.timestamp())}:F>" in f["value"] for f in fields)

    await harness.fake.wait_for(drawn, timeout=10)


async def test_a_panel_shows_the_lock_and_three_buttons_carrying_its_id(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    owner = harness.new_member("wearer")
    await register(harness, "cage", wearer(ct_fake).token, owner=owner)

    message = await post_panel(harness)

    panel = await only_panel(harness, "cage")
    assert panel.message_id == message.id
    assert panel.channel_id == harness.other_channel.id
    assert message.embed is not None
    assert message.embed["title"] == "🗳️ Vote on cage"
    assert field(message, "Wearer") == f"<@{owner.id}>"
    assert field(message, "Anonymous votes") == "allowed"
    assert [(b["label"], b["custom_id"]) for b in message.buttons()] == [
        ("Add time", f"panel:{panel.id}:add"),
        ("Remove time", f"panel:{panel.id}:sub"),
        ("Random", f"panel:{panel.id}:rand"),
        ("Timeline", f"timeline:panel:{panel.id}"),
    ]


async def test_a_click_votes_answers_privately_and_redraws_the_panel(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    message = await post_panel(harness)

    click = await harness.click(message, label="Remove time")

    answer = await click.wait_for_message()
    assert answer.ephemeral
    assert answer.embeds[0]["title"].startswith("🔗 Anonymous LINK vote on cage: ")
    (request,) = game_posts(ct_fake)
    assert request.json == vote_body(lock.token, "sub")
    assert "authorization" not in request.headers
    await shows_scheduled_end(harness, message, lock)
    assert_latest_result(latest(harness, message), answered(request), "Remove time")
    assert len(harness.channel_messages(harness.other_channel)) == 1


async def test_a_click_by_a_connected_member_is_logged(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    voter = ct_fake.add_user("voter")
    await connect(harness, harness.member, voter)
    await register(harness, "cage", lock.token, allow_anonymous=False)
    message = await post_panel(harness)

    answer = await (await harness.click(message, label="Add time")).wait_for_message()

    assert answer.ephemeral
    assert "Logged vote" in answer.embeds[0]["footer"]["text"]
    (request,) = game_posts(ct_fake)
    assert request.headers["authorization"] == f"Bearer {voter.token}"


async def test_panel_buttons_work_after_a_restart(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    message = await post_panel(harness)

    await harness.restart()
    click = await harness.click(message, label="Random")

    answer = await click.wait_for_message()
    assert answer.embeds[0]["title"].startswith("🔗 Anonymous LINK vote on cage: ")
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "rand")]
    await shows_scheduled_end(harness, message, lock)


async def test_the_owner_clicking_must_confirm_the_penalty(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)
    await register(harness, "cage", lock.token, owner=harness.member)
    message = await post_panel(harness)

    dialog = await (await harness.click(message, label="Remove time")).wait_for_message()
    assert dialog.ephemeral
    assert "penalty" in dialog.text().lower()
    assert game_posts(ct_fake) == []

    confirmed = await harness.click(dialog, label="Vote anyway (penalty)")
    await confirmed.wait_for(lambda r: bool(latest(harness, dialog).embeds))

    assert latest(harness, dialog).embeds[0]["title"].startswith("⚠️ Penalty")
    assert len(game_posts(ct_fake)) == 1
    await shows_scheduled_end(harness, message, lock)
    assert "Penalty" in field(latest(harness, message), "Latest vote")


async def test_a_burst_of_clicks_becomes_few_edits_and_the_last_state_lands(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    message = await post_panel(harness)
    time = FakeSleep()  # the interval is over only when the test says so
    panels(harness).edits = EditCoalescer(1.0, monotonic=time.monotonic, sleep=time)
    members = [harness.new_member(f"voter{n}") for n in range(8)]
    for n, member in enumerate(members):
        await connect(harness, member, ct_fake.add_user(f"voter{n}"))

    clicks = [await harness.click(message, label="Add time", by=m, wait=False) for m in members]
    await asyncio.gather(*(click.wait_for_message() for click in clicks))

    assert len(game_posts(ct_fake)) == len(members)
    # Every click asked for a redraw before its answer: the first draws at once (it
    # may still be drawing now), the others wait together for the interval to be over.
    await time.sleeping(1.0)
    assert time.pending == [1.0]
    time.release()
    await panels(harness).edits.flush()
    assert len(panel_edits(harness, message)) == 2
    # The panel shows the last result the bot received (answers to concurrent votes
    # may arrive in any order, so that is not necessarily the last one applied):
    # one of Chastity Tracker's answers, whole, not a mix of several.
    answers = [answered(request) for request in game_posts(ct_fake)]
    drawn = latest(harness, message)
    shown = [
        answer
        for answer in answers
        if discord_full_time(answer["scheduledend_utc"]) in field(drawn, "Scheduled end")
    ]
    assert len(shown) == 1, field(drawn, "Scheduled end")
    assert_latest_result(drawn, shown[0], "Add time")


async def test_a_deleted_panel_message_forgets_the_panel(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)
    panel = await only_panel(harness, "cage")

    # A member clicks; meanwhile a moderator deletes the panel message.
    click = await harness.click(message, label="Add time", wait=False)
    harness.fake.delete_message(message.id)

    assert (await click.wait_for_message()).embeds
    await panels(harness).edits.flush()
    assert await harness.storage.panels.get(panel.id) is None
    assert any(e.error and e.error.code == 10008 for e in harness.fake.events)


async def test_removing_the_lock_retires_its_panels(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)

    answer = await (
        await harness.run("locks remove", {"name": "cage"}, by=harness.admin)
    ).wait_for_message()

    assert "1 voting panel(s) no longer take votes" in answer.text()
    retired = latest(harness, message)
    assert retired.buttons() == []
    assert "removed" in retired.text()


async def test_a_click_on_a_panel_of_a_removed_lock_says_so(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)
    # Removed behind the bot's back: the panel message still has its buttons.
    await harness.storage.locks.remove(harness.guild.id, "cage")

    answer = await (await harness.click(message, label="Add time")).wait_for_message()

    assert answer.ephemeral
    assert "no longer takes votes" in answer.text()
    assert game_posts(ct_fake) == []


async def test_double_clicks_by_one_member_count_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)
    ct_fake.inject(Fault.delay(1.0))

    first = await harness.click(message, label="Add time", wait=False)
    second = await harness.click(message, label="Add time", wait=False)

    answers = await asyncio.gather(first.wait_for_message(), second.wait_for_message())
    assert sorted("already being sent" in a.text() for a in answers) == [False, True]
    assert len(game_posts(ct_fake)) == 1


async def test_flooding_clicks_are_slowed_down_before_the_api(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=1, flood_interval=60.0)
    # Registered by the service: the admin's one action is posting the panel.
    token = Secret(wearer(ct_fake).token)
    await harness.bot.locks.add(harness.guild.id, "cage", token, None, True, harness.admin.id)
    message = await post_panel(harness)

    await (await harness.click(message, label="Add time")).wait_for_message()
    slowed = await (await harness.click(message, label="Add time")).wait_for_message()

    assert "Slow down" in slowed.text()
    assert len(game_posts(ct_fake)) == 1


async def test_a_deleted_panel_channel_forgets_the_panel(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)
    panel = await only_panel(harness, "cage")

    click = await harness.click(message, label="Add time", wait=False)
    del harness.fake.channels[harness.other_channel.id]

    assert (await click.wait_for_message()).embeds
    await panels(harness).edits.flush()
    assert await harness.storage.panels.get(panel.id) is None
    assert any(e.error and e.error.code == 10003 for e in harness.fake.events)


def test_button_ids_stay_within_discords_100_characters() -> None:
    largest = 2**63 - 1  # the largest id either database hands out
    for choice in Choice:
        for button in (PanelButton(largest, choice), PollButton(largest, choice)):
            custom_id = button.item.custom_id
            assert custom_id is not None
            assert len(custom_id) <= 100
            assert button.template.fullmatch(custom_id)


async def test_a_click_is_answered_in_time_when_the_api_is_slow(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    # Discord's window shrunk to 0.5 s, Chastity Tracker taking 1 s: the click must
    # be acknowledged before the vote is sent.
    harness = await make_harness(response_window=0.5)
    await register(harness, "cage", wearer(ct_fake).token)
    message = await post_panel(harness)
    ct_fake.inject(Fault.delay(1.0))

    click = await harness.click(message, label="Add time")

    assert click.response is not None
    assert click.response.is_deferred
    assert (await click.wait_for_message(timeout=10)).embeds
    assert click.rejections == []


async def test_a_redraw_still_waiting_lands_when_the_bot_stops(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    message = await post_panel(harness)
    panels(harness).edits.interval = 60.0
    first, second = harness.new_member("first"), harness.new_member("second")
    for member in (first, second):
        await connect(harness, member, ct_fake.add_user(member.user.name))
    await (await harness.click(message, label="Add time", by=first)).wait_for_message()
    await panels(harness).edits.flush()
    await (await harness.click(message, label="Remove time", by=second)).wait_for_message()
    assert "Add time" in field(latest(harness, message), "Latest vote")

    await harness.restart()

    assert "Remove time" in field(latest(harness, message), "Latest vote")
    await shows_scheduled_end(harness, message, lock)


async def test_a_panel_that_cannot_be_posted_is_not_kept(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    del harness.fake.channels[harness.other_channel.id]  # gone, or hidden from the bot

    result = await harness.run(
        "locks panel", {"name": "cage", "channel": harness.other_channel}, by=harness.admin
    )

    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert f"I could not post in <#{harness.other_channel.id}>" in answer.text()
    lock = await harness.storage.locks.get_by_name(harness.guild.id, "cage")
    assert lock is not None
    assert await harness.storage.panels.for_lock(lock.id) == []
