"""What /dice, /luck and /link play share: the play flow and the session autocomplete.

A helper module (its name starts with ``_``), not a cog.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.embeds import Actor, result_embed
from bot.games import GamePlay
from bot.replies import defer, reply

if TYPE_CHECKING:
    from bot.app import ChastityBot

log = logging.getLogger(__name__)

# `session` is an integer >= 1; Discord refuses smaller values before the bot sees them.
SessionId = app_commands.Range[int, 1]
SESSION_DESCRIPTION = "Session id on Chastity Tracker (suggested: your active and recent ones)"
OPTIONAL_SESSION_DESCRIPTION = (
    "Session id (suggested: your active and recent ones); optional if only one is active"
)
PRIVATE_DESCRIPTION = "Show the result only to you (default: posted in the channel)"


def _bot(interaction: discord.Interaction[Any]) -> ChastityBot:
    return cast("ChastityBot", interaction.client)


async def play_and_show(
    interaction: discord.Interaction[Any], play: GamePlay, *, private: bool
) -> None:
    """Flood check, token, defer, play (recorded), then the result embed.

    Errors are raised to the central handler, which shows them only to the member
    (and removes a public "thinking..." message first).
    """
    games = _bot(interaction).games
    games.admit(play.member_id)
    games.check(play)
    bearer = await games.bearer(play.member_id)
    # Chastity Tracker may be slow: acknowledge within Discord's window first.
    await defer(interaction, private=private)
    result = await games.play(play, bearer)
    embed = result_embed(result, actor=Actor.DOM if play.dom else Actor.OWNER, choice=play.choice)
    try:
        await reply(interaction, embed=embed, private=private)
    except discord.HTTPException as error:
        # The play happened and the ledger has it (/history shows it); only the
        # message is lost, so this is not the member's error to be told about.
        log.warning(
            "Could not show the %s result to member %d (kept in the ledger): %s",
            play.game.value,
            play.member_id,
            error,
        )


async def session_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """The member's active sessions and recent ones; answers in time even when Chastity
    Tracker is slow."""
    suggestions = await _bot(interaction).games.sessions.suggest(interaction.user.id, str(current))
    return [app_commands.Choice(name=s.name, value=s.value) for s in suggestions]
