"""A short-lived Confirm / Cancel dialog shown only to the member who must decide."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.interactions.errors import handle_interaction_error

log = logging.getLogger(__name__)

OnConfirm = Callable[[discord.Interaction[Any]], Awaitable[None]]
CONFIRM_TIMEOUT = 120.0
CANCELLED = "Cancelled. Nothing was sent to Chastity Tracker."
EXPIRED = "This confirmation expired. Nothing was sent to Chastity Tracker."


class ConfirmDialog(discord.ui.View):
    """Confirm runs ``on_confirm`` once (it must answer the click); Cancel sends nothing."""

    def __init__(
        self,
        *,
        member_id: int,
        on_confirm: OnConfirm,
        confirm_label: str = "Confirm",
        timeout: float | None = None,
    ) -> None:
        super().__init__(timeout=CONFIRM_TIMEOUT if timeout is None else timeout)
        self.member_id = member_id
        self._on_confirm = on_confirm
        self._decided = False
        # The interaction whose response shows this dialog, to mark it expired.
        self.origin: discord.Interaction[Any] | None = None
        self.confirm.label = confirm_label
        # Each dialog is one member's and one opening's: its buttons carry both, so
        # many members deciding at once never reach each other's dialog.
        key = f"confirm:{member_id}:{secrets.token_hex(8)}"
        self.confirm.custom_id = f"{key}:yes"
        self.cancel.custom_id = f"{key}:no"

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.member_id:
            await interaction.response.send_message(
                "This question is for someone else.", ephemeral=True
            )
            return False
        return True

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        if not self._decide():
            await interaction.response.send_message("Already answered.", ephemeral=True)
            return
        await self._on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        if not self._decide():
            await interaction.response.send_message("Already answered.", ephemeral=True)
            return
        await interaction.response.edit_message(content=CANCELLED, embed=None, view=None)

    def _decide(self) -> bool:
        # Button callbacks run one at a time per click, but two clicks can both be
        # in flight: only the first one decides.
        if self._decided:
            return False
        self._decided = True
        self.stop()
        return True

    async def on_timeout(self) -> None:
        if self._decided or self.origin is None:
            return
        try:
            await self.origin.edit_original_response(content=EXPIRED, view=None)
        except discord.HTTPException as error:
            log.info("Could not mark a confirmation as expired: %s", error)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)
