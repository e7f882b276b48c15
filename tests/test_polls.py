"""Community polls: members choose, ONE anonymous vote at the end, across restarts and crashes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.ctapi import Choice
from bot.edits import EditCoalescer
from bot.polls import PollService, winning_choice
from bot.storage import Poll
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import GAMES_PATH, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.harness import FakeMember, FakeMessage, Harness, LogGuard, OptionError
from tests.voting_support import (
    Wearer,
    game_posts,
    latest,
    register,
    vote_body,
    vote_outside_the_bot,
    wearer,
)

MINUTES = 10


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    """The scheduler's pauses never end by themselves here: it looks only when woken
    (a new poll, ``wake()``), so it cannot race a test's own ``run_due()``."""
    harness = await make_harness(sleep=FakeSleep())
    await scheduler_paused(harness)  # its first look, at start
    return harness


async def scheduler_paused(harness: Harness) -> None:
    """Wait until the scheduler has looked (once more) and is in its pause again."""
    assert isinstance(harness.sleep, FakeSleep)
    await harness.sleep.next_request()


def polls(harness: Harness) -> PollService:
    return harness.bot.polls


async def start_poll(harness: Harness, ct_fake: FakeChastityTracker) -> tuple[Wearer, FakeMessage]:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    result = await harness.run("locks poll", {"name": "cage", "minutes": MINUTES}, by=harness.admin)
    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert "Community poll on **cage** started" in answer.text()
    (message,) = harness.channel_messages()
    await scheduler_paused(harness)  # the look the new poll woke it for is over
    return lock, message


async def poll_of(harness: Harness, message: FakeMessage) -> Poll:
    """The poll behind a poll message (its buttons carry the id)."""
    poll_id = int(message.buttons()[0]["custom_id"].split(":")[1])
    poll = await harness.storage.polls.get(poll_id)
    assert poll is not None
    return poll


async def choose(harness: Harness, message: FakeMessage, label: str, member: FakeMember) -> str:
    answer = await (await harness.click(message, label=label, by=member)).wait_for_message()
    assert answer.ephemeral
    return answer.text()


def time_is_up(harness: Harness) -> None:
    harness.clock.advance(MINUTES * 60 + 1)


def closing_messages(harness: Harness) -> list[FakeMessage]:
    return [m for m in harness.channel_messages() if "closed.**" in m.content]


def tally_field(message: FakeMessage) -> str:
    assert message.embed is not None
    (tally,) = [
        f for f in message.embed["fields"] if f["name"].startswith(("Tally", "Final tally"))
    ]
    return str(tally["value"])


async def test_a_poll_shows_its_end_a_tally_and_three_buttons(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)

    poll = await poll_of(harness, message)
    assert poll.message_id == message.id
    assert message.embed is not None
    assert message.embed["title"] == "📊 Community poll on cage"
    ends = f"<t:{int(poll.ends_at.timestamp())}:F>"
    assert any(ends in f["value"] for f in message.embed["fields"])
    assert message.embed["description"].startswith(f"Started by <@{harness.admin.id}>. ")
    assert "one anonymous vote" in message.embed["description"]
    assert tally_field(message) == (
        "➕ Add `▱▱▱▱▱▱▱▱` 0 · 0%\n➖ Remove `▱▱▱▱▱▱▱▱` 0 · 0%\n🎲 Random `▱▱▱▱▱▱▱▱` 0 · 0%"
    )
    assert [b["custom_id"] for b in message.buttons()] == [
        f"poll:{poll.id}:add",
        f"poll:{poll.id}:sub",
        f"poll:{poll.id}:rand",
    ]
    assert (poll.ends_at - poll.created_at).total_seconds() == MINUTES * 60


async def test_minutes_are_limited_to_5_to_1440(harness: Harness) -> None:
    for minutes in (4, 1441):
        with pytest.raises(OptionError):
            await harness.run("locks poll", {"name": "cage", "minutes": minutes}, by=harness.admin)


