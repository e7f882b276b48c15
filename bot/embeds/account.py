"""The /account status embed."""

from __future__ import annotations

import discord

from bot.ctapi import Stats
from bot.embeds.format import discord_when
from bot.storage.accounts import Account


def account_status_embed(
    account: Account, stats: Stats | None, *, stats_problem: str | None = None
) -> discord.Embed:
    """Who the member is connected as, since when, and their current lock."""
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
    if stats_problem:
        embed.add_field(name="Current lock", value=stats_problem, inline=False)
    return embed
