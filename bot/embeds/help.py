"""/help: a quick start and a command list first, then one page per topic.

Commands are named as clickable mentions (``</dice:ID>``) when their ids are
known from the sync, else as plain ``/dice``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

import discord

from bot.ctapi import Choice
from bot.embeds.style import NEUTRAL_COLOUR, choice_text

HELP_COLOUR: Final = NEUTRAL_COLOUR
Mention = Callable[[str], str]


def command_mention(command_ids: Mapping[str, int]) -> Mention:
    """``mention("account connect")``: "</account connect:ID>", or "`/account connect`"."""

    def mention(name: str) -> str:
        command_id = command_ids.get(name.split(" ", 1)[0])
        return f"</{name}:{command_id}>" if command_id is not None else f"`/{name}`"

    return mention


def _start(m: Mention) -> discord.Embed:
    embed = discord.Embed(
        title="Chastity Tracker bot",
        description=(
            "Play DICE, LUCK and LINK on Chastity Tracker sessions and vote on keyholders' "
            "locks, straight from Discord.\n\n"
            "**Quick start**\n"
            "1. Create an API token on your Chastity Tracker profile page.\n"
            f"2. Run {m('account connect')} and paste it (stored encrypted).\n"
            f"3. Run {m('dice')} to roll on your session."
        ),
        colour=HELP_COLOUR,
    )
    embed.add_field(
        name="Commands",
        value="\n".join(
            (
                f"{m('dice')} · {m('luck')}: play on your session, or as its dom",
                f"{m('link play')}: play LINK as a dom",
                f"{m('link vote')}: vote on a lock",
                f"{m('link timeline')} · {m('link stats')}: a lock's story, charted and counted",
                f"{m('history')}: your recent plays and votes",
                f"{m('account status')} · {m('account disconnect')}: your account",
                f"{m('account share')}: show your lock's live status on its panels (wearers)",
                f"{m('locks add')} · {m('locks panel')} · {m('locks poll')}: for admins",
            )
        ),
        inline=False,
    )
    embed.set_footer(
        text="More: the buttons below. Replies about your account are only shown to you."
    )
    return embed


def _voting(m: Mention) -> discord.Embed:
    choices = " · ".join(choice_text(choice) for choice in Choice)
    return discord.Embed(
        title="Voting and anonymity",
        description=(
            f"{m('link vote')} or a panel's buttons: {choices}.\n\n"
            "**Logged or anonymous.** With a connected account you vote as yourself, unless "
            "you choose `anonymous:true`. Without one, your vote is anonymous.\n\n"
            "**One anonymous vote for everyone.** Every anonymous vote through this bot "
            "comes from the bot's one address, and Chastity Tracker counts anonymous votes "
            "per address: together they get one vote per lock until Chastity Tracker "
            "accepts the next. While a community poll is open on a lock, the poll holds that "
            "vote; once it is used, the bot says when it frees up. Two ways to vote anyway:\n"
            f"• connect your account ({m('account connect')}): your vote counts as yours;\n"
            "• join a community poll: each member picks a choice, and the bot casts one "
            "vote for the winner (a tie means 🎲 Random)."
        ),
        colour=HELP_COLOUR,
    )


def _penalty(m: Mention) -> discord.Embed:
    return discord.Embed(
        title="⚠️ The penalty",
        description=(
            "A logged vote on **your own** lock triggers Chastity Tracker's penalty: time "
            "is always **added**, at the **maximum multiplier**, whatever you chose.\n\n"
            "The bot asks you to confirm first and sends nothing unless you do, when the "
            "lock is your own LINK token (as Chastity Tracker reports it at "
            f"{m('account connect')} and {m('account status')}) or you are registered as its "
            "wearer on a server that registered it: on any server or in a DM, by lock name, "
            "token or share link, registered or not. Anonymous votes carry no account, so "
            "they are never a penalty. A result with a penalty is marked ⚠️ Penalty."
        ),
        colour=HELP_COLOUR,
    )


def _admins(m: Mention) -> discord.Embed:
    return discord.Embed(
        title="For server admins (Manage Server)",
        description="\n".join(
            (
                f"{m('locks add')}: register a lock by its public LINK token",
                f"{m('locks list')} · {m('locks remove')}: manage them (tokens always masked)",
                f"{m('locks panel')}: post a voting panel with three buttons",
                f"{m('locks poll')}: start a community poll (5 to 1440 minutes)",
            )
        ),
        colour=HELP_COLOUR,
    )


def help_pages(command_ids: Mapping[str, int]) -> list[tuple[str, discord.Embed]]:
    """(button label, page) for every page of /help, the quick start first."""
    m = command_mention(command_ids)
    return [
        ("Start", _start(m)),
        ("Voting & anonymity", _voting(m)),
        ("Penalty", _penalty(m)),
        ("Admins", _admins(m)),
    ]
