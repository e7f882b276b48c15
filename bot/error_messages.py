"""The one mapping from errors to what a member reads.

Cogs raise (or let through) typed errors; the central handler asks
:func:`describe_error` for the text. Nothing here ever includes a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from discord.utils import escape_markdown

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
    Refusal,
    ServerError,
    ServerErrorPage,
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
    """Chastity Tracker refused an anonymous vote for cooldown, or for a reason it did not name.

    Every anonymous vote sent by the bot comes from the bot's one address, and
    the API counts anonymous votes per address: one member's anonymous vote
    uses up the window for everyone voting anonymously through the bot. The API's
    answer does not always say that this was the reason (``certain``); then the
    explanation is given as a possibility, never as a fact.
    """

    def __init__(self, api_message: str | None, *, certain: bool = True) -> None:
        said = f"Chastity Tracker says: {_said(api_message)}. " if api_message else ""
        if certain:
            why = (
                "Anonymous votes reach Chastity Tracker from this bot's one address, and "
                "Chastity Tracker counts anonymous votes per address: all anonymous votes "
                "through the bot share **one vote per lock and cooldown window**, and it has "
                "been used. Two ways to vote anyway: "
            )
        else:
            why = (
                "If that means a vote was already cast: anonymous votes reach Chastity "
                "Tracker from this bot's one address, and Chastity Tracker counts anonymous "
                "votes per address, so all anonymous votes through the bot share **one vote "
                "per lock and cooldown window**, which another member may have used. Two ways "
                "to vote anyway: "
            )
        super().__init__(
            f"{said}{why}connect your own account with `/account connect` (your vote then "
            "counts as yours), or join a community poll on this lock, where the bot casts "
            "one vote for the members' winning choice."
        )


RECONNECT_HINT = (
    "Create a new API token on your Chastity Tracker profile page, then run "
    "`/account connect` again."
)
# Every message starts with one of these, so its kind shows before a word is read.
REFUSED: Final = "❌"
WAIT: Final = "⏳"
OUTCOME_UNKNOWN: Final = "⚠️"
UNREACHABLE: Final = "🔌"
PREFIXES: Final = (REFUSED, WAIT, OUTCOME_UNKNOWN, UNREACHABLE, "❔")
# The longest API message shown as it is; longer ones are cut.
API_MESSAGE_LIMIT = 500
CHECK_HISTORY = (
    "• Check `/history` or the session's history on Chastity Tracker before trying again."
)
UNKNOWN_OUTCOME = (
    f"{OUTCOME_UNKNOWN} Chastity Tracker's answer never arrived, so your action **may or may "
    f"not** have happened.\n{CHECK_HISTORY}"
)


def with_prefix(text: str, prefix: str = REFUSED) -> str:
    """``text`` with its kind's icon in front, unless it already has one."""
    return text if text.startswith(PREFIXES) else f"{prefix} {text}"


SERVER_ERROR_PAGE = (
    f"{OUTCOME_UNKNOWN} Chastity Tracker answered with a server error page (HTTP {{status}}), "
    "which can come after the action was carried out: it **may or may not** have happened."
    f"\n{CHECK_HISTORY}"
)


def describe_error(error: BaseException) -> str | None:
    """The member-facing text for a known error, or None for an unexpected one."""
    if isinstance(error, UserError):
        return with_prefix(str(error))
    if isinstance(error, ChastityTrackerError):
        return describe_api_error(error)
    return None


