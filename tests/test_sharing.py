"""/account share: the wearer's card on the lock's panels, only while the wearer allows it."""

from __future__ import annotations

from typing import Any

from bot.embeds.format import format_duration
from tests.fakes.ct_api import STATS_PATH, FakeChastityTracker
from tests.harness import FakeMessage, Harness
from tests.voting_support import connect, register, wearer


async def panel_with_wearer(harness: Harness, ct_fake: FakeChastityTracker) -> Any:
    worn = wearer(ct_fake)
    wearer_member = harness.new_member("wearer")
    await register(harness, "cage", worn.token, owner=wearer_member)
    await connect(harness, wearer_member, worn.user)
    posted = await harness.run("locks panel", {"name": "cage"}, by=harness.admin)
    await posted.wait_for_message()
    [panel] = [m for m in harness.channel_messages() if m.buttons()]
    return worn, wearer_member, panel


def now_of(harness: Harness, message: FakeMessage) -> FakeMessage:
    return harness.fake.messages[message.id]


def card_fields(harness: Harness, panel: FakeMessage) -> dict[str, str]:
    embeds = now_of(harness, panel).embeds
    assert len(embeds) == 2, embeds
    assert embeds[1]["title"] == "Wearer's card"
    return {field["name"]: field["value"] for field in embeds[1]["fields"]}


async def test_sharing_can_be_turned_on_and_off(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    worn, wearer_member, panel = await panel_with_wearer(harness, ct_fake)
    assert len(panel.embeds) == 1
    assert ct_fake.requests_to(STATS_PATH) == []  # nothing of the wearer's is read before

    shared = await harness.run("account share", {"lock": "cage"}, by=wearer_member)
    answer = await shared.wait_for_message()
    assert answer.ephemeral
    assert "now show your card" in answer.text()
    await harness.fake.wait_for(lambda: len(now_of(harness, panel).embeds) == 2, timeout=10)

    fields = card_fields(harness, panel)
    end = int(worn.session.scheduled_end.timestamp())
    assert fields["Scheduled end"] == f"<t:{end}:F> (<t:{end}:R>)"
    assert fields["Locked since"].startswith("<t:")
    assert fields["This server's votes today"] == "Added **0 s**, removed **0 s**"

    # A vote through the panel: the card shows what it did, without waiting for a re-read.
    voter = harness.new_member("voter")
    await connect(harness, voter, ct_fake.add_user("voter"))
    click = await harness.click(panel, label="Add time", by=voter)
    await click.wait_for_message()
    moved = max(ct_fake.histories(worn.session.id), key=lambda row: row.happened)
    assert moved.type == "ADD"
    await harness.fake.wait_for(
        lambda: (
            f"Added **{format_duration(moved.unit or 0)}**"
            in card_fields(harness, panel)["This server's votes today"]
        ),
        timeout=15,
    )
    new_end = int(moved.schedule.timestamp()) if moved.schedule else 0
    assert card_fields(harness, panel)["Scheduled end"] == f"<t:{new_end}:F> (<t:{new_end}:R>)"
    # The wearer's stats are read at most every few minutes (the voter's own are read
    # once, to learn their LINK token for the penalty guard).
    wearer_reads = [r for r in ct_fake.requests_to(STATS_PATH) if r.bearer == worn.user.token]
    assert len(wearer_reads) == 1

    stopped = await harness.run(
        "account share", {"lock": "cage", "enabled": False}, by=wearer_member
    )
    assert "no longer shows anything" in (await stopped.wait_for_message()).text()
    await harness.fake.wait_for(lambda: len(now_of(harness, panel).embeds) == 1, timeout=15)
    lock = await harness.storage.locks.get_by_name(harness.guild.id, "cage")
    assert lock is not None
    assert await harness.storage.shares.shared_by(lock.id) is None


async def test_only_the_registered_wearer_can_share(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, _, panel = await panel_with_wearer(harness, ct_fake)
    stranger = harness.new_member("stranger")
    await connect(harness, stranger, ct_fake.add_user("stranger"))

    result = await harness.run("account share", {"lock": "cage"}, by=stranger)
    answer = await result.wait_for_message()

    assert "Only the wearer registered for **cage**" in answer.text()
    assert len(now_of(harness, panel).embeds) == 1
    assert ct_fake.requests_to(STATS_PATH) == []


async def test_a_wearer_without_an_account_is_told_to_connect(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    worn = wearer(ct_fake)
    wearer_member = harness.new_member("wearer")
    await register(harness, "cage", worn.token, owner=wearer_member)

    result = await harness.run("account share", {"lock": "cage"}, by=wearer_member)

    assert "Connect your Chastity Tracker account first" in (await result.wait_for_message()).text()