async def test_members_choose_change_their_mind_and_see_a_live_tally(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    alice, bob = harness.new_member("alice"), harness.new_member("bob")

    assert "Your choice: **➕ Add time**" in await choose(harness, message, "Add time", alice)
    await choose(harness, message, "Remove time", bob)
    changed = await choose(harness, message, "Remove time", alice)
    assert changed.startswith("Changed from **➕ Add time** to **➖ Remove time**.")
    assert "Your choice stays **➖ Remove time**" in await choose(
        harness, message, "Remove time", alice
    )

    poll = await poll_of(harness, message)
    assert await harness.storage.polls.tally(poll.id) == {"add": 0, "sub": 2, "rand": 0}
    await harness.fake.wait_for(
        lambda: "➖ Remove `▰▰▰▰▰▰▰▰` 2 · 100% ◀ leads" in tally_field(latest(harness, message)),
        timeout=10,
    )
    assert "➕ Add `▱▱▱▱▱▱▱▱` 0 · 0%" in tally_field(latest(harness, message))
    assert game_posts(ct_fake) == []


async def test_concurrent_clicks_by_one_member_count_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)

    clicks = [
        await harness.click(message, label=label, wait=False)
        for label in ("Add time", "Random", "Remove time", "Add time")
    ]
    await asyncio.gather(*(click.wait_for_message() for click in clicks))

    tally = await harness.storage.polls.tally((await poll_of(harness, message)).id)
    assert sum(tally.values()) == 1


async def test_at_the_end_one_anonymous_vote_for_the_winner_and_the_result_is_posted(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    for n, label in enumerate(("Add time", "Remove time", "Remove time")):
        await choose(harness, message, label, harness.new_member(f"m{n}"))
    poll = await poll_of(harness, message)

    time_is_up(harness)
    assert await polls(harness).run_due() == [poll.id]
    assert await polls(harness).run_due() == []

    (request,) = game_posts(ct_fake)
    assert request.json == vote_body(lock.token, "sub")
    assert "authorization" not in request.headers
    # ONE reply to the poll message: the choice, the tally, the amount and the new end.
    (announcement,) = closing_messages(harness)
    assert harness.channel_messages()[-1] is announcement
    assert len(harness.channel_messages()) == 2
    assert announcement.reference_id == message.id
    assert "one anonymous vote for **Remove time**" in announcement.content
    (result_embed,) = announcement.embeds
    assert result_embed["title"].startswith("📊 Community poll voted LINK on cage: ")
    [what, detail, tally] = result_embed["description"].splitlines()
    assert "new end <t:" in what
    assert detail.startswith("chose ➖ Remove time · ×")
    assert tally == "Tally: ➕ 1 · ➖ 2 · 🎲 0 (3 members)"
    closed = latest(harness, message)
    assert closed.embed is not None
    assert "(closed)" in closed.embed["title"]
    assert tally_field(closed).startswith("➕ Add `▰▰▰▱▱▱▱▱` 1 · 33%")
    assert [(b["label"], b.get("disabled")) for b in closed.buttons()] == [
        ("Add time", True),
        ("Remove time", True),
        ("Random", True),
    ]
    stored = await poll_of(harness, message)
    assert (stored.status, stored.outcome, stored.winning_choice) == ("closed", "ok", "sub")
    with pytest.raises(OptionError):
        await harness.click(closed, label="Add time")


async def test_a_tie_casts_random(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.new_member("a"))
    await choose(harness, message, "Remove time", harness.new_member("b"))

    time_is_up(harness)
    await polls(harness).run_due()

    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "rand")]
    assert "one anonymous vote for **Random**" in closing_messages(harness)[0].content


