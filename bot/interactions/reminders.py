"""A click on "Remind me": only the member it was offered to, then a DM to check it arrives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord

from bot.embeds.format import discord_time
from bot.flood import FloodGate
from bot.interactions.replies import defer, reply_private
from bot.reminders import DirectMessagesClosed, ReminderOffer, ReminderService

DMS_CLOSED_TEXT = (
    "I cannot send you direct messages, so I cannot remind you: your privacy settings "
    "block DMs from me. Allow direct messages from this server's members (server menu > "
    "Privacy Settings), then click **Remind me** again."
)


class ReminderActions:
    def __init__(
        self, *, flood: FloodGate, clock: Callable[[], datetime], reminders: ReminderService
    ) -> None:
        self._flood = flood
        self._clock = clock
        self._reminders = reminders

    async def remind_click(
        self, interaction: discord.Interaction[Any], offer: ReminderOffer
    ) -> None:
        if interaction.user.id != offer.member_id:
            await reply_private(interaction, "This reminder button is for someone else.")
            return
        self._flood.check(interaction.user.id, self._clock())
        await defer(interaction, private=True)
        if offer.due_at <= self._clock():
            label = await self._reminders.label(offer.subject)
            await reply_private(interaction, f"The wait is already over: you can {label} now.")
            return
        try:
            reminder = await self._reminders.remind(offer)
        except DirectMessagesClosed:
            await reply_private(interaction, DMS_CLOSED_TEXT)
            return
        await reply_private(
            interaction,
            f"Done: I will send you a direct message when you can {reminder.label} again "
            f"({discord_time(reminder.due_at, 'R')}). One reminder per game or lock: "
            "asking again moves it.",
        )
