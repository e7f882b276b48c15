"""The penalty guard: the lock's registered wearer voting logged must confirm first."""

from __future__ import annotations

import pytest

from bot.views import confirm
from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness
from tests.harness.fake_discord import UPDATE_MESSAGE
from tests.voting_support import Wearer, connect, game_posts, latest, register, vote_body, wearer


async def owner_votes(harness: Harness, ct_fake: FakeChastityTracker) -> Wearer:
    """``harness.member`` wears the lock "cage", is registered as its owner, and is connected."""
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)
    await register(harness, "cage", lock.token, owner=harness.member)
    return lock


async def test_the_owner_is_asked_first_and_nothing_is_sent_yet(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await owner_votes(harness, ct_fake)

    result = await harness.run("link vote", {"choice": "sub"})

    dialog = await result.wait_for_message()
    assert dialog.ephemeral
    assert "penalty" in dialog.text().lower()
    assert "maximum multiplier" in dialog.text()
    assert [b["label"] for b in dialog.buttons()] == ["Vote anyway (penalty)", "Cancel"]
    assert game_posts(ct_fake) == []


async def test_cancel_sends_nothing(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await owner_votes(harness, ct_fake)
    dialog = await (await harness.run("link vote", {"choice": "sub"})).wait_for_message()

    cancelled = await harness.click(dialog, label="Cancel")

    assert cancelled.response is not None
    assert cancelled.response.type == UPDATE_MESSAGE
    shown = latest(harness, dialog)
    assert "Cancelled. Nothing was sent" in shown.content
    assert shown.buttons() == []
    assert game_posts(ct_fake) == []
    assert await harness.storage.ledger.recent(harness.member.id) == []


async def test_confirm_sends_one_logged_vote_shown_as_a_penalty(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = await owner_votes(harness, ct_fake)
    dialog = await (await harness.run("link vote", {"choice": "sub"})).wait_for_message()

    confirmed = await harness.click(dialog, label="Vote anyway (penalty)")
    await confirmed.wait_for(lambda r: bool(latest(harness, dialog).embeds))

    shown = latest(harness, dialog)
    assert shown.ephemeral
    assert shown.buttons() == []
    assert shown.embeds[0]["title"].startswith("⚠️ Penalty")
    (request,) = game_posts(ct_fake)
    assert request.json == vote_body(lock.token, "sub")
    assert request.headers["authorization"] == f"Bearer {lock.user.token}"
    assert ct_fake.histories(lock.session.id)[0].source == "PENALTY"


async def test_pasting_the_registered_token_does_not_skip_the_guard(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = await owner_votes(harness, ct_fake)

    result = await harness.run("link vote", {"choice": "add", "token": lock.token})

    assert "penalty" in (await result.wait_for_message()).text().lower()
    assert game_posts(ct_fake) == []


async def test_the_owner_voting_anonymously_is_not_asked(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await owner_votes(harness, ct_fake)

    result = await harness.run("link vote", {"choice": "add", "anonymous": True})

    answer = await result.wait_for_message()
    assert not answer.embeds[0]["title"].startswith("⚠️ Penalty")
    (request,) = game_posts(ct_fake)
    assert "authorization" not in request.headers


async def test_other_members_are_not_asked(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await owner_votes(harness, ct_fake)
    other = harness.new_member("other")
    await connect(harness, other, ct_fake.add_user("other"))

    answer = await (await harness.run("link vote", {"choice": "add"}, by=other)).wait_for_message()

    assert answer.embeds[0]["title"].startswith("🔗 other voted LINK on cage: ")
    assert len(game_posts(ct_fake)) == 1


async def test_a_penalty_from_an_unregistered_owner_is_shown_as_one(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    # The bot cannot know who wears an unregistered lock; the result still says so.
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)

    result = await harness.run("link vote", {"choice": "sub", "token": lock.token})

    answer = await result.wait_for_message()
    assert answer.embeds[0]["title"].startswith("⚠️ Penalty")


async def test_an_unanswered_question_expires_and_sends_nothing(
    harness: Harness, ct_fake: FakeChastityTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confirm, "CONFIRM_TIMEOUT", 0.2)
    await owner_votes(harness, ct_fake)

    dialog = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    await harness.fake.wait_for(lambda: "expired" in latest(harness, dialog).content, timeout=5)
    shown = latest(harness, dialog)
    assert shown.content == "This confirmation expired. Nothing was sent to Chastity Tracker."
    assert shown.buttons() == []
    assert game_posts(ct_fake) == []
    assert await harness.storage.ledger.recent(harness.member.id) == []


async def test_a_second_click_on_the_question_sends_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await owner_votes(harness, ct_fake)
    dialog = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    ct_fake.inject(Fault.delay(0.5))

    first = await harness.click(dialog, label="Vote anyway (penalty)", wait=False)
    second = await harness.click(dialog, label="Vote anyway (penalty)", wait=False)

    await first.wait_for_response()
    await second.wait_for_response()
    await harness.fake.wait_for(lambda: bool(latest(harness, dialog).embeds), timeout=5)
    answers = [r.response for r in (first, second)]
    assert any(a is not None and a.content == "Already answered." for a in answers)
    assert len(game_posts(ct_fake)) == 1


async def test_confirming_is_acknowledged_before_a_slow_api_answers(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(response_window=0.5)
    await owner_votes(harness, ct_fake)
    dialog = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    ct_fake.inject(Fault.delay(1.0))

    confirmed = await harness.click(dialog, label="Vote anyway (penalty)")

    assert confirmed.response is not None
    assert confirmed.response.type == UPDATE_MESSAGE
    await harness.fake.wait_for(lambda: bool(latest(harness, dialog).embeds), timeout=10)
    assert confirmed.rejections == []
    assert len(game_posts(ct_fake)) == 1
