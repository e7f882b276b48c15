"""The /link group: LINK played as a dom (``/link play``) and votes on locks (``/link vote``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.ctapi import Choice, Game
from bot.games import GamePlay
from bot.timeline import DEFAULT_DAYS, MAX_DAYS
from cogs._options import (
    CHOICE_DESCRIPTION,
    CHOICE_OPTIONS,
    PRIVATE_DESCRIPTION,
    SESSION_DESCRIPTION,
    LockName,
    SessionId,
    lock_name_autocomplete,
    session_autocomplete,
)

if TYPE_CHECKING:
    from bot.app import ChastityBot


class Link(
    commands.GroupCog,
    group_name="link",
    group_description="The LINK game: play as a dom, or vote on a lock",
):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

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
        await self.bot.actions.play(interaction, play, private=private)

    @app_commands.command(
        name="vote", description="Vote on a lock: add time, remove time or random"
    )
    @app_commands.describe(
        choice=CHOICE_DESCRIPTION,
        lock="A lock registered on this server (may be left out when there is only one)",
        token="A public LINK token or share link, for a lock not registered here",  # noqa: S106
        anonymous="Vote anonymously even though your account is connected",
    )
    @app_commands.choices(choice=CHOICE_OPTIONS)
    @app_commands.autocomplete(lock=lock_name_autocomplete)
    async def vote(
        self,
        interaction: discord.Interaction[Any],
        choice: app_commands.Choice[str],
        lock: LockName | None = None,
        token: str | None = None,
        anonymous: bool = False,
    ) -> None:
        await self.bot.actions.link_vote(
            interaction, Choice(choice.value), lock_name=lock, token_text=token, anonymous=anonymous
        )

    @app_commands.command(
        name="timeline", description="A chart of a lock's scheduled end and the votes that moved it"
    )
    @app_commands.describe(
        lock="A lock registered on this server (may be left out when there is only one)",
        days=f"How many days back (default {DEFAULT_DAYS})",
    )
    @app_commands.autocomplete(lock=lock_name_autocomplete)
    async def timeline(
        self,
        interaction: discord.Interaction[Any],
        lock: LockName | None = None,
        days: app_commands.Range[int, 1, MAX_DAYS] | None = None,
    ) -> None:
        await self.bot.insights.timeline(interaction, lock, days)

    @app_commands.command(
        name="stats", description="A lock's votes through the bot, time moved, voters and polls"
    )
    @app_commands.describe(
        lock="A lock registered on this server (may be left out when there is only one)"
    )
    @app_commands.autocomplete(lock=lock_name_autocomplete)
    async def stats(
        self, interaction: discord.Interaction[Any], lock: LockName | None = None
    ) -> None:
        await self.bot.insights.stats(interaction, lock)


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Link(bot))
