"""The bot object: intents, sharding, cog discovery and loading, run_bot's failures."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import discord
import pytest
from discord.ext import commands

from bot.app import bot_intents, create_bot, discover_extensions, run_bot
from bot.config import SettingsError
from tests.fakes.ct_api import FakeChastityTracker
from tests.fixtures.discord import harness_settings
from tests.harness import FakeDiscord, Harness, LogGuard, TestClock, World
from tests.harness.models import Snowflakes


def test_intents_are_minimal_and_not_privileged() -> None:
    intents = bot_intents()
    assert intents.guilds
    assert not intents.members
    assert not intents.presences
    assert not intents.message_content
    assert intents.value == discord.Intents.none().value | discord.Intents(guilds=True).value


def test_every_public_cog_module_is_discovered() -> None:
    extensions = discover_extensions()
    assert "cogs.help" in extensions
    assert extensions == sorted(extensions)
    assert not any(name.rpartition(".")[2].startswith("_") for name in extensions)


async def test_the_harness_bot_has_the_injected_dependencies(harness: Harness) -> None:
    bot = harness.bot
    assert bot.storage is harness.storage
    assert bot.api is harness.api
    assert bot.vault is harness.vault
    harness.clock.advance(3600)
    assert abs((bot.clock() - harness.clock.now()).total_seconds()) < 1
    assert bot.is_ready()
    assert bot.get_guild(harness.guild.id) is not None
    assert isinstance(bot, commands.AutoShardedBot)


async def test_sharding_comes_from_settings(harness: Harness) -> None:
    settings = dataclasses.replace(harness.settings, shard_count=4, shard_ids=(1, 3))
    # Never logged in, so nothing to close.
    bot = create_bot(settings, api=harness.api, storage=harness.storage, vault=harness.vault)
    assert bot.shard_count == 4
    assert bot.shard_ids == [1, 3]


async def test_each_failing_cog_is_logged_and_the_first_is_raised(
    harness: Harness, log_guard: LogGuard
) -> None:
    log_guard.expect_error("Could not load the cog")

    with pytest.raises(commands.ExtensionNotFound, match=r"cogs\._missing_one"):
        await harness.bot.load_cogs(["cogs._missing_one", "cogs._missing_two"])

    logged = [r.getMessage() for r in log_guard.errors]
    assert logged == [
        "Could not load the cog cogs._missing_one",
        "Could not load the cog cogs._missing_two",
    ]


async def test_run_bot_turns_a_refused_token_into_a_setting_error(
    tmp_path: Path, ct_fake: FakeChastityTracker
) -> None:
    clock = TestClock()
    snowflake = Snowflakes(clock)
    world = World.build(snowflake)
    discord_api = FakeDiscord(
        clock,
        token="the-token-discord-knows",
        bot_user=world.bot_user,
        application_id=world.application_id,
        guilds=[world.guild],
        snowflakes=snowflake,
    )
    await discord_api.start()
    settings = harness_settings(tmp_path / "data", ct_fake.base_url)
    try:
        with pytest.raises(SettingsError) as caught:
            await run_bot(settings)
    finally:
        await discord_api.close()

    assert caught.value.variable == "DISCORD_TOKEN"
    assert settings.discord_token.reveal() not in str(caught.value)
    assert [r.path for r in discord_api.requests] == ["/users/@me"]
    assert (tmp_path / "data" / "bot.db").exists()  # data dir created, storage opened


async def test_run_bot_reports_an_unusable_database_as_a_setting_error(
    tmp_path: Path, ct_fake: FakeChastityTracker
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings = harness_settings(
        tmp_path, ct_fake.base_url, database_url=f"sqlite+aiosqlite:///{blocker}/bot.db"
    )

    with pytest.raises(SettingsError) as caught:
        await run_bot(settings)

    assert caught.value.variable == "DATABASE_URL"
