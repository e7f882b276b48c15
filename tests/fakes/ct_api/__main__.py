"""Serve the fake on its own: ``python -m tests.fakes.ct_api --port 8081 --seed-demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from tests.fakes.ct_api.demo import describe, seed_demo
from tests.fakes.ct_api.server import FakeChastityTracker


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.ct_api",
        description="A fake Chastity Tracker API v2 server on 127.0.0.1.",
    )
    parser.add_argument("--port", type=int, default=8081, help="port (0 picks a free one)")
    parser.add_argument("--seed", type=int, default=1, help="seed for every random draw")
    parser.add_argument(
        "--seed-demo", action="store_true", help="add demo users, a dom link and sessions"
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with FakeChastityTracker(seed=args.seed, port=args.port) as ct:
        if args.seed_demo:
            print(describe(ct, seed_demo(ct)), flush=True)
        else:
            print(f"Fake Chastity Tracker listening on {ct.base_url} (empty: no users)", flush=True)
            print(f"  CT_API_BASE_URL={ct.base_url}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(args))
    except OSError as error:
        print(f"cannot listen on 127.0.0.1:{args.port}: {error.strerror}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
