"""The /account status embed."""

from __future__ import annotations

import discord

from bot.accounts import LiveStats, StatsProblem
from bot.embeds.format import discord_when
from bot.error_messages import RECONNECT_HINT
from bot.storage.accounts import Account

_PROBLEMS = {
    StatsProblem.REFUSED_EARLIER: "Your token was refused. " + RECONNECT_HINT,
    StatsProblem.REFUSED_NOW: "Your token was refused (revoked or regenerated). " + RECONNECT_HINT,
    StatsProblem.UNREACHABLE: "Chastity Tracker could not be reached; try again later.",
    StatsProblem.FAILED: "Chastity Tracker failed to answer; try again later.",
}


def account_status_embed(account: Account, live: LiveStats) -> discord.Embed:
    """Who the member is connected as, since when, and their current lock."""
    stats = live.stats
    nick = stats.nick if stats is not None else account.nick
    embed = discord.Embed(title="Chastity Tracker account", colour=discord.Colour.blurple())
    embed.add_field(name="Connected as", value=discord.utils.escape_markdown(nick))
    embed.add_field(
        name="Since",
        value=discord_when(account.connected_at),
    )
    if stats is not None:
        if stats.locked:
            end = discord_when(stats.scheduled_end) if stats.scheduled_end else "not set"
            lock = f"Locked. Scheduled end: {end}"
            if stats.current_lock_time:
                lock += f"\nLocked for {stats.current_lock_time}"
        else:
            lock = "Not locked"
        embed.add_field(name="Current lock", value=lock, inline=False)
    if live.problem is not None:
        embed.add_field(name="Current lock", value=_PROBLEMS[live.problem], inline=False)
    return embed
