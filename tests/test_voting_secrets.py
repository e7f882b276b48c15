"""Lock tokens stay secret through every voting path: Discord, logs, storage, errors."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.harness import Harness
from tests.voting_support import game_posts, register, wearer


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_info:
            lines.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(lines)


def everything_sent_to_discord(harness: Harness) -> str:
    return "\n".join(f"{r.path} {r.query} {r.body}" for r in harness.fake.requests)


async def test_a_lock_token_never_reaches_discord_or_the_logs(
    harness: Harness, ct_fake: FakeChastityTracker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    registered, unregistered = wearer(ct_fake, "one"), wearer(ct_fake, "two")
    share_url = f"https://www.chastitytracker.org/link.php?token={registered.token}"

    # Typed by an admin, listed, used by a panel, a poll and /link vote, refused and timed out.
    lock = await register(harness, "cage", share_url)
    await (await harness.run("locks list", by=harness.admin)).wait_for_message()
    await (
        await harness.run("locks add", {"name": "again", "token": share_url}, by=harness.admin)
    ).wait_for_message()
    await (await harness.run("locks panel", {"name": "cage"}, by=harness.admin)).wait_for_message()
    (panel,) = harness.channel_messages()
    await (await harness.click(panel, label="Add time")).wait_for_message()
    # A day later the bot's anonymous vote on the lock is free again (for the bot; the
    # fake's clock did not move, so the poll's vote is refused: one more path the token takes).
    harness.clock.advance(24 * 3600 + 1)
    ct_fake.inject(Fault.status(404))
    answers: list[Any] = [
        await (
            await harness.run("link vote", {"choice": "sub", "token": unregistered.token})
        ).wait_for_message()
    ]
    await (
        await harness.run("locks poll", {"name": "cage", "minutes": 5}, by=harness.admin)
    ).wait_for_message()
    poll_message = harness.channel_messages()[-1]
    await (await harness.click(poll_message, label="Random")).wait_for_message()
    harness.clock.advance(5 * 60 + 1)
    await harness.bot.polls.run_due()

    assert len(game_posts(ct_fake)) == 3  # the panel, the refused vote, the poll
    assert "found no such session or link" in answers[0].text()
    sent = everything_sent_to_discord(harness)
    logged = everything_logged(caplog)
    for token in (registered.token, unregistered.token):
        assert token not in sent
        assert token not in logged
        assert token not in repr(lock)
    ledger = await harness.storage.ledger.recent(harness.member.id)
    assert ledger
    for entry in ledger:
        assert registered.token not in repr(entry)
        assert unregistered.token not in repr(entry)
