"""The fake Chastity Tracker in a process of its own, with a fixed answer latency.

The bench runs it apart from the bot so that its CPU never counts as the bot's.
It reads one JSON line on stdin describing the world (users and sessions), then
prints one JSON line: its base URL and the session ids it assigned. After
that, each ``counts`` line on stdin is answered with the requests, answers and
TCP connections seen so far; end of input stops it.

    python -m bench.ct_process --latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from typing import Any

from aiohttp import web

from tests.fakes.ct_api import (
    GAMES_PATH,
    HISTORIES_PATH,
    SESSIONS_PATH,
    STATS_PATH,
    DiceConfig,
    FakeChastityTracker,
    Fault,
    LinkConfig,
)
from tests.fakes.ct_api.faults import Handler

PATHS = (GAMES_PATH, STATS_PATH, SESSIONS_PATH, HISTORIES_PATH)


class CountingChastityTracker(FakeChastityTracker):
    """The fake, also counting requests per path, answers per status and client connections.

    A connection is counted when its first request arrives (keyed by the client's
    address and port, unique while it is open), so it is a connection that carried
    at least one request.
    """

    def __init__(self, *, seed: int, port: int = 0) -> None:
        super().__init__(seed=seed, port=port)
        self.connections: set[tuple[str, int]] = set()
        self.per_path: Counter[str] = Counter()
        self.per_status: Counter[int] = Counter()

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer is not None:
            self.connections.add((str(peer[0]), int(peer[1])))
        self.per_path[request.path] += 1
        response = await super()._record(request, handler)
        self.per_status[response.status] += 1
        return response

    def counts(self) -> dict[str, Any]:
        return {
            "requests": sum(self.per_path.values()),
            "connections": len(self.connections),
            "per_path": dict(self.per_path),
            "per_status": {str(status): n for status, n in self.per_status.items()},
            "cpu_seconds": time.process_time(),
        }


def build_world(ct: FakeChastityTracker, world: dict[str, Any]) -> dict[str, Any]:
    """Users ``{nick, token}`` and sessions ``{owner, dice, link_token}``; returns session ids."""
    users = [ct.add_user(user["nick"], user["token"]) for user in world["users"]]
    sessions = []
    for spec in world["sessions"]:
        link = LinkConfig(token=spec["link_token"]) if spec.get("link_token") else None
        dice = DiceConfig() if spec.get("dice") else None
        sessions.append(ct.add_session(users[spec["owner"]], dice=dice, link=link).id)
    return {"sessions": sessions}


async def serve(latency: float, seed: int, port: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    async with CountingChastityTracker(seed=seed, port=port) as ct:
        if latency > 0:
            for path in PATHS:
                ct.inject(Fault.delay(latency), path=path, times=None)
        world = json.loads(await reader.readline())
        built = build_world(ct, world)
        print(json.dumps({"base_url": ct.base_url} | built), flush=True)
        while line := await reader.readline():
            if line.strip() == b"counts":
                print(json.dumps(ct.counts()), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ct_process")
    parser.add_argument("--latency", type=float, default=0.2, help="seconds per answer")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free one)")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.latency, args.seed, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
