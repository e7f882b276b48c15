"""/help: what the bot does and how to use it, shown only to the member who asks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions.replies import reply_private

if TYPE_CHECKING:
    from bot.app import ChastityBot

HELP_COLOUR = discord.Colour.blurple()

HELP_SECTIONS: tuple[tuple[str, str], ...] = (
    (
        "Connect your account",
        "`/account connect` opens a form for your personal API token (create one on your "
        "Chastity Tracker profile page). It is checked, then stored encrypted. "
        "`/account status` shows who you are connected as and your current lock; "
        "`/account disconnect` deletes the stored token.",
    ),
    (
        "Play games (connected account)",
        "`/dice session [as_dom] [private]` and `/luck session [as_dom] [private]` play on "
        "your own session, or as its dom with `as_dom:true`. "
        "`/link play session choice [private]` plays LINK as the dom. "
        "`session` suggests your active sessions; results are posted in the channel, "
        "or only to you with `private:true`.",
    ),
    (
        "Vote on a lock",
        "`/link vote choice [lock] [token] [anonymous]` adds time, removes time or lets "
        "chance decide (`choice`: Add time, Remove time, Random). Use `lock` for a lock "
        "registered on this server, or `token` for any public LINK token or share link. "
        "Voting panels posted by admins do the same with one click.",
    ),
    (
        "Anonymous or logged votes",
        "With a connected account you vote as yourself (logged) unless you choose "
        "`anonymous:true`; without one your vote is anonymous. Chastity Tracker counts "
        "anonymous votes per address, and every anonymous vote sent through this bot "
        "comes from the bot's one address: together they get **one vote per lock and "
        "cooldown window**. To vote anyway, connect your account, or join a community "
        "poll, where each member picks a choice and the bot casts one vote for the winner.",
    ),
    (
        "Penalty",
        "Voting logged on **your own** lock triggers Chastity Tracker's penalty: time is "
        "always added, at the maximum multiplier. The bot asks you to confirm first and "
        "sends nothing unless you do. Results with a penalty are marked as such.",
    ),
    (
        "Community polls",
        "Admins start one with `/locks poll name minutes`. Each member holds one choice "
        "(change it any time) and sees the live tally. When time is up, the bot casts one "
        "anonymous vote for the winning choice (a tie means Random) and posts the result.",
    ),
    (
        "Server admins (Manage Server)",
        "`/locks add name token [owner] [allow_anonymous]` registers a lock, "
        "`/locks remove name` and `/locks list` manage them (tokens are always masked), "
        "`/locks panel name [channel]` posts a voting panel, "
        "`/locks poll name minutes` starts a poll (5 to 1440 minutes).",
    ),
    (
        "A lock's story",
        "`/link timeline [lock] [days]` charts the lock's scheduled end and the votes that "
        "moved it (also the Timeline button on panels); `/link stats [lock]` counts its "
        "votes, time moved, logged voters and polls. A lock's wearer can show its live "
        "status on the panels with `/account share lock` (`enabled:false` stops it). "
        "A refusal for a cooldown offers **Remind me**: a DM when you can play again.",
    ),
    (
        "More",
        "`/history` lists your recent plays and votes through the bot. "
        "Replies about your account and errors are only shown to you.",
    ),
)


def help_embed() -> discord.Embed:
    embed = discord.Embed(
        title="Chastity Tracker bot",
        description=(
            "Play DICE, LUCK and LINK on Chastity Tracker sessions and vote on keyholders' "
            "locks, straight from Discord."
        ),
        colour=HELP_COLOUR,
    )
    for name, value in HELP_SECTIONS:
        embed.add_field(name=name, value=value, inline=False)
    return embed


class Help(commands.Cog):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="How to use this bot")
    async def help(self, interaction: discord.Interaction[Any]) -> None:
        await reply_private(interaction, embed=help_embed())


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Help(bot))
