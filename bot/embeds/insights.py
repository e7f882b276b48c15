"""Embeds for a lock's timeline, its stats and its wearer's card. Pure functions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord

from bot.ctapi.models import Choice
from bot.embeds.format import discord_time, discord_when, format_duration
from bot.embeds.voting import poll_outcome

if TYPE_CHECKING:
    from bot.lock_stats import LockStats
    from bot.sharing import WearerCard
    from bot.timeline_chart import Chart

TIMELINE_FILENAME: Final = "timeline.png"
INSIGHT_COLOUR = discord.Colour.teal()


def timeline_embed(lock_name: str, days: int, chart: Chart) -> discord.Embed:
    votes = sum(1 for marker in chart.markers if marker.kind in ("add", "sub", "rand", "penalty"))
    embed = discord.Embed(
        title=f"Timeline of {lock_name}",
        description=(
            f"The scheduled end over the last {days} days: {votes} marked change"
            f"{'s' if votes != 1 else ''}. The dashed line is now."
        ),
        colour=INSIGHT_COLOUR,
    )
    embed.set_image(url=f"attachment://{TIMELINE_FILENAME}")
    return embed


def lock_stats_embed(stats: LockStats) -> discord.Embed:
    embed = discord.Embed(
        title=f"Stats of {stats.lock_name}",
        description=f"Votes through this bot that Chastity Tracker accepted: **{stats.votes}**.",
        colour=INSIGHT_COLOUR,
    )
    choices = "\n".join(
        f"{choice.label}: **{stats.by_choice.get(choice, 0)}**" for choice in Choice
    )
    if stats.penalties:
        choices += f"\nPenalties: **{stats.penalties}**"
    embed.add_field(name="By choice", value=choices)
    embed.add_field(
        name="Time moved",
        value=(
            f"Added: **{format_duration(stats.added_seconds)}**\n"
            f"Removed: **{format_duration(stats.removed_seconds)}**"
        ),
    )
    embed.add_field(
        name="Who voted",
        value=f"Logged: **{stats.logged}**\nAnonymous: **{stats.anonymous}**",
    )
    if stats.top_voters:
        lines = [
            f"{rank}. <@{member_id}>: {count} vote{'s' if count != 1 else ''}"
            for rank, (member_id, count) in enumerate(stats.top_voters, start=1)
        ]
        embed.add_field(name="Busiest logged voters", value="\n".join(lines), inline=False)
    else:
        embed.add_field(name="Busiest logged voters", value="No logged vote yet.", inline=False)
    if stats.polls:
        lines = []
        for poll in stats.polls:
            if poll.status == "open":
                what = f"open, ends {discord_time(poll.ends_at, 'R')}"
            else:
                what = poll_outcome(poll.outcome, poll.winning_choice) or poll.status
            lines.append(
                f"{discord_time(poll.ends_at, 'D')} · {poll.members} member"
                f"{'s' if poll.members != 1 else ''} · {what}"
            )
        more = stats.poll_count - len(stats.polls)
        if more > 0:
            lines.append(f"… and {more} older")
        embed.add_field(
            name=f"Community polls ({stats.poll_count})", value="\n".join(lines), inline=False
        )
    else:
        embed.add_field(name="Community polls", value="None yet.", inline=False)
    embed.set_footer(text="Anonymous voters are counted together, never by name.")
    return embed


def wearer_card_embed(wearer_id: int, card: WearerCard) -> discord.Embed:
    """The live status the lock's wearer chose to share on its panels."""
    embed = discord.Embed(
        title="Wearer's card",
        description=f"Shared by <@{wearer_id}>.",
        colour=INSIGHT_COLOUR,
    )
    if card.locked_since is not None:
        embed.add_field(name="Locked since", value=discord_when(card.locked_since), inline=False)
    elif not card.locked:
        embed.add_field(name="Locked", value="not locked right now", inline=False)
    if card.scheduled_end is not None:
        embed.add_field(
            name="Scheduled end",
            value=discord_when(card.scheduled_end),
            inline=False,
        )
    embed.add_field(
        name="This server's votes today",
        value=(
            f"Added **{format_duration(card.added_today)}**, "
            f"removed **{format_duration(card.removed_today)}**"
        ),
        inline=False,
    )
    return embed
