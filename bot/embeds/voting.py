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
from bot.embeds.format import (
    discord_time,
    discord_when,
    escape_name,
    format_multiplier,
    signed_duration,
)
from bot.embeds.results import Actor, Member, result_embed
from bot.embeds.style import (
    CLOSED_COLOUR,
    NEUTRAL_COLOUR,
    choice_sign,
    choice_text,
    effect_of_result,
    style_of,
)

PANEL_COLOUR = NEUTRAL_COLOUR
POLL_COLOUR = NEUTRAL_COLOUR


# -- a member's vote -------------------------------------------------------------------


def vote_result_embed(
    result: LinkResult,
    *,
    choice: Choice,
    lock_name: str | None,
    logged: bool,
    member: Member | None = None,
) -> discord.Embed:
    actor = Actor.VOTER if logged else Actor.ANONYMOUS_VOTER
    embed = result_embed(
        result, actor=actor, member=member if logged else None, choice=choice, lock_name=lock_name
    )
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
        """ "➕ +1 h 15 min · ×1.25 · chose 🎲 Random · <t:R>": the latest vote, one line."""
        style = style_of(effect_of_result(added=self.added, penalty=self.penalty))
        chose = f"chose {choice_text(self.choice)}"
        if self.penalty and self.choice is not Choice.ADD:
            chose += " (the penalty made it Add time)"
        what = signed_duration(self.seconds, added=self.added)
        if self.penalty:
            what = f"Penalty {what}"
        return (
            f"{style.sign} **{what}** · {format_multiplier(self.multiplier)} · {chose} · "
            f"{discord_time(self.at, 'R')}"
        )


UNKNOWN_END = "unknown until the first vote"
ANONYMOUS_FOOTER = (
    "Connected with /account connect? Your vote is logged as yours. Not connected? It is "
    "anonymous, and all anonymous votes through this bot count as one vote on this lock "
    "until Chastity Tracker accepts the next one."
)
LOGGED_ONLY_FOOTER = "Votes on this lock are logged as yours: connect first with /account connect."


def panel_embed(
    *,
    lock_name: str,
    wearer_id: int | None,
    allow_anonymous: bool,
    latest: ResultSummary | None,
) -> discord.Embed:
    """A lock's voting panel: the same colour whatever the latest vote did."""
    signs = " · ".join(choice_text(choice) for choice in Choice)
    embed = discord.Embed(
        title=f"🗳️ Vote on {escape_name(lock_name)}",
        description=f"Click a button to vote: {signs}.",
        colour=PANEL_COLOUR,
    )
    end = discord_when(latest.scheduled_end) if latest is not None else UNKNOWN_END
    embed.add_field(name="Scheduled end", value=end, inline=False)
    if latest is not None:
        embed.add_field(name="Latest vote", value=latest.describe(), inline=False)
    if wearer_id is not None:
        embed.add_field(name="Wearer", value=f"<@{wearer_id}>")
    embed.add_field(name="Anonymous votes", value="allowed" if allow_anonymous else "not allowed")
    embed.set_footer(text=ANONYMOUS_FOOTER if allow_anonymous else LOGGED_ONLY_FOOTER)
    return embed


def removed_panel_embed(lock_name: str) -> discord.Embed:
    return discord.Embed(
        title=f"🗳️ Vote on {escape_name(lock_name)} (closed)",
        description="This lock was removed from the server: the panel no longer takes votes.",
        colour=CLOSED_COLOUR,
    )


# -- community polls -------------------------------------------------------------------

BAR_CELLS = 8
_SHORT = {Choice.ADD: "Add", Choice.SUB: "Remove", Choice.RAND: "Random"}


def leading_choice(tally: Mapping[Choice, int]) -> Choice | None:
    """The choice the poll would cast now: the most picked, a tie is Random, none: None."""
    best = max(tally.values(), default=0)
    if best == 0:
        return None
    leaders = [choice for choice in Choice if tally.get(choice, 0) == best]
    return leaders[0] if len(leaders) == 1 else Choice.RAND


