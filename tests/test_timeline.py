"""/link timeline and the panels' Timeline button: a PNG chart of the lock's scheduled end."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import matplotlib.image

from bot.secrets import Secret
from bot.timeline_chart import Marker, Step, TimelineData, plotted_points, render
from bot.timeline_data import TimelineSource, draw, timeline_data
from tests.fakes.ct_api import HISTORIES_PATH, DiceConfig, FakeChastityTracker, LinkConfig
from tests.harness import Harness
from tests.insights_support import chart_bytes, logged_vote, png_size, voted_lock
from tests.voting_support import connect, register, wearer


def scheduled_ends(ct_fake: FakeChastityTracker, session_id: int) -> list[object]:
    """The scheduled end after each LINK vote, as Chastity Tracker recorded it."""
    rows = [row for row in ct_fake.histories(session_id) if row.source == "LINK"]
    return [row.schedule for row in sorted(rows, key=lambda row: row.happened)]


async def test_the_timeline_is_a_readable_png_of_every_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    voted = await voted_lock(harness, ct_fake, ["add", "sub", "rand"])

    # One lock on the server: `lock` may be left out, as for /link vote.
    result = await harness.run("link timeline")
    answer = await result.wait_for_message()

    assert result.response is not None
    assert result.response.is_deferred
    assert not answer.ephemeral
    assert answer.embed["image"]["url"] == "attachment://timeline.png"
    png = chart_bytes(harness, answer)
    assert png_size(png) == (900, 450)
    pixels = matplotlib.image.imread(io.BytesIO(png), format="png")
    assert pixels.shape[:2] == (450, 900)
    assert pixels.std() > 0.05  # something is drawn, not a blank image
    # The plotted points are the three votes' scheduled ends, then the last one carried to now.
    chart = await harness.bot.timeline.chart(voted.lock)
    expected = scheduled_ends(ct_fake, voted.wearer.session.id)
    assert len(expected) == 3
    assert [end for _, end in chart.points] == [*expected, expected[-1]]
    assert [marker.kind for marker in chart.markers] == ["add", "sub", "rand"]


async def test_a_chart_is_kept_until_the_next_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    voted = await voted_lock(harness, ct_fake, ["add"])
    timeline = harness.bot.timeline

    first = await timeline.chart(voted.lock)
    again = await timeline.chart(voted.lock)
    assert again is first
    assert timeline.renders == 1

    late = harness.new_member("late")
    await connect(harness, late, ct_fake.add_user("late"))
    await logged_vote(harness, late, "sub", "cage")
    redrawn = await timeline.chart(voted.lock)

    assert timeline.renders == 2
    assert len(redrawn.points) == len(first.points) + 1


async def test_the_panel_timeline_button_answers_only_the_member_who_clicked(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await voted_lock(harness, ct_fake, ["add", "add"])
    posted = await harness.run("locks panel", {"name": "cage"}, by=harness.admin)
    await posted.wait_for_message()
    [panel] = [m for m in harness.channel_messages() if m.buttons()]

    click = await harness.click(panel, label="Timeline")
    answer = await click.wait_for_message()

    assert answer.ephemeral
    assert png_size(chart_bytes(harness, answer)) == (900, 450)


async def test_no_vote_yet_is_said_plainly(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await register(harness, "cage", wearer(ct_fake).token)

    result = await harness.run("link timeline", {"lock": "cage", "days": 3})
    answer = await result.wait_for_message()

    assert answer.ephemeral
    assert "no vote through the bot in the last 3 days" in answer.text()


async def test_several_locks_need_a_name(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await register(harness, "cage", wearer(ct_fake, "one").token)
    await register(harness, "belt", wearer(ct_fake, "two").token)

    answer = await (await harness.run("link timeline")).wait_for_message()

    assert "several locks" in answer.text()
    assert "**belt**" in answer.text()
    assert "**cage**" in answer.text()


async def test_lock_autocompletes(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await register(harness, "cage", wearer(ct_fake, "one").token)
    await register(harness, "belt", wearer(ct_fake, "two").token)

    choices = await harness.autocomplete("link timeline", {"lock": "ca"}, focused="lock")

    assert [choice["value"] for choice in choices] == ["cage"]


async def test_the_wearers_history_is_added_only_while_shared(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    user = ct_fake.add_user("wearer")
    session = ct_fake.add_session(user, link=LinkConfig(), dice=DiceConfig())
    assert session.link is not None
    wearer_member = harness.new_member("wearer")
    lock = await register(harness, "cage", session.link.public_token, owner=wearer_member)
    await connect(harness, wearer_member, user)
    voter = harness.new_member("voter")
    await connect(harness, voter, ct_fake.add_user("voter"))
    await logged_vote(harness, voter, "add", "cage")
    # The wearer plays DICE on their own session: Chastity Tracker's history has it,
    # the bot's ledger of this lock does not.
    await harness.bot.api.play_dice(Secret(user.token), session.id)

    private = await harness.bot.timeline.chart(lock)
    assert len(private.points) == 2  # the vote, then now
    assert ct_fake.requests_to(HISTORIES_PATH) == []

    shared = await harness.run("account share", {"lock": "cage"}, by=wearer_member)
    await shared.wait_for_message()
    with_history = await harness.bot.timeline.chart(lock)

    # The session's start, the vote, the DICE play (from the history), then now.
    rows = sorted(ct_fake.histories(session.id), key=lambda row: row.happened)
    assert [row.source for row in rows] == [None, "LINK", "DICE"]
    schedules = [row.schedule for row in rows]
    assert [end for _, end in with_history.points] == [*schedules, schedules[-1]]
    assert len(ct_fake.requests_to(HISTORIES_PATH)) == 1


def test_render_plots_each_step_and_the_now_line() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    steps = tuple(
        Step(now - timedelta(hours=10 - i), now + timedelta(days=2, hours=i)) for i in range(5)
    )
    poll = Marker(steps[0].at, steps[0].scheduled_end, "poll")
    data = TimelineData("cage", 1, now, steps, (poll,), False)

    chart = render(data)

    assert chart.points == plotted_points(data)
    assert len(chart.points) == 6
    assert chart.points[-1] == (now, steps[-1].scheduled_end)
    assert png_size(chart.png) == (chart.width, chart.height) == (900, 450)


async def test_a_closed_poll_is_marked_where_its_vote_moved_the_end(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    voted = await voted_lock(harness, ct_fake, ["add"])
    started = await harness.run("locks poll", {"name": "cage", "minutes": 5}, by=harness.admin)
    await started.wait_for_message()
    [poll] = [m for m in harness.channel_messages() if m.buttons()]
    await (await harness.click(poll, label="Remove time")).wait_for_message()
    harness.clock.advance(5 * 60 + 1)
    await harness.bot.polls.run_due()
    await harness.fake.wait_for(
        lambda: any("closed.**" in m.content for m in harness.channel_messages()), timeout=10
    )

    chart = await harness.bot.timeline.chart(voted.lock)

    # The poll's vote is in the ledger like any other; the poll is marked where it left the end.
    ends = scheduled_ends(ct_fake, voted.wearer.session.id)
    assert [end for _, end in chart.points] == [*ends, ends[-1]]
    assert [(marker.kind, marker.scheduled_end) for marker in chart.markers] == [
        ("add", ends[0]),
        ("sub", ends[1]),
        ("poll", ends[1]),
    ]


async def test_a_shorter_period_leaves_older_votes_out(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    voted = await voted_lock(harness, ct_fake, ["add"])
    harness.clock.advance(2 * 86400)
    late = harness.new_member("late")
    await connect(harness, late, ct_fake.add_user("late"))
    await logged_vote(harness, late, "sub", "cage")

    last_day = await harness.bot.timeline.chart(voted.lock, days=1)
    three_days = await harness.bot.timeline.chart(voted.lock, days=3)

    ends = scheduled_ends(ct_fake, voted.wearer.session.id)
    assert [marker.kind for marker in last_day.markers] == ["sub"]
    assert [end for _, end in last_day.points] == [ends[1], ends[1]]
    assert [marker.kind for marker in three_days.markers] == ["add", "sub"]


def _answer(end: datetime, *, penalty: bool = False) -> str:
    """A vote's answer as the ledger keeps it."""
    return json.dumps(
        {"scheduled_end": end.isoformat(), "seconds": 600, "operation": "ADD", "penalty": penalty}
    )


