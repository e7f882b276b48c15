"""The fake Discord refuses every body real Discord refuses, and the test that sent it fails.

Bodies are checked against Discord's OpenAPI description (tests/discord_api)
and then against the documented rules it cannot express. Each rule below has a
body breaking it; the fake must answer 400 50035 like Discord, with the
failing field in Discord's ``errors`` object, and record a failure that the
harness fixture turns into a failed test.
"""

from __future__ import annotations

import io
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

import aiohttp
import discord
import pytest
from aiohttp import web

from tests.harness import Harness
from tests.harness.discord_spec import check_body, operation
from tests.harness.fake_discord import (
    API_PREFIX,
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    BODILESS_OPERATIONS,
    SPEC_OPERATIONS,
    FakeDiscord,
    FakeInteraction,
)
from tests.harness.models import BOT_PERMISSIONS


def button(custom_id: str, label: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id} | extra


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def embed(**fields: Any) -> dict[str, Any]:
    return {"type": "rich"} | fields


def option(name: str, *, required: bool = False, **extra: Any) -> dict[str, Any]:
    return {"type": 3, "name": name, "description": "An option", "required": required} | extra


def command(name: str = "ok", **extra: Any) -> dict[str, Any]:
    return {"type": 1, "name": name, "description": "A command"} | extra


def pending(harness: Harness, interaction_type: int) -> FakeInteraction:
    """An interaction Discord delivered and the bot has not answered (the bot never sees it)."""
    interaction_id = harness.snowflake()
    interaction = FakeInteraction(
        id=interaction_id,
        token=f"token{interaction_id}",
        type=interaction_type,
        payload={},
        started=harness.clock.monotonic(),
        channel_id=harness.channel.id,
        guild_id=harness.guild.id,
        user=harness.member.user,
    )
    harness.fake.add_interaction(interaction)
    return interaction


async def send(harness: Harness, method: str, path: str, body: Any) -> tuple[int, dict[str, Any]]:
    """``body`` sent to the fake as the bot would send it (with its token)."""
    headers = {"Authorization": f"Bot {harness.fake.token}"}
    url = f"{harness.fake.base_url}{path}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, json=body, headers=headers) as answer,
    ):
        data = await answer.json() if answer.content_type == "application/json" else {}
        return answer.status, data


def refused(harness: Harness, status: int, answer: dict[str, Any], where: str) -> str:
    """Asserts Discord's refusal naming ``where``; returns the recorded failure (and clears it)."""
    assert (status, answer["code"], answer["message"]) == (400, 50035, "Invalid Form Body")
    node = answer["errors"]
    for step in where.split(".") if where else []:
        node = node[step]
    assert node["_errors"], answer
    [failure] = harness.fake.failures
    assert "sent a body Discord refuses" in failure
    harness.fake.failures.clear()  # expected here; any other test would fail on it
    return failure


# -- the description and the fake's routes ---------------------------------------------


def test_every_fake_route_is_a_documented_discord_operation() -> None:
    app = web.Application()
    FakeDiscord._routes(FakeDiscord.__new__(FakeDiscord), app.router)
    served = {
        (route.method, route.resource.canonical.removeprefix(API_PREFIX))
        for route in app.router.routes()
        if route.resource is not None and route.method != "*"
    }
    assert served == set(SPEC_OPERATIONS) | set(BODILESS_OPERATIONS)
    for (method, _), path in SPEC_OPERATIONS.items():
        assert "requestBody" in operation(path, method), (method, path)
    for (method, _), path in BODILESS_OPERATIONS.items():
        assert "requestBody" not in operation(path, method), (method, path)


def test_the_schema_accepts_what_discord_accepts_and_names_what_it_refuses() -> None:
    messages = "/channels/{channel_id}/messages"
    fine = {"content": "hi", "embeds": [embed(title="t")], "components": [row(button("a"))]}
    assert check_body(messages, "post", fine) == []

    [violation] = check_body(messages, "post", fine | {"embeds": [embed(title="x" * 257)]})
    assert (violation.where, violation.code) == ("embeds.0.title", "BASE_TYPE_MAX_LENGTH")
    [violation] = check_body(messages, "post", {"components": [row({"type": 99})]})
    assert violation.where == "components.0.components.0.type"


