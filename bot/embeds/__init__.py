"""Discord embeds built from API results: pure functions, no I/O."""

from bot.embeds.format import discord_time, discord_when, format_duration
from bot.embeds.results import Actor, Member, result_embed

__all__ = ["Actor", "Member", "discord_time", "discord_when", "format_duration", "result_embed"]
