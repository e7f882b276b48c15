"""The client's connections under a crowd: bounded, kept open, and reused.

A burst of plays larger than the pool must never open more than
``MAX_CONNECTIONS`` connections, nor have more requests in flight, and a second
burst must ride on the connections the first one opened. A request that waits
too long for its turn was never sent: it is ``NotSent``, and the server never
sees it.
"""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.ctapi import ChastityTrackerClient, NotSent
from bot.ctapi.client import MAX_CONNECTIONS
from bot.secrets import Secret
from tests.contract_examples import DICE_EXAMPLE

TOKEN = Secret("pool-bearer-token-0123456789")
BODY = json.dumps({"ok": True, "data": DICE_EXAMPLE, "meta": {"version": 2}}).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)


class KeepAliveServer:
    """HTTP/1.1 with keep-alive, answering every request after ``delay`` seconds.

    Counts the connections opened and the most requests it held at once.
    """

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.connections = 0
        self.requests = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

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
        for writer in self._writers:
            writer.close()  # the connection's reader then ends its loop
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests += 1
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                try:
                    await asyncio.sleep(self.delay)
                finally:
                    self.in_flight -= 1
                writer.write(ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def server() -> KeepAliveServer:
    server = KeepAliveServer(delay=0.05)
    await server.start()
    yield server  # type: ignore[misc]
    await server.stop()


async def test_a_crowd_rides_on_a_bounded_pool_of_kept_connections(
    server: KeepAliveServer,
) -> None:
    crowd = 3 * MAX_CONNECTIONS
    async with ChastityTrackerClient(server.base_url, timeout=30.0) as client:
        for _ in range(2):
            results = await asyncio.gather(*(client.play_dice(TOKEN, 8) for _ in range(crowd)))
            assert len(results) == crowd
    assert server.requests == 2 * crowd  # every play sent exactly once
    assert server.peak_in_flight <= MAX_CONNECTIONS
    # The second burst reused the first one's connections instead of opening more.
    assert server.connections <= MAX_CONNECTIONS


class HeldTransport(httpx.AsyncBaseTransport):
    """Holds every request until released; counts what reached it."""

    def __init__(self, full: int) -> None:
        self.received = 0
        self.full = full
        self.filled = asyncio.Event()  # set once ``full`` requests are held
        self.release = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.received += 1
        if self.received >= self.full:
            self.filled.set()
        await self.release.wait()
        return httpx.Response(200, content=BODY, headers={"Content-Type": "application/json"})


async def test_a_play_that_waits_too_long_for_a_turn_is_not_sent() -> None:
    transport = HeldTransport(full=MAX_CONNECTIONS)
    sleeps: list[float] = []

    async def no_wait(seconds: float) -> None:
        sleeps.append(seconds)

    async with ChastityTrackerClient(
        "https://ct.test", timeout=0.2, transport=transport, sleep=no_wait
    ) as client:
        holding = [asyncio.create_task(client.play_dice(TOKEN, 8)) for _ in range(MAX_CONNECTIONS)]
        await transport.filled.wait()
        with pytest.raises(NotSent):
            await client.play_dice(TOKEN, 9)
        # Every attempt of the extra play waited for a turn, and none reached the server.
        assert transport.received == MAX_CONNECTIONS
        assert len(sleeps) == 2  # three attempts: waiting is safe to repeat
        transport.release.set()
        await asyncio.gather(*holding)
        # Turns given back: the next play goes through.
        await client.play_dice(TOKEN, 9)
    assert transport.received == MAX_CONNECTIONS + 1
