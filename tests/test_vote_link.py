"""/link vote: which lock, logged or anonymous, the exact request, and what the member sees."""

from __future__ import annotations

import asyncio

from bot.secrets import Secret
from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness
from tests.voting_support import (
    connect,
    game_posts,
    register,
    vote_body,
    vote_outside_the_bot,
    wearer,
)


async def test_anonymous_vote_by_lock_name_sends_no_bearer_and_answers_privately(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    await register(harness, "belt", wearer(ct_fake, "other").token)

    result = await harness.run("link vote", {"choice": "sub", "lock": "CAGE"})

    answer = await result.wait_for_message()
    assert answer.ephemeral
    embed = answer.embeds[0]
    assert embed["title"].startswith("🔗 Anonymous LINK vote on cage: ")
    assert "Anonymous vote" in embed["footer"]["text"]
    assert "chose ➖ Remove time" in embed["description"]
    (request,) = game_posts(ct_fake)
    assert request.json == vote_body(lock.token, "sub")
    assert "authorization" not in request.headers
    assert [vote.user for vote in ct_fake.votes] == [None]
    (entry,) = await harness.storage.ledger.recent(harness.member.id)
    assert (entry.game, entry.dom, entry.logged, entry.choice, entry.status) == (
        "link",
        False,
        False,
        "sub",
        "ok",
    )
    assert harness.channel_messages() == []


async def test_logged_vote_sends_the_members_bearer_and_posts_the_result(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    voter = ct_fake.add_user("voter")
    await connect(harness, harness.member, voter)
    await register(harness, "cage", lock.token)

    result = await harness.run("link vote", {"choice": "add"})

    answer = await result.wait_for_message()
    assert not answer.ephemeral
    assert harness.channel_messages() == [answer]
    assert answer.embeds[0]["title"].startswith("🔗 member voted LINK on cage: ")
    assert "Logged vote" in answer.embeds[0]["footer"]["text"]
    (request,) = game_posts(ct_fake)
    assert request.json == vote_body(lock.token, "add")
    assert request.headers["authorization"] == f"Bearer {voter.token}"
    assert [vote.user for vote in ct_fake.votes] == [voter.id]
    assert voter.token not in str(harness.fake.requests)


async def test_anonymous_true_keeps_a_connected_member_anonymous(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await connect(harness, harness.member, ct_fake.add_user("voter"))
    await register(harness, "cage", lock.token)

    result = await harness.run("link vote", {"choice": "rand", "anonymous": True})

    assert (await result.wait_for_message()).ephemeral
    (request,) = game_posts(ct_fake)
    assert "authorization" not in request.headers
    assert request.json == vote_body(lock.token, "rand")


async def test_vote_by_raw_token_and_by_share_url(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    first, second = wearer(ct_fake, "one"), wearer(ct_fake, "two")
    other = harness.new_member("other")

    by_token = await harness.run("link vote", {"choice": "add", "token": first.token})
    by_url = await harness.run(
        "link vote",
        {"choice": "sub", "token": f"https://www.chastitytracker.org/link/{second.token}"},
        by=other,
    )

    assert "Anonymous LINK vote" in (await by_token.wait_for_message()).embeds[0]["title"]
    assert "Anonymous LINK vote" in (await by_url.wait_for_message()).embeds[0]["title"]
    # The two members voted at once: their requests may arrive in either order.
    sent = sorted((r.json for r in game_posts(ct_fake)), key=lambda body: str(body["type"]))
    assert sent == [vote_body(first.token, "add"), vote_body(second.token, "sub")]


async def test_vote_by_token_works_in_direct_messages(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)

    result = await harness.run("link vote", {"choice": "add", "token": lock.token}, dm=True)

    assert (await result.wait_for_message()).embeds
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(lock.token, "add")]


async def test_which_lock_when_none_is_named(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    none = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    assert "No lock is registered on this server yet" in none.text()

    await register(harness, "cage", wearer(ct_fake, "one").token)
    await register(harness, "belt", wearer(ct_fake, "two").token)
    several = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    assert "several locks" in several.text()
    assert "**belt**, **cage**" in several.text()

    unknown = await (
        await harness.run("link vote", {"choice": "add", "lock": "nope"})
    ).wait_for_message()
    assert "No lock named **nope**" in unknown.text()

    both = await (
        await harness.run("link vote", {"choice": "add", "lock": "cage", "token": "x" * 20})
    ).wait_for_message()
    assert "either `lock` or `token`" in both.text()

    for answer in (none, several, unknown, both):
        assert answer.ephemeral
    assert game_posts(ct_fake) == []


async def test_lock_autocompletes_from_this_server(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake, "one").token)
    await register(harness, "belt", wearer(ct_fake, "two").token)

    choices = await harness.autocomplete(
        "link vote", {"choice": "add", "lock": "c"}, focused="lock"
    )

    assert [c["value"] for c in choices] == ["cage"]


async def test_a_lock_without_anonymous_votes_tells_how_to_vote_logged(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token, allow_anonymous=False)

    answer = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert answer.ephemeral
    assert "does not take anonymous votes" in answer.text()
    assert "/account connect" in answer.text()
    assert game_posts(ct_fake) == []


async def test_anonymous_cooldown_explains_the_shared_address_and_the_ways_out(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake, waitint=1)
    await register(harness, "cage", lock.token)
    # Another program on the bot's machine voted: the same address for Chastity Tracker.
    await vote_outside_the_bot(ct_fake, lock.token, "add")

    second = await harness.run("link vote", {"choice": "sub"}, by=harness.new_member("other"))

    answer = await second.wait_for_message()
    assert answer.ephemeral
    text = answer.text()
    assert "Chastity Tracker says: You have already voted" in text
    assert "one vote per lock and cooldown window" in text
    assert "/account connect" in text
    assert "community poll" in text
    assert len(game_posts(ct_fake)) == 2
    assert harness.channel_messages() == []


async def test_logged_cooldown_shows_the_apis_own_message(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await connect(harness, harness.member, ct_fake.add_user("voter"))
    await register(harness, "cage", wearer(ct_fake, waitint=0).token)
    await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    again = await harness.run("link vote", {"choice": "add"})

    answer = await again.wait_for_message()
    assert answer.ephemeral
    assert "You have already voted on this lock" in answer.text()
    assert "address" not in answer.text()
    # The public "thinking..." was replaced by a private error: nothing new in the channel.
    assert len(harness.channel_messages()) == 1


async def test_a_refused_bearer_marks_the_account_for_reconnect(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    voter = ct_fake.add_user("voter")
    await connect(harness, harness.member, voter)
    await register(harness, "cage", wearer(ct_fake).token)
    ct_fake.revoke(voter)

    answer = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert "refused your API token" in answer.text()
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.needs_reconnect


async def test_a_slow_api_still_gets_a_first_response_in_time(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock = wearer(ct_fake)
    await register(harness, "cage", lock.token)
    ct_fake.inject(Fault.delay(3.5))

    result = await harness.run("link vote", {"choice": "add"})

    assert result.response is not None
    assert result.response.is_deferred
    answer = await result.wait_for_message(timeout=10)
    assert answer.embeds
    assert len(game_posts(ct_fake)) == 1


async def test_a_double_vote_by_one_member_is_sent_once(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake).token)
    ct_fake.inject(Fault.delay(1.0))

    first = await harness.run("link vote", {"choice": "add"}, wait=False)
    second = await harness.run("link vote", {"choice": "add"}, wait=False)

    answers = await asyncio.gather(first.wait_for_message(), second.wait_for_message())
    texts = sorted(answer.text() for answer in answers)
    assert any("already being sent" in text for text in texts)
    assert any("Anonymous LINK vote" in text for text in texts)
    assert len(game_posts(ct_fake)) == 1


async def test_flooding_votes_are_slowed_down_before_the_api(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=1, flood_interval=60.0)
    await register(harness, "cage", wearer(ct_fake).token)

    await (await harness.run("link vote", {"choice": "add"})).wait_for_message()
    slowed = await (await harness.run("link vote", {"choice": "add"})).wait_for_message()

    assert "Slow down" in slowed.text()
    assert len(game_posts(ct_fake)) == 1


async def test_locks_of_another_server_are_neither_listed_nor_usable_by_name(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    elsewhere = wearer(ct_fake, "elsewhere")
    await harness.storage.locks.add(
        harness.snowflake(),
        "cage",
        harness.vault.encrypt(Secret(elsewhere.token)),
        harness.member.id,
        False,
        harness.admin.id,
        harness.clock.now(),
    )

    choices = await harness.autocomplete(
        "link vote", {"choice": "add", "lock": "c"}, focused="lock"
    )
    by_name = await (
        await harness.run("link vote", {"choice": "add", "lock": "cage"})
    ).wait_for_message()
    # Its token works here as an unregistered lock: the other server's rules do not apply.
    by_token = await (
        await harness.run("link vote", {"choice": "add", "token": elsewhere.token})
    ).wait_for_message()

    assert choices == []
    assert "No lock named **cage**" in by_name.text()
    assert by_token.embeds[0]["title"].startswith("🔗 Anonymous LINK vote: ")
    assert [r.json for r in game_posts(ct_fake)] == [vote_body(elsewhere.token, "add")]


async def test_a_token_that_is_not_one_is_refused_without_echoing_it(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    typed = "my bearer is hunter2-hunter2"

    answer = await (
        await harness.run("link vote", {"choice": "add", "token": typed})
    ).wait_for_message()

    assert answer.ephemeral
    assert "does not look like a public LINK token" in answer.text()
    assert typed not in str(harness.fake.requests)
    assert game_posts(ct_fake) == []