# -- every route the bot sends a body to -----------------------------------------------


async def test_an_off_spec_channel_message_is_refused(harness: Harness) -> None:
    path = f"/channels/{harness.channel.id}/messages"
    status, answer = await send(harness, "POST", path, {"content": "x", "tts": "yes"})
    refused(harness, status, answer, "tts")
    assert harness.channel_messages() == []


async def test_an_off_spec_channel_edit_is_refused(harness: Harness) -> None:
    channel = harness.bot.get_partial_messageable(harness.channel.id)
    posted = await channel.send("first")
    path = f"/channels/{harness.channel.id}/messages/{posted.id}"

    status, answer = await send(harness, "PATCH", path, {"embeds": [embed(color=-1)]})
    refused(harness, status, answer, "embeds.0.color")
    assert harness.fake.messages[posted.id].edited_at is None


async def test_an_off_spec_interaction_response_is_refused(harness: Harness) -> None:
    fresh = pending(harness, APPLICATION_COMMAND)
    path = f"/interactions/{fresh.id}/{fresh.token}/callback"

    status, answer = await send(harness, "POST", path, {"type": 4, "data": {"embeds": "no"}})
    refused(harness, status, answer, "data.embeds")
    status, answer = await send(harness, "POST", path, {"data": {"content": "no type"}})
    refused(harness, status, answer, "type")


async def test_an_off_spec_followup_and_webhook_edit_are_refused(harness: Harness) -> None:
    result = await harness.run("help")
    await result.wait_for_message()
    hook = f"/webhooks/{harness.world.application_id}/{result.interaction.token}"

    status, answer = await send(harness, "POST", hook, {"content": 5})
    refused(harness, status, answer, "content")
    status, answer = await send(
        harness, "PATCH", f"{hook}/messages/@original", {"allowed_mentions": {"parse": ["all"]}}
    )
    refused(harness, status, answer, "allowed_mentions.parse.0")


async def test_an_off_spec_command_sync_is_refused(harness: Harness) -> None:
    path = f"/applications/{harness.world.application_id}/commands"
    status, answer = await send(harness, "PUT", path, [command(options=[{"type": 3}])])
    refused(harness, status, answer, "0.options.0.name")
    assert harness.fake.command_schema() != []  # the bot's own sync stands


@pytest.mark.parametrize("checked_in", ["this process", "a worker process"])
async def test_a_multipart_body_is_checked_by_its_payload_json(
    harness: Harness, checked_in: str
) -> None:
    # The benchmarks check uploads in a worker process; the answers must be the same.
    worker = None
    if checked_in == "a worker process":
        worker = ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn"))
        harness.fake.uploads_checked_in = worker
    try:
        await send_a_good_and_a_bad_picture(harness)
    finally:
        if worker is not None:
            worker.shutdown()


async def send_a_good_and_a_bad_picture(harness: Harness) -> None:
    harness.set_bot_permissions(
        harness.channel, BOT_PERMISSIONS | discord.Permissions(attach_files=True)
    )
    channel = harness.bot.get_partial_messageable(harness.channel.id)
    picture = discord.File(io.BytesIO(b"png"), filename="a.png")

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="x" * 257), file=picture)
    assert caught.value.code == 50035
    assert "embeds.0.title" in caught.value.text
    [failure] = harness.fake.failures
    assert "embeds.0.title: Must be 256 or fewer in length." in failure
    harness.fake.failures.clear()

    content = bytes(range(256)) * 40  # every byte value, CR and LF among them
    ok = await channel.send("a picture", file=discord.File(io.BytesIO(content), filename="b.png"))
    message = harness.fake.messages[ok.id]
    assert [a["filename"] for a in message.attachments] == ["b.png"]
    assert harness.fake.uploaded(message, "b.png") == content
    assert ok.attachments[0].size == len(content)