async def test_no_votes_casts_nothing(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    _, message = await start_poll(harness, ct_fake)

    time_is_up(harness)
    await polls(harness).run_due()

    assert game_posts(ct_fake) == []
    (announcement,) = closing_messages(harness)
    assert "Nobody picked a choice, so no vote was cast" in announcement.content
    assert "(closed)" in latest(harness, message).embeds[0]["title"]


async def test_a_choice_after_the_end_is_refused(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    time_is_up(harness)

    text = await choose(harness, message, "Add time", harness.member)

    assert "This poll has ended" in text
    assert await harness.storage.polls.tally((await poll_of(harness, message)).id) == {
        "add": 0,
        "sub": 0,
        "rand": 0,
    }


async def test_buttons_work_after_a_restart(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    _, message = await start_poll(harness, ct_fake)

    await harness.restart()

    assert "Your choice: **🎲 Random**" in await choose(harness, message, "Random", harness.member)


async def test_a_poll_that_ended_while_the_bot_was_down_closes_at_start(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    await harness.bot.close()

    time_is_up(harness)
    await harness.restart()

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "add")]
    assert "one anonymous vote for **Add time**" in closing_messages(harness)[0].content


async def test_a_crash_while_casting_never_casts_twice(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    # The vote reaches Chastity Tracker and is applied; the answer never comes back.
    ct_fake.inject(Fault.hang(after_apply=True))
    time_is_up(harness)

    closing = asyncio.create_task(polls(harness).run_due())
    await ct_fake.wait_for_requests(1, path=GAMES_PATH)
    closing.cancel()  # the process dies here
    with pytest.raises(asyncio.CancelledError):
        await closing
    assert (await poll_of(harness, message)).status == "closing"
    await harness.restart()

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    (report,) = closing_messages(harness)
    assert "may or may not have reached Chastity Tracker" in report.content
    assert "**not** be sent again" in report.content
    assert await polls(harness).run_due() == []
    assert (await poll_of(harness, message)).status == "in_doubt"
    await ct_fake.wait_idle()
    assert len(game_posts(ct_fake)) == 1
    await harness.fake.wait_for(
        lambda: [b.get("disabled") for b in latest(harness, message).buttons()] == [True] * 3,
        timeout=10,
    )


async def test_a_refused_vote_is_reported_with_the_reason(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    # The bot's address already voted, without the bot knowing: the window is used up.
    await vote_outside_the_bot(ct_fake, lock.token, "add")
    await choose(harness, message, "Remove time", harness.new_member("m"))

    time_is_up(harness)
    await polls(harness).run_due()

    (announcement,) = closing_messages(harness)
    assert "refused the vote for cooldown" in announcement.content
    assert "share one vote per lock and cooldown window" in announcement.content
    assert (await poll_of(harness, message)).outcome == "refused"
    assert len(game_posts(ct_fake)) == 2
    assert lock.token not in announcement.content


async def test_removing_the_lock_closes_its_poll_without_a_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)

    answer = await (
        await harness.run("locks remove", {"name": "cage"}, by=harness.admin)
    ).wait_for_message()

    assert "1 open poll(s) were closed without casting a vote" in answer.text()
    (announcement,) = closing_messages(harness)
    assert "lock was removed" in announcement.content
    assert [b.get("disabled") for b in latest(harness, message).buttons()] == [True] * 3
    time_is_up(harness)
    assert await polls(harness).run_due() == []
    assert game_posts(ct_fake) == []


async def test_an_unexpected_failure_while_casting_is_reported_in_doubt_at_once(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    monkeypatch: pytest.MonkeyPatch,
    log_guard: LogGuard,
) -> None:
    log_guard.expect_error(r"Closing poll \d+ failed")
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    votes = harness.bot.votes
    real_cast = votes.cast_anonymous

    async def cast_then_fail(*args: Any, **kwargs: Any) -> Any:
        await real_cast(*args, **kwargs)
        raise RuntimeError("the database went away after the vote")

    monkeypatch.setattr(votes, "cast_anonymous", cast_then_fail)
    time_is_up(harness)

    await polls(harness).run_due()

    assert (await poll_of(harness, message)).status == "in_doubt"
    (report,) = closing_messages(harness)
    assert "Something went wrong while casting this poll's anonymous vote" in report.content
    assert "**not** be sent again" in report.content
    assert await polls(harness).run_due() == []
    await harness.restart()
    assert await polls(harness).recover() == []
    assert len(game_posts(ct_fake)) == 1


@pytest.mark.parametrize(
    ("tally", "winner"),
    [
        ({"add": 0, "sub": 0, "rand": 0}, None),
        ({"add": 3, "sub": 1, "rand": 2}, Choice.ADD),
        ({"add": 1, "sub": 1, "rand": 0}, Choice.RAND),
        ({"add": 0, "sub": 2, "rand": 2}, Choice.RAND),
        ({"add": 0, "sub": 0, "rand": 1}, Choice.RAND),
    ],
)
def test_winning_choice(tally: dict[str, int], winner: Choice | None) -> None:
    assert winning_choice(tally) == winner


async def test_the_background_scheduler_closes_a_poll_on_time(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Remove time", harness.member)

    time_is_up(harness)
    polls(harness).wake()  # the loop would also notice within its longest pause

    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "sub")]


async def test_two_closers_at_once_cast_one_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.delay(0.5))
    time_is_up(harness)

    first, second = await asyncio.gather(polls(harness).run_due(), polls(harness).run_due())

    assert sorted([first, second]) == [[], [(await poll_of(harness, message)).id]]
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "add")]
    assert len(closing_messages(harness)) == 1


async def test_the_loop_and_run_due_together_cast_one_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Random", harness.member)
    ct_fake.inject(Fault.delay(0.5))
    time_is_up(harness)

    polls(harness).wake()
    await polls(harness).run_due()
    await harness.fake.wait_for(lambda: bool(closing_messages(harness)), timeout=10)
    assert await polls(harness).run_due() == []

    await ct_fake.wait_idle()
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "rand")]
    assert len(closing_messages(harness)) == 1


