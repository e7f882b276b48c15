"""Games under trouble: every error privately and in plain words, slow and lost answers,
flood control, and a result Discord would not take."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.fakes.ct_api import DiceConfig, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.games_support import Players, add_session, game_posts, players
from tests.harness import Harness, InteractionResult, LogGuard
from tests.harness.fake_discord import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE

RUN_AS_DOM = "dom"


@pytest.fixture
async def world(harness: Harness, ct_fake: FakeChastityTracker) -> Players:
    return await players(harness, ct_fake)


async def private_error(harness: Harness, result: InteractionResult) -> str:
    """The error text; checks it is shown only to the member and nothing stays public."""
    message = await result.wait_for_message()
    assert message.ephemeral
    assert [m.id for m in result.visible_messages if not m.ephemeral] == []
    original = result.original
    assert original is not None
    assert original.ephemeral or original.deleted  # no public "thinking..." left behind
    assert result.rejections == []
    return message.content


def disable_dice(ct_fake: FakeChastityTracker, world: Players) -> dict[str, Any]:
    session = add_session(ct_fake, world.wearer, dice=None)
    return {"session": session.id}


def unknown_session(ct_fake: FakeChastityTracker, world: Players) -> dict[str, Any]:
    return {"session": 999}


def fail_with(fault: Fault) -> Callable[[FakeChastityTracker, Players], dict[str, Any]]:
    def arrange(ct_fake: FakeChastityTracker, world: Players) -> dict[str, Any]:
        ct_fake.inject(fault)
        return {"session": world.session.id}

    return arrange


def not_their_session(ct_fake: FakeChastityTracker, world: Players) -> dict[str, Any]:
    # The dom plays without as_dom: only the owner may do that.
    return {"session": world.session.id, RUN_AS_DOM: True}


@pytest.mark.parametrize(
    ("arrange", "expected", "outcome"),
    [
        pytest.param(
            disable_dice,
            "❌ Chastity Tracker says: The DICE game is not enabled on session",
            "refused",
            id="400-validation",
        ),
        pytest.param(
            unknown_session, "❌ Chastity Tracker found no such session", "refused", id="404"
        ),
        pytest.param(not_their_session, "without `as_dom`", "refused", id="403"),
        pytest.param(
            fail_with(Fault.status(500)),
            "❌ Chastity Tracker failed (HTTP 500) and said so",
            "error",
            id="500",
        ),
        pytest.param(
            # An error page, not the API's envelope: it may come after the play was applied.
            fail_with(Fault.html_500()), "may or may not", "unknown", id="html-500"
        ),
        pytest.param(
            fail_with(Fault.status(503)),
            "❌ Chastity Tracker failed (HTTP 503) and said so",
            "error",
            id="503",
        ),
        pytest.param(
            fail_with(Fault.malformed_json()),
            "⚠️ Chastity Tracker's answer could not be read",
            "unknown",
            id="malformed",
        ),
        pytest.param(
            fail_with(Fault.no_envelope()),
            "⚠️ Chastity Tracker's answer could not be read",
            "unknown",
            id="no-envelope",
        ),
        pytest.param(
            fail_with(Fault.status(405)),
            "🔌 Chastity Tracker refused the bot's request",
            "refused",
            id="405",
        ),
        pytest.param(
            fail_with(Fault.rate_limited(retry_after=60)),
            "⏳ Chastity Tracker is busy: nothing was played.",
            "refused",
            id="429",
        ),
    ],
)
async def test_api_errors_are_shown_privately(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    world: Players,
    arrange: Callable[[FakeChastityTracker, Players], dict[str, Any]],
    expected: str,
    outcome: str,
) -> None:
    options = arrange(ct_fake, world)
    by = world.dom_member if options.pop(RUN_AS_DOM, False) else harness.member

    result = await harness.run("dice", options, by=by)

    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE  # the defer came first
    text = await private_error(harness, result)
    assert expected in text
    assert ".." not in text
    assert len(game_posts(ct_fake)) == 1
    [entry] = await harness.storage.ledger.recent(by.id)
    assert entry.status == outcome


async def test_cooldown_shows_the_apis_message(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    session = add_session(ct_fake, world.wearer, dice=DiceConfig(waitint=1, waitunit="hour"))
    first = await harness.run("dice", {"session": session.id})
    await first.wait_for_message()

    text = await private_error(harness, await harness.run("dice", {"session": session.id}))

    assert "Chastity Tracker says: DICE was played recently: you can play again in" in text
    assert "limits how often a game can be played" in text
    assert len(game_posts(ct_fake)) == 2


async def test_refused_token_marks_the_account_and_says_how_to_reconnect(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    ct_fake.revoke(world.wearer)

    text = await private_error(harness, await harness.run("luck", {"session": world.session.id}))

    assert "refused your API token" in text
    assert "`/account connect`" in text
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.needs_reconnect

    again = await harness.run("luck", {"session": world.session.id})
    assert "`/account connect`" in await private_error(harness, again)
    assert len(game_posts(ct_fake)) == 1


async def test_refused_token_while_looking_up_the_session_marks_the_account(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    ct_fake.revoke(world.wearer)

    text = await private_error(harness, await harness.run("dice"))

    assert "refused your API token" in text
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.needs_reconnect
    assert game_posts(ct_fake) == []


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("dice", {"session": 100}),
        ("luck", {}),
        ("link play", {"session": 100, "choice": "add"}),
    ],
)
async def test_not_connected_is_told_privately_and_nothing_is_sent(
    harness: Harness, ct_fake: FakeChastityTracker, command: str, options: dict[str, Any]
) -> None:
    result = await harness.run(command, options)

    # Acknowledged first (the answer needs storage), then told only the member.
    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    text = await private_error(harness, result)
    assert "not connected a Chastity Tracker account" in text
    assert ct_fake.requests == []
    assert await harness.storage.ledger.recent(harness.member.id) == []


async def test_a_timeout_after_sending_says_the_outcome_is_unknown_and_never_resends(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(ct_api_timeout=0.3)
    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.hang(after_apply=True))

    result = await harness.run("dice", {"session": world.session.id})

    text = await private_error(harness, result)
    assert text.startswith("⚠️ Chastity Tracker's answer never arrived")
    assert "**may or may not** have happened" in text
    assert "Check `/history`" in text
    assert "before trying again" in text
    assert len(game_posts(ct_fake)) == 1
    # It did happen on Chastity Tracker: exactly the case the message warns about.
    assert [row.source for row in ct_fake.histories(world.session.id)] == ["DICE", None]
    [entry] = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "unknown"


async def test_a_slow_api_still_gets_the_first_response_in_time(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    """Scaled down: Discord's 3-second window is 0.5 s here and the slow answer takes 1.5 s,
    three times the window, as 5 s is to 3 s with room to spare."""
    harness = await make_harness(response_window=0.5)
    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.delay(1.5))

    result = await harness.run("dice", {"session": world.session.id}, wait=False)
    response = await result.wait_for_response()

    assert response.type == DEFERRED_CHANNEL_MESSAGE
    await ct_fake.wait_for_requests(1, path="/api/v2/games.php")
    assert result.followups == []  # Chastity Tracker has not answered yet
    message = await result.wait_for_message(timeout=5)
    assert message.embed is not None
    assert message.embed["title"].startswith("🎲 member rolled DICE: ")
    assert result.rejections == []


async def test_a_five_second_api_at_discords_real_window(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    """The unscaled case: the real 3-second window and a Chastity Tracker that takes 5 s
    (within the default CT_API_TIMEOUT of 10 s)."""
    harness = await make_harness(ct_api_timeout=10.0)
    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.delay(5.0))

    result = await harness.run("luck", {"session": world.session.id})

    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    message = await result.wait_for_message(timeout=10)
    assert message.embed is not None
    assert message.embed["title"].startswith("🍀 member played LUCK: ")
    assert result.rejections == []


async def test_flooding_is_slowed_down_before_the_api_is_called(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=1, flood_interval=60.0)
    world = await players(harness, ct_fake)
    await (await harness.run("dice", {"session": world.session.id})).wait_for_message()

    result = await harness.run("luck", {"session": world.session.id})

    assert result.response is not None
    assert result.response.type == CHANNEL_MESSAGE
    assert result.response.ephemeral
    assert result.response.content.startswith("⏳ Slow down")
    assert len(game_posts(ct_fake)) == 1
    assert len(await harness.storage.ledger.recent(harness.member.id)) == 1

    # Someone else is not slowed down by it.
    other = await harness.run(
        "link play", {"session": world.session.id, "choice": "add"}, by=world.dom_member
    )
    await other.wait_for_message()
    assert len(game_posts(ct_fake)) == 2


async def test_the_ledger_keeps_a_play_discord_would_not_show(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players, log_guard: LogGuard
) -> None:
    ct_fake.inject(Fault.delay(0.5))

    result = await harness.run("dice", {"session": world.session.id}, wait=False)
    await ct_fake.wait_for_requests(1, path="/api/v2/games.php")
    # The play is on its way; the interaction token expires before the answer comes.
    harness.clock.advance(16 * 60)

    await log_guard.wait_for(lambda: log_guard.saw("Could not show the dice result"))
    assert [(e.status, e.code) for e in result.rejections] == [(401, 50027)]
    [entry] = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "ok"
    assert entry.detail_json is not None
    assert '"game": "dice"' in entry.detail_json
    assert [row.source for row in ct_fake.histories(world.session.id)] == ["DICE", None]


async def test_a_failure_after_the_play_does_not_invite_playing_again(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    world: Players,
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_guard.expect_error("Unexpected error in /dice")

    def broken_embed(*args: object, **kwargs: object) -> None:
        raise RuntimeError("cannot draw this result")

    monkeypatch.setattr("bot.interactions.actions.result_embed", broken_embed)

    text = await private_error(harness, await harness.run("dice", {"session": world.session.id}))

    assert text.startswith("⚠️ Something went wrong on our side.")
    assert "Check `/history`" in text
    assert len(game_posts(ct_fake)) == 1
    [entry] = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "ok"


async def test_an_unreachable_chastity_tracker_says_nothing_was_sent(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker, refused_port: int
) -> None:
    harness = await make_harness(ct_api_base_url=f"http://127.0.0.1:{refused_port}")
    world = await players(harness, ct_fake)

    text = await private_error(harness, await harness.run("dice", {"session": world.session.id}))

    assert text.startswith("🔌 Chastity Tracker could not be reached: nothing was sent")
    [entry] = await harness.storage.ledger.recent(harness.member.id)
    assert entry.status == "error"
