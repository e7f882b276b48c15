"""/account connect | disconnect | status. Every reply is ephemeral."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions.replies import defer, reply_private
from bot.views.connect import ConnectForm
from cogs._options import LockName, lock_name_autocomplete

if TYPE_CHECKING:
    from bot.app import ChastityBot


class AccountCog(
    commands.GroupCog,
    group_name="account",
    group_description="Connect your Chastity Tracker account",
):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    @app_commands.command(description="Connect your Chastity Tracker account with an API token")
    async def connect(self, interaction: discord.Interaction[Any]) -> None:
        # A modal must be the first response, so nothing is awaited before it.
        await interaction.response.send_modal(ConnectForm(self.bot.actions, interaction.user.id))

    @app_commands.command(description="Delete your stored Chastity Tracker token")
    async def disconnect(self, interaction: discord.Interaction[Any]) -> None:
        await defer(interaction, private=True)
        if await self.bot.accounts.disconnect(interaction.user.id):
            text = (
                "Your Chastity Tracker token was deleted from this bot. To make sure it can "
                "never be used again, regenerate or revoke it on your Chastity Tracker "
                "profile page."
            )
        else:
            text = "You had no connected Chastity Tracker account, so there was nothing to delete."
        await reply_private(interaction, text)

    @app_commands.command(description="Show your connected account and current lock")
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        await self.bot.actions.status(interaction)

    @app_commands.command(
        description="Show your lock's live status on its panels (or stop with enabled:false)"
    )
    @app_commands.describe(
        lock="The lock registered on this server with you as its wearer",
        enabled="Share (default) or stop sharing",
    )
    @app_commands.autocomplete(lock=lock_name_autocomplete)
    async def share(
        self, interaction: discord.Interaction[Any], lock: LockName, enabled: bool = True
    ) -> None:
        await self.bot.insights.share(interaction, lock, enabled)


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(AccountCog(bot))
