"""``python -m tests.fakes.ct_api --seed-demo`` serves a usable fake and says how to use it."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.ct_api.demo import LINK_TOKEN, WEARER_TOKEN
from tests.fixtures.ct import shared_ssl_context

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def demo_server() -> AsyncIterator[tuple[asyncio.subprocess.Process, list[str]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.ct_api",
        "--port",
        "0",
        "--seed-demo",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(15):
            while not lines or lines[-1] != "Stop with Ctrl-C.":
                line = await process.stdout.readline()
                assert line, "the fake exited before printing its instructions"
                lines.append(line.decode().rstrip("\n"))
        yield process, lines
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_demo_server_prints_base_url_and_serves_the_demo_accounts(
    demo_server: tuple[asyncio.subprocess.Process, list[str]],
) -> None:
    _, lines = demo_server
    [setting] = [line.strip() for line in lines if line.strip().startswith("CT_API_BASE_URL=")]
    base_url = setting.removeprefix("CT_API_BASE_URL=")
    assert base_url.startswith("http://127.0.0.1:")
    assert any(WEARER_TOKEN in line for line in lines)
    assert any(LINK_TOKEN in line for line in lines)
    headers = {"Authorization": f"Bearer {WEARER_TOKEN}"}
    async with httpx.AsyncClient(base_url=base_url, verify=shared_ssl_context()) as http:
        stats = (await http.get("/api/v2/stats.php", headers=headers)).json()
        assert stats["data"]["nick"] == "demo_wearer"
        dice = {"game": "dice", "dom": 0, "session": 100}
        assert (await http.post("/api/v2/games.php", json=dice, headers=headers)).status_code == 200
        vote = {"game": "link", "dom": 0, "token": LINK_TOKEN, "type": "rand"}
        assert (await http.post("/api/v2/games.php", json=vote)).status_code == 200


async def test_demo_server_stops_cleanly_on_sigterm(
    demo_server: tuple[asyncio.subprocess.Process, list[str]],
) -> None:
    process, _ = demo_server
    process.send_signal(signal.SIGTERM)
    async with asyncio.timeout(10):
        assert await process.wait() == 0
    assert process.stderr is not None
    assert b"Traceback" not in await process.stderr.read()
