"""Command sync: the schema Discord receives, and syncing only when it changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from discord import app_commands

from bot.app import ChastityBot
from tests.fixtures.discord import HarnessFactory
from tests.harness import Harness
from tests.harness.probe import add_probe

SNAPSHOT = Path(__file__).parent / "snapshots" / "commands.json"
UPDATE_VARIABLE = "UPDATE_SNAPSHOTS"


def render(schema: list[dict[str, object]]) -> str:
    ordered = sorted(schema, key=lambda command: str(command["name"]))
    return json.dumps(ordered, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def test_synced_command_schema_matches_the_snapshot(harness: Harness) -> None:
    """The public command interface. After a deliberate change, regenerate with
    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_app_commands_sync.py (that run writes
    the file and fails on purpose), review the diff, then run again without the variable."""
    synced = render(harness.fake.command_schema())
    if os.environ.get(UPDATE_VARIABLE):
        # An update run only writes: comparing what it just wrote could never fail.
        changed = not SNAPSHOT.exists() or SNAPSHOT.read_text() != synced
        SNAPSHOT.write_text(synced)
        pytest.fail(
            f"snapshot {'updated' if changed else 'rewritten, unchanged'} ({SNAPSHOT}): "
            f"review the diff, then re-run without {UPDATE_VARIABLE}"
        )
    assert SNAPSHOT.exists(), f"no snapshot yet: run with {UPDATE_VARIABLE}=1"
    assert synced == SNAPSHOT.read_text(), (
        f"the synced commands changed; if that is intended, run with {UPDATE_VARIABLE}=1"
    )


async def test_first_start_syncs_globally_once(harness: Harness) -> None:
    assert harness.fake.sync_count() == 1
    assert harness.fake.sync_count(harness.guild.id) == 0
    assert "help" in [c["name"] for c in harness.fake.command_schema()]


async def test_restart_with_the_same_commands_does_not_sync(harness: Harness) -> None:
    await harness.restart()
    await harness.restart()

    assert harness.fake.sync_count() == 1
    help_answer = (await harness.run("help")).response
    assert help_answer is not None
    # Not synced again, yet /help still mentions commands by the ids Discord holds.
    [dice] = [c for c in harness.fake.commands[None] if c["name"] == "dice"]
    assert f"</dice:{dice['id']}>" in str(help_answer.embeds[0])


async def test_restart_with_a_changed_command_syncs_once(harness: Harness) -> None:
    async def add_ping(bot: ChastityBot) -> None:
        @app_commands.command(name="ping", description="Ping")
        async def ping(interaction: object) -> None: ...

        bot.tree.add_command(ping)

    await harness.restart(prepare=add_ping)
    assert harness.fake.sync_count() == 1 + 1
    assert "ping" in [c["name"] for c in harness.fake.command_schema()]

    await harness.restart(prepare=add_ping)
    assert harness.fake.sync_count() == 2

    await harness.restart()
    assert harness.fake.sync_count() == 3
    assert "ping" not in [c["name"] for c in harness.fake.command_schema()]


async def test_dev_guild_syncs_to_that_guild_only_with_global_commands_copied(
    make_harness: HarnessFactory,
) -> None:
    harness = await make_harness(dev_guild=True, prepare=add_probe)

    assert harness.fake.sync_count() == 0
    assert harness.fake.sync_count(harness.guild.id) == 1
    names = [c["name"] for c in harness.fake.command_schema(harness.guild.id)]
    assert {"help", "probe"} <= set(names)

    result = await harness.run("help")
    assert result.response is not None
    assert result.response.ephemeral
    await harness.restart(prepare=add_probe)
    assert harness.fake.sync_count(harness.guild.id) == 1


@pytest.mark.parametrize(("shard_ids", "syncs"), [((1, 2), 0), ((0, 3), 1)])
async def test_only_the_process_running_shard_0_syncs(
    make_harness: HarnessFactory, shard_ids: tuple[int, ...], syncs: int
) -> None:
    harness = await make_harness(shard_count=4, shard_ids=shard_ids)

    assert harness.fake.sync_count() == syncs
