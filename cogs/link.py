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
from bot.storage.locks import NAME_MAX_LENGTH
from bot.views.host import voting_host
from bot.views.vote_flow import vote_from_interaction
from cogs._plays import (
    PRIVATE_DESCRIPTION,
    SESSION_DESCRIPTION,
    SessionId,
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

LockName = app_commands.Range[str, 1, NAME_MAX_LENGTH]


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
    async def vote(
        self,
        interaction: discord.Interaction[Any],
        choice: app_commands.Choice[str],
        lock: LockName | None = None,
        token: str | None = None,
        anonymous: bool = False,
    ) -> None:
        votes = voting_host(self.bot).votes
        target = await votes.resolve(interaction.guild_id, lock, token)
        # A logged vote is posted in the channel: it is the member's own, Chastity
        # Tracker attributes it to them anyway, and everyone sees the lock move. An
        # anonymous vote is answered privately: Discord shows who ran a command, so a
        # public answer would unmask the voter.
        await vote_from_interaction(
            interaction,
            votes,
            target,
            Choice(choice.value),
            anonymous=anonymous,
            public_when_logged=True,
        )

    @vote.autocomplete("lock")
    async def vote_lock_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        names = await self.bot.storage.locks.names_like(interaction.guild_id, current)
        return [app_commands.Choice(name=name, value=name) for name in names]


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Link(bot))
