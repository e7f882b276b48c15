"""Sentences of the product spec (bot.md) that no other test pins down, end to end."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.ct_api import STATS_PATH, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.games_support import game_posts, players
from tests.harness import Harness
from tests.test_account import connect

SNAPSHOT = Path(__file__).parent / "snapshots" / "commands.json"


def command_paths() -> list[str]:
    """Every command and subcommand members can run, as "/group sub", from the synced schema."""
    paths: list[str] = []
    for command in json.loads(SNAPSHOT.read_text()):
        subcommands = [o for o in command.get("options", []) if o.get("type") == 1]
        if subcommands:
            paths.extend(f"/{command['name']} {sub['name']}" for sub in subcommands)
        else:
            paths.append(f"/{command['name']}")
    return paths


async def test_help_explains_every_command_accounts_votes_and_the_penalty(
    harness: Harness,
) -> None:
    result = await harness.run("help")

    assert result.response is not None
    assert result.response.ephemeral
    # The quick start and its pages, as the member reads them by clicking through.
    message = await result.wait_for_message()
    texts = [str(result.response.embeds[0])]
    for button in message.buttons()[1:]:
        click = await harness.click(message, label=button["label"])
        assert click.response is not None
        texts.append(str(click.response.embeds[0]))
    text = "\n".join(texts)
    missing = [path for path in command_paths() if path != "/help" and path not in text]
    assert missing == []
    assert "/account connect" in text
    assert "anonymous" in text.lower()
    assert "logged" in text.lower()
    assert "penalty" in text.lower()


async def test_a_timeout_after_sending_says_the_outcome_is_unknown_and_points_to_history(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(ct_api_timeout=0.3)
    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.hang(after_apply=True))

    result = await harness.run("luck", {"session": world.session.id})

    message = await result.wait_for_message()
    assert message.ephemeral
    assert "**may or may not** have happened" in message.text()
    assert "history" in message.text()
    assert len(game_posts(ct_fake)) == 1


async def test_flooding_account_commands_is_slowed_down_before_the_api(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=2, flood_interval=600)
    wearer = ct_fake.add_user("wearer")
    assert "Connected as **wearer**" in await connect(harness, wearer.token)
    first = await (await harness.run("account status")).wait_for_message()
    assert first.embeds

    again = await harness.run("account status")
    answer = await again.wait_for_message()
    resubmitted = await connect(harness, wearer.token)

    assert answer.ephemeral
    assert "Slow down" in answer.text()
    assert "Slow down" in resubmitted
    assert len(ct_fake.requests_to(STATS_PATH)) == 2
