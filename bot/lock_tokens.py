"""Reading a public LINK token from what a member pastes: the token itself or a share URL.

Members copy whatever Chastity Tracker shows them, so this is liberal: a bare
token, a URL with the token in a query parameter (``?token=...``), or a URL
whose last path segment is the token. Errors never repeat the input, which
may be a secret typed into the wrong field.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import parse_qsl, unquote, urlsplit

from bot.error_messages import UserError
from bot.secrets import Secret

# Query parameters that may carry the token, most specific first.
_TOKEN_PARAMETERS: Final = ("token", "linktoken", "link_token", "link", "t", "code", "key")
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{8,128}")
# Path segments that name a page, not a token (``/link.php``, ``/vote``).
_PAGE: Final = re.compile(r".*\.(php|html?|aspx?)$", re.IGNORECASE)


class InvalidLinkToken(UserError):
    def __init__(self) -> None:
        super().__init__(
            "That does not look like a public LINK token or a share link containing one. "
            "Paste the token from the lock's LINK share link, or the whole link."
        )


def parse_link_token(text: str) -> Secret:
    """The token in ``text`` (a raw token or a share URL); raises :class:`InvalidLinkToken`."""
    text = text.strip().strip("<>").strip()
    if _TOKEN.fullmatch(text):
        return Secret(text)
    token = _token_in_url(text)
    if token is None:
        raise InvalidLinkToken()
    return Secret(token)


def _token_in_url(text: str) -> str | None:
    if "://" not in text and "/" not in text and "?" not in text:
        return None
    if "://" not in text:
        text = f"https://{text.lstrip('/')}"
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    parameters = {name.lower(): value for name, value in parse_qsl(parts.query)}
    for name in _TOKEN_PARAMETERS:
        value = parameters.get(name, "").strip()
        if _TOKEN.fullmatch(value):
            return value
    segments = [segment for segment in parts.path.split("/") if segment.strip()]
    # The token may follow a '#', or be the last path segment (never an earlier one).
    candidates = [parts.fragment, segments[-1] if segments else ""]
    for candidate in candidates:
        value = unquote(candidate).strip()
        if value and not _PAGE.fullmatch(value) and _TOKEN.fullmatch(value):
            return value
    return None
