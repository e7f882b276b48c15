"""Where buttons find the voting services: the cog that owns panels and polls.

Dynamic items are rebuilt by discord.py from a ``custom_id`` alone, so they
reach the services through the client that received the click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

import discord

from bot.error_messages import UserError

if TYPE_CHECKING:
    from bot.panels import PanelService
    from bot.polls import PollService
    from bot.voting import VoteService

VOTING_COG = "Locks"


class VotingHost(Protocol):
    votes: VoteService
    panels: PanelService
    polls: PollService


class VotingUnavailable(UserError):
    def __init__(self) -> None:
        super().__init__("Voting is not available right now. Try again in a minute.")


def voting_host(client: discord.Client) -> VotingHost:
    get_cog: Any = getattr(client, "get_cog", None)
    cog = get_cog(VOTING_COG) if get_cog is not None else None
    if cog is None or not all(hasattr(cog, name) for name in ("votes", "panels", "polls")):
        raise VotingUnavailable()
    return cast("VotingHost", cog)
