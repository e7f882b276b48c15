"""Embeds for LINK voting: vote results, the lock list, voting panels and community polls.

Pure functions over plain data; nothing here ever sees a whole lock token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

import discord

from bot.ctapi.models import Choice, LinkResult, parse_utc
from bot.embeds.format import discord_time, discord_when, escape_name, format_duration
from bot.embeds.results import (
    COLOUR_ADDED,
    COLOUR_PENALTY,
    COLOUR_REMOVED,
    Actor,
    result_embed,
)

PANEL_COLOUR = discord.Colour.blurple()
POLL_COLOUR = discord.Colour.gold()
CLOSED_COLOUR = discord.Colour.dark_grey()


# -- a member's vote -------------------------------------------------------------------


def vote_result_embed(
    result: LinkResult, *, choice: Choice, lock_name: str | None, logged: bool
) -> discord.Embed:
    actor = Actor.VOTER if logged else Actor.ANONYMOUS_VOTER
    embed = result_embed(result, actor=actor, choice=choice, lock_name=lock_name)
    embed.set_footer(
        text="Logged vote: counted as yours." if logged else "Anonymous vote, sent by the bot."
    )
    return embed


def penalty_warning(lock_name: str | None) -> str:
    """``lock_name`` comes escaped (or None for a lock known by its token only)."""
    lock = f"**{lock_name}**" if lock_name else "this lock"
    return (
        f"⚠️ {lock} is your own lock (you are registered as its wearer, or it is your own "
        "LINK token), and you are voting logged with your own account. Chastity Tracker "
        "treats that as a **penalty**: time is **added** at the **maximum multiplier**, "
        "whatever you chose.\n"
        "Nothing is sent unless you confirm."
    )


# -- the lock list ---------------------------------------------------------------------


# A lock whose stored token the bot's keys cannot decrypt (the key changed or was lost).
UNREADABLE_LOCK_NOTE = (
    "**cannot be read** with the bot's current encryption key: votes on this lock fail "
    "until it is registered again (`/locks remove`, then `/locks add`)"
)


@dataclass(frozen=True, slots=True)
class LockLine:
    name: str
    masked_token: str | None  # None: the stored token cannot be decrypted
    wearer_id: int | None
    allow_anonymous: bool


def lock_list_embed(guild_name: str, lines: Sequence[LockLine]) -> discord.Embed:
    embed = discord.Embed(title=f"Locks registered on {guild_name}", colour=PANEL_COLOUR)
    if not lines:
        embed.description = "No lock yet. Register one with `/locks add name token`."
        return embed
    for line in lines[:25]:
        wearer = f"<@{line.wearer_id}>" if line.wearer_id is not None else "not set"
        anonymous = "allowed" if line.allow_anonymous else "not allowed"
        token = f"`{line.masked_token}`" if line.masked_token is not None else UNREADABLE_LOCK_NOTE
        embed.add_field(
            name=escape_name(line.name),
            value=f"Token {token}\nWearer: {wearer}\nAnonymous votes: {anonymous}",
            inline=False,
        )
    if len(lines) > 25:
        embed.set_footer(text=f"…and {len(lines) - 25} more")
    return embed


# -- voting panels ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResultSummary:
    """What a panel or a poll remembers of a vote's result (no voter, no token)."""

    added: bool
    seconds: int
    multiplier: float
    scheduled_end: datetime
    choice: Choice
    penalty: bool
    at: datetime

    @classmethod
    def of(cls, result: LinkResult, choice: Choice, at: datetime) -> Self:
        return cls(
            added=result.added,
            seconds=result.seconds,
            multiplier=result.multiplier,
            scheduled_end=result.scheduled_end,
            choice=choice,
            penalty=result.penalty,
            at=at,
        )

    def to_json(self) -> str:
        return json.dumps(
            {
                "added": self.added,
                "seconds": self.seconds,
                "multiplier": self.multiplier,
                "scheduled_end": self.scheduled_end.isoformat(),
                "choice": self.choice.value,
                "penalty": self.penalty,
                "at": self.at.isoformat(),
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> Self | None:
        """The summary stored in ``text``; None when absent or unreadable."""
        if not text:
            return None
        try:
            data: dict[str, Any] = json.loads(text)
            scheduled_end = parse_utc(data["scheduled_end"])
            at = parse_utc(data["at"])
            if scheduled_end is None or at is None:
                return None
            return cls(
                added=bool(data["added"]),
                seconds=int(data["seconds"]),
                multiplier=float(data["multiplier"]),
                scheduled_end=scheduled_end,
                choice=Choice(data["choice"]),
                penalty=bool(data["penalty"]),
                at=at,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def describe(self) -> str:
        vote = f"vote {self.choice.label}"
        if self.penalty:
            what = "Penalty: time added"
            if self.choice is not Choice.ADD:
                vote += " (the penalty made it Add time)"
        else:
            what = "Time added" if self.added else "Time removed"
        return (
            f"{what}: **{format_duration(self.seconds)}** (×{self.multiplier:.2f}), "
            f"{vote}, {discord_time(self.at, 'R')}"
        )


def panel_embed(
    *,
    lock_name: str,
    wearer_id: int | None,
    allow_anonymous: bool,
    latest: ResultSummary | None,
) -> discord.Embed:
    embed = discord.Embed(
        title=f"Vote on {escape_name(lock_name)}",
        description=(
            "Click a button to vote. With a connected account your vote is logged, as you; "
            "otherwise it is anonymous."
            if allow_anonymous
            else "Click a button to vote. Votes on this lock are logged: connect your "
            "Chastity Tracker account first with `/account connect`."
        ),
        colour=_latest_colour(latest),
    )
    if wearer_id is not None:
        embed.add_field(name="Wearer", value=f"<@{wearer_id}>")
    embed.add_field(name="Anonymous votes", value="allowed" if allow_anonymous else "not allowed")
    if latest is not None:
        embed.add_field(name="Latest result", value=latest.describe(), inline=False)
        embed.add_field(
            name="Scheduled end", value=discord_when(latest.scheduled_end), inline=False
        )
    else:
        embed.add_field(name="Latest result", value="No vote through this panel yet.", inline=False)
    if allow_anonymous:
        embed.set_footer(
            text="Anonymous votes through the bot share one vote per lock and cooldown window."
        )
    return embed


def removed_panel_embed(lock_name: str) -> discord.Embed:
    return discord.Embed(
        title=f"Vote on {escape_name(lock_name)}",
        description="This lock was removed from the server: the panel no longer takes votes.",
        colour=CLOSED_COLOUR,
    )


def _latest_colour(latest: ResultSummary | None) -> discord.Colour:
    if latest is None:
        return PANEL_COLOUR
    if latest.penalty:
        return COLOUR_PENALTY
    return COLOUR_ADDED if latest.added else COLOUR_REMOVED


# -- community polls -------------------------------------------------------------------


def tally_text(tally: Mapping[Choice, int]) -> str:
    lines = [f"{choice.label}: **{tally.get(choice, 0)}**" for choice in Choice]
    return "\n".join(lines)


def poll_embed(
    *,
    lock_name: str | None,
    ends_at: datetime,
    tally: Mapping[Choice, int],
    closed: bool = False,
    outcome: str | None = None,
) -> discord.Embed:
    """The poll message: open with a live tally, or closed with ``outcome`` (one line)."""
    name = escape_name(lock_name) if lock_name else "a removed lock"
    members = sum(tally.values())
    if closed:
        embed = discord.Embed(
            title=f"Community poll on {name} (closed)",
            description=outcome or "This poll is closed.",
            colour=CLOSED_COLOUR,
        )
        embed.add_field(name="Ended", value=discord_when(ends_at), inline=False)
    else:
        embed = discord.Embed(
            title=f"Community poll on {name}",
            description=(
                "Pick a choice below; you can change it until the poll ends. Then the bot "
                "casts **one anonymous vote** for the winning choice (a tie means Random)."
            ),
            colour=POLL_COLOUR,
        )
        embed.add_field(name="Ends", value=discord_when(ends_at), inline=False)
    plural = "s" if members != 1 else ""
    embed.add_field(name=f"Tally ({members} member{plural})", value=tally_text(tally))
    return embed


def poll_tally_embed(lock_name: str | None, tally: Mapping[Choice, int]) -> discord.Embed:
    members = sum(tally.values())
    return discord.Embed(
        title=f"Final tally · {escape_name(lock_name) if lock_name else 'a removed lock'}",
        description=f"{tally_text(tally)}\n{members} member{'s' if members != 1 else ''} chose.",
        colour=POLL_COLOUR,
    )


# -- how a poll ended ------------------------------------------------------------------

POLL_NO_VOTES = "no_votes"
POLL_LOCK_REMOVED = "lock_removed"
POLL_IN_DOUBT = "in_doubt"
POLL_CLOSING = "closing"


def poll_outcome(
    outcome: str | None, choice: Choice | None, *, reason: str | None = None
) -> str | None:
    """The one sentence saying how a poll ended, from its recorded outcome.

    ``reason`` says why a vote was not counted, when that is known (at close).
    """
    match outcome:
        case None:
            return None
        case "ok" if choice is not None:
            return f"The bot cast one anonymous vote for **{choice.label}**."
        case "no_votes":
            return "Nobody picked a choice, so no vote was cast."
        case "lock_removed":
            return "The lock was removed before the poll ended, so no vote was cast."
        case "unknown":
            return (
                "Chastity Tracker gave no definite answer (none in time, or a server error "
                "page): the vote may or may not have been counted. It will not be sent "
                "again; check the lock's history on Chastity Tracker."
            )
        case "in_doubt":
            return "The vote may or may not have reached Chastity Tracker; it was not sent again."
        case "closing":
            return "Closing…"
        case _:
            return reason or "The vote was not counted."
