"""The "Timeline" button of voting panels, as a dynamic item (``timeline:panel:<id>``).

Like the vote buttons it is rebuilt from its custom_id alone, on any panel and
after any restart; a click is handed to the bot's ``insights``
(``bot.interactions.insights.LockInsights``).
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, cast

import discord

from bot.interactions.errors import handle_interaction_error


class TimelineActions(Protocol):
    async def panel_timeline(
        self, interaction: discord.Interaction[Any], panel_id: int
    ) -> None: ...


class _InsightsHost(Protocol):
    insights: TimelineActions


class TimelineButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"timeline:panel:(?P<panel_id>[0-9]{1,20})",
):
    def __init__(self, panel_id: int) -> None:
        self.panel_id = panel_id
        super().__init__(
            discord.ui.Button(
                label="Timeline",
                emoji="📈",
                style=discord.ButtonStyle.secondary,
                custom_id=f"timeline:panel:{panel_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["panel_id"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            host = cast("_InsightsHost", interaction.client)
            await host.insights.panel_timeline(interaction, self.panel_id)
        except Exception as error:
            await handle_interaction_error(interaction, error)
