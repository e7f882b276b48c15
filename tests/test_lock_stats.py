"""/link stats: votes by choice, time moved, the busiest logged voters, poll history."""

from __future__ import annotations

import json

from bot.embeds.format import format_duration
from tests.fakes.ct_api import FakeChastityTracker
from tests.harness import Harness
from tests.insights_support import logged_vote
from tests.voting_support import connect, register, wearer


async def test_stats_count_votes_and_never_name_an_anonymous_voter(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    worn = wearer(ct_fake, waitint=0)
    await register(harness, "cage", worn.token)
    busy = harness.new_member("busy")
    await connect(harness, busy, ct_fake.add_user("busy"))
    once = harness.new_member("once")
    await connect(harness, once, ct_fake.add_user("once"))
    hidden = harness.new_member("hidden")  # connected, but votes anonymously
    await connect(harness, hidden, ct_fake.add_user("hidden"))
    await logged_vote(harness, busy, "add", "cage")
    await logged_vote(harness, once, "sub", "cage")
    anonymous = await harness.run(
        "link vote", {"choice": "rand", "lock": "cage", "anonymous": True}, by=hidden
    )
    await anonymous.wait_for_message()

    result = await harness.run("link stats")
    answer = await result.wait_for_message()

    fields = {field["name"]: field["value"] for field in answer.embed["fields"]}
    assert (
        "Votes through this bot that Chastity Tracker accepted: **3**"
        in (answer.embed["description"])
    )
    assert fields["By choice"] == "Add time: **1**\nRemove time: **1**\nRandom: **1**"
    assert fields["Who voted"] == "Logged: **2**\nAnonymous: **1**"
    voters = fields["Busiest logged voters"].splitlines()
    assert voters == [f"1. <@{busy.id}>: 1 vote", f"2. <@{once.id}>: 1 vote"]
    # The anonymous voter appears nowhere in what the bot sent, not even as a count.
    sent = json.dumps([r.body for r in harness.fake.requests if r.interaction_id == result.id])
    assert str(hidden.id) not in sent
    rows = [row for row in ct_fake.histories(worn.session.id) if row.source == "LINK"]
    added = sum(row.unit or 0 for row in rows if row.type == "ADD")
    removed = sum(row.unit or 0 for row in rows if row.type == "SUB")
    assert fields["Time moved"] == (
        f"Added: **{format_duration(added)}**\nRemoved: **{format_duration(removed)}**"
    )


async def test_stats_list_polls(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    started = await harness.run("locks poll", {"name": "cage", "minutes": 5}, by=harness.admin)
    await started.wait_for_message()
    [poll] = [m for m in harness.channel_messages() if m.buttons()]
    await (await harness.click(poll, label="Add time")).wait_for_message()

    answer = await (await harness.run("link stats", {"lock": "cage"})).wait_for_message()

    fields = {field["name"]: field["value"] for field in answer.embed["fields"]}
    assert "1 member · open, ends <t:" in fields["Community polls (1)"]
