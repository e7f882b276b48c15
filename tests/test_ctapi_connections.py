"""Pooled connections the server has closed (HTTP/1.1 keep-alive).

A server may close an idle keep-alive connection at any time. The client must
notice before it writes a game POST on it: a POST written to a dead connection
fails without an answer, and its outcome is then unknown.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from bot.ctapi import ChastityTrackerClient, OutcomeUnknown
from bot.secrets import Secret
from tests.contract_examples import DICE_EXAMPLE

TOKEN = Secret("keepalive-bearer-token-0123456789")
DICE_DATA = {
    **DICE_EXAMPLE,
    "time": 60,
    "dices": [2],
    "dicesops": [""],
    "calc": "+2",
    "sum": 2,
    "multiplier": 1.0,
    "seconds": 60,
    "session": 8,
}
BODY = json.dumps({"ok": True, "data": DICE_DATA, "meta": {"version": 2}}).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


class ClosingServer:
    """Answers one request per connection, then closes it without saying so
    (no ``Connection: close``), as a server closing an idle keep-alive connection."""

    def __init__(self, *, answer: bool = True) -> None:
        self.answer = answer
        self.requests = 0
        self.connections = 0
        self.closed = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
            self.requests += 1
            if self.answer:
                writer.write(ANSWER)
                await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
            self.closed.set()


@pytest.fixture
async def closing_server() -> AsyncIterator[ClosingServer]:
    server = ClosingServer()
    await server.start()
    yield server
    await server.stop()


async def instant(_: float) -> None:
    return None


async def test_a_connection_the_server_closed_is_not_reused_for_the_next_play(
    closing_server: ClosingServer,
) -> None:
    async with ChastityTrackerClient(closing_server.base_url, 2.0, sleep=instant) as client:
        await client.play_dice(TOKEN, 8)
        await closing_server.closed.wait()  # the pooled connection is now dead

        result = await client.play_dice(TOKEN, 8)

    assert result.session == 8
    assert closing_server.requests == 2
    assert closing_server.connections == 2


async def test_a_connection_closed_after_the_request_arrived_is_outcome_unknown() -> None:
    server = ClosingServer(answer=False)
    await server.start()
    try:
        async with ChastityTrackerClient(server.base_url, 2.0, sleep=instant) as client:
            with pytest.raises(OutcomeUnknown):
                await client.play_dice(TOKEN, 8)
    finally:
        await server.stop()
    assert server.requests == 1
