"""The send-once rule over HTTP/2, where failures after sending look different.

Chastity Tracker is reached over HTTP/2. There, a frame the server gets wrong
surfaces in httpx as a *local* protocol error, or (while the body streams) as
an ``h2`` exception httpx does not map at all, although the request has long
been sent. A tiny HTTP/2 server (cleartext, prior knowledge) reads each
request and then misbehaves in one chosen way, so these paths are exercised
for real instead of by raising httpx exceptions from a mock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import h2.config
import h2.connection
import h2.errors
import h2.events
import httpx
import pytest

from bot.ctapi import ChastityTrackerClient, InvalidRequest, OutcomeUnknown
from bot.secrets import Secret
from tests.contract_examples import DICE_EXAMPLE

TOKEN = Secret("http2-bearer-token-0123456789")
DICE_DATA = {
    **DICE_EXAMPLE,
    "operation": "ADD",
    "time": 60,
    "dices": [1],
    "dicesops": [""],
    "calc": "+1",
    "sum": 1,
    "multiplier": 1.0,
    "seconds": 60,
    "session": 5,
}
# A DATA frame header announcing more than the 16 KiB a peer may send unasked:
# h2 on the client side rejects it as a protocol violation.
OVERSIZED_FRAME_HEADER = (20_000).to_bytes(3, "big") + b"\x00\x00" + (1).to_bytes(4, "big")

# An answer is what the server writes after a request, in chunks: each chunk is
# sent on its own, a moment after the previous one, so the client reads it
# separately (as it would over a real network).
Answer = Callable[[h2.connection.H2Connection, int], list[bytes]]
CHUNK_PAUSE = 0.05


def _envelope_headers(length: int) -> list[tuple[str, str]]:
    return [
        (":status", "200"),
        ("content-type", "application/json"),
        ("content-length", str(length)),
    ]


def answer_with(data: dict[str, Any]) -> Answer:
    """A well-formed success envelope carrying ``data``."""

    def answer(conn: h2.connection.H2Connection, stream_id: int) -> list[bytes]:
        body = json.dumps({"ok": True, "data": data, "meta": {"version": 2}}).encode()
        conn.send_headers(stream_id, _envelope_headers(len(body)))
        conn.send_data(stream_id, body, end_stream=True)
        return [conn.data_to_send()]

    return answer


answer_ok = answer_with(DICE_DATA)


def answer_protocol_violation(conn: h2.connection.H2Connection, stream_id: int) -> list[bytes]:
    return [conn.data_to_send() + OVERSIZED_FRAME_HEADER + bytes(20_000)]


def answer_headers_then_protocol_violation(
    conn: h2.connection.H2Connection, stream_id: int
) -> list[bytes]:
    conn.send_headers(stream_id, _envelope_headers(500))
    conn.send_data(stream_id, b'{"ok": true, ')
    return [conn.data_to_send(), OVERSIZED_FRAME_HEADER + bytes(20_000)]


def answer_goaway(conn: h2.connection.H2Connection, stream_id: int) -> list[bytes]:
    # The server closes the connection instead of answering. (Its last_stream_id of 0
    # says the stream was not processed, but httpcore does not pass that on.)
    conn.close_connection(last_stream_id=0)
    return [conn.data_to_send()]


def answer_stream_reset(conn: h2.connection.H2Connection, stream_id: int) -> list[bytes]:
    conn.reset_stream(stream_id, h2.errors.ErrorCodes.INTERNAL_ERROR)
    return [conn.data_to_send()]


class MisbehavingH2Server:
    """Counts the requests it fully receives and answers each with ``answers[n]``."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def __aenter__(self) -> MisbehavingH2Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._connections.values():
            writer.close()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        bodies: dict[int, bytes] = {}
        try:
            while data := await reader.read(65_536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.DataReceived):
                        bodies[event.stream_id] = bodies.get(event.stream_id, b"") + event.data
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        self.requests.append(json.loads(bodies.pop(event.stream_id, b"{}")))
                        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
                        for chunk in answer(conn, event.stream_id):
                            writer.write(chunk)
                            await writer.drain()
                            await asyncio.sleep(CHUNK_PAUSE)
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, h2.exceptions.ProtocolError):
            pass
        finally:
            writer.close()


async def instant(_: float) -> None:
    return None


def http2_client(server: MisbehavingH2Server) -> ChastityTrackerClient:
    # Prior knowledge: HTTP/2 without TLS, as the production client speaks it over TLS.
    transport = httpx.AsyncHTTPTransport(http1=False, http2=True)
    return ChastityTrackerClient(server.base_url, 2.0, transport=transport, sleep=instant)


@pytest.fixture
async def well_behaved() -> AsyncIterator[MisbehavingH2Server]:
    async with MisbehavingH2Server(answer_ok) as server:
        yield server


async def test_the_test_server_speaks_http2(well_behaved: MisbehavingH2Server) -> None:
    async with http2_client(well_behaved) as client:
        result = await client.play_dice(TOKEN, 5)
    assert result.session == 5
    assert well_behaved.requests == [{"game": "dice", "dom": 0, "session": 5}]


@pytest.mark.parametrize(
    "misbehaviour",
    [
        pytest.param(answer_protocol_violation, id="bad-frame-instead-of-an-answer"),
        pytest.param(answer_headers_then_protocol_violation, id="bad-frame-inside-the-body"),
        pytest.param(answer_stream_reset, id="stream-reset"),
        pytest.param(answer_goaway, id="goaway"),
    ],
)
async def test_a_game_post_the_server_received_is_never_resent(misbehaviour: Answer) -> None:
    async with (
        MisbehavingH2Server(misbehaviour, answer_ok) as server,
        http2_client(server) as client,
    ):
        with pytest.raises(OutcomeUnknown):
            await client.play_dice(TOKEN, 5)
    assert len(server.requests) == 1


async def test_reads_are_retried_after_a_protocol_error() -> None:
    stats = answer_with({"nick": "wearer", "locked": False})
    async with (
        MisbehavingH2Server(answer_protocol_violation, stats) as server,
        http2_client(server) as client,
    ):
        assert (await client.stats(TOKEN)).nick == "wearer"
    assert len(server.requests) == 2


async def test_a_token_that_cannot_be_a_header_is_refused_before_sending(
    well_behaved: MisbehavingH2Server,
) -> None:
    async with http2_client(well_behaved) as client:
        with pytest.raises(InvalidRequest, match="cannot be sent"):
            await client.play_dice(Secret("token-with\nnewline-inside"), 5)
    assert well_behaved.requests == []
