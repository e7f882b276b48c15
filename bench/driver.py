"""The load driver's side: the harness's fake Discord with a stopwatch, and the two helpers.

- :class:`TimedDiscord` is the harness's fake Discord, stamping when each
  interaction got its first response and its final answer;
- :class:`BenchHarness` is the harness driving a bot in another process: its
  interactions go over a socket (:class:`BotProcess`) instead of a function call;
- :class:`CtProcess` is the fake Chastity Tracker in its own process.
"""

from __future__ import annotations

import asyncio
import gc
import json
import random
import socket
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bot_process import DISCORD_TOKEN, LINE_LIMIT
from bot.config import Settings
from bot.secrets import Secret
from tests.harness import FakeDiscord, Harness, TestClock, World
from tests.harness.fake_discord import (
    AUTOCOMPLETE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    RecordedRequest,
)
from tests.harness.models import Snowflakes
from tests.harness.result import InteractionResult

LATE = 10062  # Discord's "Unknown interaction": the first response came after the window
START_TIMEOUT = 120.0
ROOT = Path(__file__).resolve().parent.parent  # where ``-m bench...`` finds its packages


@dataclass
class Stopwatch:
    """When each watched interaction was sent, first answered and finally answered (monotonic)."""

    sent: dict[int, float] = field(default_factory=dict)
    first: dict[int, float] = field(default_factory=dict)  # accepted first response
    late: dict[int, float] = field(default_factory=dict)  # first response refused (10062)
    done: dict[int, float] = field(default_factory=dict)  # what the member finally sees
    deferred: set[int] = field(default_factory=set)
    pending: set[int] = field(default_factory=set)  # neither done nor refused yet
    requests: int = 0  # requests the bot made to Discord while watched (panel redraws too)
    last_request: float = 0.0
    settled: asyncio.Event = field(default_factory=asyncio.Event)

    def watch(self, interaction_id: int, sent: float) -> None:
        self.sent[interaction_id] = sent
        self.pending.add(interaction_id)
        self.settled.clear()

    def observe(self, request: RecordedRequest, now: float) -> None:
        self.requests += 1
        self.last_request = now
        interaction = request.interaction_id
        if interaction is None or interaction not in self.sent:
            return
        if request.path.endswith("/callback"):
            if request.status < 300:
                self.first.setdefault(interaction, now)
                kind = request.body.get("type") if isinstance(request.body, dict) else None
                if kind in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE):
                    self.deferred.add(interaction)
                else:
                    self._finish(self.done, interaction, now)
            elif isinstance(request.answer, dict) and request.answer.get("code") == LATE:
                self._finish(self.late, interaction, now)
        elif (
            request.method in ("POST", "PATCH")
            and request.status < 300
            and interaction in self.deferred
        ):
            # A followup, or an edit of the deferred message: the member's answer.
            self._finish(self.done, interaction, now)

    def _finish(self, into: dict[int, float], interaction: int, now: float) -> None:
        into.setdefault(interaction, now)
        self.pending.discard(interaction)
        if not self.pending:
            self.settled.set()


class TimedDiscord(FakeDiscord):
    """The harness's fake Discord; each request it answers is stamped for the stopwatch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopwatch = Stopwatch()
        self._stamped = 0

    async def notify(self) -> None:
        now = time.monotonic()
        for request in self.requests[self._stamped :]:
            self.stopwatch.observe(request, now)
        self._stamped = len(self.requests)
        await super().notify()


class BotProcess:
    """A bot in a child process, reached through a gateway-like socket."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.process: asyncio.subprocess.Process | None = None
        self._server: asyncio.Server | None = None
        self._connected: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.get_running_loop().create_future()
        )
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=LINE_LIMIT)
        port = self._server.sockets[0].getsockname()[1]
        config = self.config | {"gateway_port": port}
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.bot_process",
            json.dumps(config),
            cwd=ROOT,
        )
        exited = asyncio.ensure_future(self.process.wait())
        connected = asyncio.ensure_future(asyncio.shield(self._connected))
        done, _ = await asyncio.wait(
            {exited, connected}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if connected not in done:
            connected.cancel()
            raise RuntimeError(f"the {self.config['bot']} bot did not start: {self.log_tail()}")
        exited.cancel()
        self._reader, self._writer = connected.result()
        line = await self._reader.readline()
        if json.loads(line).get("op") != "ready":
            raise RuntimeError(f"the {self.config['bot']} bot did not say ready")

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self._connected.done():
            self._connected.set_result((reader, writer))

    def log_tail(self, lines: int = 30) -> str:
        path = Path(self.config["log_file"])
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(encoding="utf-8").splitlines()[-lines:])

    def send(self, message: dict[str, Any]) -> None:
        assert self._writer is not None
        self._writer.write(json.dumps(message).encode() + b"\n")

    def dispatch(self, event: str, payload: dict[str, Any]) -> None:
        self.send({"op": "dispatch", "t": event, "d": payload})

    async def usage(self, op: str = "usage") -> dict[str, Any]:
        assert self._reader is not None
        assert self._writer is not None
        self.send({"op": op})
        await self._writer.drain()
        answer: dict[str, Any] = json.loads(await self._reader.readline())
        return answer

    async def stop(self) -> dict[str, Any]:
        """Ask the bot to close; its last usage report (CPU, peak RSS)."""
        final = await self.usage("stop")
        await self.close()
        return final

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self._server is not None:
            self._server.close()
            self._server = None