async def test_recovery_leaves_a_poll_this_bot_is_casting_alone(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    ct_fake.inject(Fault.delay(1.0))
    time_is_up(harness)
    poll = await poll_of(harness, message)

    closing = asyncio.create_task(polls(harness).run_due())
    await ct_fake.wait_for_requests(1, path=GAMES_PATH)
    assert (await poll_of(harness, message)).status == "closing"

    assert await polls(harness).recover() == []
    assert await closing == [poll.id]
    stored = await poll_of(harness, message)
    assert (stored.status, stored.outcome) == ("closed", "ok")
    (announcement,) = closing_messages(harness)
    assert "one anonymous vote for **Add time**" in announcement.content


async def test_a_restart_while_casting_lets_the_vote_finish_instead_of_leaving_it_in_doubt(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Remove time", harness.member)
    ct_fake.inject(Fault.delay(1.0))
    time_is_up(harness)

    polls(harness).wake()  # the background loop starts closing the poll
    await ct_fake.wait_for_requests(1, path=GAMES_PATH)
    await harness.restart()  # a planned restart, not a crash

    stored = await poll_of(harness, message)
    assert (stored.status, stored.outcome) == ("closed", "ok")
    assert await polls(harness).recover() == []
    (announcement,) = closing_messages(harness)
    assert "one anonymous vote for **Remove time**" in announcement.content
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "sub")]


async def test_a_vote_lost_in_transit_is_reported_and_never_sent_again(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    await choose(harness, message, "Add time", harness.member)
    # Counted, but the answer never arrives (a timeout would end the same way, slower).
    ct_fake.inject(Fault.drop_connection(after_apply=True))
    time_is_up(harness)

    await polls(harness).run_due()

    (announcement,) = closing_messages(harness)
    assert "may or may not have been counted" in announcement.content
    assert "will not be sent again" in announcement.content
    assert (await poll_of(harness, message)).outcome == "unknown"
    await harness.restart()
    assert await polls(harness).run_due() == []
    assert await polls(harness).recover() == []
    assert len(game_posts(ct_fake)) == 1


async def test_closing_the_bot_stops_the_scheduler_and_pending_edits(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    polls(harness).edits.interval = 60.0
    await choose(harness, message, "Add time", harness.member)
    await choose(harness, message, "Random", harness.new_member("other"))  # a pending redraw

    def running() -> list[str]:
        return sorted(
            task.get_name()
            for task in asyncio.all_tasks()
            if task.get_name().startswith(("poll-scheduler", "coalesced-edit")) and not task.done()
        )

    poll_id = (await poll_of(harness, message)).id
    assert running() == [f"coalesced-edit-{('poll', poll_id)}", "poll-scheduler"]
    await harness.bot.close()

    assert running() == []


async def test_a_burst_of_choices_becomes_few_edits_and_the_final_tally_lands(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    _, message = await start_poll(harness, ct_fake)
    time = FakeSleep()  # the interval is over only when the test says so
    polls(harness).edits = EditCoalescer(1.0, monotonic=time.monotonic, sleep=time)
    members = [harness.new_member(f"m{n}") for n in range(10)]

    first = await harness.click(message, label="Remove time", by=members[0])
    await first.wait_for_message()
    clicks = [
        await harness.click(message, label="Remove time", by=member, wait=False)
        for member in members[1:]
    ]
    await asyncio.gather(*(click.wait_for_message() for click in clicks))
    # The first choice drew at once; the nine after it, however they were stored
    # (one by one or together), wait together for the interval to be over.
    await time.sleeping(1.0)
    assert time.pending == [1.0]
    time.release()
    await polls(harness).edits.flush()

    edits = [
        e for e in harness.fake.events if e.kind == "channel_edit" and e.message_id == message.id
    ]
    assert len(edits) == 2
    assert "➖ Remove `▰▰▰▰▰▰▰▰` 10 · 100%" in tally_field(latest(harness, message))


async def test_a_poll_that_cannot_be_posted_is_closed_at_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = await register(harness, "cage", wearer(ct_fake).token)
    del harness.fake.channels[harness.other_channel.id]

    result = await harness.run(
        "locks poll",
        {"name": "cage", "minutes": MINUTES},
        by=harness.admin,
        channel=harness.other_channel,
    )

    answer = await result.wait_for_message()
    assert f"I could not post in <#{harness.other_channel.id}>" in answer.text()
    assert await harness.storage.polls.list_open() == []
    assert await harness.storage.polls.open_for_lock(lock.id) == []
    time_is_up(harness)
    assert await polls(harness).run_due() == []
