"""The /account connect form: one member's API token, typed into a modal."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

import discord

from bot.interactions.errors import handle_interaction_error
from bot.secrets import Secret

if TYPE_CHECKING:
    from bot.interactions.actions import MemberActions

FORM_TIMEOUT = 15 * 60.0


class ConnectForm(discord.ui.Modal, title="Connect Chastity Tracker"):
    token: discord.ui.TextInput[ConnectForm] = discord.ui.TextInput(
        label="API token",
        placeholder="Paste the API token from your Chastity Tracker profile page",
        custom_id="account:connect:token",
        min_length=8,
        max_length=200,
    )

    def __init__(self, actions: MemberActions, member_id: int) -> None:
        # discord.py routes a submit to the one open form registered under its
        # custom_id, and a submit or timeout forgets that form. Each opening gets
        # its own id, so a crowd connecting at once never shares (or loses) a form.
        custom_id = f"account:connect:{member_id}:{secrets.token_hex(8)}"
        # A form left open is dropped after a while rather than kept forever.
        super().__init__(custom_id=custom_id, timeout=FORM_TIMEOUT)
        self._actions = actions
        self.member_id = member_id

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        # Only the member the form was opened for can submit it.
        return interaction.user.id == self.member_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        token = Secret(self.token.value.strip())
        # Done with the form: discord.py keeps it (and the typed token) until it is
        # stopped, which it does by itself only after a submit that raised nothing.
        self.stop()
        await self._actions.connect(interaction, token)

    # discord.py types Modal.on_error through View's signature; Modal's own takes no item.
    async def on_error(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        await handle_interaction_error(interaction, error)
