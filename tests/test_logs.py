import contextlib
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.ctapi import ChastityTrackerClient, ChastityTrackerError
from bot.logs import DATABASE_LOGGERS, PAYLOAD_LOGGERS, configure_logging
from bot.secrets import Secret
from bot.storage import Storage


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in [*PAYLOAD_LOGGERS, *DATABASE_LOGGERS]}
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_discord_payload_logs_are_silenced_even_at_debug(debug_log: io.StringIO) -> None:
    logging.getLogger("discord.gateway").debug("WebSocket Event: %s", {"value": "typed-token"})
    logging.getLogger("discord.http").debug("POST body %s", "typed-token")
    logging.getLogger("bot.example").debug("our own debug line")
    text = debug_log.getvalue()
    assert "typed-token" not in text
    assert "our own debug line" in text


def test_known_secrets_and_bearer_headers_are_masked(debug_log: io.StringIO) -> None:
    token = Secret("member-token-that-must-not-leak")
    log = logging.getLogger("bot.example")
    log.info("sending %s", token.reveal())
    log.info("Authorization: Bearer some-other-unknown-token")
    try:
        raise ValueError(f"failed with {token.reveal()}")
    except ValueError:
        log.exception("crash")
    text = debug_log.getvalue()
    assert "member-token-that-must-not-leak" not in text
    assert "some-other-unknown-token" not in text
    assert "Bearer ***" in text
    assert "ValueError: failed with ***" in text


def test_secret_reprs_are_masked() -> None:
    token = Secret("abcdefghijklmnop")
    assert "abcdefghijklmnop" not in f"{token} {token!r} {[token]}"
    assert token.masked() == "***mnop"
    assert Secret("short").masked() == "***"
    with pytest.raises(TypeError):
        __import__("pickle").dumps(token)


@pytest.mark.parametrize(
    "template",
    [
        "plain {}",
        "query ?token={}&x=1",
        'json {{"token":"{}"}}',
        "glued prefix{}suffix.",
        "end of sentence {}.",
        "url https://example.org/link/{}",
    ],
)
def test_scrub_finds_a_secret_wherever_it_sits(template: str) -> None:
    from bot.secrets import scrub

    value = "Zq9-secret_value.with=odd+chars"
    Secret(value)
    assert value not in scrub(template.format(value))
    assert "***" in scrub(template.format(value))


def test_scrub_masks_secrets_with_spaces_and_nested_ones_whole() -> None:
    from bot.secrets import scrub

    Secret("has a space inside 123")
    Secret("outer-secret-contains-inner-part")
    Secret("inner-part")
    assert scrub("x has a space inside 123 y") == "x *** y"
    assert scrub("[outer-secret-contains-inner-part]") == "[***]"


def test_discord_interaction_tokens_in_urls_are_masked(debug_log: io.StringIO) -> None:
    interaction_token = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5OnNlY3JldC10b2tlbg"
    logging.getLogger("discord.http").warning(
        "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
        "POST",
        f"https://discord.com/api/v10/webhooks/1234567890/{interaction_token}/messages/@original",
        1.5,
    )
    logging.getLogger("discord.http").warning(
        "POST %s",
        f"https://discord.com/api/v10/interactions/987654321/{interaction_token}/callback",
    )
    text = debug_log.getvalue()
    assert interaction_token not in text
    assert "/webhooks/1234567890/***/messages/@original" in text
    assert "/interactions/987654321/***/callback" in text


