"""Tokens stay out of every log line, end to end, with logging set up as in production.

The bot runs with ``configure_logging("DEBUG")``, the most talkative setting,
while a member connects, plays, and hits an unexpected error whose text and
traceback carry their token. Nothing written to the log may contain it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.logs import PAYLOAD_LOGGERS, configure_logging
from bot.secrets import Secret
from bot.storage.accounts import Account
from tests.fakes.ct_api import FakeChastityTracker
from tests.games_support import add_session
from tests.harness import Harness, LogGuard
from tests.harness.fake_discord import MODAL

TOKEN_FIELD = "account:connect:token"


@pytest.fixture
def production_log(log_guard: LogGuard) -> Iterator[io.StringIO]:
    """The production log handler at DEBUG, written to a buffer the test reads."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {name: logging.getLogger(name).level for name in PAYLOAD_LOGGERS}
    stream = io.StringIO()
    configure_logging("DEBUG", stream)
    for handler in handlers:  # keep the log guard and pytest's capture listening
        root.addHandler(handler)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in levels.items():
        logging.getLogger(name).setLevel(saved)


async def submit_token(harness: Harness, token: str) -> str:
    opened = await harness.run("account connect")
    assert opened.response is not None
    assert opened.response.type == MODAL
    submitted = await harness.submit_modal(opened, {TOKEN_FIELD: token})
    message = await submitted.wait_for_message()
    assert message.ephemeral
    return message.text()


async def test_connecting_and_playing_at_debug_logs_no_token(
    harness: Harness, ct_fake: FakeChastityTracker, production_log: io.StringIO
) -> None:
    wearer = ct_fake.add_user("wearer")
    session = add_session(ct_fake, wearer)

    assert "connected as" in (await submit_token(harness, wearer.token)).lower()
    played = await harness.run("dice", {"session": session.id})
    await played.wait_for_message()

    text = production_log.getvalue()
    assert "/api/v2/stats.php" in text  # the log did record the requests
    assert "/api/v2/games.php" in text
    assert wearer.token not in text
    # Not even encrypted, although the database driver logs every statement at DEBUG.
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.token_ciphertext.decode() not in text


async def test_an_unexpected_error_carrying_the_token_is_logged_masked(
    harness: Harness,
    ct_fake: FakeChastityTracker,
    production_log: io.StringIO,
    log_guard: LogGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log_guard.expect_error(r"Unexpected error in modal_submit 'account:connect:\d+:[0-9a-f]+'")
    wearer = ct_fake.add_user("wearer")

    async def broken_connect(user_id: int, token: Secret) -> Account:
        raise RuntimeError(f"storage refused the row for token {token.reveal()}")

    monkeypatch.setattr(harness.bot.accounts, "connect", broken_connect)

    answer = await submit_token(harness, f"  {wearer.token}  ")

    assert answer.startswith("⚠️ Something went wrong on our side.")
    text = production_log.getvalue()
    assert "RuntimeError: storage refused the row for token ***" in text  # the traceback
    assert wearer.token not in text
