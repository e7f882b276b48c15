"""The Add time / Remove time / Random buttons of panels and polls, as dynamic items.

``custom_id`` is ``panel:<id>:<choice>`` or ``poll:<id>:<choice>`` (well under
Discord's 100 characters), so discord.py rebuilds the button from the id alone,
on any message and after any restart. A click is handed to the bot's
``actions`` (``bot.interactions.actions.MemberActions``), which these buttons
know only through :class:`VoteButtonActions`.
"""

from __future__ import annotations

import re
from typing import Any, Protocol, Self, cast

import discord

from bot.ctapi import Choice
from bot.embeds.style import choice_button_style, choice_sign
from bot.interactions.errors import handle_interaction_error
from bot.views.insights import TimelineButton


class VoteButtonActions(Protocol):
    """What a click on a panel or poll button asks of the bot."""

    async def panel_click(
        self, interaction: discord.Interaction[Any], panel_id: int, choice: Choice
    ) -> None: ...

    async def poll_choice(
        self, interaction: discord.Interaction[Any], poll_id: int, choice: Choice
    ) -> None: ...


class _ActionsHost(Protocol):
    actions: VoteButtonActions


def _actions(interaction: discord.Interaction[Any]) -> VoteButtonActions:
    # discord.py rebuilds a dynamic item from its custom_id alone; the client that
    # received the click is the bot, which holds the actions.
    return cast("_ActionsHost", interaction.client).actions


def _button(custom_id: str, choice: Choice, disabled: bool) -> discord.ui.Button[Any]:
    # The same colour and sign as every result, panel, poll and history line.
    return discord.ui.Button(
        label=choice.label,
        emoji=choice_sign(choice),
        style=choice_button_style(choice),
        custom_id=custom_id,
        disabled=disabled,
    )


class PanelButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"panel:(?P<panel_id>[0-9]{1,20}):(?P<choice>add|sub|rand)",
):
    def __init__(self, panel_id: int, choice: Choice, *, disabled: bool = False) -> None:
        self.panel_id = panel_id
        self.choice = choice
        super().__init__(_button(f"panel:{panel_id}:{choice.value}", choice, disabled))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["panel_id"]), Choice(match["choice"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # discord.py only logs what a dynamic item raises: answer the member here.
        try:
            await _actions(interaction).panel_click(interaction, self.panel_id, self.choice)
        except Exception as error:
            await handle_interaction_error(interaction, error)


class PollButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"poll:(?P<poll_id>[0-9]{1,20}):(?P<choice>add|sub|rand)",
):
    def __init__(self, poll_id: int, choice: Choice, *, disabled: bool = False) -> None:
        self.poll_id = poll_id
        self.choice = choice
        super().__init__(_button(f"poll:{poll_id}:{choice.value}", choice, disabled))

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["poll_id"]), Choice(match["choice"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await _actions(interaction).poll_choice(interaction, self.poll_id, self.choice)
        except Exception as error:
            await handle_interaction_error(interaction, error)


def panel_view(panel_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice in Choice:
        view.add_item(PanelButton(panel_id, choice))
    view.add_item(TimelineButton(panel_id))
    return view


def poll_view(poll_id: int, *, closed: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for choice in Choice:
        view.add_item(PollButton(poll_id, choice, disabled=closed))
    return view
