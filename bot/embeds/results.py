"""Embeds for DICE, LUCK and LINK results."""

from __future__ import annotations

from enum import StrEnum

import discord

from bot.ctapi.models import Choice, DiceResult, LinkResult, PlayResult
from bot.embeds.format import discord_when, escape_name, format_duration

# Time added and time removed must be told apart at a glance; a penalty stands out.
COLOUR_ADDED = discord.Colour(0xE67E22)
COLOUR_REMOVED = discord.Colour(0x2ECC71)
COLOUR_PENALTY = discord.Colour(0x992D22)
_DIE_FACES = {1: "⚀", 2: "⚁", 3: "⚂", 4: "⚃", 5: "⚄", 6: "⚅"}


class Actor(StrEnum):
    """Who acted, as the result's title names them."""

    OWNER = "owner"
    DOM = "dom"
    VOTER = "voter"
    ANONYMOUS_VOTER = "anonymous voter"


_BY = {
    Actor.OWNER: "by the owner",
    Actor.DOM: "by a dom",
    Actor.VOTER: "by a voter",
    Actor.ANONYMOUS_VOTER: "by an anonymous voter",
}


def result_embed(
    result: PlayResult,
    *,
    actor: Actor,
    choice: Choice | None = None,
    lock_name: str | None = None,
) -> discord.Embed:
    """The embed a member sees after a play or vote."""
    game = result.game.value.upper()
    penalty = isinstance(result, LinkResult) and result.penalty
    if penalty:
        title = f"Penalty — {game} vote by the lock's owner"
        colour = COLOUR_PENALTY
        description = (
            "A logged vote on your own lock triggers Chastity Tracker's penalty: "
            "the vote was forced to **add time** at the **maximum multiplier**."
        )
    else:
        title = f"{game} — {_BY[actor]}"
        colour = COLOUR_ADDED if result.added else COLOUR_REMOVED
        description = None
    if lock_name:
        title = f"{title} · {escape_name(lock_name)}"
    embed = discord.Embed(title=title, colour=colour, description=description)
    embed.add_field(name="Result", value="Time added" if result.added else "Time removed")
    embed.add_field(name="Amount", value=format_duration(result.seconds))
    embed.add_field(name="Multiplier", value=f"×{result.multiplier:.2f}")
    embed.add_field(
        name="New scheduled end", value=discord_when(result.scheduled_end), inline=False
    )
    embed.add_field(name="Session", value=f"#{result.session}")
    if isinstance(result, DiceResult):
        _add_dice(embed, result)
    if isinstance(result, LinkResult) and choice is not None:
        vote = choice.label
        if penalty and choice is not Choice.ADD:
            vote += " (the penalty made it Add time)"
        embed.add_field(name="Vote", value=vote)
    return embed


def _add_dice(embed: discord.Embed, result: DiceResult) -> None:
    faces = []
    for index, value in enumerate(result.dice):
        op = result.dice_ops[index] if index < len(result.dice_ops) else ""
        faces.append(f"{_DIE_FACES.get(value, '')} {_die_sign(op)}{value}".strip())
    embed.add_field(name="Dice", value="  ".join(faces) or "—", inline=False)
    if result.calc:
        embed.add_field(name="Calculation", value=f"`{result.calc}`")
    if result.sum is not None:
        # Shown on its own, not as "calc = sum": the contract's own example has a
        # sum (-3) that is not the calculation's total (+6-1+2).
        embed.add_field(name="Sum", value=str(result.sum))


def _die_sign(op: str) -> str:
    """A die's operation as a sign: "" adds it, "s" subtracts it; any other code is shown."""
    return {"": "+", "s": "−"}.get(op, f"[{op}] ")
