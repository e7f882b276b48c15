"""Embeds for DICE, LUCK and LINK results: who did what, by how much, and the new end.

One shape for every result: the title names the actor, the game and the signed
amount ("🎲 alice rolled DICE: +2 h 5 min"); the author is the member; the
description gives the direction in words and the new end (``<t:F>`` and
``<t:R>``), then one compact detail line (dice, calculation, multiplier,
session).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import discord

from bot.ctapi.models import Choice, DiceResult, Game, LinkResult, PlayResult
from bot.embeds.format import discord_when, escape_name, fit, format_multiplier, signed_duration
from bot.embeds.style import Effect, choice_text, effect_of_result, style_of

_DIE_FACES: Final = {1: "⚀", 2: "⚁", 3: "⚂", 4: "⚃", 5: "⚄", 6: "⚅"}
_GAME_ICONS: Final = {Game.DICE: "🎲", Game.LUCK: "🍀", Game.LINK: "🔗"}
_POLL_ICON: Final = "📊"
TITLE_LIMIT: Final = 256
PENALTY_REASON: Final = (
    "A logged vote on your own lock triggers Chastity Tracker's penalty: the vote was "
    "forced to **add time** at the **maximum multiplier**."
)


class Actor(StrEnum):
    """Who acted, as the result's title names them."""

    OWNER = "owner"
    DOM = "dom"
    VOTER = "voter"
    ANONYMOUS_VOTER = "anonymous voter"
    POLL = "community poll"


# Who acted, when the member's own name is not known.
_SOMEONE: Final = {
    Actor.OWNER: "The owner",
    Actor.DOM: "A dom",
    Actor.VOTER: "A voter",
}


@dataclass(frozen=True, slots=True)
class Member:
    """The member who acted, as the result's author shows them."""

    name: str
    avatar_url: str | None = None

    @classmethod
    def of(cls, user: discord.abc.User) -> Member:
        return cls(user.display_name, user.display_avatar.url)


def result_embed(
    result: PlayResult,
    *,
    actor: Actor,
    member: Member | None = None,
    choice: Choice | None = None,
    lock_name: str | None = None,
    wearer_id: int | None = None,
) -> discord.Embed:
    """The embed everyone (or the member, when private) sees after a play or vote.

    ``wearer_id`` is the session's owner when known: a dom's play names them.
    """
    penalty = isinstance(result, LinkResult) and result.penalty
    effect = effect_of_result(added=result.added, penalty=penalty)
    style = style_of(effect)
    title = f"{_subject(result, actor, member)}{_where(lock_name)}: " + signed_duration(
        result.seconds, added=result.added
    )
    if penalty:
        title = f"⚠️ Penalty: {title}"
    else:
        title = f"{_GAME_ICONS[result.game] if actor is not Actor.POLL else _POLL_ICON} {title}"
    direction = style_of(Effect.ADD if result.added else Effect.REMOVE)
    lines = [
        f"{direction.sign} **{direction.words}** · new end {discord_when(result.scheduled_end)}",
        detail_line(result, choice=choice, wearer_id=wearer_id if actor is Actor.DOM else None),
    ]
    if penalty:
        lines.append(f"⚠️ **Penalty.** {PENALTY_REASON}")
    embed = discord.Embed(
        title=fit(title, TITLE_LIMIT), description="\n".join(lines), colour=style.colour
    )
    if member is not None and actor not in (Actor.ANONYMOUS_VOTER, Actor.POLL):
        embed.set_author(name=fit(member.name, TITLE_LIMIT), icon_url=member.avatar_url)
    return embed


def _subject(result: PlayResult, actor: Actor, member: Member | None) -> str:
    game = result.game.value.upper()
    if actor is Actor.ANONYMOUS_VOTER:
        return f"Anonymous {game} vote"
    if actor is Actor.POLL:
        return f"Community poll voted {game}"
    who = member.name if member is not None else _SOMEONE[actor]
    if actor is Actor.VOTER:
        return f"{who} voted {game}"
    verb = "rolled" if result.game is Game.DICE else "played"
    as_dom = " as dom" if actor is Actor.DOM else ""
    return f"{who} {verb} {game}{as_dom}"


def _where(lock_name: str | None) -> str:
    return f" on {escape_name(lock_name)}" if lock_name else ""


def detail_line(
    result: PlayResult, *, choice: Choice | None = None, wearer_id: int | None = None
) -> str:
    """ "⚅ ⚀ ⚁ · +6-1+2 = 7 · ×1.25 · session #101": everything else, on one line."""
    parts: list[str] = []
    if isinstance(result, DiceResult):
        parts.extend(_dice_parts(result))
    if isinstance(result, LinkResult) and choice is not None:
        chose = f"chose {choice_text(choice)}"
        if result.penalty and choice is not Choice.ADD:
            chose += " (the penalty made it Add time)"
        parts.append(chose)
    parts.append(format_multiplier(result.multiplier))
    session = f"session #{result.session}"
    if wearer_id is not None:
        session = f"on <@{wearer_id}>'s {session}"
    parts.append(session)
    return " · ".join(parts)


def _dice_parts(result: DiceResult) -> list[str]:
    parts: list[str] = []
    faces = []
    for index, value in enumerate(result.dice):
        op = result.dice_ops[index] if index < len(result.dice_ops) else ""
        face = _DIE_FACES.get(value, str(value))
        # "" adds a die and "s" subtracts it; any other code is shown as the API gave it.
        faces.append(face if op in ("", "s") else f"{face}[{op}]")
    if faces:
        parts.append(" ".join(faces))
    if result.calc and result.sum is not None and _total(result.calc) == result.sum:
        parts.append(f"{result.calc} = {result.sum}")
    else:
        # The contract's own example has a sum (-3) that is not the calculation's
        # total (+6-1+2): never show the two as one equation unless they agree.
        if result.calc:
            parts.append(result.calc)
        if result.sum is not None:
            parts.append(f"sum {result.sum}")
    return parts


_TERM: Final = re.compile(r"([+-])\s*(\d+)")


def _total(calc: str) -> int | None:
    """The value of a calculation like "+6-1+2"; None when it is not that simple."""
    text = calc.replace(" ", "")
    if not text or not re.fullmatch(r"(?:[+-]?\d+)(?:[+-]\d+)*", text):
        return None
    if text[0] not in "+-":
        text = "+" + text
    return sum(int(number) * (1 if sign == "+" else -1) for sign, number in _TERM.findall(text))
