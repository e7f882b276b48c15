"""Text formatting shared by every embed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import discord

_UNITS = (("d", 86400), ("h", 3600), ("min", 60), ("s", 1))


def format_duration(seconds: int) -> str:
    """A readable duration: 7500 -> "2 h 5 min". Seconds are shown only under an hour."""
    seconds = abs(int(seconds))
    if seconds == 0:
        return "0 s"
    # Past an hour, seconds are noise; below it they are the point.
    units = _UNITS if seconds < 3600 else _UNITS[:-1]
    parts: list[str] = []
    for name, size in units:
        amount, seconds = divmod(seconds, size)
        if amount:
            parts.append(f"{amount} {name}")
    return " ".join(parts)


def discord_time(moment: datetime, style: Literal["F", "R", "f", "D", "t"] = "F") -> str:
    """A Discord timestamp tag: every reader sees it in their own time zone."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def discord_when(moment: datetime) -> str:
    """Full date and time plus "in 3 days": the pair every timestamp field shows."""
    return f"{discord_time(moment, 'F')} ({discord_time(moment, 'R')})"


def escape_name(name: str) -> str:
    """A name members chose (a lock's), shown as plain text: no markdown, masked link,
    header, list, mention or custom emoji can act."""
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(name))
    text = text.replace("<", "\\<")
    if text[:1] in {"#", "-", "+"}:
        text = "\\" + text
    return text


def signed_duration(seconds: int, *, added: bool) -> str:
    """ "+2 h 5 min" or "−2 h 5 min" (a true minus sign): the amount with its direction."""
    return f"{'+' if added else '−'}{format_duration(seconds)}"


def format_multiplier(multiplier: float) -> str:
    """ "×1.25", "×1.1", "×1": at most two decimals, no trailing zeros."""
    text = f"{multiplier:.2f}".rstrip("0").rstrip(".")
    return f"×{text}"


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
