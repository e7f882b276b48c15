"""Cooldown reminders: a "Remind me" button on a refusal with a known wait, a DM when it ends."""

from __future__ import annotations

from datetime import timedelta

from tests.fakes.ct_api import DiceConfig, FakeChastityTracker
from tests.games_support import connect
from tests.harness import FakeMember, FakeMessage, Harness
from tests.insights_support import logged_vote
from tests.voting_support import register, wearer

HOUR = 3600


async def dice_refusal(harness: Harness, ct_fake: FakeChastityTracker) -> tuple[int, FakeMessage]:
    """The member plays DICE twice on a session with a one-hour cooldown; the second refusal."""
    user = ct_fake.add_user("wearer")
    session = ct_fake.add_session(user, dice=DiceConfig(waitint=1, waitunit="hour"))
    await connect(harness, harness.member, user)
    first = await harness.run("dice", {"session": session.id})
    assert (await first.wait_for_message()).embeds
    second = await harness.run("dice", {"session": session.id})
    refusal = await second.wait_for_message()
    assert "play again in" in refusal.text()
    return session.id, refusal


def dms(harness: Harness, member: FakeMember) -> list[str]:
    return [m.text() for m in harness.channel_messages(harness.dm_channel(member.user))]


async def test_a_reminder_survives_a_restart_and_fires_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    session, refusal = await dice_refusal(harness, ct_fake)
    assert refusal.ephemeral
    [button] = refusal.buttons()
    assert button["label"] == "Remind me"
    assert button["custom_id"].startswith(f"remind:{harness.member.id}:")

    click = await harness.click(refusal, label="Remind me")
    done = await click.wait_for_message()

    assert done.ephemeral
    assert f"when you can play DICE on session #{session} again" in done.text()
    # A confirmation DM first, so closed DMs show when clicking, not an hour later.
    [confirmation] = dms(harness, harness.member)
    assert "I will remind you here when you can play DICE" in confirmation

    await harness.restart()
    harness.clock.advance(HOUR + 60)
    harness.bot.reminders.wake()
    await harness.fake.wait_for(lambda: len(dms(harness, harness.member)) == 2, timeout=5)

    assert (
        dms(harness, harness.member)[1] == f"⏰ You can play DICE on session #{session} again now."
    )
    assert await harness.storage.reminders.get(harness.member.id, f"dice:{session}") is None
    # Fired once: nothing is left to send, however often the scheduler looks.
    assert await harness.bot.reminders.run_due() == 0
    assert len(dms(harness, harness.member)) == 2


async def test_closed_dms_are_said_when_clicking_and_nothing_is_stored(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    session, refusal = await dice_refusal(harness, ct_fake)
    harness.fake.close_dms(harness.member.user)

    click = await harness.click(refusal, label="Remind me")
    answer = await click.wait_for_message()

    assert "I cannot send you direct messages" in answer.text()
    assert await harness.storage.reminders.get(harness.member.id, f"dice:{session}") is None
    assert dms(harness, harness.member) == []


async def test_one_reminder_per_member_and_lock(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = await register(harness, "cage", wearer(ct_fake, waitint=1).token)
    voter = harness.new_member("voter")
    await connect(harness, voter, ct_fake.add_user("voter"))
    await logged_vote(harness, voter, "add", "cage")
    refusals = []
    for _ in range(2):
        again = await harness.run("link vote", {"choice": "sub", "lock": "cage"}, by=voter)
        refusals.append(await again.wait_for_message())
    # Each refusal has its own button (its own moment), both for this member.
    ids = [refusal.buttons()[0]["custom_id"] for refusal in refusals]
    assert all(custom_id.endswith(f":lock:{lock.id}") for custom_id in ids)

    for refusal in refusals:
        await (await harness.click(refusal, label="Remind me", by=voter)).wait_for_message()

    reminder = await harness.storage.reminders.get(voter.id, f"lock:{lock.id}")
    assert reminder is not None
    assert reminder.label == "vote on **cage**"
    assert len(await harness.storage.reminders.due(harness.clock.now() + timedelta(days=2))) == 1


async def test_a_refusal_without_a_stated_wait_has_no_button(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake, waitint=0).token)  # once ever
    voter = harness.new_member("voter")
    await connect(harness, voter, ct_fake.add_user("voter"))
    await logged_vote(harness, voter, "add", "cage")

    again = await harness.run("link vote", {"choice": "sub", "lock": "cage"}, by=voter)
    refusal = await again.wait_for_message()

    assert "already voted" in refusal.text()
    assert refusal.buttons() == []
