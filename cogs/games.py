"""/dice and /luck: play on your own session, or as the dom of someone's session."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.ctapi import Game
from bot.games import GamePlay
from cogs._options import (
    OPTIONAL_SESSION_DESCRIPTION,
    PRIVATE_DESCRIPTION,
    SessionId,
    session_autocomplete,
)

if TYPE_CHECKING:
    from bot.app import ChastityBot

AS_DOM_DESCRIPTION = "Play as the dom of the session's owner (default: as the owner)"


class Games(commands.Cog):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    @app_commands.command(name="dice", description="Roll DICE on a Chastity Tracker session")
    @app_commands.describe(
        session=OPTIONAL_SESSION_DESCRIPTION,
        as_dom=AS_DOM_DESCRIPTION,
        private=PRIVATE_DESCRIPTION,
    )
    @app_commands.autocomplete(session=session_autocomplete)
    async def dice(
        self,
        interaction: discord.Interaction[Any],
        session: SessionId | None = None,
        as_dom: bool = False,
        private: bool = False,
    ) -> None:
        await self.bot.actions.play(
            interaction, self._play(interaction, Game.DICE, session, as_dom), private=private
        )

    @app_commands.command(name="luck", description="Try your LUCK on a Chastity Tracker session")
    @app_commands.describe(
        session=OPTIONAL_SESSION_DESCRIPTION,
        as_dom=AS_DOM_DESCRIPTION,
        private=PRIVATE_DESCRIPTION,
    )
    @app_commands.autocomplete(session=session_autocomplete)
    async def luck(
        self,
        interaction: discord.Interaction[Any],
        session: SessionId | None = None,
        as_dom: bool = False,
        private: bool = False,
    ) -> None:
        await self.bot.actions.play(
            interaction, self._play(interaction, Game.LUCK, session, as_dom), private=private
        )

    @staticmethod
    def _play(
        interaction: discord.Interaction[Any], game: Game, session: int | None, as_dom: bool
    ) -> GamePlay:
        return GamePlay(
            member_id=interaction.user.id,
            guild_id=interaction.guild_id,
            game=game,
            session=session,
            as_dom=as_dom,
        )


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Games(bot))
