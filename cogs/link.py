"""The /link group: LINK played as a dom (``/link play``) and votes on locks.

Each subcommand is one method of :class:`Link`; ``CHOICE_OPTIONS`` is the one
definition of the ``choice`` option every LINK subcommand shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.ctapi import Choice, Game
from bot.games import GamePlay
from cogs._plays import (
    PRIVATE_DESCRIPTION,
    SESSION_DESCRIPTION,
    play_and_show,
    session_autocomplete,
)

if TYPE_CHECKING:
    from bot.app import ChastityBot

# Shown as "Add time", "Remove time", "Random"; sent as add, sub, rand.
CHOICE_OPTIONS: list[app_commands.Choice[str]] = [
    app_commands.Choice(name=choice.label, value=choice.value) for choice in Choice
]
CHOICE_DESCRIPTION = "Add time, remove time, or let chance decide"

SessionId = app_commands.Range[int, 1]


class Link(
    commands.GroupCog,
    group_name="link",
    group_description="The LINK game: play as a dom, or vote on a lock",
):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    async def cog_unload(self) -> None:
        await self.bot.games.sessions.close()

    @app_commands.command(name="play", description="Play LINK as the dom of a session's owner")
    @app_commands.describe(
        session=SESSION_DESCRIPTION, choice=CHOICE_DESCRIPTION, private=PRIVATE_DESCRIPTION
    )
    @app_commands.choices(choice=CHOICE_OPTIONS)
    @app_commands.autocomplete(session=session_autocomplete)
    async def play(
        self,
        interaction: discord.Interaction[Any],
        session: SessionId,
        choice: app_commands.Choice[str],
        private: bool = False,
    ) -> None:
        play = GamePlay(
            member_id=interaction.user.id,
            guild_id=interaction.guild_id,
            game=Game.LINK,
            session=session,
            choice=Choice(choice.value),
        )
        await play_and_show(interaction, play, private=private)


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Link(bot))