async def test_the_bot_gets_discords_answer_for_an_off_spec_body(harness: Harness) -> None:
    channel = harness.bot.get_partial_messageable(harness.channel.id)

    with pytest.raises(discord.HTTPException) as caught:
        await channel.send(embed=discord.Embed(title="x" * 257))

    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert "In embeds.0.title: Must be 256 or fewer in length." in str(caught.value)
    assert len(harness.fake.failures) == 1
    harness.fake.failures.clear()


# -- Discord's documented rules the description cannot express ---------------------------

LONG = "x" * 300
ROW_OF_5 = row(*(button(f"b{i}") for i in range(5)))

MESSAGE_RULES = {
    "content is at most 2000 characters": ({"content": "x" * 2001}, "content"),
    "at most 10 embeds": ({"embeds": [embed(title="t")] * 11}, "embeds"),
    "embed title at most 256": ({"embeds": [embed(title="x" * 257)]}, "embeds.0.title"),
    "embed description at most 4096": (
        {"embeds": [embed(description="x" * 4097)]},
        "embeds.0.description",
    ),
    "at most 25 fields": (
        {"embeds": [embed(fields=[{"name": "n", "value": "v"}] * 26)]},
        "embeds.0.fields",
    ),
    "field name at most 256": (
        {"embeds": [embed(fields=[{"name": "x" * 257, "value": "v"}])]},
        "embeds.0.fields.0.name",
    ),
    "field name not empty": (
        {"embeds": [embed(fields=[{"name": "", "value": "v"}])]},
        "embeds.0.fields.0.name",
    ),
    "field value at most 1024": (
        {"embeds": [embed(fields=[{"name": "n", "value": "x" * 1025}])]},
        "embeds.0.fields.0.value",
    ),
    "field value not empty": (
        {"embeds": [embed(fields=[{"name": "n", "value": ""}])]},
        "embeds.0.fields.0.value",
    ),
    "footer at most 2048": (
        {"embeds": [embed(footer={"text": "x" * 2049})]},
        "embeds.0.footer.text",
    ),
    "author name at most 256": (
        {"embeds": [embed(author={"name": "x" * 257})]},
        "embeds.0.author.name",
    ),
    "embeds total at most 6000 characters": (
        {"embeds": [embed(description="x" * 4000), embed(description="x" * 2001)]},
        "embeds",
    ),
    "embed total counts fields, footer and author": (
        {
            "embeds": [
                embed(
                    title="x" * 256,
                    description="x" * 4096,
                    footer={"text": "x" * 1000},
                    author={"name": "x" * 200},
                    fields=[{"name": "x" * 200, "value": "x" * 300}],
                )
            ]
        },
        "embeds",
    ),
    "at most 5 action rows": (
        {"components": [row(button(f"r{i}")) for i in range(6)]},
        "components",
    ),
    "at most 5 buttons a row": (
        {"components": [row(*(button(f"b{i}") for i in range(6)))]},
        "components.0.components",
    ),
    "button label at most 80": (
        {"components": [row(button("a", label="x" * 81))]},
        "components.0.components.0.label",
    ),
    "custom_id at most 100": (
        {"components": [row(button("x" * 101))]},
        "components.0.components.0.custom_id",
    ),
    "custom_ids unique in a message": (
        {"components": [ROW_OF_5, row(button("b0"))]},
        "components",
    ),
    "a button has a custom_id": (
        {"components": [row({"type": 2, "style": 1, "label": "Go"})]},
        "components.0.components.0",
    ),
    "a link button has a url, no custom_id": (
        {"components": [row(button("a", style=5, url="https://example.com"))]},
        "components.0.components.0",
    ),
    "a select menu fills its row": (
        {
            "components": [
                row(
                    button("a"),
                    {"type": 3, "custom_id": "s", "options": [{"label": "l", "value": "v"}]},
                )
            ]
        },
        "components.0.components",
    ),
    "only action rows without the v2 flag": (
        {"components": [{"type": 10, "content": "text"}]},
        "components.0",
    ),
    "a message is not empty": ({"content": ""}, ""),
}


