"""Two bot processes on one PostgreSQL database (as with SHARD_IDS split between them).

Each is the production bot in a process of its own (bench/bot_process.py), logged in
against the fake Discord in this process, with the fake Chastity Tracker here too. Their
poll leases last 3 s instead of 90, so a killed process's polls are taken over quickly.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.driver import BotProcess, start_discord
from bot.polls import SCHEDULER_LEASE
from bot.secrets import Secret
from bot.storage import Lock, Poll, Storage
from bot.vault import Vault
from tests.fakes.ct_api import GAMES_PATH, FakeChastityTracker, Fault
from tests.fixtures.storage import PostgresServer
from tests.harness import World
from tests.harness.fake_discord import FakeDiscord
from tests.voting_support import wearer

KEY = "0myJHREdD_lqxomtqhSaq5D42UybehXEysDLgRFyDDo="
LEASE_TTL = 3.0


@dataclass
class Cluster:
    storage: Storage
    fake: FakeDiscord
    world: World
    ct: FakeChastityTracker
    processes: list[BotProcess] = field(default_factory=list)

    async def add_lock(self, name: str) -> tuple[Lock, str]:
        lock_owner = wearer(self.ct, name)
        ciphertext = Vault([Secret(KEY)]).encrypt(Secret(lock_owner.token))
        lock = await self.storage.locks.add(
            self.world.guild.id, name, ciphertext, None, True, 1, datetime.now(UTC)
        )
        return lock, lock_owner.token

    async def due_poll(self, lock: Lock) -> Poll:
        """A poll whose time is up, with one member's choice."""
        now = datetime.now(UTC)
        channel = self.world.channel.id
        poll = await self.storage.polls.create(
            self.world.guild.id, channel, lock.id, 1, now - timedelta(seconds=1), now
        )
        assert await self.storage.polls.set_choice(poll.id, 77, "add", now)
        return poll

    async def status(self, poll: Poll) -> str:
        stored = await self.storage.polls.get(poll.id)
        assert stored is not None
        return stored.status

    async def wait_until(self, check: Callable[[], object], timeout: float = 30.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = check()
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(0.1)
        logs = "\n---\n".join(process.log_tail() for process in self.processes)
        raise AssertionError(f"not reached within {timeout} s; the bots' logs end:\n{logs}")

    def announcements(self) -> list[str]:
        channel = self.world.channel.id
        return [m.content for m in self.fake.channel_messages(channel) if "closed.**" in m.content]


@pytest.fixture
async def cluster(
    postgres_server: PostgresServer, tmp_path: Path, ct_fake: FakeChastityTracker
) -> AsyncIterator[Cluster]:
    schema = await postgres_server.new_schema()
    storage = await Storage.open(postgres_server.url, search_path=schema)
    fake, world, _clock, _snowflake = await start_discord()
    cluster = Cluster(storage, fake, world, ct_fake)
    try:
        for name in ("one", "two"):
            directory = tmp_path / name
            directory.mkdir()
            cluster.processes.append(
                BotProcess(
                    {
                        "bot": "project",
                        "discord_base_url": fake.base_url,
                        "ct_base_url": ct_fake.base_url,
                        "data_dir": str(directory),
                        "database_url": postgres_server.url,
                        "search_path": schema,
                        "token_encryption_key": KEY,
                        "poll_lease_ttl": LEASE_TTL,
                        "log_file": str(directory / "bot.log"),
                    }
                )
            )
        await asyncio.gather(*(process.start() for process in cluster.processes))
        yield cluster
    finally:
        for process in cluster.processes:
            if process.process is not None and process.process.returncode is None:
                process.process.kill()
            await process.close()
        await fake.close()
        await storage.close()


def pid_of(owner: str) -> int:
    """The process id in a lease owner id (host:pid:random)."""
    return int(owner.split(":")[-2])


async def test_two_processes_cast_a_poll_once_and_one_takes_over_when_the_other_is_killed(
    cluster: Cluster, ct_fake: FakeChastityTracker
) -> None:
    first_lock, first_token = await cluster.add_lock("first")
    first = await cluster.due_poll(first_lock)
    await cluster.wait_until(lambda: _is(cluster, first, "closed"))
    await ct_fake.wait_idle()
    posts = ct_fake.requests_to(GAMES_PATH)
    assert [p.json["token"] for p in posts] == [first_token]  # cast once, by one process

    # The process closing the polls dies while casting the next one.
    ct_fake.inject(Fault.hang())
    second_lock, _ = await cluster.add_lock("second")
    second = await cluster.due_poll(second_lock)
    await ct_fake.wait_for_requests(2, path=GAMES_PATH)
    holder = await cluster.storage.leases.holder(SCHEDULER_LEASE, datetime.now(UTC))
    assert holder is not None
    (killed,) = [
        p for p in cluster.processes if p.process and p.process.pid == pid_of(holder.owner)
    ]
    (survivor,) = [p for p in cluster.processes if p is not killed]
    assert killed.process is not None
    killed.process.send_signal(signal.SIGKILL)
    assert await killed.process.wait() == -signal.SIGKILL
    third_lock, third_token = await cluster.add_lock("third")
    third = await cluster.due_poll(third_lock)

    # Once the killed process's leases expire, the survivor reports the abandoned close
    # in doubt (never casting it again) and closes the poll that came due meanwhile.
    await cluster.wait_until(lambda: _is(cluster, third, "closed"))
    assert await cluster.status(second) == "in_doubt"
    assert await cluster.status(first) == "closed"
    holder = await cluster.storage.leases.holder(SCHEDULER_LEASE, datetime.now(UTC))
    assert holder is not None
    assert survivor.process is not None
    assert pid_of(holder.owner) == survivor.process.pid
    await ct_fake.wait_idle()
    tokens = [p.json["token"] for p in ct_fake.requests_to(GAMES_PATH)]
    assert tokens.count(third_token) == 1
    assert len(tokens) == 3
    await cluster.wait_until(lambda: len(cluster.announcements()) == 3)
    announced = cluster.announcements()
    assert sum("may or may not have reached Chastity Tracker" in a for a in announced) == 1

    # The survivor stops cleanly and gives its leases back.
    survivor.process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(survivor.process.wait(), 30) == 0
    assert await cluster.storage.leases.holder(SCHEDULER_LEASE, datetime.now(UTC)) is None


async def _is(cluster: Cluster, poll: Poll, status: str) -> bool:
    return await cluster.status(poll) == status
