"""Cooldown refusals under codes and texts the contract does not fix.

The contract says only "400 Bad Request - Validation error (missing fields,
cooldown, etc.)": the code and the message of a cooldown are unknown. A 400 is
called a cooldown only when its code or message names one; a 400 that says
"try again later" about something else is not; and when the answer does not
tell, what the member reads is true either way.
"""

from __future__ import annotations

import pytest

from bot.ctapi.errors import BadRequest, Refusal
from bot.error_messages import AnonymousCooldown, describe_error
from tests.fakes.ct_api import CooldownWording, DiceConfig, FakeChastityTracker, Fault
from tests.games_support import add_session, players
from tests.harness import Harness, InteractionResult
from tests.voting_support import game_posts, register, vote_outside_the_bot, wearer

COOLDOWN_HINT = "limits how often"
CONDITIONAL_HINT = "If that is a waiting time between plays or votes"
CHECK_OPTIONS = "Check the options you gave"

# -- the error class -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message", "refusal"),
    [
        # What the fake answers by default.
        ("COOLDOWN", "You have already voted on this lock.", "cooldown"),
        # The contract's own words for LINK votes, under neutral codes.
        ("VALIDATION_ERROR", "You can vote again after 24 hours.", "cooldown"),
        ("BAD_REQUEST", "You can vote once ever.", "cooldown"),
        ("HTTP_400", "You may only vote once on this lock.", "cooldown"),
        (None, "DICE was played recently: you can play again in 59 min.", "cooldown"),
        ("ERROR", "Please wait 23 h before playing again.", "cooldown"),
        # An unfamiliar code that still names the cause.
        ("E_VOTE_TOO_SOON", "Not now.", "cooldown"),
        ("ALREADY_VOTED", None, "cooldown"),
        # "try again later" about something else is not a cooldown.
        ("BAD_REQUEST", "Invalid session, please try again later.", "invalid"),
        ("HTTP_400", "Malformed request: wait a moment and try again.", "invalid"),
        ("VALIDATION_ERROR", "Missing field: session", "invalid"),
        ("GAME_DISABLED", "The DICE game is not enabled on session 5.", "invalid"),
        ("INVALID_TOKEN", "Please try again later.", "invalid"),
        # Nothing names the cause: neither claim is made.
        ("BAD_REQUEST", "Something went wrong, try again later.", "unclear"),
        ("HTTP_400", "Please wait and try again.", "unclear"),
        ("E_1042", "Limit reached.", "unclear"),
        (None, None, "unclear"),
        # Both named at once: no side is taken.
        ("COOLDOWN", "Invalid session.", "unclear"),
    ],
)
def test_a_refusal_is_called_a_cooldown_only_when_it_names_one(
    code: str | None, message: str | None, refusal: Refusal
) -> None:
    error = BadRequest(400, code, message)

    assert error.refusal == refusal
    assert error.is_cooldown == (refusal == "cooldown")
    assert error.may_be_cooldown == (refusal != "invalid")


def test_a_known_cooldown_is_said_to_be_one_without_promising_a_next_time() -> None:
    # A LINK vote may be allowed once ever: "again once the wait is over" would be false.
    text = describe_error(BadRequest(400, "VALIDATION_ERROR", "You can vote once ever."))

    assert text == (
        "⏳ Chastity Tracker says: You can vote once ever.\n• Chastity Tracker limits how "
        "often a game can be played and how often each voter can vote on a lock."
    )


def test_try_again_later_about_a_bad_request_is_not_called_a_wait() -> None:
    text = describe_error(BadRequest(400, "BAD_REQUEST", "Invalid session, try again later."))

    assert text == (
        "❌ Chastity Tracker says: Invalid session, try again later.\n• Check the options "
        "you gave and try again."
    )


def test_an_unclear_refusal_names_both_possibilities() -> None:
    text = describe_error(BadRequest(400, "E_1042", "Limit reached."))

    assert text == (
        "❌ Chastity Tracker says: Limit reached.\n• If that is a waiting time between plays "
        "or votes, try again once it is over; otherwise check the options you gave."
    )


def test_the_anonymous_explanation_is_a_possibility_when_the_cause_is_unclear() -> None:
    certain = str(AnonymousCooldown("You have already voted."))
    possible = str(AnonymousCooldown("Limit reached.", certain=False))

    assert "one vote per lock and cooldown window**, and it has been used" in certain
    assert possible.startswith("Chastity Tracker says: Limit reached. If that means a vote")
    assert "has been used" not in possible
    assert "may have used" in possible
    for text in (certain, possible):
        assert "/account connect" in text
        assert "community poll" in text