@pytest.mark.parametrize(("body", "where"), list(MESSAGE_RULES.values()), ids=list(MESSAGE_RULES))
async def test_the_fake_refuses_a_message_breaking_a_rule(
    harness: Harness, body: dict[str, Any], where: str
) -> None:
    path = f"/channels/{harness.channel.id}/messages"
    status, answer = await send(harness, "POST", path, body)

    if body == {"content": ""}:
        assert (status, answer["code"]) == (400, 50006)  # Discord's own code for this one
        [failure] = harness.fake.failures
        assert "Cannot send an empty message" in failure
        harness.fake.failures.clear()
    else:
        refused(harness, status, answer, where)
    assert harness.channel_messages() == []


async def test_the_same_rules_hold_for_interaction_answers(harness: Harness) -> None:
    result = await harness.run("help")
    await result.wait_for_message()
    hook = f"/webhooks/{harness.world.application_id}/{result.interaction.token}"

    status, answer = await send(harness, "POST", hook, {"components": [ROW_OF_5, ROW_OF_5]})
    refused(harness, status, answer, "components")
    status, answer = await send(
        harness, "PATCH", f"{hook}/messages/@original", {"embeds": [embed(author={"name": LONG})]}
    )
    refused(harness, status, answer, "embeds.0.author.name")


COMMAND_RULES = {
    "required options before optional ones": (
        command(options=[option("later"), option("first", required=True)]),
        "0.options.1",
    ),
    "names are lowercase": (command("Locks"), "0.name"),
    "names have no spaces": (command("link vote"), "0.name"),
    "names are at most 32 characters": (command("x" * 33), "0.name"),
    "option names follow the same rule": (command(options=[option("Lock")]), "0.options.0.name"),
    "a command description is 1-100 characters": (command(description=""), "0.description"),
    "a long command description": (command(description="x" * 101), "0.description"),
    "an option description is 1-100 characters": (
        command(options=[option("a", description="x" * 101)]),
        "0.options.0.description",
    ),
    "at most 25 choices": (
        command(
            options=[option("a", choices=[{"name": f"c{i}", "value": "v"} for i in range(26)])]
        ),
        "0.options.0.choices",
    ),
    "option names unique": (command(options=[option("a"), option("a")]), "0.options.1.name"),
    "subcommands are not mixed with options": (
        command(options=[option("a"), {"type": 1, "name": "sub", "description": "d"}]),
        "0.options",
    ),
    "choices and autocomplete exclude each other": (
        command(options=[option("a", autocomplete=True, choices=[{"name": "c", "value": "v"}])]),
        "0.options.0",
    ),
    "command names unique": ([command("twin"), command("twin")], "1.name"),
}


@pytest.mark.parametrize(
    ("commands", "where"), list(COMMAND_RULES.values()), ids=list(COMMAND_RULES)
)
async def test_the_fake_refuses_a_command_sync_breaking_a_rule(
    harness: Harness, commands: Any, where: str
) -> None:
    before = harness.fake.command_schema()
    body = commands if isinstance(commands, list) else [commands]
    path = f"/applications/{harness.world.application_id}/commands"

    status, answer = await send(harness, "PUT", path, body)

    refused(harness, status, answer, where)
    assert harness.fake.command_schema() == before


async def test_autocomplete_and_modal_answers_follow_the_rules(harness: Harness) -> None:
    text_input = {"type": 4, "custom_id": "t", "style": 1, "label": "L"}
    for interaction_type, body, where in (
        (
            AUTOCOMPLETE,
            {"type": 8, "data": {"choices": [{"name": "c", "value": "v"}] * 26}},
            "data.choices",
        ),
        (
            APPLICATION_COMMAND,
            {
                "type": 9,
                "data": {
                    "custom_id": "m",
                    "title": "x" * 46,
                    "components": [row(text_input)],
                },
            },
            "data.title",
        ),
    ):
        fresh = pending(harness, interaction_type)
        path = f"/interactions/{fresh.id}/{fresh.token}/callback"
        status, answer = await send(harness, "POST", path, body)
        refused(harness, status, answer, where)
