"""The /account messages: connected, and the status embed."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final

import discord

from bot.accounts import LiveStats, StatsProblem
from bot.embeds.format import discord_when, format_duration
from bot.embeds.style import NEUTRAL_COLOUR
from bot.error_messages import RECONNECT_HINT
from bot.storage.accounts import Account

_PROBLEMS = {
    StatsProblem.REFUSED_EARLIER: "❌ Your token was refused. " + RECONNECT_HINT,
    StatsProblem.REFUSED_NOW: "❌ Your token was refused (revoked or regenerated). "
    + RECONNECT_HINT,
    StatsProblem.UNREACHABLE: "🔌 Chastity Tracker could not be reached; try again later.",
    StatsProblem.FAILED: "🔌 Chastity Tracker failed to answer; try again later.",
}


_API_UNITS: Final = {"day": 86400, "hour": 3600, "minute": 60, "second": 1}
_API_PART: Final = re.compile(r"(\d+)\s*([a-z]+?)s?\b")


def _locked_for(start: datetime | None, api_text: str | None, now: datetime) -> str | None:
    """How long the lock has lasted, in the bot's own format ("17 d 3 h 12 min").

    From the lock's start when shown, else from the API's words ("17 days 3 hours
    12 minutes"); a text with months (of no fixed length) stays as the API said it.
    """
    if start is not None:
        return format_duration(max(0, int((now - start).total_seconds())))
    if not api_text:
        return None
    parts = _API_PART.findall(api_text.lower())
    if not parts or any(unit not in _API_UNITS for _, unit in parts):
        return discord.utils.escape_markdown(api_text)
    return format_duration(sum(int(amount) * _API_UNITS[unit] for amount, unit in parts))


def connected_text(nick: str) -> str:
    return (
        f"✅ Connected as **{discord.utils.escape_markdown(nick)}**. Your token is stored "
        "encrypted; `/account disconnect` deletes it.\nNext: try `/dice`."
    )


def account_status_embed(
    account: Account, live: LiveStats, now: datetime, sessions: Sequence[int] | None = None
) -> discord.Embed:
    """Who the member is connected as, since when, their current lock and active sessions.

    ``sessions`` are the active session ids (None: not known right now).
    """
    stats = live.stats
    nick = stats.nick if stats is not None else account.nick
    embed = discord.Embed(title="Chastity Tracker account", colour=NEUTRAL_COLOUR)
    embed.add_field(name="Connected as", value=discord.utils.escape_markdown(nick))
    embed.add_field(name="Since", value=discord_when(account.connected_at))
    if stats is not None:
        if stats.locked:
            end = discord_when(stats.scheduled_end) if stats.scheduled_end else "not set"
            lock = f"🔒 Locked · ends {end}"
            locked_for = _locked_for(stats.current_lock_start, stats.current_lock_time, now)
            if locked_for:
                lock += f"\nLocked for {locked_for}"
        else:
            lock = "🔓 Not locked"
        embed.add_field(name="Current lock", value=lock, inline=False)
    if sessions is not None:
        listed = ", ".join(f"#{session}" for session in sessions[:20]) or "none"
        if len(sessions) > 20:
            listed += f" and {len(sessions) - 20} more"
        embed.add_field(name="Active sessions", value=listed, inline=False)
    if live.problem is not None:
        embed.add_field(name="Current lock", value=_PROBLEMS[live.problem], inline=False)
    return embed