def test_the_rows_become_steps_and_markers_oldest_first() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    hours = [now - timedelta(hours=h) for h in range(6)]
    ends = [now + timedelta(days=2, minutes=m) for m in range(6)]
    votes = (
        (hours[5], "add", _answer(ends[0])),
        (hours[4], None, _answer(ends[1])),  # no recorded choice: shown as random
        (hours[3], "sub", "not an answer"),  # unreadable: left out
        (hours[2], "sub", _answer(ends[2], penalty=True)),
    )
    polls = ((hours[1], _answer(ends[2])),)
    history = (
        (hours[4] + timedelta(seconds=2), ends[1], "LINK"),  # the ledger's vote: no new step
        (hours[4] - timedelta(minutes=30), ends[3], "DICE"),
        (hours[1], ends[4], "PENALTY"),
        (hours[0], None, None),  # no scheduled end: nothing to plot
    )

    data = timeline_data(TimelineSource("cage", 1, now, votes, polls, history))

    assert data.steps == (
        Step(hours[5], ends[0]),
        Step(hours[4] - timedelta(minutes=30), ends[3]),
        Step(hours[4], ends[1]),
        Step(hours[2], ends[2]),
        Step(hours[1], ends[4]),
    )
    assert [(marker.kind, marker.scheduled_end) for marker in data.markers] == [
        ("add", ends[0]),
        ("rand", ends[1]),
        ("penalty", ends[2]),
        ("poll", ends[2]),
        ("penalty", ends[4]),
    ]
    assert data.with_history


def test_nothing_readable_draws_nothing() -> None:
    now = datetime(2026, 3, 1, 12, tzinfo=UTC)
    source = TimelineSource("cage", 1, now, ((now, "add", "{}"),), (), None)

    assert draw(source) is None
    assert not timeline_data(source).with_history