def tally_text(tally: Mapping[Choice, int]) -> str:
    """ "➕ Add ▰▰▰▰▰▰▱▱ 3 · 75% ◀": one bar per choice, the leader marked."""
    total = sum(tally.get(choice, 0) for choice in Choice)
    leader = leading_choice(tally)
    lines = []
    for choice in Choice:
        count = tally.get(choice, 0)
        share = count / total if total else 0.0
        filled = round(share * BAR_CELLS)
        bar = "▰" * filled + "▱" * (BAR_CELLS - filled)
        line = f"{choice_sign(choice)} {_SHORT[choice]} `{bar}` {count} · {round(share * 100)}%"
        if choice is leader:
            line += " ◀ leads" if tally.get(choice, 0) else " ◀ tie: Random"
        lines.append(line)
    return "\n".join(lines)


def compact_tally(tally: Mapping[Choice, int]) -> str:
    """ "➕ 3 · ➖ 1 · 🎲 0": the tally on one line."""
    return " · ".join(f"{choice_sign(choice)} {tally.get(choice, 0)}" for choice in Choice)


def poll_embed(
    *,
    lock_name: str | None,
    ends_at: datetime,
    tally: Mapping[Choice, int],
    started_by: int | None = None,
    closed: bool = False,
    outcome: str | None = None,
) -> discord.Embed:
    """The poll message: open with a live tally, or closed with ``outcome`` and its final tally."""
    name = escape_name(lock_name) if lock_name else "a removed lock"
    members = sum(tally.values())
    started = f"Started by <@{started_by}>. " if started_by is not None else ""
    if closed:
        embed = discord.Embed(
            title=f"📊 Community poll on {name} (closed)",
            description=f"{started}Closed {discord_time(ends_at, 'R')}. "
            + (outcome or "This poll is closed."),
            colour=CLOSED_COLOUR,
        )
    else:
        embed = discord.Embed(
            title=f"📊 Community poll on {name}",
            description=(
                f"{started}Pick a choice; you can change it until the poll ends "
                f"{discord_time(ends_at, 'R')}. Then the bot casts **one anonymous vote** "
                "for the winner (a tie means 🎲 Random)."
            ),
            colour=POLL_COLOUR,
        )
        embed.add_field(name="Ends", value=discord_when(ends_at), inline=False)
    plural = "s" if members != 1 else ""
    label = "Final tally" if closed else "Tally"
    embed.add_field(name=f"{label} ({members} member{plural})", value=tally_text(tally))
    return embed


def poll_result_embed(
    *,
    lock_name: str | None,
    tally: Mapping[Choice, int],
    result: LinkResult | None,
    choice: Choice | None,
) -> discord.Embed:
    """The one reply to a closed poll: the vote's result (or why there was none) and the tally."""
    members = sum(tally.values())
    plural = "s" if members != 1 else ""
    tally_line = f"Tally: {compact_tally(tally)} ({members} member{plural})"
    if result is not None and choice is not None:
        embed = result_embed(result, actor=Actor.POLL, choice=choice, lock_name=lock_name)
        embed.description = f"{embed.description}\n{tally_line}"
        return embed
    # The reply's own text says why there was no vote; the embed keeps the tally.
    shown = escape_name(lock_name) if lock_name else "a removed lock"
    return discord.Embed(
        title=f"📊 Community poll on {shown}: no vote counted",
        description=tally_line,
        colour=NEUTRAL_COLOUR,
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
                "⚠️ Chastity Tracker gave no definite answer (none in time, or a server "
                "error page), so the vote may or may not have been counted. It will not be "
                "sent again; check the lock's history on Chastity Tracker."
            )
        case "in_doubt":
            return "The vote may or may not have reached Chastity Tracker; it was not sent again."
        case "closing":
            return "Closing…"
        case _:
            return reason or "The vote was not counted."


# -- a member's poll choice --------------------------------------------------------------


def poll_choice_text(choice: Choice, previous: Choice | None, ends_at: datetime) -> str:
    """The private answer to a poll click: the choice, and what it replaced."""
    if previous is None:
        what = f"Your choice: **{choice_text(choice)}**."
    elif previous is choice:
        what = f"Your choice stays **{choice_text(choice)}**."
    else:
        what = f"Changed from **{choice_text(previous)}** to **{choice_text(choice)}**."
    return (
        f"{what} You can change it until the poll ends {discord_time(ends_at, 'R')}; then the "
        "bot casts one anonymous vote for the winning choice."
    )
