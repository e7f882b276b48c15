"""The penalty guard: the lock's registered wearer voting logged must confirm first."""

from __future__ import annotations

import pytest

from bot.views import confirm
from tests.fakes.ct_api import STATS_PATH, FakeChastityTracker, Fault
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


@pytest.mark.parametrize("dm", [False, True])
async def test_an_unregistered_self_vote_asks_first(
    harness: Harness, ct_fake: FakeChastityTracker, dm: bool
) -> None:
    # Nobody registered the lock: the guard knows it from the member's own stats
    # (link_game), learned at their first logged vote, and asks before sending.
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)

    result = await harness.run("link vote", {"choice": "sub", "token": lock.token}, dm=dm)

    dialog = await result.wait_for_message()
    assert "penalty" in dialog.text().lower()
    assert game_posts(ct_fake) == []
    confirmed = await harness.click(dialog, label="Vote anyway (penalty)")
    await confirmed.wait_for(lambda r: bool(latest(harness, dialog).embeds))
    assert latest(harness, dialog).embeds[0]["title"].startswith("⚠️ Penalty")
    assert len(game_posts(ct_fake)) == 1


async def test_a_share_link_of_the_own_lock_asks_first_after_connect(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    # Connected through /account connect: the LINK token is learned there (as a hash).
    lock = wearer(ct_fake)
    opened = await harness.run("account connect")
    submitted = await harness.submit_modal(opened, {"account:connect:token": lock.user.token})
    assert (await submitted.wait_for_message()).text().startswith("✅ Connected")
    stats_reads = len(ct_fake.requests_to(STATS_PATH))
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.link_token_hash is not None
    assert lock.token.encode() not in account.link_token_hash

    share_link = f"https://www.chastitytracker.org/games/link.php?token={lock.token}"
    result = await harness.run("link vote", {"choice": "add", "token": share_link}, dm=True)

    assert "penalty" in (await result.wait_for_message()).text().lower()
    assert game_posts(ct_fake) == []
    assert len(ct_fake.requests_to(STATS_PATH)) == stats_reads  # known, not asked again


async def test_a_registered_lock_without_an_owner_asks_its_wearer_first(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await connect(harness, harness.member, lock.user)
    await register(harness, "cage", lock.token)  # no owner given

    result = await harness.run("link vote", {"choice": "add", "lock": "cage"})

    assert "penalty" in (await result.wait_for_message()).text().lower()
    assert game_posts(ct_fake) == []


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