def describe_api_error(error: ChastityTrackerError) -> str:
    # Order matters: RateLimited is an APIError subclass, checked before the generic ones.
    match error:
        case InvalidRequest():
            return f"{REFUSED} That request is not valid: {error}. Nothing was sent."
        case RateLimited():
            wait = (
                f"in {format_duration(round(error.retry_after))}"
                if error.retry_after
                else "in a minute"
            )
            return f"{WAIT} Chastity Tracker is busy: nothing was played. Try again {wait}."
        case BadRequest():
            icon = WAIT if error.is_cooldown else REFUSED
            return (
                f"{icon} Chastity Tracker says: {_said(error.message)}.\n"
                f"{_REFUSAL_HINTS[error.refusal]}"
            )
        case Unauthorized():
            return (
                f"{REFUSED} Chastity Tracker refused your API token: it was revoked or "
                f"regenerated.\n• {RECONNECT_HINT}"
            )
        case Forbidden():
            return (
                f"{REFUSED} Chastity Tracker did not allow that: without `as_dom` you can only "
                "play on your own session.\n• Playing as a dom (`as_dom:true`, or `/link play`) "
                "needs an active dom link with the session's owner on Chastity Tracker."
            )
        case NotFound():
            return (
                f"{REFUSED} Chastity Tracker found no such session or link.\n"
                "• Check the session number or the link token."
            )
        case ServerErrorPage():
            return SERVER_ERROR_PAGE.format(status=error.status)
        case ServerError():
            status = f" (HTTP {error.status})" if error.status else ""
            return (
                f"{REFUSED} Chastity Tracker failed{status} and said so in its own answer: "
                "it did not carry the request out.\n• Try again in a few minutes."
            )
        case MalformedResponse():
            return (
                f"{OUTCOME_UNKNOWN} Chastity Tracker's answer could not be read, so your action "
                f"**may or may not** have happened.\n{CHECK_HISTORY}"
            )
        case MethodNotAllowed():
            return (
                f"{UNREACHABLE} Chastity Tracker refused the bot's request (HTTP 405): nothing "
                "was played.\n• Please tell the bot's operator."
            )
        case Redirected():
            return (
                f"{UNREACHABLE} The bot could not reach Chastity Tracker at its configured "
                "address (the request was redirected): nothing was played.\n"
                "• Please tell the bot's operator."
            )
        case NotSent():
            return (
                f"{UNREACHABLE} Chastity Tracker could not be reached: nothing was sent.\n"
                "• Try again in a few minutes."
            )
        case OutcomeUnknown():
            return UNKNOWN_OUTCOME
    return f"{REFUSED} Chastity Tracker returned an unexpected error. Try again later."


# The same errors in a few words, for one line of /history. The ledger records an
# error by its class name, so the map is looked up by name.
_SUMMARIES: dict[str, str] = {
    ServerError.__name__: "Chastity Tracker failed",
    ServerErrorPage.__name__: "outcome unknown: Chastity Tracker answered with an error page",
    MalformedResponse.__name__: "Chastity Tracker's answer was unusable",
    NotSent.__name__: "Chastity Tracker could not be reached; nothing was sent",
    RateLimited.__name__: "Chastity Tracker was busy; nothing was played",
    InvalidRequest.__name__: "the request was not valid; nothing was sent",
    OutcomeUnknown.__name__: "the answer never arrived",
}


def summarize_error(kind: str) -> str:
    """A few words for the error class named ``kind``, as the ledger records it."""
    return _SUMMARIES.get(kind, "it failed")


# What follows the API's message on a 400. Only a refusal that says it is a
# cooldown is called one, and no end of the wait is promised: a LINK vote may
# be allowed once ever.
_REFUSAL_HINTS: Final[Mapping[Refusal, str]] = {
    "cooldown": "• Chastity Tracker limits how often a game can be played and how often "
    "each voter can vote on a lock.",
    "invalid": "• Check the options you gave and try again.",
    "unclear": "• If that is a waiting time between plays or votes, try again once it is "
    "over; otherwise check the options you gave.",
}


def _said(message: str | None) -> str:
    """The API's own message, without its full stop, cut to fit in a Discord message."""
    return _cut(message or "it refused the request").rstrip(".")


def said(message: str) -> str:
    """The API's own message as members read it anywhere: cut, markdown inert."""
    return escape_markdown(_said(message))


def shorten(text: str | None, limit: int = API_MESSAGE_LIMIT) -> str | None:
    """``text`` cut to ``limit`` characters: an API message shown to members never
    makes a Discord message too long, wherever it is shown."""
    return None if text is None else _cut(text, limit)


def _cut(text: str, limit: int = API_MESSAGE_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
