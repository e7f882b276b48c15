"""Drawing timeline charts does not hold up other members' interactions.

One bot (the harness's: the production bot against the fake Discord and the
fake Chastity Tracker, in this process) and a lock with a long history of
votes. Two phases, each the same burst of members running ``/history``, fed
one every ``--pace`` seconds:

1. quiet: nothing else happens;
2. rendering: an admin asks for ``--renders`` timeline charts of the lock at
   once (different periods, so none comes from the cache) just before the burst;
3. control: quiet again. Its p99 against the first phase's is the noise of the
   machine alone: on a busy machine, read the rendering ratio against it.

It prints each phase's first-response p50/p99 (from feeding the interaction
to the fake Discord receiving the bot's acknowledgement) and the ratio of the
p99s, which should stay within 1.2x: charts are drawn in one worker process
(started with the first chart), never on the event loop nor in a thread of the
bot's process, whose share of the GIL would slow every interaction down.
``--rounds`` repeats the phases (alternating) and keeps every sample.

    .venv/bin/python -m bench.timeline
    .venv/bin/python -m bench.timeline --members 20 --renders 2 --rounds 1   # quick
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.ctapi import ChastityTrackerClient
from bot.storage import Storage
from bot.vault import Vault
from tests.fakes.ct_api import FakeChastityTracker, LinkConfig
from tests.fixtures.discord import harness_settings
from tests.fixtures.storage import sqlite_url
from tests.harness import Harness, TestClock, World
from tests.harness.models import Snowflakes

LIMIT_RATIO = 1.2
HISTORY_VOTES = 400  # votes on the lock, all inside the charts' periods


async def seed_votes(harness: Harness, lock_id: int, count: int) -> None:
    """``count`` accepted votes on the lock over the last days, as the ledger records them."""
    ledger = harness.storage.ledger
    now = harness.clock.now()
    end = now + timedelta(days=7)
    for index in range(count):
        at = now - timedelta(minutes=10 * (count - index))
        end += timedelta(minutes=37 if index % 3 else -50)
        choice = ("add", "sub", "rand")[index % 3]
        entry = await ledger.start(1000 + index % 17, harness.guild.id, "link", False, None,
                                   lock_id, None, index % 2 == 0, at)  # fmt: skip
        detail = {
            "scheduled_end": end.isoformat(),
            "seconds": 2220,
            "operation": "ADD" if index % 3 else "SUB",
            "penalty": False,
            "session": 100,
            "choice": choice,
        }
        await ledger.finish(entry, "ok", json.dumps(detail), at)


async def first_response(harness: Harness, command: str, options: dict[str, Any], by: Any) -> float:
    """Seconds from feeding ``/command`` to the bot's first response reaching Discord."""
    started = time.perf_counter()
    result = await harness.run(command, options, by=by, wait=False)
    await result.wait_for_response(timeout=30)
    return time.perf_counter() - started


async def burst(harness: Harness, members: list[Any], pace: float) -> list[float]:
    jobs = []
    for member in members:
        jobs.append(asyncio.create_task(first_response(harness, "history", {}, member)))
        await asyncio.sleep(pace)
    return list(await asyncio.gather(*jobs))


async def chart(harness: Harness, options: dict[str, Any]) -> None:
    """An admin asks for a chart; returns once it is posted."""
    result = await harness.run("link timeline", options, by=harness.admin, wait=False)
    answer = await result.wait_for_message(timeout=120)
    assert answer.attachments, answer.text()


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def run(
    members: int, renders: int, rounds: int, pace: float, votes: int = HISTORY_VOTES
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        ct = FakeChastityTracker()
        await ct.start()
        storage = await Storage.open(sqlite_url(tmp))
        settings = harness_settings(tmp, ct.base_url, flood_burst=10_000)
        api = ChastityTrackerClient(settings.ct_api_base_url, settings.ct_api_timeout)
        clock = TestClock()
        snowflake = Snowflakes(clock)
        harness = await Harness.start(
            settings=settings, api=api, storage=storage, vault=Vault.from_settings(settings),
            clock=clock, snowflake=snowflake, world=World.build(snowflake),
        )  # fmt: skip
        try:
            user = ct.add_user("wearer")
            session = ct.add_session(user, link=LinkConfig())
            assert session.link is not None
            added = await harness.run(
                "locks add", {"name": "cage", "token": session.link.public_token},
                by=harness.admin,
            )  # fmt: skip
            await added.wait_for_message()
            lock = await storage.locks.get_by_name(harness.guild.id, "cage")
            assert lock is not None
            await seed_votes(harness, lock.id, votes)
            people = [harness.new_member(f"member{i}") for i in range(members)]
            # Warm-up, not measured: matplotlib's import and font cache, first queries.
            await harness.bot.timeline.chart(lock, 30)
            await burst(harness, people[:3], pace)

            quiet: list[float] = []
            rendering: list[float] = []
            control: list[float] = []  # a second quiet burst: how noisy the machine is
            for round_index in range(rounds):
                quiet += await burst(harness, people, pace)
                days = [1 + round_index * renders + i for i in range(renders)]
                charts = [asyncio.create_task(chart(harness, {"days": d})) for d in days]
                rendering += await burst(harness, people, pace)
                await asyncio.gather(*charts)
                control += await burst(harness, people, pace)
            drawn = harness.bot.timeline.renders - 1  # without the warm-up
        finally:
            await harness.close()
            await api.aclose()
            await storage.close()
            await ct.stop()
    report = {
        "members": members,
        "renders_per_round": renders,
        "rounds": rounds,
        "charts_drawn": drawn,
        "quiet_p50_ms": percentile(quiet, 0.5) * 1000,
        "quiet_p99_ms": percentile(quiet, 0.99) * 1000,
        "rendering_p50_ms": percentile(rendering, 0.5) * 1000,
        "rendering_p99_ms": percentile(rendering, 0.99) * 1000,
        "quiet_mean_ms": statistics.fmean(quiet) * 1000,
        "rendering_mean_ms": statistics.fmean(rendering) * 1000,
    }
    report["control_p99_ms"] = percentile(control, 0.99) * 1000
    report["p99_ratio"] = report["rendering_p99_ms"] / max(report["quiet_p99_ms"], 1e-9)
    # Two bursts with nothing else going on: the ratio the machine's noise alone gives.
    report["noise_p99_ratio"] = report["control_p99_ms"] / max(report["quiet_p99_ms"], 1e-9)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--renders", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pace", type=float, default=0.01, help="seconds between two members")
    parser.add_argument("--votes", type=int, default=HISTORY_VOTES, help="votes on the lock")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    report = asyncio.run(run(args.members, args.renders, args.rounds, args.pace, args.votes))
    for name, value in report.items():
        shown = f"{value:.2f}" if isinstance(value, float) else str(value)
        print(f"{name:>20}: {shown}")
    verdict = "within" if report["p99_ratio"] <= LIMIT_RATIO else "ABOVE"
    print(f"first-response p99 while rendering: {report['p99_ratio']:.2f}x quiet ({verdict} "
          f"{LIMIT_RATIO}x)")  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
