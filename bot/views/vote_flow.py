"""One member's vote from an interaction: plan, penalty guard, defer, send, answer.

Shared by ``/link vote`` and panel buttons so both behave the same: flood
control and the anonymous rule before anything else, a Confirm / Cancel
dialog before a vote that would be a penalty, a defer before Chastity Tracker
is called, one request at most, and errors shown only to the member.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.ctapi import Choice, LinkResult
from bot.embeds.voting import penalty_warning, vote_result_embed
from bot.interaction_errors import user_message
from bot.replies import defer, reply
from bot.views.confirm import ConfirmDialog
from bot.voting import VotePlan, VoteService, VoteTarget

log = logging.getLogger(__name__)

AfterVote = Callable[[VotePlan, LinkResult], Awaitable[None]]
"""Runs once a vote succeeded, before the member's answer (e.g. refresh a panel)."""


async def vote_from_interaction(
    interaction: discord.Interaction[Any],
    votes: VoteService,
    target: VoteTarget,
    choice: Choice,
    *,
    anonymous: bool = False,
    public_when_logged: bool = False,
    after: AfterVote | None = None,
) -> None:
    plan = await votes.plan(
        interaction.user.id, interaction.guild_id, target, choice, anonymous=anonymous
    )
    if plan.penalty_risk:
        await _ask_first(interaction, votes, plan, after)
        return
    private = not (plan.logged and public_when_logged)
    async with votes.exclusive(plan):
        await defer(interaction, private=private)
        result = await votes.cast(plan)
    await _run_after(after, plan, result)
    await reply(interaction, private=private, embed=_embed(plan, result))


async def _ask_first(
    interaction: discord.Interaction[Any],
    votes: VoteService,
    plan: VotePlan,
    after: AfterVote | None,
) -> None:
    async def confirmed(click: discord.Interaction[Any]) -> None:
        await _send_confirmed(click, votes, plan, after)

    dialog = ConfirmDialog(
        member_id=plan.voter_id, on_confirm=confirmed, confirm_label="Vote anyway (penalty)"
    )
    await reply(
        interaction,
        penalty_warning(plan.target.name or "this lock"),
        private=True,
        view=dialog,
    )
    dialog.origin = interaction


async def _send_confirmed(
    click: discord.Interaction[Any], votes: VoteService, plan: VotePlan, after: AfterVote | None
) -> None:
    # The dialog turns into the answer: first acknowledge (Chastity Tracker may be
    # slow), then show the result or the error in its place.
    await click.response.edit_message(content="Sending your vote…", view=None)
    try:
        async with votes.exclusive(plan):
            result = await votes.cast(plan)
    except Exception as error:
        text = user_message(error)
        if text is None:
            raise
        await click.edit_original_response(content=text, view=None)
        return
    await _run_after(after, plan, result)
    await click.edit_original_response(content=None, embed=_embed(plan, result), view=None)


async def _run_after(after: AfterVote | None, plan: VotePlan, result: LinkResult) -> None:
    if after is None:
        return
    try:
        await after(plan, result)
    except Exception:
        # The vote happened; the member still gets its result.
        log.exception("Updating after a vote failed")


def _embed(plan: VotePlan, result: LinkResult) -> discord.Embed:
    return vote_result_embed(
        result, choice=plan.choice, lock_name=plan.target.name, logged=plan.logged
    )
