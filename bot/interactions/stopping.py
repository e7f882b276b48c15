"""Interactions that arrive while the bot is stopping: answered at once, never started.

Commands (and their autocomplete) are turned away by the command tree's own
check, before any option is read; buttons and forms reach
:class:`bot.interactions.actions.MemberActions`, whose gate refuses them with
:class:`bot.stopping.Restarting` before anything is acknowledged.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, cast

import discord
from discord import app_commands

from bot.stopping import RESTARTING, WorkGate

log = logging.getLogger(__name__)


class _GateHost(Protocol):
    gate: WorkGate


class GatedCommandTree(app_commands.CommandTree[Any]):
    """The bot's command tree: no command starts once the bot is stopping."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        if not cast("_GateHost", self.client).gate.closed:
            return True
        try:
            if interaction.type is discord.InteractionType.autocomplete:
                await interaction.response.autocomplete([])
            else:
                await interaction.response.send_message(RESTARTING, ephemeral=True)
        except discord.HTTPException as error:
            log.info("Could not tell a member the bot is restarting: %s", error)
        return False
