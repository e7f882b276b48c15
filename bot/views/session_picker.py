"""A short-lived "which session?" menu: the member picks one and the play goes on."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final

import discord

from bot.interactions.errors import handle_interaction_error

log = logging.getLogger(__name__)

OnPick = Callable[[discord.Interaction[Any], int], Awaitable[None]]
PICK_TIMEOUT: Final = 300.0
MAX_OPTIONS: Final = 25  # Discord's limit for one select menu
EXPIRED: Final = "⏳ This choice expired; run the command again with `session`."


class SessionPicker(discord.ui.View):
    """One select menu of candidate sessions, for one member and one opening.

    ``options`` are (session id, label) pairs; the first pick runs ``on_pick``,
    which must answer the interaction.
    """

    def __init__(
        self,
        *,
        member_id: int,
        options: Sequence[tuple[int, str]],
        on_pick: OnPick,
        timeout: float = PICK_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        self.member_id = member_id
        self._on_pick = on_pick
        self._picked = False
        # The message showing this menu, to mark it expired or picked.
        self.message: discord.Message | None = None
        # One member's and one opening's: members picking at once never share a menu.
        self.menu: discord.ui.Select[SessionPicker] = discord.ui.Select(
            custom_id=f"session-pick:{member_id}:{secrets.token_hex(8)}",
            placeholder="Choose the session to play on",
            options=[
                discord.SelectOption(label=label[:100], value=str(session_id))
                for session_id, label in options[:MAX_OPTIONS]
            ],
        )
        self.menu.callback = self._picked_one  # type: ignore[method-assign]
        self.add_item(self.menu)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.member_id:
            await interaction.response.send_message(
                "❌ This menu is for someone else.", ephemeral=True
            )
            return False
        return True

    async def _picked_one(self, interaction: discord.Interaction[Any]) -> None:
        if self._picked:
            await interaction.response.send_message("❌ Already chosen.", ephemeral=True)
            return
        self._picked = True
        self.stop()
        session = int(self.menu.values[0])
        try:
            await self._on_pick(interaction, session)
        finally:
            await self._settle(f"Session #{session} chosen.")

    async def on_timeout(self) -> None:
        if not self._picked:
            await self._settle(EXPIRED)

    async def _settle(self, text: str) -> None:
        """Replace the menu by ``text``: it can be used once."""
        if self.message is None:
            return
        try:
            await self.message.edit(content=text, view=None)
        except discord.HTTPException as error:
            log.info("Could not close a session menu: %s", error)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)
