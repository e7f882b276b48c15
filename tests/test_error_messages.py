"""The one mapping from errors to what a member reads, class by class."""

from __future__ import annotations

import pytest

from bot.ctapi.errors import (
    APIError,
    BadRequest,
    Forbidden,
    InvalidRequest,
    MalformedResponse,
    MethodNotAllowed,
    NotFound,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Redirected,
    ServerError,
    ServerErrorPage,
    Unauthorized,
)
from bot.error_messages import UserError, describe_error
from bot.secrets import Secret


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            BadRequest(400, "COOLDOWN", "You can vote again in 24 hours."),
            "⏳ Chastity Tracker says: You can vote again in 24 hours.\n• Chastity Tracker "
            "limits how often a game can be played and how often each voter can vote on a "
            "lock.",
        ),
        (
            BadRequest(400, "VALIDATION", "Missing field: session"),
            "❌ Chastity Tracker says: Missing field: session.\n• Check the options you gave "
            "and try again.",
        ),
        (
            Unauthorized(401, None, None),
            "• Create a new API token on your Chastity Tracker profile page, then run "
            "`/account connect` again.",
        ),
        (Forbidden(403, None, None), "needs an active dom link with the session's owner"),
        (NotFound(404, None, None), "❌ Chastity Tracker found no such session or link"),
        (ServerError(503, None, None), "❌ Chastity Tracker failed (HTTP 503) and said so"),
        (ServerErrorPage(502, None, None), "⚠️ Chastity Tracker answered with a server error page"),
        (MalformedResponse(200, "no envelope"), "⚠️ Chastity Tracker's answer could not be read"),
        (MethodNotAllowed(405, None, None), "🔌 Chastity Tracker refused the bot's request"),
        (RateLimited(429, None, None, 60.0), "⏳ Chastity Tracker is busy: nothing was played. "),
        (Redirected(301, "https://www.chastitytracker.org"), "tell the bot's operator"),
        (NotSent("refused"), "🔌 Chastity Tracker could not be reached: nothing was sent"),
        (OutcomeUnknown("timeout"), "**may or may not** have happened"),
        (InvalidRequest("session is required for dice"), "session is required for dice"),
        (APIError(418, None, None), "unexpected error"),
        (UserError("Do this instead."), "❌ Do this instead."),
    ],
)
def test_each_error_has_its_words(error: Exception, expected: str) -> None:
    text = describe_error(error)
    assert text is not None
    assert expected in text


@pytest.mark.parametrize(
    ("error", "prefix"),
    [
        (BadRequest(400, "COOLDOWN", "You can vote again in 24 hours."), "⏳"),
        (RateLimited(429, None, None, 60.0), "⏳"),
        (BadRequest(400, "VALIDATION", "Missing field: session"), "❌"),
        (Unauthorized(401, None, None), "❌"),
        (Forbidden(403, None, None), "❌"),
        (NotFound(404, None, None), "❌"),
        (InvalidRequest("bad"), "❌"),
        (UserError("Do this instead."), "❌"),
        (OutcomeUnknown("timeout"), "⚠️"),
        (ServerError(503, None, None), "❌"),
        (ServerErrorPage(503, None, None), "⚠️"),
        (MalformedResponse(200, "no envelope"), "⚠️"),
        (NotSent("refused"), "🔌"),
        (Redirected(301, None), "🔌"),
        (MethodNotAllowed(405, None, None), "🔌"),
    ],
)
def test_every_message_starts_with_its_kind_then_at_most_two_ways_out(
    error: Exception, prefix: str
) -> None:
    text = describe_error(error)
    assert text is not None
    first, *rest = text.splitlines()
    assert first.startswith(f"{prefix} ")
    assert len(rest) <= 2
    assert all(line.startswith("• ") for line in rest)


def test_a_user_error_keeps_the_prefix_it_has() -> None:
    assert describe_error(UserError("⏳ Wait a bit.")) == "⏳ Wait a bit."


def test_outcome_unknown_points_to_the_history() -> None:
    # The answer may be lost to a timeout or to a dropped connection: neither is named.
    assert describe_error(OutcomeUnknown("connection lost")) == (
        "⚠️ Chastity Tracker's answer never arrived, so your action **may or may not** have "
        "happened.\n• Check `/history` or the session's history on Chastity Tracker before "
        "trying again."
    )


def test_a_503_says_whether_anything_happened() -> None:
    # In the API's own answer: it failed, and said so.
    said = describe_error(ServerError(503, None, None))
    assert said is not None
    assert "did not carry the request out" in said
    # A proxy's error page: it may have come after the action was carried out.
    page = describe_error(ServerErrorPage(503, None, None))
    assert page is not None
    assert "**may or may not** have happened" in page
    assert "`/history`" in page


def test_unauthorized_says_refused_and_how_to_reconnect() -> None:
    text = describe_error(Unauthorized(401, "UNAUTHORIZED", "Invalid token"))
    assert text is not None
    assert "refused your API token" in text
    assert "`/account connect`" in text


def test_forbidden_explains_owner_versus_dom() -> None:
    text = describe_error(Forbidden(403, "FORBIDDEN", "Not the dom"))
    assert text is not None
    assert "your own session" in text
    assert "`as_dom:true`" in text


def test_unexpected_errors_have_no_words_here() -> None:
    assert describe_error(RuntimeError("bug")) is None


def test_a_very_long_api_message_is_cut_to_fit_discord() -> None:
    text = describe_error(BadRequest(400, "X", "word " * 1000))
    assert text is not None
    assert len(text) < 1000  # the 5000-character message is cut well inside Discord's 2000
    assert "…" in text


def test_an_api_message_echoing_a_token_shows_it_masked() -> None:
    token = Secret("echoed-bearer-token-123456789")
    text = describe_error(BadRequest(400, "X", f"token {token.reveal()} is on cooldown"))
    assert text is not None
    assert token.reveal() not in text
    assert "token *** is on cooldown" in text
