"""Playing DICE, LUCK and LINK (as dom) for a member: the rules between a command and the API.

Knows members by id only, never an interaction. A command uses it in this
order, which is the product's: flood control (the interaction layer's, before
anything reaches Chastity Tracker), :meth:`GameService.check` (options that
cannot work), :meth:`GameService.bearer` (the member's token), then the
command defers, then :meth:`GameService.play` picks the session when it was
left out and plays, recorded in the ledger before it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import discord

from bot.accounts import AccountService
from bot.ctapi import (
    ChastityTrackerClient,
    Choice,
    Game,
    MalformedResponse,
    OutcomeUnknown,
    PlayResult,
    ServerError,
    SessionInfo,
    Unauthorized,
)
from bot.embeds.format import discord_time
from bot.error_messages import UserError
from bot.plays import Attempt, recorded
from bot.secrets import Secret
from bot.session_choices import SessionChoices, session_end, session_label, session_label_at
from bot.storage import Storage

log = logging.getLogger(__name__)

# How many candidates a "which session?" message lists before "and N more".
LISTED_CANDIDATES: Final = 10


@dataclass(frozen=True, slots=True)
class GamePlay:
    """What a member asked for. LINK is always played as the dom (dom=1)."""

    member_id: int
    guild_id: int | None
    game: Game
    session: int | None = None
    as_dom: bool = False
    choice: Choice | None = None

    @property
    def dom(self) -> bool:
        return self.as_dom or self.game is Game.LINK


class SessionNeeded(UserError):
    def __init__(self, play: GamePlay) -> None:
        what = "LINK" if play.game is Game.LINK else f"{play.game.value.upper()} as a dom"
        super().__init__(
            f"Playing {what} needs the session number: give `session` "
            "(the id of the owner's session on Chastity Tracker)."
        )


class ChoiceNeeded(UserError):
    def __init__(self) -> None:
        super().__init__("LINK needs a `choice`: Add time, Remove time or Random.")


class NoActiveSession(UserError):
    def __init__(self, recent: Sequence[int]) -> None:
        played = ""
        if recent:
            listed = ", ".join(f"#{session}" for session in recent)
            played = f" Sessions you played recently through the bot: {listed}."
        super().__init__(
            "Chastity Tracker lists no active session of yours, so there is nothing to play "
            "on without a session number. Give one with `session` (and `as_dom:true` to play "
            f"on someone else's session as their dom).{played}"
        )


class SessionsUnavailable(UserError):
    def __init__(self) -> None:
        super().__init__(
            "🔌 Chastity Tracker did not list your active sessions, so nothing was played.\n"
            "• Try again in a few minutes, or give `session`."
        )


class SeveralActiveSessions(UserError):
    """The member has several active sessions; the text lists them, each with its end."""

    def __init__(self, sessions: Sequence[SessionInfo]) -> None:
        self.sessions = tuple(sessions)
        lines = [f"• {_candidate(info)}" for info in sessions[:LISTED_CANDIDATES]]
        if len(sessions) > LISTED_CANDIDATES:
            lines.append(f"• … and {len(sessions) - LISTED_CANDIDATES} more")
        super().__init__(
            f"❔ You have {len(sessions)} active sessions. Which one? Pick it below, or give "
            "`session`.\n" + "\n".join(lines)
        )

    def options(self) -> list[tuple[int, str]]:
        """(session id, plain-text label) for a select menu, whose labels cannot show
        Discord timestamps."""
        return [(info.id, session_option_label(info)) for info in self.sessions]


def _candidate(info: SessionInfo) -> str:
    """ "#101 · ends <t:…:f> · locked by PartnerNick": each reader sees their own time zone."""
    parts = [f"**#{info.id}**"]
    end = session_end(info)
    if end is not None:
        parts.append(f"ends {discord_time(end, 'f')} ({discord_time(end, 'R')})")
    elif info.scheduled_end:
        parts.append(f"ends {info.scheduled_end[:16]} (Chastity Tracker's time)")
    else:
        parts.append("no scheduled end")
    if info.locked_by:
        parts.append(f"locked by {discord.utils.escape_markdown(info.locked_by)}")
    return " · ".join(parts)


def session_option_label(info: SessionInfo) -> str:
    end = session_end(info)
    if end is not None:
        return session_label_at(info, f"ends {end:%d %b %Y %H:%M} UTC")
    return session_label(info)


class GameService:
    """Plays games for members; one instance per bot."""

    def __init__(
        self,
        api: ChastityTrackerClient,
        accounts: AccountService,
        storage: Storage,
        *,
        clock: Callable[[], datetime],
        sessions: SessionChoices,
    ) -> None:
        self._api = api
        self._accounts = accounts
        self._storage = storage
        self._clock = clock
        self.sessions = sessions

    @staticmethod
    def check(play: GamePlay) -> None:
        """Refuse options that cannot work, before anything is deferred or sent."""
        if play.session is None and play.dom:
            raise SessionNeeded(play)
        if play.game is Game.LINK and play.choice is None:
            raise ChoiceNeeded()

    async def bearer(self, member_id: int) -> Secret:
        """The member's token; NotConnected / NeedsReconnect say how to fix it."""
        return await self._accounts.bearer(member_id)

    async def play(self, play: GamePlay, bearer: Secret) -> PlayResult:
        """Play once (never resent), recorded in the ledger; API errors propagate.

        A 401 marks the account for reconnecting before the error goes on.
        """
        self.check(play)
        try:
            session = (
                play.session
                if play.session is not None
                else await self.only_active_session(play.member_id, bearer)
            )
            attempt = Attempt(
                user_id=play.member_id,
                guild_id=play.guild_id,
                game=play.game,
                dom=play.dom,
                session=session,
                choice=play.choice,
            )
            result = await recorded(
                self._storage, self._clock, attempt, lambda: self._send(play, session, bearer)
            )
        except Unauthorized:
            await self._accounts.token_refused(play.member_id)
            raise
        finally:
            # A play moves a scheduled end: the next suggestions should show the new one.
            self.sessions.forget(play.member_id)
        if not play.dom:
            # Played as the owner: Chastity Tracker allowed it, so the session is theirs.
            self.sessions.note_owner(result.session, play.member_id)
        return result

    def wearer_of(self, session_id: int) -> int | None:
        """The member who owns ``session_id``, when the bot has seen it (for a dom's play)."""
        return self.sessions.owner_of(session_id)

    async def only_active_session(self, member_id: int, bearer: Secret) -> int:
        """The member's one active session; a clear :class:`UserError` for none or several."""
        try:
            active = await self.sessions.active(member_id, bearer)
        except (ServerError, MalformedResponse, OutcomeUnknown):
            # Only a read failed: said so, or the member would fear a play happened.
            raise SessionsUnavailable() from None
        if len(active) == 1:
            return active[0].id
        if not active:
            recent = await self._storage.ledger.recent_sessions(member_id, limit=5)
            raise NoActiveSession(recent)
        raise SeveralActiveSessions(active)

    async def _send(self, play: GamePlay, session: int, bearer: Secret) -> PlayResult:
        match play.game:
            case Game.DICE:
                return await self._api.play_dice(bearer, session, as_dom=play.as_dom)
            case Game.LUCK:
                return await self._api.play_luck(bearer, session, as_dom=play.as_dom)
            case Game.LINK:
                assert play.choice is not None  # check() refused it otherwise
                return await self._api.play_link_as_dom(bearer, session, play.choice)
