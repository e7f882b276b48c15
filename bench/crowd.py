"""The bot under a crowd, next to a bare discord.py bot, in the same run.

For each scenario and size N, two bots run one after the other through the
same harness (the fake Discord of tests/harness) against the same fake
Chastity Tracker, which answers every request after a fixed latency (default
200 ms):

1. the project bot, built by ``bot.app.create_bot`` with every cog, a real
   ``ChastityTrackerClient``, SQLite storage and a vault, as the harness builds it;
2. the baseline (bench/baseline_bot.py): the least a correct discord.py bot does.

Scenarios: ``dice`` (N members run /dice at once; N=300 and N=1000),
``connect`` (N members submit the connect form at once; N=1000), ``panel`` (N
clicks on one voting panel, half by connected members; N=300), ``poll`` (N
members choose in one poll within 2 s; N=300), ``autocomplete`` (N members
type a lock name in /link vote; N=1000).

How it is measured
------------------
Three kinds of process, so the bot's figures are the bot's alone:

- this process: the load driver and the fake Discord (the harness's, stamping
  each answer with ``time.monotonic()`` when it handles the request);
- the fake Chastity Tracker (bench/ct_process.py), fresh for every run, which
  counts requests and client TCP connections;
- the bot (bench/bot_process.py), a fresh process per bot and scenario. It gets
  interactions over a local socket and hands them to discord.py's gateway
  parser, as the harness does in-process. Its CPU time is ``time.process_time()``
  (user + system, every thread of the process: event loop, SQLite thread,
  executors) read just before the burst and after the last answer plus 0.5 s
  of quiet; its peak RSS is the process's high-water mark (``VmHWM``; Linux
  carries ``ru_maxrss`` over from the parent across exec), start to stop.

First response: from sending the interaction to the fake Discord handling the
bot's first callback (accepted or refused). Completion: to what the member
finally sees (the followup after a defer; the response itself otherwise).
Missed 3 s acknowledgements: Discord refused the first response (10062, its
window is real time here) or the bot never sent one. Members' accounts are
stored in the bot's database before it starts (except in ``connect``); locks,
panels, polls and open connect forms are set up through the bot; then three
more members act one at a time (warm-up: lazy imports, first connections).
None of that is measured.

The figures are only as steady as the machine: run it on an otherwise idle one,
and compare runs made on the same machine.

    .venv/bin/python -m bench.crowd --repeat 3      # the full set (make bench)
    .venv/bin/python -m bench.crowd --quick         # every scenario, N=50
    .venv/bin/python -m bench.crowd --scenario dice --n 300 --json out.json
    .venv/bin/python -m bench.crowd --scenario dice --n 300 --baseline-imports libraries
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.bot_process import DISCORD_TOKEN
from bench.driver import (
    BenchHarness,
    BotProcess,
    CtProcess,
    Stopwatch,
    collections_held_off,
    start_discord,
)
from bench.report import Figures, ratios, spread, table
from bench.scenarios import BASELINE, BOTS, PROJECT, SCENARIOS, Action, Run, Scenario, World
from bot.config import Settings
from bot.secrets import Secret
from bot.storage import Storage
from bot.vault import Vault
from tests.harness import FakeMember

DEFAULT_LATENCY = 0.2
QUICK_N = 50
FEED_BATCH = 20  # interactions fed before letting the fake Discord answer in between
IDLE_LIMIT = 30.0  # seconds without any request from the bot before giving up on the rest
WARMUP = 3  # members who act one by one before the burst, not measured
QUIET = 0.5  # seconds without any request that end a burst (panel redraws come late)
# What the project's storage and vault import (SQLAlchemy's async Core with aiosqlite,
# cryptography's Fernet): --baseline-imports with these shows what they alone add to
# a bare bot's peak RSS.
PROJECT_LIBRARIES = (
    "sqlalchemy.ext.asyncio,sqlalchemy.dialects.sqlite,aiosqlite,cryptography.fernet"
)


def importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:  # a parent package that does not exist
        return False


def sqlite_url(directory: Path) -> str:
    return f"sqlite+aiosqlite:///{directory / 'bot.db'}"


async def store_accounts(settings: Settings, world: World, members: list[FakeMember]) -> None:
    """Connected accounts, written as /account connect would, before the bot starts."""
    storage = await Storage.open(settings.database_url)
    try:
        vault = Vault.from_settings(settings)
        now = datetime.now(UTC)
        for member_index, user_index in world.accounts.items():
            user = world.users[user_index]
            # As connect leaves it: the member's own LINK token already looked for
            # (these members run no LINK game of their own), so a vote asks nothing more.
            await storage.accounts.upsert(
                members[member_index].id,
                vault.encrypt(Secret(user["token"])),
                user["nick"],
                now,
                link_token_hash=None,
                link_checked_at=now,
            )
    finally:
        await storage.close()


async def wait_for_answers(watch: Stopwatch) -> None:
    """Until every member has an answer, or the bot has gone quiet for IDLE_LIMIT."""
    while not watch.settled.is_set():
        try:
            await asyncio.wait_for(watch.settled.wait(), 1.0)
        except TimeoutError:
            if time.monotonic() - max(watch.last_request, *watch.sent.values()) > IDLE_LIMIT:
                return


async def wait_for_quiet(watch: Stopwatch, limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        quiet_for = time.monotonic() - watch.last_request
        if quiet_for >= QUIET:
            return
        await asyncio.sleep(QUIET - quiet_for)


async def warm_up(run: Run, actions: list[Action]) -> None:
    """One member at a time, so every code path has run once (lazy imports, first connections)."""
    for action in actions:
        watch = run.harness.timed.stopwatch = Stopwatch()
        result = await action()
        watch.watch(result.id, result.interaction.started)
        await wait_for_answers(watch)
    await wait_for_quiet(run.harness.timed.stopwatch)


async def burst(run: Run, scenario: Scenario, actions: list[Action]) -> Stopwatch:
    watch = run.harness.timed.stopwatch = Stopwatch()
    start = time.monotonic()
    for i, action in enumerate(actions):
        if scenario.spread:
            delay = start + scenario.spread * i / len(actions) - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
        result = await action()
        watch.watch(result.id, result.interaction.started)
        if i % FEED_BATCH == FEED_BATCH - 1:
            await asyncio.sleep(0)
    await wait_for_answers(watch)
    await wait_for_quiet(watch)
    return watch


async def run_bot(  # noqa: PLR0917
    scenario: Scenario,
    bot: str,
    n: int,
    latency: float,
    workdir: Path,
    profile_dir: Path | None = None,
    round_index: int = 0,
    baseline_imports: Sequence[str] = (),
) -> Figures:
    world = scenario.build_world(WARMUP + n)
    ct = CtProcess(latency)
    ct_started = asyncio.ensure_future(ct.start(world.spec()))
    fake, discord_world, clock, snowflake = await start_discord()
    harness = BenchHarness(fake, discord_world, clock, snowflake)
    remote: BotProcess | None = None
    try:
        data_dir = workdir / f"{scenario.name}-{n}-{bot}" / str(round_index)
        data_dir.mkdir(parents=True)
        settings = Settings(
            discord_token=Secret(DISCORD_TOKEN),
            data_dir=data_dir,
            database_url=sqlite_url(data_dir),
        )
        members = [harness.new_member(f"member{i}") for i in range(WARMUP + n)]
        if bot == PROJECT:
            await store_accounts(settings, world, members)
        config: dict[str, Any] = {
            "bot": bot,
            "discord_base_url": fake.base_url,
            "ct_base_url": ct.base_url,
            "data_dir": str(data_dir),
            "database_url": settings.database_url,
            "log_file": str(data_dir / "bot.log"),
        } | scenario.baseline_tokens(world)
        if profile_dir is not None:
            config["profile"] = str(profile_dir / f"{scenario.name}-{n}-{bot}.prof")
        if bot == BASELINE and baseline_imports:
            config["imports"] = list(baseline_imports)
        remote = BotProcess(config)
        await asyncio.gather(remote.start(), ct_started)
        harness.connect_bot(remote)
        run = Run(bot, n, world, ct.sessions, harness, members)
        await scenario.setup(run)
        actions = scenario.actions(run)  # payload data built before the clock starts
        await warm_up(run, actions[:WARMUP])
        ct_before = await ct.counts()
        before = await remote.usage()
        driver_before = time.process_time()
        with collections_held_off():
            watch = await burst(run, scenario, actions[WARMUP:])
        driver_cpu = time.process_time() - driver_before
        after = await remote.usage()
        ct_after = await ct.counts()
        final = await remote.stop()
        remote = None
        return Figures.of(
            watch,
            cpu_seconds=after["cpu_seconds"] - before["cpu_seconds"],
            peak_rss_kib=final["peak_rss_kib"],
            ct_before=ct_before,
            ct_after=ct_after,
            driver_cpu_seconds=driver_cpu,
        )
    finally:
        if not ct_started.done():
            ct_started.cancel()
        if remote is not None:
            await remote.close()
        await fake.close()
        await ct.stop()


def cases(args: argparse.Namespace) -> list[tuple[Scenario, int]]:
    chosen = args.scenario or list(SCENARIOS)
    sizes: dict[str, Sequence[int]] = {}
    for name in chosen:
        if args.n:
            sizes[name] = args.n
        elif args.quick:
            sizes[name] = [QUICK_N]
        else:
            sizes[name] = SCENARIOS[name].sizes
    return [(SCENARIOS[name], n) for name in chosen for n in sizes[name]]


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    report: dict[str, Any] = {
        "ct_latency_ms": args.latency * 1000,
        "bots": args.bots,
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "scenarios": [],
    }
    workdir = Path(tempfile.mkdtemp(prefix="crowd-bench-"))
    try:
        for scenario, n in cases(args):
            runs: dict[str, list[Figures]] = {bot: [] for bot in args.bots}
            for round_index in range(args.repeat):
                # Alternating which bot goes first: a machine that slows down or speeds
                # up during the run then weighs on both bots alike.
                order = args.bots if round_index % 2 == 0 else args.bots[::-1]
                for bot in order:
                    profile = args.profile if round_index == 0 else None
                    runs[bot].append(
                        await run_bot(
                            scenario,
                            bot,
                            n,
                            args.latency,
                            workdir,
                            profile,
                            round_index,
                            args.baseline_imports,
                        )
                    )
            figures = {bot: Figures.combined(runs[bot]) for bot in args.bots}
            title = f"{scenario.name}, N={n}: {n} {scenario.title}"
            print(table(title, figures), flush=True)
            if args.repeat > 1 and PROJECT in runs and BASELINE in runs:
                print(spread(runs[PROJECT], runs[BASELINE]), flush=True)
            print(flush=True)
            entry: dict[str, Any] = {
                "scenario": scenario.name,
                "n": n,
                "title": scenario.title,
                "bots": {bot: f.as_dict() for bot, f in figures.items()},
                "runs": {bot: [f.as_dict() for f in runs[bot]] for bot in args.bots},
            }
            if PROJECT in figures and BASELINE in figures:
                entry["ratios"] = ratios(figures[PROJECT], figures[BASELINE])
            report["scenarios"].append(entry)
    finally:
        if args.keep:
            print(f"bot data and logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return report


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.crowd",
        description="The project bot under a crowd, next to a bare discord.py bot.",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=list(SCENARIOS),
        help="run this scenario (repeatable; default: all)",
    )
    parser.add_argument(
        "--n", action="append", type=int, help="crowd size (repeatable; default: per scenario)"
    )
    parser.add_argument("--quick", action="store_true", help=f"every scenario at N={QUICK_N}")
    parser.add_argument(
        "--latency",
        type=float,
        default=DEFAULT_LATENCY,
        help="seconds the fake Chastity Tracker takes per answer (default 0.2)",
    )
    parser.add_argument(
        "--bots",
        default=",".join(BOTS),
        help="comma-separated: project,baseline (default both; ratios need both)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help=(
            "run each bot this many times per scenario, alternating which goes first; "
            "the table shows each figure's median (counts: the worst run)"
        ),
    )
    parser.add_argument(
        "--baseline-imports",
        default="",
        metavar="MODULES",
        help=(
            "comma-separated modules the baseline bot imports before it starts, to see "
            "what libraries alone add to its memory; 'libraries' stands for those the "
            f"project's storage and vault import ({PROJECT_LIBRARIES})"
        ),
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the bots' data and logs")
    parser.add_argument(
        "--profile",
        type=Path,
        help=(
            "profile each bot's event loop thread with cProfile during the burst; "
            "<scenario>-<N>-<bot>.prof files go in this folder"
        ),
    )
    args = parser.parse_args(argv)
    if args.profile is not None:
        args.profile = args.profile.resolve()
        args.profile.mkdir(parents=True, exist_ok=True)
    args.bots = [bot for bot in args.bots.split(",") if bot]
    unknown = set(args.bots) - set(BOTS)
    if unknown or not args.bots:
        parser.error(f"--bots takes {', '.join(BOTS)}")
    if args.repeat < 1:
        parser.error("--repeat is at least 1")
    args.baseline_imports = [
        module
        for name in args.baseline_imports.split(",")
        for module in (PROJECT_LIBRARIES.split(",") if name == "libraries" else [name])
        if module
    ]
    missing = [name for name in args.baseline_imports if not importable(name)]
    if missing:
        parser.error(f"--baseline-imports: no module named {', '.join(missing)}")
    if args.n and any(n < 1 for n in args.n):
        parser.error("--n is at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    report = asyncio.run(bench(args))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
