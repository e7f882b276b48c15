"""/history: the member's recent plays and votes through the bot (ephemeral)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds.history import history_pages
from bot.interactions.replies import defer, reply, reply_private
from bot.views.pages import Pages

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
        pages = history_pages(recent.entries, recent.lock_names)
        if len(pages) == 1:
            await reply_private(interaction, embed=pages[0])
            return
        view = Pages(member_id=interaction.user.id, pages=[("", page) for page in pages])
        view.message = await reply(interaction, embed=view.first, view=view, private=True)


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(History(bot))
