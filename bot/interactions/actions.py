"""Member actions: a play, a vote, a poll choice, an account check, from interaction to reply.

Every action that reaches Chastity Tracker or stores something for a member
goes through :class:`MemberActions`, in one order: flood control (once, in
:meth:`MemberActions._admit`, from memory), the checks that need no waiting,
the acknowledgement, and only then anything that awaits the database,
Chastity Tracker or a lock others hold. A crowd's acknowledgements so never
queue behind the database. A refusal decided after the acknowledgement (not
connected, unknown lock) is raised to the central handler
(``bot.interactions.errors``), whose private reply reaches only the member
(after a public "thinking…", it deletes that first).

Every action runs inside the bot's :class:`bot.stopping.WorkGate`: once the
bot is stopping, a new one is refused at once (the member reads that the bot
is restarting) and the ones under way are let finish.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

import discord

from bot.accounts import AccountService
from bot.ctapi import (
    BadRequest,
    ChastityTrackerError,
    Choice,
    Forbidden,
    InvalidRequest,
    LinkResult,
    Unauthorized,
)
from bot.embeds import Actor, Member, result_embed
from bot.embeds.account import account_status_embed, connected_text
from bot.embeds.format import escape_name
from bot.embeds.voting import penalty_warning, poll_choice_text, vote_result_embed
from bot.error_messages import AnonymousCooldown, UserError
from bot.flood import FloodGate
from bot.games import GamePlay, GameService, SeveralActiveSessions
from bot.interactions.errors import user_message
from bot.interactions.replies import defer, reply, reply_private
from bot.lock_tokens import parse_link_token
from bot.panels import PanelService
from bot.polls import PollService
from bot.reminders import ReminderOffer, offer_for_play, offer_for_vote
from bot.secrets import Secret
from bot.stopping import WorkGate
from bot.views.confirm import ConfirmDialog
from bot.views.reminders import remind_view
from bot.views.session_picker import SessionPicker
from bot.voting import LockNotChosen, VotePlan, VoteService, VoteTarget

log = logging.getLogger(__name__)

_P = ParamSpec("_P")

AfterVote = Callable[[VotePlan, LinkResult], Awaitable[None]]
"""Runs once a vote succeeded, before the member's answer (e.g. refresh a panel)."""

CONNECT_REFUSED = (
    "Chastity Tracker refused that token, so nothing was stored. Copy the whole API token "
    "from your Chastity Tracker profile page (it is shown only once; create a new one if "
    "needed) and try `/account connect` again."
)
MALFORMED_INPUT = (
    "That is not an API token (it contains spaces or characters a token cannot have), so "
    "nothing was stored. Copy the token alone from your Chastity Tracker profile page and "
    "try `/account connect` again."
)
UNREACHABLE = (
    "🔌 Chastity Tracker could not be reached to check your token, so nothing was stored. "
    "Please try again in a few minutes."
)
NOT_CONNECTED = (
    "❌ You are not connected. Use `/account connect` with an API token from your "
    "Chastity Tracker profile page."
)


def _gated(
    action: Callable[Concatenate[MemberActions, _P], Awaitable[None]],
) -> Callable[Concatenate[MemberActions, _P], Awaitable[None]]:
    """Run the action inside the gate: refused once stopping, waited for while under way."""

    @functools.wraps(action)
    async def run(self: MemberActions, /, *args: _P.args, **kwargs: _P.kwargs) -> None:
        async with self._gate.work():
            await action(self, *args, **kwargs)

    return run


