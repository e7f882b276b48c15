"""/account connect | disconnect | status. Every reply is ephemeral."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.ctapi import (
    ChastityTrackerError,
    Forbidden,
    InvalidRequest,
    NotSent,
    OutcomeUnknown,
    Unauthorized,
)
from bot.embeds.account import account_status_embed
from bot.error_messages import RECONNECT_HINT, UserError
from bot.interaction_errors import handle_interaction_error
from bot.replies import defer, reply_private
from bot.secrets import Secret

if TYPE_CHECKING:
    from bot.app import ChastityBot

FORM_TIMEOUT = 15 * 60.0
CONNECT_REFUSED = (
    "Chastity Tracker refused that token, so nothing was stored. Copy the whole API token "
    "from your Chastity Tracker profile page (it is shown only once; create a new one if "
    "needed) and try `/account connect` again."
)
MALFORMED_INPUT = (
    "That is not an API token (it contains spaces or characters a token cannot have), so "
    "nothing was stored. Copy the token alone from your Chastity Tracker profile page and "
    "try `/account connect` again."
)
UNREACHABLE = (
    "Chastity Tracker could not be reached to check your token, so nothing was stored. "
    "Please try again in a few minutes."
)


class ConnectForm(discord.ui.Modal, title="Connect Chastity Tracker"):
    token: discord.ui.TextInput[ConnectForm] = discord.ui.TextInput(
        label="API token",
        placeholder="Paste the API token from your Chastity Tracker profile page",
        custom_id="account:connect:token",
        min_length=8,
        max_length=200,
    )

    def __init__(self, bot: ChastityBot, member_id: int) -> None:
        # discord.py routes a submit to the one open form registered under its
        # custom_id, and a submit or timeout forgets that form. Each opening gets
        # its own id, so a crowd connecting at once never shares (or loses) a form.
        custom_id = f"account:connect:{member_id}:{secrets.token_hex(8)}"
        # A form left open is dropped after a while rather than kept forever.
        super().__init__(custom_id=custom_id, timeout=FORM_TIMEOUT)
        self.bot = bot
        self.member_id = member_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        # Only the member the form was opened for can submit it.
        return interaction.user.id == self.member_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        token = Secret(self.token.value.strip())
        # Done with the form: discord.py keeps it (and the typed token) until it is
        # stopped, which it does by itself only after a submit that raised nothing.
        self.stop()
        # Checking the token calls Chastity Tracker: flood control comes first.
        self.bot.flood.check(interaction.user.id, self.bot.clock())
        # The token check is a network call: acknowledge first (3-second window).
        await defer(interaction, private=True)
        try:
            stats = await self.bot.accounts.connect(interaction.user.id, token)
        except (Unauthorized, Forbidden):
            raise UserError(CONNECT_REFUSED) from None
        except InvalidRequest:
            raise UserError(MALFORMED_INPUT) from None
        except ChastityTrackerError:
            raise UserError(UNREACHABLE) from None
        await reply_private(
            interaction,
            f"Connected as {discord.utils.escape_markdown(stats.nick)}. "
            "Your token is stored encrypted; `/account disconnect` deletes it.",
        )

    # discord.py types Modal.on_error through View's signature; Modal's own takes no item.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await handle_interaction_error(interaction, error)


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
        await interaction.response.send_modal(ConnectForm(self.bot, interaction.user.id))

    @app_commands.command(description="Delete your stored Chastity Tracker token")
    async def disconnect(self, interaction: discord.Interaction[Any]) -> None:
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
        accounts = self.bot.accounts
        account = await accounts.get(interaction.user.id)
        if account is None:
            await reply_private(
                interaction,
                "You are not connected. Use `/account connect` with an API token from your "
                "Chastity Tracker profile page.",
            )
            return
        if account.needs_reconnect:
            await reply_private(
                interaction,
                embed=account_status_embed(
                    account, None, stats_problem="Your token was refused. " + RECONNECT_HINT
                ),
            )
            return
        # The lock comes from Chastity Tracker: flood control comes first.
        self.bot.flood.check(interaction.user.id, self.bot.clock())
        await defer(interaction, private=True)
        problem = None
        stats = None
        try:
            stats = await self.bot.api.stats(await accounts.bearer(interaction.user.id))
        except Unauthorized:
            await accounts.token_refused(interaction.user.id)
            problem = "Your token was refused (revoked or regenerated). " + RECONNECT_HINT
        except (NotSent, OutcomeUnknown):
            problem = "Chastity Tracker could not be reached; try again later."
        except ChastityTrackerError:
            problem = "Chastity Tracker failed to answer; try again later."
        await reply_private(
            interaction, embed=account_status_embed(account, stats, stats_problem=problem)
        )


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(AccountCog(bot))
