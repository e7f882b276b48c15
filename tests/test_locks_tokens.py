"""Reading a public LINK token from a raw token or a share URL."""

from __future__ import annotations

import pytest

from bot.lock_tokens import InvalidLinkToken, parse_link_token

TOKEN = "AbCdEf123456GhIj"


@pytest.mark.parametrize(
    "text",
    [
        TOKEN,
        f"  {TOKEN}\n",
        f"https://www.chastitytracker.org/link.php?token={TOKEN}",
        f"https://www.chastitytracker.org/link.php?lang=en&TOKEN={TOKEN}",
        f"https://www.chastitytracker.org/link/{TOKEN}",
        f"https://www.chastitytracker.org/link/{TOKEN}/",
        f"www.chastitytracker.org/vote/{TOKEN}",
        f"<https://www.chastitytracker.org/link.php?t={TOKEN}>",
        f"https://www.chastitytracker.org/link.php#{TOKEN}",
    ],
)
def test_accepts_a_token_or_a_share_url(text: str) -> None:
    assert parse_link_token(text).reveal() == TOKEN


@pytest.mark.parametrize(
    "text",
    [
        "",
        "short",
        "has spaces in it",
        "https://www.chastitytracker.org/link.php",
        "https://www.chastitytracker.org/",
        "https://www.chastitytracker.org/link.php?token=no!",
        "token=" + "x" * 200,
    ],
)
def test_refuses_anything_else_without_echoing_it(text: str) -> None:
    with pytest.raises(InvalidLinkToken) as raised:
        parse_link_token(text)
    if text:
        assert text not in str(raised.value)
