"""The client against odd but plausible answers from the real Chastity Tracker.

The contract shows one shape per field; a PHP backend may send others: numbers
as text, flags as true/"1", timestamps with or without seconds, a fraction, a
"T" or a zone, an error envelope under HTTP 200, a redirect to https, a JSON
body labelled text/html, an empty body. Each test names the shape it covers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from bot.ctapi import (
    BadRequest,
    ChastityTrackerClient,
    Choice,
    Forbidden,
    MalformedResponse,
    MethodNotAllowed,
    NotFound,
    NotSent,
    RateLimited,
    Redirected,
    ServerError,
    SessionInfo,
    Stats,
    Unauthorized,
)
from bot.ctapi.client import _sends_in_clear
from bot.ctapi.models import DiceResult, LinkResult, LuckResult, ParseError, parse_utc
from bot.secrets import Secret
from tests.contract_examples import (
    DICE_EXAMPLE,
    LINK_EXAMPLE,
    LUCK_EXAMPLE,
    envelope,
    refusal,
)

TOKEN = Secret("answers-bearer-token-0123456789")
LINK = Secret("answers-link-token-abcdefghij")


class Server:
    """Answers every request with the same response and counts the requests."""

    def __init__(self, answer: Callable[[httpx.Request], httpx.Response]) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request)

    def client(self) -> ChastityTrackerClient:
        async def no_wait(_: float) -> None:
            return None

        return ChastityTrackerClient(
            "http://ct.test", 5.0, transport=httpx.MockTransport(self), sleep=no_wait
        )


def answering(response: httpx.Response) -> Server:
    return Server(lambda _: response)


# --- the documented response examples, verbatim ------------------------------------


async def test_documented_examples_parse_field_by_field() -> None:
    async with answering(httpx.Response(200, json=envelope(LINK_EXAMPLE))).client() as client:
        link = await client.vote_link(LINK, Choice.ADD)
    assert (link.operation.value, link.multiplier, link.time, link.unit) == (
        "ADD",
        1.37,
        3600,
        "hour",
    )
    assert (link.unit_count, link.seconds, link.dom, link.session, link.penalty) == (
        1,
        3600,
        False,
        123,
        False,
    )
    assert link.scheduled_end == datetime(2026, 2, 10, tzinfo=UTC)
    assert link.extra == {}
    async with answering(httpx.Response(200, json=envelope(DICE_EXAMPLE))).client() as client:
        dice = await client.play_dice(TOKEN, 123)
    assert (dice.dice, dice.dice_ops, dice.calc, dice.sum) == (
        (6, 1, 2),
        ("", "s", ""),
        "+6-1+2",
        -3,
    )
    assert (dice.operation.value, dice.seconds, dice.time, dice.multiplier) == (
        "SUB",
        7200,
        7200,
        1.11,
    )
    assert dice.extra == {}
    async with answering(httpx.Response(200, json=envelope(LUCK_EXAMPLE))).client() as client:
        luck = await client.play_luck(TOKEN, 123, as_dom=True)
    assert (luck.unit_count, luck.dom, luck.seconds) == (1, True, 86400)
    assert luck.scheduled_end == datetime(2026, 2, 11, tzinfo=UTC)
    assert luck.extra == {}


# --- field shapes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("penalty", "expected"),
    [
        (None, False),
        (0, False),
        (1, True),
        (True, True),
        (False, False),
        ("1", True),
        ("0", False),
        ("true", True),
    ],
    ids=repr,
)
def test_penalty_as_null_0_1_true_or_text(penalty: object, expected: bool) -> None:
    assert LinkResult.parse({**LINK_EXAMPLE, "penalty": penalty}).penalty is expected


def test_penalty_absent_is_no_penalty() -> None:
    without = {key: value for key, value in LINK_EXAMPLE.items() if key != "penalty"}
    assert LinkResult.parse(without).penalty is False


def test_penalty_that_is_not_a_flag_is_malformed() -> None:
    with pytest.raises(ParseError, match="penalty"):
        LinkResult.parse({**LINK_EXAMPLE, "penalty": "maybe"})


@pytest.mark.parametrize(("dom", "expected"), [("0", False), ("1", True), (True, True), (0, False)])
def test_dom_as_text_number_or_boolean(dom: object, expected: bool) -> None:
    assert LuckResult.parse({**LUCK_EXAMPLE, "dom": dom}).dom is expected


@pytest.mark.parametrize("dom", [2, "yes", None], ids=repr)
def test_dom_must_be_a_flag(dom: object) -> None:
    with pytest.raises(ParseError, match="dom"):
        LuckResult.parse({**LUCK_EXAMPLE, "dom": dom})


def test_numbers_as_text_are_read_as_numbers() -> None:
    stringly = {
        **DICE_EXAMPLE,
        "time": "7200",
        "sum": "-3",
        "dices": ["6", "1", "2"],
        "multiplier": "1.11",
        "seconds": "7200.0",
        "dom": "0",
        "session": "123",
    }
    result = DiceResult.parse(stringly)
    assert (result.time, result.sum, result.dice, result.multiplier) == (7200, -3, (6, 1, 2), 1.11)
    assert (result.seconds, result.dom, result.session) == (7200, False, 123)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seconds", "NaN"),
        ("seconds", "inf"),
        ("seconds", 1.5),
        ("multiplier", "nan"),
        ("session", "abc"),
        ("dices", ["six"]),
        ("dices", "6,1,2"),
    ],
    ids=repr,
)
def test_numbers_that_are_not_numbers_are_malformed(field: str, value: object) -> None:
    with pytest.raises(ParseError):
        DiceResult.parse({**DICE_EXAMPLE, field: value})


def test_negative_seconds_on_a_sub_are_read_as_an_amount() -> None:
    assert DiceResult.parse({**DICE_EXAMPLE, "seconds": -7200}).seconds == 7200


def test_link_unit_given_as_seconds_is_kept_as_text() -> None:
    assert LinkResult.parse({**LINK_EXAMPLE, "unit": 3600}).unit == "3600"


def test_lower_case_operation_and_upper_case_game_are_understood() -> None:
    result = LuckResult.parse({**LUCK_EXAMPLE, "operation": "sub", "game": "LUCK"})
    assert result.operation.value == "SUB"


def test_unknown_fields_are_kept_and_time_may_be_missing() -> None:
    data = {key: value for key, value in LUCK_EXAMPLE.items() if key not in ("time", "int")}
    result = LuckResult.parse({**data, "voters": 3, "note": None})
    assert result.time is None
    assert result.unit_count is None
    assert result.extra == {"voters": 3, "note": None}


@pytest.mark.parametrize(
    "missing", ["game", "operation", "seconds", "multiplier", "dom", "scheduledend_utc", "session"]
)
def test_each_common_field_is_required(missing: str) -> None:
    data = {key: value for key, value in LUCK_EXAMPLE.items() if key != missing}
    with pytest.raises(ParseError, match=missing):
        LuckResult.parse(data)


def test_a_result_for_another_game_is_malformed() -> None:
    with pytest.raises(ParseError, match="expected a luck result"):
        LuckResult.parse({**LUCK_EXAMPLE, "game": "dice"})


# --- timestamps ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-02-10 13:45:07", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10 13:45", datetime(2026, 2, 10, 13, 45, tzinfo=UTC)),
        ("2026-02-10T13:45:07", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10 13:45:07.123", datetime(2026, 2, 10, 13, 45, 7, 123000, tzinfo=UTC)),
        ("2026-02-10 13:45:07.1234567", datetime(2026, 2, 10, 13, 45, 7, 123456, tzinfo=UTC)),
        ("2026-02-10 13:45:07 UTC", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10 13:45:07utc", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10T13:45:07Z", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10T13:45:07.5Z", datetime(2026, 2, 10, 13, 45, 7, 500000, tzinfo=UTC)),
        ("2026-02-10T15:45:07+02:00", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10 13:45:07 +0000", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
        ("2026-02-10", datetime(2026, 2, 10, tzinfo=UTC)),
        (" 2026-02-10 13:45:07 ", datetime(2026, 2, 10, 13, 45, 7, tzinfo=UTC)),
    ],
)
def test_timestamp_shapes(text: str, expected: datetime) -> None:
    parsed = parse_utc(text)
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() is not None


@pytest.mark.parametrize("text", ["", None, "0000-00-00 00:00:00", "0000-00-00"], ids=repr)
def test_no_timestamp_is_none(text: str | None) -> None:
    assert parse_utc(text) is None


@pytest.mark.parametrize(
    "text", ["tomorrow", "2026-02-30 00:00:00", "2026-02-10 25:00:00", "10/02/2026", 1770681600]
)
def test_bad_timestamps_are_refused(text: object) -> None:
    with pytest.raises(ParseError):
        parse_utc(text)


def test_scheduled_end_of_a_play_in_each_shape() -> None:
    for text in ("2026-02-10T00:00:00Z", "2026-02-10 00:00", "2026-02-10 00:00:00.000 UTC"):
        result = LinkResult.parse({**LINK_EXAMPLE, "scheduledend_utc": text})
        assert result.scheduled_end == datetime(2026, 2, 10, tzinfo=UTC)


def test_a_play_without_a_usable_scheduled_end_is_malformed() -> None:
    with pytest.raises(ParseError, match="scheduledend_utc"):
        LinkResult.parse({**LINK_EXAMPLE, "scheduledend_utc": "0000-00-00 00:00:00"})


# --- envelope and status oddities ----------------------------------------------------


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("COOLDOWN", BadRequest),
        ("VALIDATION_ERROR", BadRequest),
        ("SOMETHING_NEW", BadRequest),
        ("UNAUTHORIZED", Unauthorized),
        ("INVALID_TOKEN", Unauthorized),
        ("FORBIDDEN", Forbidden),
        ("SESSION_NOT_FOUND", NotFound),
        ("RATE_LIMITED", RateLimited),
        ("INTERNAL_ERROR", ServerError),
    ],
)
async def test_http_200_with_ok_false_is_the_error_it_names(
    code: str, kind: type[Exception]
) -> None:
    server = answering(httpx.Response(200, json=refusal(code, "You can vote again in 3 h")))
    async with server.client() as client:
        with pytest.raises(kind) as info:
            await client.vote_link(LINK, Choice.ADD)
    assert type(info.value) is kind
    assert info.value.message == "You can vote again in 3 h"  # type: ignore[attr-defined]
    assert len(server.requests) == 1


async def test_http_200_cooldown_refusal_is_recognised_as_a_cooldown() -> None:
    server = answering(httpx.Response(200, json=refusal("COOLDOWN", "Already voted")))
    async with server.client() as client:
        with pytest.raises(BadRequest) as info:
            await client.vote_link(LINK, Choice.ADD)
    assert info.value.is_cooldown


async def test_a_redirect_to_https_is_not_followed_or_resent() -> None:
    server = Server(
        lambda request: httpx.Response(
            301,
            headers={"Location": f"https://www.chastitytracker.org{request.url.path}?x=1"},
            text="<html><body>Moved Permanently</body></html>",
        )
    )
    async with server.client() as client:
        with pytest.raises(Redirected) as info:
            await client.play_dice(TOKEN, 123)
        with pytest.raises(Redirected):
            await client.stats(TOKEN)
    assert info.value.status == 301
    assert info.value.location == "https://www.chastitytracker.org"
    assert "https://www.chastitytracker.org" in str(info.value)
    assert [request.method for request in server.requests] == ["POST", "GET"]


@pytest.mark.parametrize("location", [None, "/elsewhere", "mailto:ops@example.org"], ids=repr)
async def test_a_redirect_without_a_usable_location(location: str | None) -> None:
    headers = {"Location": location} if location else {}
    async with answering(httpx.Response(302, headers=headers)).client() as client:
        with pytest.raises(Redirected) as info:
            await client.play_luck(TOKEN, 1)
    assert info.value.location is None


async def test_json_labelled_text_html_is_still_read() -> None:
    response = httpx.Response(
        200,
        content=json.dumps(envelope(LUCK_EXAMPLE)).encode(),
        headers={"Content-Type": "text/html; charset=UTF-8"},
    )
    async with answering(response).client() as client:
        result = await client.play_luck(TOKEN, 123)
    assert result.seconds == 86400


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, content=b""), "empty"),
        (httpx.Response(200, content=b"  \n"), "empty"),
        (httpx.Response(200, text="<html>Welcome</html>"), "not JSON"),
        (httpx.Response(200, json={"ok": "true", "data": DICE_EXAMPLE}), "no v2 envelope"),
        (httpx.Response(200, json=[DICE_EXAMPLE]), "no v2 envelope"),
        (httpx.Response(201, content=b""), "empty"),
    ],
)
async def test_a_success_status_without_an_envelope_is_malformed(
    response: httpx.Response, reason: str
) -> None:
    server = answering(response)
    async with server.client() as client:
        with pytest.raises(MalformedResponse, match=reason):
            await client.play_dice(TOKEN, 123)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, BadRequest),
        (401, Unauthorized),
        (403, Forbidden),
        (404, NotFound),
        (405, MethodNotAllowed),
    ],
)
async def test_an_error_status_without_an_envelope_keeps_its_meaning(
    status: int, kind: type[Exception]
) -> None:
    server = answering(httpx.Response(status, text="<html><h1>Error</h1></html>"))
    async with server.client() as client:
        with pytest.raises(kind):
            await client.play_luck(TOKEN, 1)
    assert len(server.requests) == 1


async def test_a_v1_style_error_body_keeps_its_message() -> None:
    server = answering(httpx.Response(401, json={"error": "Invalid authorization"}))
    async with server.client() as client:
        with pytest.raises(Unauthorized) as info:
            await client.stats(TOKEN)
    assert info.value.message == "Invalid authorization"


async def test_an_empty_body_with_an_odd_status_is_malformed() -> None:
    async with answering(httpx.Response(418, content=b"")).client() as client:
        with pytest.raises(MalformedResponse):
            await client.play_luck(TOKEN, 1)


async def test_cookies_the_server_sets_are_never_sent_back() -> None:
    server = Server(
        lambda _: httpx.Response(
            200,
            json=envelope(LINK_EXAMPLE),
            headers={"Set-Cookie": "PHPSESSID=member-a-session; Path=/"},
        )
    )
    async with server.client() as client:
        await client.vote_link(LINK, Choice.ADD, bearer=TOKEN)
        await client.vote_link(LINK, Choice.ADD)
    assert [request.headers.get("cookie") for request in server.requests] == [None, None]


# --- stats and sessions ------------------------------------------------------------------


STATS_EXAMPLE: dict[str, Any] = {
    "nick": "alescan",
    "profile_url": None,
    "locked": True,
    "current_lock_start": "2025-03-23 09:00:00 UTC",
    "scheduled_end": None,
    "current_lock_time": "17 days 3 hours 12 minutes",
    "total_locked_since": "4 months 10 days 9 hours",
    "since_date": "2025-01-01 00:00:00",
    "link_game": "https://www.chastitytracker.org/link.php?token=" + LINK.reveal(),
    "last_full": "2025-03-23",
    "last_ruined": "2025-02-09",
    "last_ted": "2025-04-06",
    "last_milking": None,
}


async def test_stats_reads_every_documented_field() -> None:
    server = answering(httpx.Response(200, json=envelope(STATS_EXAMPLE)))
    async with server.client() as client:
        stats = await client.stats(TOKEN)
    assert (stats.nick, stats.locked, stats.scheduled_end) == ("alescan", True, None)
    assert stats.current_lock_start == datetime(2025, 3, 23, 9, tzinfo=UTC)
    assert stats.current_lock_time == "17 days 3 hours 12 minutes"
    assert stats.total_locked_since == "4 months 10 days 9 hours"
    assert stats.since_date == "2025-01-01 00:00:00"
    assert stats.profile_url is None
    assert stats.link_game == STATS_EXAMPLE["link_game"]
    assert (stats.last_full, stats.last_ruined, stats.last_ted, stats.last_milking) == (
        date(2025, 3, 23),
        date(2025, 2, 9),
        date(2025, 4, 6),
        None,
    )
    assert stats.extra == {}
    request = server.requests[0]
    assert (request.method, request.url.path) == ("GET", "/api/v2/stats.php")
    assert request.headers["authorization"] == f"Bearer {TOKEN.reveal()}"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b""


def test_stats_fields_the_docs_call_optional_may_be_absent() -> None:
    stats = Stats.parse({"nick": "wearer", "locked": "1", "last_full": "0000-00-00"})
    assert stats.locked is True
    assert stats.current_lock_start is None
    assert stats.scheduled_end is None
    assert stats.link_game is None
    assert stats.last_full is None


def test_stats_scheduled_end_in_each_shape() -> None:
    for text in ("2026-02-10 00:00:00", "2026-02-10 00:00:00 UTC", "2026-02-10T00:00:00Z"):
        stats = Stats.parse({"nick": "w", "locked": 1, "scheduled_end": text})
        assert stats.scheduled_end == datetime(2026, 2, 10, tzinfo=UTC)


def test_stats_without_a_nick_is_malformed() -> None:
    with pytest.raises(ParseError, match="nick"):
        Stats.parse({"locked": True})


SESSION_ITEM: dict[str, Any] = {
    "id": 123,
    "start": "2026-01-15 10:00:00",
    "end": "2026-01-17 10:00:00",
    "scheduledend": None,
    "active": 0,
    "lockedby": None,
    "notes": None,
    "public": 0,
    "timezonestart": "+01:00",
    "timezoneend": "+01:00",
    "inserted": "2026-01-17 10:12:30",
    "has_history": 1,
    "has_games_changes": 0,
}


async def test_sessions_reads_every_documented_field() -> None:
    page = {"count": 1, "total": 7, "limit": 1, "offset": 2, "items": [SESSION_ITEM]}
    server = answering(httpx.Response(200, json=envelope(page)))
    async with server.client() as client:
        result = await client.sessions(TOKEN, limit=1, offset=2)
    assert (result.count, result.total, result.limit, result.offset) == (1, 7, 1, 2)
    [item] = result.items
    assert (item.id, item.active, item.start, item.end, item.scheduled_end) == (
        123,
        False,
        "2026-01-15 10:00:00",
        "2026-01-17 10:00:00",
        None,
    )
    assert (item.locked_by, item.notes, item.public, item.games) == (None, None, False, None)
    assert (item.timezone_start, item.timezone_end, item.inserted) == (
        "+01:00",
        "+01:00",
        "2026-01-17 10:12:30",
    )
    assert (item.has_history, item.has_games_changes) == (True, False)
    assert item.extra == {}
    request = server.requests[0]
    assert dict(request.url.params) == {"limit": "1", "offset": "2"}
    assert "authorization" in request.headers


async def test_sessions_limit_is_kept_within_the_documented_range() -> None:
    empty = {"count": 0, "total": 0, "limit": 200, "offset": 0, "items": []}
    server = answering(httpx.Response(200, json=envelope(empty)))
    async with server.client() as client:
        result = await client.sessions(TOKEN, limit=1000, offset=-5)
        await client.sessions(TOKEN, limit=0)
    assert result.items == ()
    assert dict(server.requests[0].url.params) == {"limit": "200", "offset": "0"}
    assert dict(server.requests[1].url.params)["limit"] == "1"


def test_an_active_session_with_php_shaped_values() -> None:
    item = SessionInfo.parse(
        {
            **SESSION_ITEM,
            "id": "123",
            "active": "1",
            "public": True,
            "lockedby": "PartnerNick",
            "games": [],
        }
    )
    assert (item.id, item.active, item.public, item.locked_by) == (123, True, True, "PartnerNick")
    # PHP writes an empty associative array as [].
    assert item.games == {}


def test_a_session_games_value_that_is_not_an_object_is_malformed() -> None:
    with pytest.raises(ParseError, match="games"):
        SessionInfo.parse({**SESSION_ITEM, "games": "DICE"})


# --- transport security ----------------------------------------------------------------


@pytest.mark.parametrize(
    "base_url", ["http://www.chastitytracker.org", "http://192.168.1.20:8081", "http://ct.example"]
)
async def test_plain_http_to_another_machine_is_warned_about_once(
    base_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.ctapi.client"):
        async with ChastityTrackerClient(base_url, 1.0):
            pass
    [record] = [r for r in caplog.records if "unencrypted" in r.getMessage()]
    assert record.levelno == logging.WARNING


async def test_https_and_this_machine_are_not_warned_about(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.ctapi.client"):
        for base_url in ("https://www.chastitytracker.org", "http://127.0.0.1:8081"):
            async with ChastityTrackerClient(base_url, 1.0):
                pass
    assert not [r for r in caplog.records if "unencrypted" in r.getMessage()]


async def test_plain_http_to_this_machine_is_sent(refused_port: int) -> None:
    for host in ("127.0.0.1", "localhost"):
        async with ChastityTrackerClient(
            f"http://{host}:{refused_port}", 1.0, attempts=1
        ) as client:
            with pytest.raises(NotSent):
                await client.stats(TOKEN)


@pytest.mark.parametrize(
    ("base_url", "in_clear"),
    [
        ("https://www.chastitytracker.org", False),
        ("https://192.168.1.20", False),
        ("http://127.0.0.1:8081", False),
        ("http://127.0.0.2", False),
        ("http://localhost:8081", False),
        ("http://[::1]:8081", False),
        ("http://www.chastitytracker.org", True),
        ("http://10.0.0.5", True),
        ("http://ct-fake:8081", True),
    ],
)
def test_which_base_urls_would_send_in_clear(base_url: str, in_clear: bool) -> None:
    assert _sends_in_clear(httpx.URL(base_url)) is in_clear
