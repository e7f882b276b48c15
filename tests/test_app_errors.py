"""The central error handler: the right words, privately, through the right channel."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from bot.ctapi.errors import Unauthorized
from bot.interactions.errors import user_message
from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness, LogGuard
from tests.harness.fake_discord import DEFERRED_CHANNEL_MESSAGE
from tests.harness.probe import add_probe


@pytest.fixture
async def probed(make_harness: HarnessFactory) -> Harness:
    return await make_harness(prepare=add_probe)


async def test_error_after_a_public_defer_deletes_it_and_answers_privately(probed: Harness) -> None:
    result = await probed.run("probe deferfail")

    assert result.response is not None
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    assert not result.response.ephemeral
    answer = await result.wait_for_followup()
    assert answer.content == "❌ That did not work, and only you see this."
    assert answer.ephemeral
    original = result.original
    assert original is not None
    assert original.deleted
    assert [e.kind for e in result.events] == ["response", "delete", "followup"]
    assert probed.channel_messages() == []


async def test_error_after_a_private_defer_replaces_the_thinking_message(probed: Harness) -> None:
    result = await probed.run("probe deferfail", {"private": True})

    answer = await result.wait_for_followup()
    assert answer.ephemeral
    assert not answer.loading
    assert answer.id == result.interaction.original_id
    assert [e.kind for e in result.events] == ["response", "followup"]


async def test_public_answer_after_a_public_defer_replaces_the_thinking_message(
    probed: Harness,
) -> None:
    result = await probed.run("probe deferok")

    answer = await result.wait_for_followup()
    assert answer.content == "done"
    assert not answer.ephemeral
    assert probed.channel_messages() == [answer]


async def test_a_followup_cannot_change_the_visibility_chosen_by_the_defer(
    probed: Harness,
) -> None:
    """Why replies.reply exists: Discord ignores the followup's ephemeral flag here."""
    result = await probed.run("probe leak")

    answer = await result.wait_for_followup()
    assert answer.content == "meant to be private"
    assert not answer.ephemeral
    assert probed.channel_messages() == [answer]


async def test_unexpected_error_says_something_went_wrong_and_logs_once(
    probed: Harness, log_guard: LogGuard
) -> None:
    log_guard.expect_error("Unexpected error in /probe boom")

    result = await probed.run("probe boom")

    answer = await result.wait_for_message()
    assert answer.content == (
        "⚠️ Something went wrong on our side. If you were playing or voting, it **may or may "
        "not** have happened.\n• Check `/history` (or your session's history on Chastity "
        "Tracker) before trying again."
    )
    assert answer.ephemeral
    errors = log_guard.errors
    assert len(errors) == 1
    assert errors[0].exc_info is not None
    assert "probe exploded" in str(errors[0].exc_info[1])


async def test_missing_permission_is_explained(probed: Harness) -> None:
    refused = await (await probed.run("probe admin")).wait_for_message()
    assert refused.ephemeral
    assert refused.content == "❌ You need the Manage Server permission to use this command."

    allowed = await (await probed.run("probe admin", by=probed.admin)).wait_for_message()
    assert allowed.content == "hello admin"


async def test_view_errors_go_through_the_same_handler(probed: Harness) -> None:
    posted = await (await probed.run("probe buttons")).wait_for_message()

    result = await probed.click(posted, label="Fail")

    answer = await result.wait_for_message()
    assert answer.content == "❌ That button refuses politely."
    assert answer.ephemeral


def test_known_errors_use_the_shared_descriptions() -> None:
    text = user_message(
        app_commands.CommandInvokeError(
            _command(), Unauthorized(401, "unauthorized", "Invalid token")
        )
    )
    assert text is not None
    assert "/account connect" in text


def test_check_failures_in_plain_words() -> None:
    assert user_message(app_commands.NoPrivateMessage()) == (
        "❌ This command only works in a server, not in direct messages."
    )
    assert user_message(app_commands.CheckFailure()) == "❌ You cannot use this command here."
    assert user_message(RuntimeError("x")) is None


def test_a_refused_option_value_is_not_echoed() -> None:
    error = app_commands.TransformerError(
        "s3cret-token-value", discord.AppCommandOptionType.string, app_commands.Transformer()
    )
    text = user_message(error)
    assert text is not None
    assert "s3cret" not in text


def _command() -> app_commands.Command[object, ..., None]:
    async def callback(interaction: discord.Interaction) -> None: ...

    return app_commands.Command(name="x", description="x", callback=callback)