# -- what a member sees ---------------------------------------------------------------


async def private_text(result: InteractionResult) -> str:
    message = await result.wait_for_message()
    assert message.ephemeral
    assert [m.id for m in result.visible_messages if not m.ephemeral] == []
    return message.content


async def test_dice_cooldown_under_a_neutral_code_is_named_a_cooldown(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ct_fake.cooldown_wording = CooldownWording(
        code="VALIDATION_ERROR", message="You can play again after {wait}."
    )
    session = add_session(ct_fake, world.wearer, dice=DiceConfig(waitint=1, waitunit="hour"))
    await (await harness.run("dice", {"session": session.id})).wait_for_message()

    text = await private_text(await harness.run("dice", {"session": session.id}))

    assert text.startswith("⏳ Chastity Tracker says: You can play again after ")
    assert COOLDOWN_HINT in text
    assert CHECK_OPTIONS not in text
    assert len(game_posts(ct_fake)) == 2


async def test_dice_refused_with_try_again_later_for_a_bad_request_claims_no_wait(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ct_fake.inject(
        Fault.status(400, error_code="BAD_REQUEST", message="Invalid session, try again later.")
    )

    text = await private_text(await harness.run("dice", {"session": world.session.id}))

    assert text.startswith("❌ Chastity Tracker says: Invalid session, try again later.")
    assert CHECK_OPTIONS in text
    assert "wait" not in text
    assert "cooldown" not in text
    assert COOLDOWN_HINT not in text


async def test_dice_cooldown_under_an_unfamiliar_code_is_described_conditionally(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ct_fake.cooldown_wording = CooldownWording(code="E_1042", message="Limit reached.")
    session = add_session(ct_fake, world.wearer, dice=DiceConfig(waitint=1, waitunit="hour"))
    await (await harness.run("dice", {"session": session.id})).wait_for_message()

    text = await private_text(await harness.run("dice", {"session": session.id}))

    assert text.startswith("❌ Chastity Tracker says: Limit reached.")
    assert CONDITIONAL_HINT in text
    assert COOLDOWN_HINT not in text
    assert len(game_posts(ct_fake)) == 2


async def test_anonymous_vote_cooldown_under_a_neutral_code_explains_the_shared_address(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    # The contract's own words for a LINK vote with waitint=1.
    ct_fake.cooldown_wording = CooldownWording(
        code="VALIDATION_ERROR", message="Vote again after 24 hours."
    )
    lock = wearer(ct_fake, waitint=1)
    await register(harness, "cage", lock.token)
    # The bot's address voted without the bot knowing (so it asks, and is refused).
    await vote_outside_the_bot(ct_fake, lock.token, "add")

    second = await harness.run("link vote", {"choice": "sub"}, by=harness.new_member("other"))

    text = await private_text(second)
    assert text.startswith("❌ Chastity Tracker says: Vote again after 24 hours. Anonymous votes")
    assert "one vote per lock and cooldown window**, and it has been used" in text
    assert "/account connect" in text
    assert len(game_posts(ct_fake)) == 2


async def test_anonymous_vote_refused_for_a_malformed_request_says_nothing_of_cooldowns(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    ct_fake.inject(
        Fault.status(
            400, error_code="BAD_REQUEST", message="Malformed request, please try again later."
        )
    )

    text = await private_text(await harness.run("link vote", {"choice": "add"}))

    assert text.startswith("❌ Chastity Tracker says: Malformed request, please try again later.")
    assert CHECK_OPTIONS in text
    assert "cooldown" not in text
    assert "address" not in text
    assert ct_fake.votes == []


async def test_anonymous_vote_cooldown_under_an_unfamiliar_code_is_a_possibility(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    ct_fake.cooldown_wording = CooldownWording(code="E_1042", message="Limit reached.")
    lock = wearer(ct_fake, waitint=0)
    await register(harness, "cage", lock.token)
    await vote_outside_the_bot(ct_fake, lock.token, "add")

    second = await harness.run("link vote", {"choice": "add"}, by=harness.new_member("other"))

    text = await private_text(second)
    assert text.startswith("❌ Chastity Tracker says: Limit reached. If that means a vote")
    assert "another member may have used" in text
    assert "has been used" not in text
    assert "community poll" in text
    assert len(ct_fake.votes) == 1
