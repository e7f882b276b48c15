"""The one mapping from errors to what a member reads.

Cogs raise (or let through) typed errors; the central handler asks
:func:`describe_error` for the text. Nothing here ever includes a token.
"""

from __future__ import annotations

from bot.ctapi.errors import (
    BadRequest,
    ChastityTrackerError,
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
    Unauthorized,
)
from bot.embeds.format import format_duration


class UserError(Exception):
    """A problem the member can fix; its message is shown as it is."""


class NotConnected(UserError):
    def __init__(self) -> None:
        super().__init__(
            "You have not connected a Chastity Tracker account yet. "
            "Use `/account connect` with an API token from your Chastity Tracker profile page."
        )


class AnonymousCooldown(UserError):
    """Chastity Tracker refused an anonymous vote for cooldown.

    Every anonymous vote sent by the bot comes from the bot's one address, and
    the API counts anonymous votes per address: one member's anonymous vote
    uses up the window for everyone voting anonymously through the bot.
    """

    def __init__(self, api_message: str | None) -> None:
        said = f"Chastity Tracker says: {api_message.rstrip('.')}. " if api_message else ""
        super().__init__(
            f"{said}Anonymous votes reach Chastity Tracker from this bot's one address, and "
            "Chastity Tracker counts anonymous votes per address: all anonymous votes through "
            "the bot share **one vote per lock and cooldown window**, and it has been used. "
            "Two ways to vote anyway: connect your own account with `/account connect` "
            "(your vote then counts as yours), or join a community poll on this lock, where "
            "the bot casts one vote for the members' winning choice."
        )


RECONNECT_HINT = (
    "Create a new API token on your Chastity Tracker profile page, then run "
    "`/account connect` again."
)
# The longest API message shown as it is; longer ones are cut.
API_MESSAGE_LIMIT = 500
UNKNOWN_OUTCOME = (
    "Chastity Tracker did not answer in time, so the outcome is unknown: your action "
    "**may or may not** have happened. Check your session's history on Chastity Tracker "
    "(or `/history`) before trying again."
)


def describe_error(error: BaseException) -> str | None:
    """The member-facing text for a known error, or None for an unexpected one."""
    if isinstance(error, UserError):
        return str(error)
    if isinstance(error, ChastityTrackerError):
        return describe_api_error(error)
    return None


def describe_api_error(error: ChastityTrackerError) -> str:
    # Order matters: RateLimited is an APIError subclass, checked before the generic ones.
    match error:
        case InvalidRequest():
            return f"That request is not valid: {error}. Nothing was sent."
        case RateLimited():
            wait = (
                f"in {format_duration(round(error.retry_after))}"
                if error.retry_after
                else "in a minute"
            )
            return f"Chastity Tracker is busy right now. Nothing was played; try again {wait}."
        case BadRequest():
            # The API's message usually ends with its own full stop. It is cut to a
            # length that always fits in a Discord message.
            text = _shorten(error.message or "it refused the request").rstrip(".")
            hint = (
                " You can play or vote again once the wait is over."
                if error.is_cooldown
                else " Check the options you gave and try again."
            )
            return f"Chastity Tracker says: {text}.{hint}"
        case Unauthorized():
            return (
                "Chastity Tracker refused your API token: it was revoked or regenerated. "
                + RECONNECT_HINT
            )
        case Forbidden():
            return (
                "Chastity Tracker did not allow that. Without `as_dom` you can only play on "
                "your own session. Playing as a dom (`as_dom:true`, or `/link play`) needs an "
                "active dom link with the session's owner on Chastity Tracker."
            )
        case NotFound():
            return (
                "Chastity Tracker found no such session or link. Check the session number "
                "or the link token."
            )
        case ServerError() | MalformedResponse() | MethodNotAllowed():
            return (
                "Chastity Tracker failed to give a usable answer. Check your session's "
                "history on Chastity Tracker before trying again."
            )
        case Redirected():
            return (
                "The bot could not reach Chastity Tracker at its configured address (the "
                "request was redirected). Nothing was played; please tell the bot's operator."
            )
        case NotSent():
            return "Chastity Tracker could not be reached. Nothing was sent; try again shortly."
        case OutcomeUnknown():
            return UNKNOWN_OUTCOME
    return "Chastity Tracker returned an unexpected error. Try again later."


# The same errors in a few words, for one line of /history. The ledger records an
# error by its class name, so the map is looked up by name.
_SUMMARIES: dict[str, str] = {
    ServerError.__name__: "Chastity Tracker failed",
    MalformedResponse.__name__: "Chastity Tracker's answer was unusable",
    NotSent.__name__: "Chastity Tracker could not be reached; nothing was sent",
    RateLimited.__name__: "Chastity Tracker was busy; nothing was played",
    InvalidRequest.__name__: "the request was not valid; nothing was sent",
    OutcomeUnknown.__name__: "no answer in time",
}


def summarize_error(kind: str) -> str:
    """A few words for the error class named ``kind``, as the ledger records it."""
    return _SUMMARIES.get(kind, "it failed")


def _shorten(text: str, limit: int = API_MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
