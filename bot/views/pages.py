"""Pages of embeds in one private message: ◀ ▶ buttons, or one button per named page."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import Any, Final, Literal

import discord

from bot.interactions.errors import handle_interaction_error

log = logging.getLogger(__name__)

PAGES_TIMEOUT: Final = 600.0
MAX_TABS: Final = 5  # one action row


class Pages(discord.ui.View):
    """Flip through ``pages`` (label, embed). ``mode="arrows"`` shows ◀ ▶; ``"tabs"`` one
    button per page, named by its label.

    One member's and one opening's: the buttons' custom_ids carry the member and a
    random key, so many members paging at once never reach each other's view.
    """

    def __init__(
        self,
        *,
        member_id: int,
        pages: Sequence[tuple[str, discord.Embed]],
        mode: Literal["arrows", "tabs"] = "arrows",
        timeout: float = PAGES_TIMEOUT,
    ) -> None:
        super().__init__(timeout=timeout)
        if not pages:
            raise ValueError("at least one page")
        self.member_id = member_id
        self._pages = list(pages)
        self._mode = mode
        self.index = 0
        self.message: discord.Message | None = None
        key = f"pages:{member_id}:{secrets.token_hex(8)}"
        if mode == "arrows":
            self._add("◀ Newer", f"{key}:prev", -1)
            self._add("Older ▶", f"{key}:next", +1)
        else:
            for number, (label, _) in enumerate(self._pages[:MAX_TABS]):
                self._add(label, f"{key}:{number}", None, page=number)
        self._update_buttons()

    @property
    def first(self) -> discord.Embed:
        return self._pages[0][1]

    def _add(self, label: str, custom_id: str, step: int | None, *, page: int = 0) -> None:
        button: discord.ui.Button[Pages] = discord.ui.Button(
            label=label[:80], custom_id=custom_id, style=discord.ButtonStyle.secondary
        )

        async def clicked(interaction: discord.Interaction[Any]) -> None:
            target = self.index + step if step is not None else page
            await self._show(interaction, target)

        button.callback = clicked  # type: ignore[method-assign]
        self.add_item(button)

    def _update_buttons(self) -> None:
        buttons = [item for item in self.children if isinstance(item, discord.ui.Button)]
        if self._mode == "arrows":
            buttons[0].disabled = self.index == 0
            buttons[1].disabled = self.index >= len(self._pages) - 1
            return
        for number, button in enumerate(buttons):
            current = number == self.index
            button.disabled = current
            button.style = discord.ButtonStyle.primary if current else discord.ButtonStyle.secondary

    async def _show(self, interaction: discord.Interaction[Any], index: int) -> None:
        self.index = max(0, min(index, len(self._pages) - 1))
        self._update_buttons()
        await interaction.response.edit_message(embed=self._pages[self.index][1], view=self)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.member_id:
            await interaction.response.send_message(
                "❌ These pages are someone else's.", ephemeral=True
            )
            return False
        return True

    async def on_timeout(self) -> None:
        # The pages stay readable; only the buttons, which no longer answer, go.
        if self.message is None:
            return
        try:
            await self.message.edit(view=None)
        except discord.HTTPException as error:
            log.info("Could not remove expired page buttons: %s", error)

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)
