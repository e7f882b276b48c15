"""/help: a quick start, the commands, and a page per topic, shown only to the member."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds.help import help_pages
from bot.interactions.replies import reply
from bot.views.pages import Pages

if TYPE_CHECKING:
    from bot.app import ChastityBot


class Help(commands.Cog):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="How to use this bot")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        view = Pages(
            member_id=interaction.user.id, pages=help_pages(self.bot.command_ids), mode="tabs"
        )
        view.message = await reply(interaction, embed=view.first, view=view, private=True)


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Help(bot))