@contextmanager
def collections_held_off() -> Iterator[None]:
    """This process's garbage collector off for a measured burst (after a full pass).

    The fake Discord and the load driver keep every request of a run: late in a
    ``make bench`` a full collection of their heap took over 100 ms, and one
    landing in a burst stalled the timing of every answer behind it (a round's
    p99 of 300 ms where the others had 3 ms). The bots' own processes keep theirs.
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def free_port() -> int:
    """A port free now, for a child process to listen on a moment later.

    Taken below the kernel's ephemeral range: a port from that range (what binding
    port 0 gives) can meanwhile go to one of the crowd's outgoing connections, and
    the child then fails with "address already in use".
    """
    first_ephemeral = _ephemeral_ports()[0]
    for _ in range(200):
        port = random.randrange(PRIVATE_PORTS_FROM, first_ephemeral)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {PRIVATE_PORTS_FROM} and {first_ephemeral}")


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path(EPHEMERAL_RANGE).read_text(encoding="ascii").split()
        return int(low), int(high)
    except (OSError, ValueError):
        return (32768, 60999)  # Linux's default


# Where outgoing connections take their local ports from (Linux), and the lowest port
# free_port picks.
EPHEMERAL_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
PRIVATE_PORTS_FROM = 20000


class CtProcess:
    """The fake Chastity Tracker (bench.ct_process) in a child process."""

    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.process: asyncio.subprocess.Process | None = None
        # Known before it starts, so the bot can start at the same time.
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.sessions: list[int] = []

    async def start(self, world: dict[str, Any]) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.ct_process",
            "--latency",
            str(self.latency),
            "--port",
            str(self.port),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=LINE_LIMIT,
            cwd=ROOT,
        )
        built = await self._ask(json.dumps(world))
        if built["base_url"] != self.base_url:
            raise RuntimeError(f"the fake Chastity Tracker is at {built['base_url']}")
        self.sessions = built["sessions"]

    async def counts(self) -> dict[str, Any]:
        return await self._ask("counts")

    async def _ask(self, line: str) -> dict[str, Any]:
        assert self.process is not None
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        answer = await asyncio.wait_for(self.process.stdout.readline(), START_TIMEOUT)
        if not answer:
            raise RuntimeError("the fake Chastity Tracker stopped")
        result: dict[str, Any] = json.loads(answer)
        return result

    async def stop(self) -> None:
        if self.process is None:
            return
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 10)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        self.process = None


class BenchHarness(Harness):
    """The harness, driving a bot that runs in another process.

    Everything members do goes through the harness as in the tests (same payloads,
    same fake Discord); only the hand-over to the bot crosses a socket.
    """

    def __init__(self, fake: TimedDiscord, world: World, clock: TestClock, snowflake: Snowflakes):
        settings = Settings(discord_token=Secret(DISCORD_TOKEN))
        # The bot, its storage and its API client live in the bot's own process.
        super().__init__(
            settings=settings,
            api=None,  # type: ignore[arg-type]
            storage=None,  # type: ignore[arg-type]
            vault=None,  # type: ignore[arg-type]
            clock=clock,
            snowflake=snowflake,
            world=world,
            fake=fake,
        )
        self.timed = fake
        self.remote: BotProcess | None = None

    def deliver(self, payload: dict[str, Any]) -> None:
        assert self.remote is not None
        self.remote.dispatch("INTERACTION_CREATE", payload)

    def connect_bot(self, remote: BotProcess) -> None:
        self.remote = remote
        remote.dispatch("GUILD_CREATE", self.guild.create_payload(self.world.bot_member()))

    def autocomplete_nowait(
        self, command: str, options: dict[str, Any], *, focused: str, by: Any
    ) -> InteractionResult:
        actor, where, guild = self._where(by, None, False)
        data = self._command_data(command, options, focused=focused, guild=guild)
        return self.feed(AUTOCOMPLETE, data, actor=actor, channel=where, guild=guild)


async def start_discord(
    uploads_checked_in: Executor | None = None,
) -> tuple[TimedDiscord, World, TestClock, Snowflakes]:
    """The fake Discord; ``uploads_checked_in`` as FakeDiscord takes it."""
    clock = TestClock()  # real time: Discord's 3-second window is enforced for real
    snowflake = Snowflakes(clock)
    world = World.build(snowflake)
    fake = TimedDiscord(
        clock,
        token=DISCORD_TOKEN,
        bot_user=world.bot_user,
        application_id=world.application_id,
        guilds=[world.guild],
        snowflakes=snowflake,
        uploads_checked_in=uploads_checked_in,
    )
    await fake.start()
    return fake, world, clock, snowflake
