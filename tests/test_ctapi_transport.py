"""The client's answer decoding and retry rule, at the transport level.

Real-network behaviour (timeouts, dropped connections against a server) is
covered against the fake Chastity Tracker in test_ctapi_client.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bot.ctapi import (
    BadRequest,
    ChastityTrackerClient,
    Choice,
    Forbidden,
    InvalidRequest,
    MalformedResponse,
    MethodNotAllowed,
    NotFound,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    Stats,
    Unauthorized,
)
from bot.ctapi.models import Game, GameRequest
from bot.secrets import Secret
from tests.contract_examples import DICE_EXAMPLE, LINK_EXAMPLE, refusal
from tests.contract_examples import envelope as success

TOKEN = Secret("bearer-token-abcdef-0123456789")
LINK = Secret("public-link-token-zyxwv-98765")
# The contract's DICE example as an ADD, plus a field a newer API might add.
DICE_DATA = {**DICE_EXAMPLE, "operation": "ADD", "sum": 7, "seconds": 7992, "future": "kept"}

Handler = Callable[[httpx.Request], httpx.Response]


def envelope(data: object = None, *, error: tuple[str, str] | None = None) -> dict[str, Any]:
    return refusal(*error) if error else success(data)


class Recorder:
    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def client(self) -> ChastityTrackerClient:
        return ChastityTrackerClient(
            "http://ct.test", 5.0, transport=httpx.MockTransport(self), sleep=self.sleep
        )


async def test_dice_request_body_headers_and_typed_result() -> None:
    rec = Recorder(httpx.Response(200, json=envelope(DICE_DATA)))
    async with rec.client() as client:
        result = await client.play_dice(TOKEN, 123)
    request = rec.requests[0]
    assert request.method == "POST"
    assert request.url.path == "/api/v2/games.php"
    assert json.loads(request.content) == {"game": "dice", "dom": 0, "session": 123}
    assert request.headers["authorization"] == f"Bearer {TOKEN.reveal()}"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("ChastityTrackerDiscordBot/")
    assert result.dice == (6, 1, 2)
    assert result.dice_ops == ("", "s", "")
    assert result.scheduled_end.tzinfo is not None
    assert result.scheduled_end.isoformat() == "2026-02-10T00:00:00+00:00"
    assert result.extra == {"future": "kept"}


async def test_anonymous_vote_sends_no_authorization() -> None:
    data = {**LINK_EXAMPLE, "operation": "SUB", "multiplier": 1.0, "session": 9}
    rec = Recorder(httpx.Response(200, json=envelope(data)))
    async with rec.client() as client:
        result = await client.vote_link(LINK, Choice.RAND)
    assert "authorization" not in rec.requests[0].headers
    assert json.loads(rec.requests[0].content) == {
        "game": "link",
        "dom": 0,
        "token": LINK.reveal(),
        "type": "rand",
    }
    assert result.penalty is False


@pytest.mark.parametrize(
    ("request_", "bearer", "problem"),
    [
        (GameRequest(Game.DICE, False), TOKEN, "session is required"),
        (GameRequest(Game.LUCK, True, 0), TOKEN, "session must be"),
        (GameRequest(Game.LINK, True, 5), TOKEN, "type"),
        (GameRequest(Game.LINK, True, None, choice=Choice.ADD), TOKEN, "session is required"),
        (GameRequest(Game.LINK, False, choice=Choice.ADD), None, "link token is required"),
        (GameRequest(Game.DICE, False, 5, choice=Choice.ADD), TOKEN, "only for link"),
        (GameRequest(Game.DICE, False, 5), None, "bearer token is required"),
        (GameRequest(Game.LINK, True, 5, choice=Choice.ADD), None, "bearer token is required"),
    ],
)
async def test_contract_rules_checked_before_sending(
    request_: GameRequest, bearer: Secret | None, problem: str
) -> None:
    rec = Recorder(httpx.Response(200, json=envelope(DICE_DATA)))
    async with rec.client() as client:
        with pytest.raises(InvalidRequest, match=problem):
            await client.play(request_, bearer)
    assert rec.requests == []


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (405, MethodNotAllowed),
        (500, ServerError),
        (503, ServerError),
    ],
)
async def test_error_envelopes_map_to_typed_errors(status: int, kind: type[Exception]) -> None:
    rec = Recorder(httpx.Response(status, json=envelope(error=("CODE", "the api says no"))))
    async with rec.client() as client:
        with pytest.raises(kind) as info:
            await client.play_luck(TOKEN, 1)
    assert info.value.code == "CODE"  # type: ignore[attr-defined]
    assert info.value.message == "the api says no"  # type: ignore[attr-defined]
    assert len(rec.requests) == 1, "a game POST is never resent after an answer"


async def test_cooldown_is_recognised() -> None:
    answer = httpx.Response(
        400, json=envelope(error=("COOLDOWN", "You can vote again in 24 hours"))
    )
    rec = Recorder(answer)
    async with rec.client() as client:
        with pytest.raises(BadRequest) as info:
            await client.vote_link(LINK, Choice.ADD)
    assert info.value.is_cooldown


@pytest.mark.parametrize(
    ("response", "kind"),
    [
        (httpx.Response(500, text="<html><body>Fatal error</body></html>"), ServerError),
        (httpx.Response(200, text="{not json"), MalformedResponse),
        (httpx.Response(200, json={"data": {}}), MalformedResponse),
        (httpx.Response(200, json=envelope({"game": "dice"})), MalformedResponse),
        (httpx.Response(200, json=envelope([1, 2])), MalformedResponse),
    ],
)
async def test_malformed_answers(response: httpx.Response, kind: type[Exception]) -> None:
    rec = Recorder(response)
    async with rec.client() as client:
        with pytest.raises(kind):
            await client.play_dice(TOKEN, 1)
    assert len(rec.requests) == 1


async def test_connect_failure_is_not_sent_and_retried_with_backoff() -> None:
    rec = Recorder(httpx.ConnectError("refused"), httpx.Response(200, json=envelope(DICE_DATA)))
    async with rec.client() as client:
        result = await client.play_dice(TOKEN, 123)
    assert result.session == 123
    assert len(rec.requests) == 2
    assert len(rec.sleeps) == 1


async def test_connect_failure_every_time_raises_not_sent() -> None:
    rec = Recorder(httpx.ConnectError("refused"))
    async with rec.client() as client:
        with pytest.raises(NotSent):
            await client.play_dice(TOKEN, 1)
    assert len(rec.requests) == 3


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("gone"),
        httpx.ReadError("reset"),
        httpx.WriteTimeout("slow"),
        # Over HTTP/2 a protocol error while reading the answer is reported as local.
        httpx.LocalProtocolError("h2 protocol error"),
        # The server answered, but the body cannot be decoded.
        httpx.DecodingError("bad gzip"),
    ],
)
async def test_game_post_lost_after_sending_is_never_retried(failure: Exception) -> None:
    rec = Recorder(failure, httpx.Response(200, json=envelope(DICE_DATA)))
    async with rec.client() as client:
        with pytest.raises(OutcomeUnknown):
            await client.play_dice(TOKEN, 1)
    assert len(rec.requests) == 1


async def test_reads_are_retried_after_a_lost_answer() -> None:
    stats = {"nick": "wearer", "locked": True, "scheduled_end": "2026-02-10 00:00:00"}
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=envelope(stats)))
    async with rec.client() as client:
        result = await client.stats(TOKEN)
    assert result.nick == "wearer"
    assert len(rec.requests) == 2


async def test_reads_retry_server_errors_but_game_posts_do_not() -> None:
    stats = {"nick": "wearer", "locked": False}
    rec = Recorder(
        httpx.Response(502, text="bad gateway"), httpx.Response(200, json=envelope(stats))
    )
    async with rec.client() as client:
        assert (await client.stats(TOKEN)).locked is False
    rec = Recorder(
        httpx.Response(502, text="bad gateway"), httpx.Response(200, json=envelope(DICE_DATA))
    )
    async with rec.client() as client:
        with pytest.raises(ServerError):
            await client.play_dice(TOKEN, 1)
    assert len(rec.requests) == 1


async def test_retry_after_is_honoured_for_reads() -> None:
    limited = httpx.Response(
        429, headers={"Retry-After": "2"}, json=envelope(error=("RATE", "slow"))
    )
    stats = {"nick": "wearer", "locked": False}
    rec = Recorder(limited, httpx.Response(200, json=envelope(stats)))
    async with rec.client() as client:
        await client.stats(TOKEN)
    assert rec.sleeps == [2.0]
    assert len(rec.requests) == 2


async def test_a_rate_limited_game_post_is_not_resent() -> None:
    limited = httpx.Response(
        429, headers={"Retry-After": "2"}, json=envelope(error=("RATE", "slow"))
    )
    rec = Recorder(limited, httpx.Response(200, json=envelope(DICE_DATA)))
    async with rec.client() as client:
        with pytest.raises(RateLimited) as info:
            await client.play_dice(TOKEN, 1)
    assert info.value.retry_after == 2.0
    assert rec.sleeps == []
    assert len(rec.requests) == 1


async def test_long_retry_after_is_raised_not_waited() -> None:
    limited = httpx.Response(
        429, headers={"Retry-After": "120"}, json=envelope(error=("RATE", "x"))
    )
    rec = Recorder(limited)
    async with rec.client() as client:
        with pytest.raises(RateLimited) as info:
            await client.play_dice(TOKEN, 1)
    assert info.value.retry_after == 120.0
    assert rec.sleeps == []


async def test_sessions_query_and_parse() -> None:
    page = {
        "count": 1,
        "total": 1,
        "limit": 50,
        "offset": 0,
        "items": [
            {
                "id": 7,
                "start": "2026-01-15 10:00:00",
                "end": None,
                "scheduledend": "2026-02-01 00:00:00",
                "active": 1,
                "lockedby": None,
                "public": 0,
                "games": {"dice": {}},
            },
        ],
    }
    rec = Recorder(httpx.Response(200, json=envelope(page)))
    async with rec.client() as client:
        result = await client.sessions(TOKEN, active=True)
    assert dict(rec.requests[0].url.params) == {"limit": "50", "offset": "0", "active": "1"}
    assert result.items[0].id == 7
    assert result.items[0].active is True


async def test_no_token_in_reprs_or_error_texts() -> None:
    echo = f"invalid token Bearer {TOKEN.reveal()} for {LINK.reveal()}"
    rec = Recorder(httpx.Response(401, json=envelope(error=("UNAUTHORIZED", echo))))
    async with rec.client() as client:
        with pytest.raises(Unauthorized) as info:
            await client.vote_link(LINK, Choice.ADD, bearer=TOKEN)
        texts = [str(info.value), repr(info.value), repr(client), info.value.message or ""]
    request = GameRequest(Game.LINK, False, link_token=LINK, choice=Choice.ADD)
    texts.append(repr(request))
    for text in texts:
        assert TOKEN.reveal() not in text
        assert LINK.reveal() not in text


def test_stats_repr_leaves_out_the_link_game_url() -> None:
    stats = Stats.parse(
        {"nick": "wearer", "locked": True, "link_game": f"https://ct.test/link/{LINK.reveal()}"}
    )
    assert stats.link_game is not None
    assert stats.link_game.endswith(LINK.reveal())
    assert LINK.reveal() not in repr(stats)
    assert "wearer" in repr(stats)
