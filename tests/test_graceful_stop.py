"""SIGTERM and SIGINT, end to end: the bot runs in a process of its own (bench/bot_process.py,
under the same ``serve_until_stopped`` as ``python -m bot``), fed interactions over a socket
by the harness's fake Discord in this process, against the fake Chastity Tracker here.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.bot_process import DISCORD_TOKEN
from bench.driver import BenchHarness, BotProcess, start_discord
from bot.config import Settings
from bot.secrets import Secret
from bot.stopping import RESTARTING
from bot.storage import LedgerEntry, Storage
from bot.vault import Vault
from tests.fakes.ct_api import GAMES_PATH, FakeChastityTracker, FakeSession, Fault
from tests.fixtures.storage import sqlite_url
from tests.games_support import add_session


@dataclass
class StoppableBot:
    harness: BenchHarness
    remote: BotProcess
    session: FakeSession
    settings: Settings
    log_file: Path

    def signal(self, signum: signal.Signals) -> None:
        assert self.remote.process is not None
        self.remote.process.send_signal(signum)

    async def exit_status(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        assert self.remote.process is not None
        return await asyncio.wait_for(self.remote.process.wait(), timeout)

    async def wait_for_log(self, text: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.log_file.exists() and text in self.log_file.read_text(encoding="utf-8"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} not logged; the log ends:\n{self.remote.log_tail()}")

    async def ledger(self) -> list[LedgerEntry]:
        storage = await Storage.open(self.settings.database_url)
        try:
            return await storage.ledger.recent(self.harness.member.id)
        finally:
            await storage.close()


@pytest.fixture
async def stoppable(tmp_path: Path, ct_fake: FakeChastityTracker) -> AsyncIterator[StoppableBot]:
    fake, world, clock, snowflake = await start_discord()
    harness = BenchHarness(fake, world, clock, snowflake)
    remote: BotProcess | None = None
    try:
        settings = Settings(
            discord_token=Secret(DISCORD_TOKEN),
            data_dir=tmp_path,
            database_url=sqlite_url(tmp_path),
        )
        wearer = ct_fake.add_user("wearer")
        session = add_session(ct_fake, wearer)
        storage = await Storage.open(settings.database_url)
        try:
            token = Vault.from_settings(settings).encrypt(Secret(wearer.token))
            await storage.accounts.upsert(harness.member.id, token, "wearer", datetime.now(UTC))
        finally:
            await storage.close()
        log_file = tmp_path / "bot.log"
        remote = BotProcess(
            {
                "bot": "project",
                "discord_base_url": fake.base_url,
                "ct_base_url": ct_fake.base_url,
                "data_dir": str(tmp_path),
                "database_url": settings.database_url,
                "log_file": str(log_file),
            }
        )
        await remote.start()
        harness.connect_bot(remote)
        yield StoppableBot(harness, remote, session, settings, log_file)
    finally:
        if remote is not None:
            if remote.process is not None and remote.process.returncode is None:
                remote.process.kill()
            await remote.close()
        await fake.close()


async def test_sigterm_lets_a_play_in_flight_finish_and_exits_0(
    stoppable: StoppableBot, ct_fake: FakeChastityTracker
) -> None:
    harness = stoppable.harness
    # Chastity Tracker takes 2 s to answer: the stop arrives while the play is on its way.
    ct_fake.inject(Fault.delay(2.0))
    play = await harness.run("dice", {"session": stoppable.session.id})
    await ct_fake.wait_for_requests(path=GAMES_PATH)

    stoppable.signal(signal.SIGTERM)
    await stoppable.wait_for_log("SIGTERM received")

    # A command that arrives now is answered at once, privately, and never started.
    late = await harness.run("dice", {"session": stoppable.session.id})
    assert late.response is not None
    assert late.response.content == RESTARTING
    assert late.response.ephemeral

    # The play in flight is shown to the member and recorded as it happened.
    shown = await play.wait_for_message(timeout=15)
    assert shown.embeds
    assert "rolled DICE" in shown.embeds[0]["title"]
    assert await stoppable.exit_status() == 0
    assert [entry.status for entry in await stoppable.ledger()] == ["ok"]
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1
    assert ct_fake.histories(stoppable.session.id)  # it did happen on Chastity Tracker


async def test_a_second_signal_stops_at_once_with_128_plus_the_signal(
    stoppable: StoppableBot, ct_fake: FakeChastityTracker
) -> None:
    # Chastity Tracker never answers: only the second signal ends the wait.
    ct_fake.inject(Fault.hang())
    await stoppable.harness.run("dice", {"session": stoppable.session.id})
    await ct_fake.wait_for_requests(path=GAMES_PATH)

    stoppable.signal(signal.SIGINT)
    await stoppable.wait_for_log("SIGINT received")
    stoppable.signal(signal.SIGINT)

    assert await stoppable.exit_status(timeout=10) == 128 + signal.SIGINT.value
    # Cut short: the entry stays pending, which /history shows as "check Chastity Tracker".
    assert [entry.status for entry in await stoppable.ledger()] == ["pending"]
