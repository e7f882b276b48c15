"""/history: the member's recent plays and votes through the bot (ephemeral)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds.history import history_embed
from bot.interactions.replies import defer, reply_private

if TYPE_CHECKING:
    from bot.app import ChastityBot


class History(commands.Cog):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="history", description="Your recent plays and votes through this bot"
    )
    async def history(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction, private=True)
        recent = await self.bot.history.recent(interaction.user.id)
        await reply_private(interaction, embed=history_embed(recent.entries, recent.lock_names))


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(History(bot))
