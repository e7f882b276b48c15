"""The "Remind me" button under a cooldown refusal, as a dynamic item.

Its custom_id carries the member, the moment the wait ends and the subject
(``remind:<member>:<unix time>:<subject>``), so every refusal has its own
button, it keeps working after a restart, and only that member can use it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Protocol, Self, cast

import discord

from bot.interactions.errors import handle_interaction_error
from bot.reminders import ReminderOffer


class RemindActions(Protocol):
    async def remind_click(
        self, interaction: discord.Interaction[Any], offer: ReminderOffer
    ) -> None: ...


class _Host(Protocol):
    reminder_actions: RemindActions


class RemindButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"remind:(?P<member>[0-9]{1,20}):(?P<due>[0-9]{1,12}):(?P<subject>[a-z]{1,8}:[0-9a-z]{1,20})",
):
    def __init__(self, offer: ReminderOffer) -> None:
        self.offer = offer
        due = int(offer.due_at.timestamp())
        super().__init__(
            discord.ui.Button(
                label="Remind me",
                emoji="⏰",
                style=discord.ButtonStyle.secondary,
                custom_id=f"remind:{offer.member_id}:{due}:{offer.subject}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        due = datetime.fromtimestamp(int(match["due"]), UTC)
        return cls(ReminderOffer(int(match["member"]), match["subject"], due))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            host = cast("_Host", interaction.client)
            await host.reminder_actions.remind_click(interaction, self.offer)
        except Exception as error:
            await handle_interaction_error(interaction, error)


def remind_view(offer: ReminderOffer) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(RemindButton(offer))
    return view