def test_a_broken_log_call_does_not_raise_and_is_still_masked(debug_log: io.StringIO) -> None:
    token = Secret("member-token-in-a-broken-call")
    broken = "%s and %s"  # one argument short, as a careless library might write
    logging.getLogger("other.library").warning(broken, token.reveal())
    text = debug_log.getvalue()
    assert "unformattable arguments" in text
    assert token.reveal() not in text


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = [*PAYLOAD_LOGGERS, *DATABASE_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    stream = io.StringIO()
    configure_logging("DEBUG", stream, log_format="json")
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_format_is_one_object_per_line_with_the_extra_fields(json_log: io.StringIO) -> None:
    logging.getLogger("bot.example").info(
        "played %s", "dice", extra={"game": "dice", "seconds": 3600, "member": 42}
    )
    logging.getLogger("bot.example").warning("second\nline")

    first, second = json_lines(json_log)
    assert set(first) == {"time", "level", "logger", "message", "game", "seconds", "member"}
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.example"
    assert first["message"] == "played dice"
    assert (first["game"], first["seconds"], first["member"]) == ("dice", 3600, 42)
    assert datetime.fromisoformat(str(first["time"])).utcoffset() == timedelta(0)
    assert second["message"] == "second\nline"  # a multi-line message stays one line of JSON


def test_json_lines_hold_no_secret(json_log: io.StringIO) -> None:
    token = Secret("member-token-in-json-logs")
    log = logging.getLogger("bot.example")
    log.info("sending %s", token.reveal(), extra={"token": token.reveal(), "nested": [token]})
    log.info("Authorization: Bearer unknown-bearer-in-json", extra={"header": {"k": token}})
    try:
        raise ValueError(f"failed with {token.reveal()}")
    except ValueError:
        log.exception("crash")
    logging.getLogger("discord.gateway").debug("payload %s", token.reveal())

    text = json_log.getvalue()
    entries = json_lines(json_log)
    assert token.reveal() not in text
    assert "unknown-bearer-in-json" not in text
    assert [entry["message"] for entry in entries] == [
        "sending ***",
        "Authorization: Bearer ***",
        "crash",
    ]
    assert entries[0]["token"] == "***"
    assert "ValueError: failed with ***" in str(entries[2]["exception"])


async def test_database_statements_and_parameters_stay_out_of_debug_logs(
    debug_log: io.StringIO, tmp_path: Path
) -> None:
    storage = await Storage.open(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    try:
        await storage.accounts.upsert(4242, b"ciphertext-bytes", "logged-nick", datetime.now(UTC))
        await storage.accounts.get(4242)
    finally:
        await storage.close()
    logging.getLogger("bot.example").debug("our own debug line")
    text = debug_log.getvalue()
    assert "our own debug line" in text
    assert "INSERT" not in text
    assert "SELECT" not in text
    assert "logged-nick" not in text
    assert "4242" not in text


async def test_each_chastity_tracker_request_is_a_debug_line_not_info(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True, "data": {}, "meta": {"version": 2}})

    client = ChastityTrackerClient("https://ct.example", 5.0, transport=httpx.MockTransport(answer))
    async with client:
        with (
            caplog.at_level(logging.DEBUG, logger="bot.ctapi.client"),
            contextlib.suppress(ChastityTrackerError),
        ):
            await client.stats(Secret("a-bearer-for-the-log-test"))
    lines = [r for r in caplog.records if "/api/v2/stats.php -> 200" in r.getMessage()]
    assert [record.levelno for record in lines] == [logging.DEBUG]


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
async def test_httpx_adds_no_line_per_request(level: str) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    stream = io.StringIO()
    configure_logging(level, stream)

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"ok": True, "data": {}, "meta": {"version": 2}})

    try:
        client = ChastityTrackerClient(
            "https://ct.example", 5.0, transport=httpx.MockTransport(answer)
        )
        async with client:
            with contextlib.suppress(ChastityTrackerError):
                await client.stats(Secret("a-bearer-for-the-httpx-log-test"))
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, saved_level in levels.items():
            logging.getLogger(name).setLevel(saved_level)
    lines = stream.getvalue().splitlines()
    assert not [line for line in lines if "httpx" in line]
    # The client's own line is the one record of the request, at DEBUG only.
    assert len([line for line in lines if "stats.php -> 200" in line]) == (level == "DEBUG")
