"""/dice, /luck and /link play end to end: what Chastity Tracker receives, what members see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.ct_api import SESSIONS_PATH, DiceConfig, FakeChastityTracker
from tests.games_support import Players, add_session, connect, game_posts, players
from tests.harness import FakeMessage, Harness, InteractionResult
from tests.harness.fake_discord import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE


@pytest.fixture
async def world(harness: Harness, ct_fake: FakeChastityTracker) -> Players:
    return await players(harness, ct_fake)


def fields(message: FakeMessage) -> dict[str, str]:
    assert message.embed is not None
    return {field["name"]: field["value"] for field in message.embed.get("fields", [])}


def everything_sent_to_discord(harness: Harness) -> str:
    return json.dumps([event.body for event in harness.fake.events], default=str)


async def public_result(result: InteractionResult) -> FakeMessage:
    """The result of a public play: a public defer, then the embed replacing it."""
    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    assert not result.response.ephemeral
    message = await result.wait_for_message()
    assert not message.ephemeral
    assert result.rejections == []
    return message


@pytest.mark.parametrize(
    ("command", "as_dom", "title"),
    [
        ("dice", False, "DICE — by the owner"),
        ("dice", True, "DICE — by a dom"),
        ("luck", False, "LUCK — by the owner"),
        ("luck", True, "LUCK — by a dom"),
    ],
)
async def test_dice_and_luck_send_the_exact_body_with_the_players_token(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    world: Players,
    command: str,
    as_dom: bool,
    title: str,
) -> None:
    by = world.dom_member if as_dom else harness.member
    token = world.dom.token if as_dom else world.wearer.token
    options: dict[str, Any] = {"session": world.session.id}
    if as_dom:
        options["as_dom"] = True

    message = await public_result(await harness.run(command, options, by=by))

    [post] = game_posts(ct_fake)
    assert post.json == {"game": command, "dom": int(as_dom), "session": world.session.id}
    assert post.bearer == token
    assert message.embed is not None
    assert message.embed["title"] == title
    shown = fields(message)
    end = ct_fake.session(world.session.id).scheduled_end
    assert end is not None
    assert shown["New scheduled end"] == (
        f"<t:{int(end.timestamp())}:F> (<t:{int(end.timestamp())}:R>)"
    )
    assert shown["Session"] == f"#{world.session.id}"
    [row, _start] = ct_fake.histories(world.session.id)
    assert row.source == command.upper()
    assert row.dom == int(as_dom)
    assert shown["Result"] == ("Time added" if row.type == "ADD" else "Time removed")
    assert harness.channel_messages() == [message]
    assert token not in everything_sent_to_discord(harness)


DIE_FACES = {1: "⚀", 2: "⚁", 3: "⚂", 4: "⚃", 5: "⚄", 6: "⚅"}


async def test_dice_shows_the_dice_and_the_calculation(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    session = add_session(ct_fake, world.wearer, dice=DiceConfig(dices=4))

    message = await public_result(await harness.run("dice", {"session": session.id}))

    shown = fields(message)
    [post] = game_posts(ct_fake)
    assert post.response is not None
    rolled = post.response.data  # what Chastity Tracker answered
    assert len(rolled["dices"]) == 4
    assert shown["Dice"] == "  ".join(
        f"{DIE_FACES[value]} {'−' if op == 's' else '+'}{value}"
        for value, op in zip(rolled["dices"], rolled["dicesops"], strict=True)
    )
    assert shown["Calculation"] == f"`{rolled['calc']}`"
    assert shown["Sum"] == str(rolled["sum"])
    assert shown["Multiplier"] == f"×{rolled['multiplier']:.2f}"
    assert shown["Result"] == {"ADD": "Time added", "SUB": "Time removed"}[rolled["operation"]]
    end = datetime.strptime(rolled["scheduledend_utc"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    unix = int(end.timestamp())
    assert shown["New scheduled end"] == f"<t:{unix}:F> (<t:{unix}:R>)"


@pytest.mark.parametrize(("choice", "label"), [("add", "Add time"), ("sub", "Remove time")])
async def test_link_play_is_a_dom_play_with_the_choice(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players, choice: str, label: str
) -> None:
    result = await harness.run(
        "link play", {"session": world.session.id, "choice": choice}, by=world.dom_member
    )

    message = await public_result(result)
    [post] = game_posts(ct_fake)
    assert post.json == {"game": "link", "dom": 1, "session": world.session.id, "type": choice}
    assert post.bearer == world.dom.token
    assert message.embed is not None
    assert message.embed["title"] == "LINK — by a dom"
    assert fields(message)["Vote"] == label
    assert fields(message)["Result"] == ("Time added" if choice == "add" else "Time removed")


async def test_link_choice_is_shown_with_readable_names(harness: Harness) -> None:
    [link] = [c for c in harness.fake.command_schema() if c["name"] == "link"]
    [play] = [o for o in link["options"] if o["name"] == "play"]
    options = {o["name"]: o for o in play["options"]}
    assert [(c["name"], c["value"]) for c in options["choice"]["choices"]] == [
        ("Add time", "add"),
        ("Remove time", "sub"),
        ("Random", "rand"),
    ]
    assert options["session"]["required"] is True
    assert options["session"]["autocomplete"] is True
    assert options["session"]["min_value"] == 1
    assert options["private"].get("required", False) is False


@pytest.mark.parametrize("command", ["dice", "luck"])
async def test_dice_and_luck_options(harness: Harness, command: str) -> None:
    [schema] = [c for c in harness.fake.command_schema() if c["name"] == command]
    options = {o["name"]: o for o in schema["options"]}
    assert list(options) == ["session", "as_dom", "private"]
    assert options["session"].get("required", False) is False
    assert options["session"]["autocomplete"] is True
    assert options["session"]["min_value"] == 1
    assert options["as_dom"]["type"] == 5
    assert options["private"]["type"] == 5


async def test_private_result_is_shown_only_to_the_member(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    result = await harness.run("luck", {"session": world.session.id, "private": True})

    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    assert result.response.ephemeral
    message = await result.wait_for_message()
    assert message.ephemeral
    assert message.embed is not None
    assert message.embed["title"] == "LUCK — by the owner"
    assert harness.channel_messages() == []
    assert len(game_posts(ct_fake)) == 1


async def test_private_link_play(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    result = await harness.run(
        "link play",
        {"session": world.session.id, "choice": "rand", "private": True},
        by=world.dom_member,
    )

    message = await result.wait_for_message()
    assert message.ephemeral
    assert fields(message)["Vote"] == "Random"
    assert harness.channel_messages() == []


async def test_omitted_session_plays_the_only_active_one(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    add_session(ct_fake, world.wearer, active=False)

    message = await public_result(await harness.run("dice"))

    [listing] = ct_fake.requests_to(SESSIONS_PATH)
    assert listing.query["active"] == "1"
    assert listing.bearer == world.wearer.token
    [post] = game_posts(ct_fake)
    assert post.json == {"game": "dice", "dom": 0, "session": world.session.id}
    assert fields(message)["Session"] == f"#{world.session.id}"


async def assert_private_error(harness: Harness, result: InteractionResult) -> str:
    """An error after a public defer: the thinking message is gone, the text is private."""
    message = await result.wait_for_message()
    assert message.ephemeral
    assert message.embeds == []
    assert harness.channel_messages() == []
    return message.content


async def test_omitted_session_with_none_active_says_so(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    loner = ct_fake.add_user("loner")
    add_session(ct_fake, loner, active=False)
    await connect(harness, harness.member, loner)

    text = await assert_private_error(harness, await harness.run("luck"))

    assert "no active session" in text
    assert "`session`" in text
    assert game_posts(ct_fake) == []
    assert await harness.storage.ledger.recent(harness.member.id) == []


async def test_omitted_session_with_several_active_lists_them(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    second = add_session(ct_fake, world.wearer, lockedby="keyholder")

    text = await assert_private_error(harness, await harness.run("dice"))

    assert "2 active sessions" in text
    assert f"#{world.session.id} · active" in text
    assert f"#{second.id} · active" in text
    assert "locked by keyholder" in text
    assert game_posts(ct_fake) == []


async def test_as_dom_without_a_session_is_refused_before_anything_is_sent(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    result = await harness.run("dice", {"as_dom": True}, by=world.dom_member)

    assert result.response is not None
    assert result.response.type == CHANNEL_MESSAGE
    assert result.response.ephemeral
    assert "needs the session number" in result.response.content
    assert ct_fake.requests == []


async def test_every_play_is_in_the_ledger(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    await public_result(await harness.run("dice", {"session": world.session.id}))
    await public_result(
        await harness.run(
            "link play", {"session": world.session.id, "choice": "add"}, by=world.dom_member
        )
    )

    [dice] = await harness.storage.ledger.recent(harness.member.id)
    assert (dice.game, dice.dom, dice.session, dice.status) == (
        "dice",
        False,
        world.session.id,
        "ok",
    )
    assert dice.guild_id == harness.guild.id
    [link] = await harness.storage.ledger.recent(world.dom_member.id)
    assert (link.game, link.dom, link.choice, link.status) == ("link", True, "add", "ok")
