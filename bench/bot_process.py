"""One bot in a process of its own, fed interactions over a socket as a gateway would.

The bench starts this module once per bot and scenario, so the CPU time and the
peak RSS it reports belong to that bot alone: the fake Discord, the load driver
and the fake Chastity Tracker run in other processes.

The driver listens on a local TCP port; this process builds the bot, logs it in
against the fake Discord (its REST base URL), connects and says ``ready``. Then
it reads JSON lines:

- ``{"op": "dispatch", "t": "INTERACTION_CREATE" | "GUILD_CREATE", "d": {...}}``:
  handed to discord.py's own gateway parser, as the harness does in-process;
- ``{"op": "usage"}``: answered with this process's CPU seconds (every thread:
  ``time.process_time``) and peak RSS (``VmHWM``); the bench asks just before
  the burst and just after it, so with a ``profile`` file in the config the
  first one starts cProfile and the second one stops it and writes the file:
  the profile covers what the CPU figure measures, not start-up or set-up;
- ``{"op": "stop"}``: answered like ``usage``, then the bot closes and the process exits.

Optional keys: ``search_path`` (a PostgreSQL schema), ``token_encryption_key``
(needed with PostgreSQL), ``poll_lease_ttl`` (seconds).

The project bot runs under ``bot.app.serve_until_stopped``, as ``python -m bot``
does: SIGTERM or SIGINT stops it gracefully (the tests of the stop use that).

    python -m bench.bot_process '<config json>'
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import json
import logging
import resource
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from types import ModuleType
from typing import Any

import discord

DISCORD_TOKEN = "bench.discord.token.NzkyNzE1NDU0MTk2MDg4ODQy"
LINE_LIMIT = 64 * 1024 * 1024


def load_internals() -> ModuleType:
    """tests/harness/internals.py by itself (it needs only discord.py).

    Importing it as ``tests.harness.internals`` runs the package's ``__init__``,
    which loads the whole project bot, its database layers included: the baseline's
    process would carry them, and its peak RSS with them.
    """
    path = Path(__file__).resolve().parent.parent / "tests" / "harness" / "internals.py"
    spec = importlib.util.spec_from_file_location("bench_harness_internals", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def peak_rss_kib() -> int:
    """This process's peak resident set in KiB.

    Linux keeps ``ru_maxrss`` across exec, so a child started by a big parent
    would report the parent's peak; ``VmHWM`` belongs to this program alone.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="ascii")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def usage() -> dict[str, Any]:
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "cpu_seconds": time.process_time(),
        "user_seconds": rusage.ru_utime,
        "system_seconds": rusage.ru_stime,
        "peak_rss_kib": peak_rss_kib(),
    }


async def build_project(config: dict[str, Any], stack: AsyncExitStack) -> discord.Client:
    """The production bot, built with the same pieces the test harness uses."""
    from bot.app import create_bot
    from bot.config import Settings
    from bot.ctapi import ChastityTrackerClient
    from bot.logs import configure_logging
    from bot.secrets import Secret
    from bot.storage import Storage
    from bot.vault import Vault

    data_dir = Path(config["data_dir"])
    key = config.get("token_encryption_key")
    settings = Settings(
        discord_token=Secret(DISCORD_TOKEN),
        ct_api_base_url=config["ct_base_url"],
        data_dir=data_dir,
        database_url=config["database_url"],
        token_encryption_keys=(Secret(key),) if key else (),
    )
    configure_logging("INFO", stream=stack.enter_context(open_log(config)))
    api = ChastityTrackerClient(settings.ct_api_base_url, settings.ct_api_timeout)
    stack.push_async_callback(api.aclose)
    storage = await Storage.open(settings.database_url, search_path=config.get("search_path"))
    stack.push_async_callback(storage.close)
    bot = create_bot(settings, api=api, storage=storage, vault=Vault.from_settings(settings))
    if "poll_lease_ttl" in config:
        # Tests of several processes: a crashed process's polls are taken over sooner.
        bot.polls.lease_ttl = float(config["poll_lease_ttl"])
    stack.push_async_callback(bot.close)
    return bot


async def build_baseline(config: dict[str, Any], stack: AsyncExitStack) -> discord.Client:
    from bench.baseline_bot import BaselineBot

    logging.basicConfig(
        level=logging.INFO,
        stream=stack.enter_context(open_log(config)),
        format="%(asctime)s %(levelname)-8s %(name)s: %(message)s",
    )
    # As the project bot logs: no line per Chastity Tracker request at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    for module in config.get("imports", ()):
        # --baseline-imports: what given libraries alone add to a bare bot's memory.
        importlib.import_module(module)
        logging.getLogger(__name__).info("imported %s", module)
    bot = BaselineBot(config["ct_base_url"], config["game_token"], config["lock_token"])
    stack.push_async_callback(bot.close)
    return bot


def open_log(config: dict[str, Any]) -> Any:
    return Path(config["log_file"]).open("a", encoding="utf-8")


async def serve(config: dict[str, Any]) -> None:
    internals = load_internals()
    internals.set_rest_base_url(config["discord_base_url"])
    # The bot has no voice features; discord.py's warnings about voice libraries are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    async with AsyncExitStack() as stack:
        build = build_project if config["bot"] == "project" else build_baseline
        bot = await build(config, stack)
        await bot.login(DISCORD_TOKEN)
        if config["bot"] == "project":
            # As bot.app.start_settled does between login and the gateway connection.
            from bot.startup_memory import settle_startup_objects

            settle_startup_objects()
        internals.mark_ready(bot)
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", config["gateway_port"], limit=LINE_LIMIT
        )

        def send(message: dict[str, Any]) -> None:
            writer.write(json.dumps(message).encode() + b"\n")

        send({"op": "ready"})
        parsers = {
            event: internals.gateway_parser(bot, event)
            for event in ("INTERACTION_CREATE", "GUILD_CREATE")
        }
        profiler = BurstProfiler(config.get("profile"))

        async def gateway() -> None:
            while line := await reader.readline():
                message = json.loads(line)
                op = message["op"]
                if op == "dispatch":
                    parsers[message["t"]](message["d"])
                elif op == "usage":
                    profiler.toggle()
                    send({"op": "usage"} | usage())
                    await writer.drain()
                elif op == "stop":
                    profiler.toggle()
                    send({"op": "usage"} | usage())
                    await writer.drain()
                    break

        if config["bot"] == "project":
            # Imported here: the baseline's figures must not carry the project's modules.
            from bot.app import ChastityBot, serve_until_stopped

            assert isinstance(bot, ChastityBot)
            await serve_until_stopped(bot, gateway())
        else:
            await gateway()
        writer.close()


class BurstProfiler:
    """cProfile between the first usage report and the next one (the measured burst).

    It sees the event loop's thread only: SQLite's statements run in aiosqlite's
    thread, whose CPU the usage figures count but this profile does not.
    """

    def __init__(self, path: str | None) -> None:
        self._path = path
        self._profile: Any = None
        self._done = path is None

    def toggle(self) -> None:
        if self._done:
            return
        if self._profile is None:
            import cProfile

            # CPU time of this thread, not wall time: waiting in epoll is not work.
            self._profile = cProfile.Profile(time.thread_time)
            self._profile.enable()
            return
        self._profile.disable()
        self._profile.dump_stats(self._path)
        self._done = True


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    asyncio.run(serve(json.loads(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
