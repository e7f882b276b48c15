"""What can go wrong when talking to Chastity Tracker, as a typed hierarchy.

Messages never contain a bearer or link token: the API's own message is
scrubbed of any known secret before it is kept.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from bot.secrets import scrub

Refusal = Literal["cooldown", "invalid", "unclear"]

# The contract documents no error codes and no wording: a cooldown is one of the
# things a 400 may mean ("Validation error (missing fields, cooldown, etc.)"). So
# a code like VALIDATION_ERROR says nothing either way, and the cause is read from
# phrases that name it. Loose words are not enough: "try again later" or "please
# wait" fit a malformed request as well as a cooldown.
_COOLDOWN_CODE: Final = re.compile(
    r"COOL_?DOWN|ALREADY_?(?:VOTED|PLAYED)|TOO_?(?:SOON|EARLY|OFTEN)|(?:^|_)WAIT(?:$|_)"
)
_COOLDOWN_TEXT: Final = re.compile(
    r"\bcool[\s-]?down"
    r"|\balready\s+(?:voted|played|cast)"
    r"|\b(?:vote|play|roll|use)\w*\s+(?:it\s+)?again\s+(?:in|after|at|on|from|tomorrow)\b"
    r"|\bwait(?:ing)?\s+(?:\d|for\s+\d|until\b|before\b|an?\s+(?:hour|minute|day)\b)"
    r"|\btoo\s+(?:soon|early|often)\b"
    r"|\b(?:vote|play)\w*\s+(?:only\s+)?once\b|\bonly\s+once\b|\bonce\s+(?:ever|per|every)\b",
    re.IGNORECASE,
)
_INVALID_CODE: Final = re.compile(
    r"INVALID|MISSING|REQUIRED|MALFORMED|JSON|CONTENT_?TYPE|DISABLED|INACTIVE|NOT_?ACTIVE"
)
_INVALID_TEXT: Final = re.compile(
    r"\b(?:invalid|missing|required|malformed|not\s+valid|must\s+be|not\s+enabled|disabled"
    r"|not\s+active|inactive|no\s+scheduled\s+end|json|content-type|unknown\s+(?:field|game|type))\b",
    re.IGNORECASE,
)


class ChastityTrackerError(Exception):
    """Base of every client error."""


class InvalidRequest(ChastityTrackerError):
    """The request breaks a rule of the contract; it was not sent."""


class APIError(ChastityTrackerError):
    """Chastity Tracker answered with an error envelope (or an error status)."""

    status: int

    def __init__(self, status: int, code: str | None, message: str | None) -> None:
        self.status = status
        self.code = scrub(code) if code else None
        self.message = scrub(message) if message else None
        super().__init__(f"HTTP {status} {self.code or '-'}: {self.message or 'no message'}")


class BadRequest(APIError):
    """400: validation error or cooldown; `message` is the API's own text."""

    @property
    def refusal(self) -> Refusal:
        """Why, as far as the answer tells: ``cooldown`` or ``invalid`` only when its
        code or message names that cause and nothing names the other; else ``unclear``."""
        code = (self.code or "").upper()
        text = self.message or ""
        cooldown = bool(_COOLDOWN_CODE.search(code) or _COOLDOWN_TEXT.search(text))
        invalid = bool(_INVALID_CODE.search(code) or _INVALID_TEXT.search(text))
        if cooldown == invalid:
            return "unclear"
        return "cooldown" if cooldown else "invalid"

    @property
    def is_cooldown(self) -> bool:
        """The refusal is known to be a cooldown (a wait, or a vote already cast)."""
        return self.refusal == "cooldown"

    @property
    def may_be_cooldown(self) -> bool:
        """The refusal is a cooldown, or the answer does not say what it is."""
        return self.refusal != "invalid"


class Unauthorized(APIError):
    """401: the bearer token is missing, revoked or regenerated."""


class Forbidden(APIError):
    """403: the token's user is not the session owner / not its dom."""


class NotFound(APIError):
    """404: the session or link token does not exist."""


class MethodNotAllowed(APIError):
    """405: wrong HTTP method (a bug on our side)."""


class Redirected(APIError):
    """3xx: Chastity Tracker sent the request elsewhere; it was not followed.

    The site answers 301 to a request that is not HTTPS, so this is nearly
    always a base URL that needs ``https://``. Nothing was applied; following
    the redirect would resend a game POST (as a GET) after the token already
    went out once.
    """

    def __init__(self, status: int, location: str | None) -> None:
        where = f"to {location}" if location else "elsewhere"
        super().__init__(
            status,
            "REDIRECT",
            f"Chastity Tracker redirected the request {where}; "
            "the configured base URL should be that address",
        )
        self.location = location


class RateLimited(APIError):
    """429: too many requests; `retry_after` seconds when the server said."""

    def __init__(
        self, status: int, code: str | None, message: str | None, retry_after: float | None
    ) -> None:
        super().__init__(status, code, message)
        self.retry_after = retry_after


class ServerError(APIError):
    """5xx: Chastity Tracker failed."""


class ServerErrorPage(ServerError):
    """5xx without the API's envelope: a proxy's or the web server's own error page.

    A 502, 503 or 504 from a proxy in front of the site can come after the
    request was carried out, so for a game action the outcome is unknown (as
    with a timeout), never "failed". A 5xx in the API's own envelope is the
    API's own word and stays a definite :class:`ServerError`.
    """


class MalformedResponse(ChastityTrackerError):
    """The answer was not the v2 envelope (not JSON, an HTML page, missing fields)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(f"malformed answer (HTTP {status}): {reason}")


class TransportError(ChastityTrackerError):
    """No usable answer arrived."""


class NotSent(TransportError):
    """The request never left: the connection could not be made. Safe to retry."""


class OutcomeUnknown(TransportError):
    """Timeout or connection lost after the request may have reached the server.

    For a game action this means it may or may not have been applied; it is
    never retried automatically.
    """


def error_for_code(status: int, code: str | None, message: str | None) -> APIError:
    """An error envelope under a success status (HTTP 200 with ``ok: false``).

    The status says nothing, so the error's ``code`` picks the kind; the codes
    are not documented, so only plain names are recognised, and anything else
    is a refusal (BadRequest), which still carries the API's own message.
    """
    name = (code or "").upper()
    if "RATE" in name or "TOO_MANY" in name:
        return RateLimited(status, code, message, None)
    if "UNAUTHORI" in name or "TOKEN" in name:
        return Unauthorized(status, code, message)
    if "FORBIDDEN" in name or "PERMISSION" in name:
        return Forbidden(status, code, message)
    if "NOT_FOUND" in name:
        return NotFound(status, code, message)
    if "INTERNAL" in name or "SERVER" in name:
        return ServerError(status, code, message)
    return BadRequest(status, code, message)


def error_for_status(status: int, code: str | None, message: str | None) -> APIError:
    kinds: dict[int, type[APIError]] = {
        400: BadRequest,
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
        405: MethodNotAllowed,
    }
    if status >= 500:
        return ServerError(status, code, message)
    return kinds.get(status, APIError)(status, code, message)