class MemberActions:
    def __init__(
        self,
        *,
        gate: WorkGate,
        flood: FloodGate,
        clock: Callable[[], datetime],
        accounts: AccountService,
        games: GameService,
        votes: VoteService,
        panels: PanelService,
        polls: PollService,
    ) -> None:
        self._gate = gate
        self._flood = flood
        self._clock = clock
        self._accounts = accounts
        self._games = games
        self._votes = votes
        self._panels = panels
        self._polls = polls

    def admit(self, interaction: discord.Interaction[Any]) -> None:
        """Flood control, before anything reaches Chastity Tracker or storage.

        Admin commands (``/locks``) pass here too: one bucket per member for
        everything they do.
        """
        self._flood.check(interaction.user.id, self._clock())

    _admit = admit

    # -- games -------------------------------------------------------------------------

    @_gated
    async def play(
        self, interaction: discord.Interaction[Any], play: GamePlay, *, private: bool
    ) -> None:
        """Flood check, defer, token, play (recorded), then the result embed.

        With the session left out and several active, the member picks one from a
        menu and the play goes on from there.
        """
        self._admit(interaction)
        self._games.check(play)
        await defer(interaction, private=private)
        bearer = await self._games.bearer(play.member_id)
        try:
            result = await self._games.play(play, bearer)
        except SeveralActiveSessions as several:
            await self._pick_session(interaction, play, several, private=private)
            return
        except BadRequest as error:
            offer = offer_for_play(play.member_id, play.game, play.session, error, self._clock())
            if offer is None:
                raise
            await _refuse_with_reminder(interaction, error, offer)
            return
        embed = result_embed(
            result,
            actor=Actor.DOM if play.dom else Actor.OWNER,
            member=Member.of(interaction.user),
            choice=play.choice,
            wearer_id=self._games.wearer_of(result.session) if play.dom else None,
        )
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

    async def _pick_session(
        self,
        interaction: discord.Interaction[Any],
        play: GamePlay,
        several: SeveralActiveSessions,
        *,
        private: bool,
    ) -> None:
        async def picked(choice: discord.Interaction[Any], session: int) -> None:
            await self.play(choice, replace(play, session=session), private=private)

        picker = SessionPicker(member_id=play.member_id, options=several.options(), on_pick=picked)
        picker.message = await reply(interaction, str(several), private=True, view=picker)

    # -- votes -------------------------------------------------------------------------

    @_gated
    async def link_vote(
        self,
        interaction: discord.Interaction[Any],
        choice: Choice,
        *,
        lock_name: str | None,
        token_text: str | None,
        anonymous: bool,
    ) -> None:
        self._admit(interaction)
        if lock_name and token_text:
            raise LockNotChosen("Give either `lock` or `token`, not both.")
        token = parse_link_token(token_text) if token_text else None
        # Whether the vote is logged is known only after reading storage, so the
        # acknowledgement is private: a public "thinking…" would show who voted even
        # when the vote turns out anonymous.
        await defer(interaction, private=True)
        target = await self._votes.resolve(interaction.guild_id, lock_name, token)
        # A logged vote is posted in the channel: it is the member's own, Chastity
        # Tracker attributes it to them anyway, and everyone sees the lock move. An
        # anonymous vote is answered privately: Discord shows who ran a command, so a
        # public answer would unmask the voter.
        await self._vote(
            interaction,
            target,
            choice,
            anonymous=anonymous,
            public_when_logged=True,
            after=self._lock_moved,
        )

    async def _lock_moved(self, plan: VotePlan, _result: LinkResult) -> None:
        if plan.target.lock is not None:
            await self._panels.vote_landed(plan.target.lock.id)

    @_gated
    async def panel_click(
        self, interaction: discord.Interaction[Any], panel_id: int, choice: Choice
    ) -> None:
        self._admit(interaction)
        # Panel answers are always private: the panel itself shows the result to all.
        await defer(interaction, private=True)
        message_id = interaction.message.id if interaction.message is not None else None
        target = await self._panels.vote_target(panel_id, interaction.guild_id, message_id)

        async def show_result(plan: VotePlan, result: LinkResult) -> None:
            await self._panels.record(panel_id, result, plan.choice)
            await _run_after(self._lock_moved, plan, result)

        await self._vote(interaction, target, choice, after=show_result)

    async def _vote(
        self,
        interaction: discord.Interaction[Any],
        target: VoteTarget,
        choice: Choice,
        *,
        anonymous: bool = False,
        public_when_logged: bool = False,
        after: AfterVote | None = None,
    ) -> None:
        plan = await self._votes.plan(
            interaction.user.id, interaction.guild_id, target, choice, anonymous=anonymous
        )
        if plan.penalty_risk:
            await self._ask_first(interaction, plan, after)
            return
        private = not (plan.logged and public_when_logged)
        try:
            async with self._votes.exclusive(plan):
                result = await self._votes.cast(plan)
        except (BadRequest, AnonymousCooldown) as error:
            lock_id = plan.target.lock.id if plan.target.lock is not None else None
            offer = offer_for_vote(
                plan.voter_id, lock_id, plan.target.link_token, error, self._clock()
            )
            if offer is None:
                raise
            await _refuse_with_reminder(interaction, error, offer)
            return
        await _run_after(after, plan, result)
        await reply(interaction, private=private, embed=_vote_embed(plan, result, interaction.user))

    async def _ask_first(
        self, interaction: discord.Interaction[Any], plan: VotePlan, after: AfterVote | None
    ) -> None:
        async def confirmed(click: discord.Interaction[Any]) -> None:
            await self._send_confirmed(click, plan, after)

        dialog = ConfirmDialog(
            member_id=plan.voter_id, on_confirm=confirmed, confirm_label="Vote anyway (penalty)"
        )
        name = plan.target.name
        await reply(
            interaction,
            penalty_warning(escape_name(name) if name else None),
            private=True,
            view=dialog,
        )
        dialog.origin = interaction

    @_gated
    async def _send_confirmed(
        self, click: discord.Interaction[Any], plan: VotePlan, after: AfterVote | None
    ) -> None:
        # The dialog turns into the answer: first acknowledge (Chastity Tracker may be
        # slow), then show the result or the error in its place.
        await click.response.edit_message(content="Sending your vote…", view=None)
        try:
            async with self._votes.exclusive(plan):
                result = await self._votes.cast(plan)
        except Exception as error:
            text = user_message(error)
            if text is None:
                raise
            await click.edit_original_response(content=text, view=None)
            return
        await _run_after(after, plan, result)
        await click.edit_original_response(
            content=None, embed=_vote_embed(plan, result, click.user), view=None
        )

    # -- polls -------------------------------------------------------------------------

    @_gated
    async def poll_choice(
        self, interaction: discord.Interaction[Any], poll_id: int, choice: Choice
    ) -> None:
        self._admit(interaction)
        # Storing the choice is a database write, which can wait on a busy database.
        await defer(interaction, private=True)
        message_id = interaction.message.id if interaction.message is not None else None
        poll, previous = await self._polls.choose(
            interaction.user.id,
            poll_id,
            choice,
            guild_id=interaction.guild_id,
            message_id=message_id,
        )
        await reply_private(interaction, poll_choice_text(choice, previous, poll.ends_at))

    # -- accounts ----------------------------------------------------------------------

    @_gated
    async def connect(self, interaction: discord.Interaction[Any], token: Secret) -> None:
        # Checking the token calls Chastity Tracker: flood control comes first.
        self._admit(interaction)
        # The token check is a network call: acknowledge first (3-second window).
        await defer(interaction, private=True)
        try:
            stats = await self._accounts.connect(interaction.user.id, token)
        except (Unauthorized, Forbidden):
            raise UserError(CONNECT_REFUSED) from None
        except InvalidRequest:
            raise UserError(MALFORMED_INPUT) from None
        except ChastityTrackerError:
            raise UserError(UNREACHABLE) from None
        await reply_private(interaction, connected_text(stats.nick))

    @_gated
    async def status(self, interaction: discord.Interaction[Any]) -> None:
        # The lock comes from Chastity Tracker: flood control, then acknowledge.
        self._admit(interaction)
        await defer(interaction, private=True)
        account = await self._accounts.get(interaction.user.id)
        if account is None:
            await reply_private(interaction, NOT_CONNECTED)
            return
        live = await self._accounts.live_stats(account)
        sessions = await self._active_sessions(account.user_id) if live.problem is None else None
        await reply_private(
            interaction, embed=account_status_embed(account, live, self._clock(), sessions)
        )

    async def _active_sessions(self, member_id: int) -> list[int] | None:
        """The member's active session ids; None when they cannot be read right now."""
        try:
            bearer = await self._accounts.bearer(member_id)
            return [info.id for info in await self._games.sessions.active(member_id, bearer)]
        except (ChastityTrackerError, UserError) as error:
            log.info("Active sessions of member %d unavailable: %s", member_id, error)
            return None


async def _refuse_with_reminder(
    interaction: discord.Interaction[Any], error: BaseException, offer: ReminderOffer
) -> None:
    """The refusal as the error handler words it, with a "Remind me" button for this member."""
    await reply(interaction, user_message(error), private=True, view=remind_view(offer))


async def _run_after(after: AfterVote | None, plan: VotePlan, result: LinkResult) -> None:
    if after is None:
        return
    try:
        await after(plan, result)
    except Exception:
        # The vote happened; the member still gets its result.
        log.exception("Updating after a vote failed")


def _vote_embed(plan: VotePlan, result: LinkResult, voter: discord.abc.User) -> discord.Embed:
    return vote_result_embed(
        result,
        choice=plan.choice,
        lock_name=plan.target.name,
        logged=plan.logged,
        member=Member.of(voter),
    )
