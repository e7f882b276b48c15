import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import PAYLOAD_LOGGERS, configure_logging
from bot.secrets import Secret


@pytest.fixture
def debug_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    levels = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
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
