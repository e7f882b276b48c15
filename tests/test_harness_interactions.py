"""One end-to-end test per interaction kind, through the real bot and the fake Discord."""

from __future__ import annotations

from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness
from tests.harness.fake_discord import AUTOCOMPLETE_RESULT, CHANNEL_MESSAGE, MODAL, UPDATE_MESSAGE
from tests.harness.probe import add_probe


async def test_help_answers_privately_with_the_command_guide(harness: Harness) -> None:
    result = await harness.run("help")

    response = result.response
    assert response is not None
    assert response.type == CHANNEL_MESSAGE
    assert response.ephemeral
    start = str(response.embeds[0])
    # Discord shows the description before the fields: the quick start comes first.
    assert "Quick start" in response.embeds[0]["description"]
    assert response.embeds[0]["fields"][0]["name"] == "Commands"
    # Clickable mentions, with the ids Discord gave the commands at sync.
    ids = {c["name"]: c["id"] for c in harness.fake.commands[None]}
    for command in ("account connect", "dice", "luck", "link vote", "link play", "locks poll"):
        assert f"</{command}:{ids[command.split()[0]]}>" in start
    assert harness.channel_messages() == []

    # The topics are pages of the same private message, one button each.
    message = await result.wait_for_message()
    assert [b["label"] for b in message.buttons()] == [
        "Start",
        "Voting & anonymity",
        "Penalty",
        "Admins",
    ]
    pages = {}
    for label in ("Voting & anonymity", "Penalty", "Admins"):
        click = await harness.click(message, label=label)
        assert click.response is not None
        assert click.response.type == UPDATE_MESSAGE
        pages[label] = str(click.response.embeds[0])
    assert "one vote per lock" in pages["Voting & anonymity"]
    assert "community poll" in pages["Voting & anonymity"]
    assert "maximum multiplier" in pages["Penalty"]
    assert f"</locks add:{ids['locks']}>" in pages["Admins"]


async def test_subcommand_with_typed_options(make_harness: HarnessFactory) -> None:
    harness = await make_harness(prepare=add_probe)
    other = harness.new_member("someone")

    result = await harness.run(
        "probe echo",
        {"text": "hi", "times": 2, "loud": True, "who": other, "where": harness.other_channel},
    )

    message = await result.wait_for_message()
    assert message.content == "HI HI who=someone where=votes"
    assert not message.ephemeral
    assert harness.channel_messages() == [message]


async def test_autocomplete_offers_matching_choices(make_harness: HarnessFactory) -> None:
    harness = await make_harness(prepare=add_probe)

    choices = await harness.autocomplete("probe pick", {"fruit": "ap"}, focused="fruit")

    assert choices == [{"name": "apple", "value": "apple"}, {"name": "apricot", "value": "apricot"}]
    assert harness.fake.events[-1].body["type"] == AUTOCOMPLETE_RESULT


async def test_buttons_on_a_posted_message(make_harness: HarnessFactory) -> None:
    harness = await make_harness(prepare=add_probe)
    posted = await (await harness.run("probe buttons")).wait_for_message()
    clicker = harness.new_member("clicker")

    confirm = await harness.click(posted, label="Confirm", by=clicker)
    assert (await confirm.wait_for_message()).content == "confirmed by clicker"
    assert confirm.response is not None
    assert confirm.response.ephemeral

    counted = await harness.click(posted, custom_id="probe:count:0")
    assert counted.response is not None
    assert counted.response.type == UPDATE_MESSAGE
    updated = harness.fake.messages[posted.id]
    assert updated.content == "count=1"
    assert [b["custom_id"] for b in updated.buttons()] == ["probe:count:1"]


async def test_modal_submit_answers_the_modal_the_bot_opened(make_harness: HarnessFactory) -> None:
    harness = await make_harness(prepare=add_probe)
    opened = await harness.run("probe form")
    assert opened.response is not None
    assert opened.response.type == MODAL

    submitted = await harness.submit_modal(opened, {"probe:name": "Ada", "probe:token": "abcdef"})

    answer = await submitted.wait_for_message()
    assert answer.content == "hello Ada (6 chars)"
    assert answer.ephemeral
