"""/dice, /luck and /link play end to end: what Chastity Tracker receives, what members see."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.embeds import format_duration
from tests.fakes.ct_api import SESSIONS_PATH, DiceConfig, FakeChastityTracker
from tests.games_support import Players, add_session, connect, game_posts, players
from tests.harness import FakeMessage, Harness, InteractionResult
from tests.harness.fake_discord import CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE


@pytest.fixture
async def world(harness: Harness, ct_fake: FakeChastityTracker) -> Players:
    return await players(harness, ct_fake)


def lines(message: FakeMessage) -> list[str]:
    """The result's description: what happened with the new end, then the detail line."""
    assert message.embed is not None
    return str(message.embed["description"]).splitlines()


def detail(message: FakeMessage) -> list[str]:
    """The detail line's parts: dice, calculation, multiplier, session."""
    return lines(message)[1].split(" · ")


def signed(seconds: int, added: bool) -> str:
    return ("+" if added else "−") + format_duration(seconds)


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
        ("dice", False, "🎲 member rolled DICE: "),
        ("dice", True, "🎲 keyholder rolled DICE as dom: "),
        ("luck", False, "🍀 member played LUCK: "),
        ("luck", True, "🍀 keyholder played LUCK as dom: "),
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
    [row, _start] = ct_fake.histories(world.session.id)
    assert row.source == command.upper()
    assert row.dom == int(as_dom)
    added = row.type == "ADD"
    assert message.embed["title"] == title + signed(row.unit or 0, added)
    assert message.embed["author"]["name"] == ("keyholder" if as_dom else "member")
    assert message.embed["color"] == (0xED4245 if added else 0x57F287)
    end = ct_fake.session(world.session.id).scheduled_end
    assert end is not None
    what = "➕ **Time added**" if added else "➖ **Time removed**"
    assert lines(message)[0] == (
        f"{what} · new end <t:{int(end.timestamp())}:F> (<t:{int(end.timestamp())}:R>)"
    )
    # The wearer played through the bot before? Not here: a dom's play names no one.
    assert detail(message)[-1] == f"session #{world.session.id}"
    assert harness.channel_messages() == [message]
    assert token not in everything_sent_to_discord(harness)


DIE_FACES = {1: "⚀", 2: "⚁", 3: "⚂", 4: "⚃", 5: "⚄", 6: "⚅"}


async def test_dice_shows_the_dice_and_the_calculation(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    session = add_session(ct_fake, world.wearer, dice=DiceConfig(dices=4))

    message = await public_result(await harness.run("dice", {"session": session.id}))

    [post] = game_posts(ct_fake)
    assert post.response is not None
    rolled = post.response.data  # what Chastity Tracker answered
    assert len(rolled["dices"]) == 4
    faces = " ".join(DIE_FACES[value] for value in rolled["dices"])
    total = sum(
        -v if op == "s" else v for v, op in zip(rolled["dices"], rolled["dicesops"], strict=True)
    )
    calculation = (
        f"{rolled['calc']} = {rolled['sum']}" if total == rolled["sum"] else rolled["calc"]
    )
    multiplier = f"×{rolled['multiplier']:.2f}".rstrip("0").rstrip(".")
    assert detail(message)[:3] == [faces, calculation, multiplier]
    what = {"ADD": "➕ **Time added**", "SUB": "➖ **Time removed**"}[rolled["operation"]]
    end = datetime.strptime(rolled["scheduledend_utc"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    unix = int(end.timestamp())
    assert lines(message)[0] == f"{what} · new end <t:{unix}:F> (<t:{unix}:R>)"


@pytest.mark.parametrize(("choice", "label"), [("add", "➕ Add time"), ("sub", "➖ Remove time")])
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
    sign = "+" if choice == "add" else "−"
    assert message.embed["title"].startswith(f"🔗 keyholder played LINK as dom: {sign}")
    assert detail(message)[0] == f"chose {label}"
    assert lines(message)[0].startswith(
        "➕ **Time added**" if choice == "add" else "➖ **Time removed**"
    )


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
    assert message.embed["title"].startswith("🍀 member played LUCK: ")
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
    assert detail(message)[0] == "chose 🎲 Random"
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
    assert detail(message)[-1] == f"session #{world.session.id}"


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


async def test_omitted_session_with_several_active_offers_a_menu_that_plays_on(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    second = add_session(ct_fake, world.wearer, lockedby="keyholder")

    result = await harness.run("dice")
    menu = await result.wait_for_message()

    # Private, after the public "thinking…" was removed; nothing played yet.
    assert menu.ephemeral
    assert harness.channel_messages() == []
    assert game_posts(ct_fake) == []
    assert "2 active sessions" in menu.content
    for session in (world.session, second):
        assert session.scheduled_end is not None
        unix = int(session.scheduled_end.timestamp())
        assert f"**#{session.id}** · ends <t:{unix}:f>" in menu.content
    assert "locked by keyholder" in menu.content
    [select] = [c for row in menu.components for c in row["components"] if c["type"] == 3]
    assert [o["value"] for o in select["options"]] == [str(second.id), str(world.session.id)]
    # One member's and one opening's menu.
    assert str(harness.member.id) in select["custom_id"]

    pick = await harness.click(menu, custom_id=select["custom_id"], values=[str(second.id)])
    played = await pick.wait_for_message()

    [post] = game_posts(ct_fake)
    assert post.json == {"game": "dice", "dom": 0, "session": second.id}
    assert not played.ephemeral  # the play goes on as asked: public
    assert detail(played)[-1] == f"session #{second.id}"
    await pick.wait_for(lambda _: harness.fake.messages[menu.id].components == [], timeout=5)
    assert harness.fake.messages[menu.id].content == f"Session #{second.id} chosen."


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


async def test_a_doms_play_names_the_wearer_once_the_bot_has_seen_the_session_is_theirs(
    harness: Harness, ct_fake: FakeChastityTracker, world: Players
) -> None:
    options = {"session": world.session.id, "as_dom": True}
    before = await public_result(await harness.run("luck", options, by=world.dom_member))
    await public_result(await harness.run("dice", {"session": world.session.id}))

    after = await public_result(await harness.run("luck", options, by=world.dom_member))

    assert detail(before)[-1] == f"session #{world.session.id}"
    assert detail(after)[-1] == f"on <@{harness.member.id}>'s session #{world.session.id}"
