"""Every play and vote is one INFO line: member, guild, game and outcome, never a token."""

from __future__ import annotations

import json
import logging

import pytest

from bot.logs import JsonFormatter, RedactingFilter
from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.games_support import players
from tests.harness import Harness


def play_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "bot.plays" and r.levelno == logging.INFO]


def as_json(record: logging.LogRecord) -> dict[str, object]:
    RedactingFilter().filter(record)
    parsed: dict[str, object] = json.loads(JsonFormatter().format(record))
    return parsed


async def test_a_play_and_a_refused_play_are_one_info_line_each(
    harness: Harness, ct_fake: FakeChastityTracker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.plays")
    world = await players(harness, ct_fake)

    played = await harness.run("dice", {"session": world.session.id})
    await played.wait_for_message()
    ct_fake.inject(Fault.status(403, error_code="FORBIDDEN", message="No."))
    refused = await harness.run("luck", {"session": world.session.id})
    await refused.wait_for_message()

    first, second = (as_json(record) for record in play_records(caplog))
    assert first["level"] == "INFO"
    assert {k: first[k] for k in ("event", "member_id", "guild_id", "game", "outcome")} == {
        "event": "play",
        "member_id": harness.member.id,
        "guild_id": harness.guild.id,
        "game": "dice",
        "outcome": "ok",
    }
    assert first["session"] == world.session.id
    assert (second["game"], second["outcome"], second["error"]) == ("luck", "refused", "Forbidden")
    for entry in (first, second):
        text = json.dumps(entry)
        assert world.wearer.token not in text
        assert str(harness.member.id) in str(entry["message"])
