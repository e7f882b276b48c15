"""The command options several cogs share, each defined once, with its autocomplete.

A helper module (its name starts with ``_``), not a cog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.ctapi import Choice
from bot.storage.locks import NAME_MAX_LENGTH

if TYPE_CHECKING:
    from bot.app import ChastityBot

# -- session ------------------------------------------------------------------------------

# `session` is an integer >= 1; Discord refuses smaller values before the bot sees them.
SessionId = app_commands.Range[int, 1]
SESSION_DESCRIPTION = "Session id on Chastity Tracker (suggested: your active and recent ones)"
OPTIONAL_SESSION_DESCRIPTION = (
    "Session id (suggested: your active and recent ones); optional if only one is active"
)
PRIVATE_DESCRIPTION = "Show the result only to you (default: posted in the channel)"


async def session_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """The member's active sessions and recent ones; answers in time even when Chastity
    Tracker is slow."""
    suggestions = await _bot(interaction).games.sessions.suggest(interaction.user.id, str(current))
    return [app_commands.Choice(name=s.name, value=s.value) for s in suggestions]


# -- choice -------------------------------------------------------------------------------

# Shown as "Add time", "Remove time", "Random"; sent as add, sub, rand.
CHOICE_OPTIONS: list[app_commands.Choice[str]] = [
    app_commands.Choice(name=choice.label, value=choice.value) for choice in Choice
]
CHOICE_DESCRIPTION = "Add time, remove time, or let chance decide"

# -- lock ---------------------------------------------------------------------------------

LockName = app_commands.Range[str, 1, NAME_MAX_LENGTH]


async def lock_name_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """The names of this server's locks that start with what was typed.

    Nothing for a member who may not use the command (the admin commands).
    """
    if interaction.guild_id is None or not _may_use(interaction):
        return []
    names = await _bot(interaction).locks.names_like(interaction.guild_id, current)
    return [app_commands.Choice(name=name, value=name) for name in names]


def _may_use(interaction: discord.Interaction[Any]) -> bool:
    command = interaction.command
    if not isinstance(command, app_commands.Command):
        return False
    needed = (command.root_parent or command).default_permissions
    return needed is None or needed <= interaction.permissions


def _bot(interaction: discord.Interaction[Any]) -> ChastityBot:
    return cast("ChastityBot", interaction.client)
