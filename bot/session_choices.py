"""Suggestions for the ``session`` option: the member's active sessions and recent ones.

Autocomplete must answer within Discord's 3-second window and cannot be
deferred. So the member's active sessions (v2 sessions, ``active=1``) are
cached for a minute, and a refresh that takes longer than ``budget`` seconds
keeps running in the background (its answer serves the next keystroke) while
this answer falls back to what is known locally: a stale list if there is one,
and the sessions the member played recently through the bot (the ledger).
:meth:`SessionChoices.suggest` never raises.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final

from bot.accounts import AccountService
from bot.ctapi import ChastityTrackerClient, ChastityTrackerError, SessionInfo, Unauthorized
from bot.error_messages import UserError
from bot.secrets import Secret
from bot.storage import Storage
from bot.timing import Sleep, done_within

log = logging.getLogger(__name__)

MAX_CHOICES: Final = 25  # Discord's limit for one autocomplete answer
MAX_LABEL: Final = 100  # Discord's limit for a choice's name
DEFAULT_TTL: Final = 60.0
DEFAULT_BUDGET: Final = 1.5
# A list older than this is not shown even when Chastity Tracker is slow.
DEFAULT_MAX_STALE: Final = 15 * 60.0
# Active sessions fetched per member; nobody has more at once in practice.
ACTIVE_LIMIT: Final = 50
# Sessions whose owner the bot remembers, to name the wearer on a dom's play.
KNOWN_OWNERS: Final = 10_000


@dataclass(frozen=True, slots=True)
class SessionChoice:
    """One suggestion: ``name`` is what the member reads, ``value`` the session id."""

    name: str
    value: int


@dataclass(frozen=True, slots=True)
class _Cached:
    sessions: tuple[SessionInfo, ...]
    fetched: float


def session_label(info: SessionInfo) -> str:
    """ "#123 · active · ends 2026-02-03 09:00 · locked by PartnerNick" (at most 100 characters)."""
    # Session times carry no documented zone: shown as Chastity Tracker gives them.
    return session_label_at(info, f"ends {info.scheduled_end[:16]}" if info.scheduled_end else "")


def session_label_at(info: SessionInfo, ends: str) -> str:
    """A session's label with ``ends`` saying when it ends (empty: not said)."""
    parts = [f"#{info.id}", "active" if info.active else "ended"]
    if ends:
        parts.append(ends)
    if info.locked_by:
        parts.append(f"locked by {info.locked_by}")
    return _fit(" · ".join(parts))


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def session_end(info: SessionInfo) -> datetime | None:
    """The session's scheduled end as a moment, when its zone is known.

    Session times carry no documented zone; the session's own UTC offset
    (``timezoneend``, else ``timezonestart``) is the best reading of them. With
    no offset, None: the time is then shown as Chastity Tracker gives it.
    """
    if not info.scheduled_end:
        return None
    match = _OFFSET.fullmatch((info.timezone_end or info.timezone_start or "").strip())
    if match is None:
        return None
    try:
        local = datetime.strptime(info.scheduled_end[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    sign = 1 if match[1] == "+" else -1
    offset = timedelta(hours=int(match[2]), minutes=int(match[3])) * sign
    return local.replace(tzinfo=timezone(offset)).astimezone(UTC)


def recent_label(session_id: int) -> str:
    return f"#{session_id} · played recently through the bot"


def _fit(text: str) -> str:
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _typed_number(typed: str) -> int | None:
    text = typed.strip().removeprefix("#").strip()
    if not text.isdigit():
        return None
    number = int(text)
    # Discord's integers stop at 2^53; anything larger cannot be a session id.
    return number if 1 <= number <= 2**53 else None


def _matches(session_id: int, typed: str) -> bool:
    text = typed.strip().removeprefix("#").strip()
    return not text or text in str(session_id)


class SessionChoices:
    """The member's active sessions (briefly cached) and the suggestions built from them."""

    def __init__(
        self,
        api: ChastityTrackerClient,
        accounts: AccountService,
        storage: Storage,
        *,
        ttl: float = DEFAULT_TTL,
        budget: float = DEFAULT_BUDGET,
        max_stale: float = DEFAULT_MAX_STALE,
        max_members: int = 5_000,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._api = api
        self._accounts = accounts
        self._storage = storage
        self._ttl = ttl
        self._budget = budget
        self._max_stale = max_stale
        self._max_members = max_members
        self._monotonic = monotonic
        self._sleep = sleep
        self._cache: dict[int, _Cached] = {}
        self._owners: dict[int, int] = {}  # session id -> the member who owns it
        self._refreshing: dict[int, asyncio.Task[tuple[SessionInfo, ...] | None]] = {}

    # -- the active sessions --------------------------------------------------------

    async def active(self, member_id: int, bearer: Secret) -> tuple[SessionInfo, ...]:
        """The member's active sessions, fresh from Chastity Tracker (errors propagate)."""
        page = await self._api.sessions(bearer, active=True, limit=ACTIVE_LIMIT)
        self._remember(member_id, page.items)
        for info in page.items:
            self.note_owner(info.id, member_id)
        return page.items

    def note_owner(self, session_id: int, member_id: int) -> None:
        """``member_id`` owns ``session_id`` (it is in their own list, or they played on it
        without ``as_dom``)."""
        self._owners.pop(session_id, None)
        if len(self._owners) >= KNOWN_OWNERS:
            del self._owners[next(iter(self._owners))]
        self._owners[session_id] = member_id

    def owner_of(self, session_id: int) -> int | None:
        """The member who owns ``session_id``, when the bot has seen it; else None."""
        return self._owners.get(session_id)

    def forget(self, member_id: int) -> None:
        """Drop the member's cached list (a play just changed a scheduled end)."""
        self._cache.pop(member_id, None)

    async def close(self) -> None:
        """Stop background refreshes (the bot is shutting down)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._refreshing.clear()

    # -- suggestions ------------------------------------------------------------------

    async def suggest(self, member_id: int, typed: str = "") -> list[SessionChoice]:
        """At most 25 choices for what the member has typed so far. Never raises."""
        active: tuple[SessionInfo, ...] = ()
        recent: list[int] = []
        try:
            active = await self._active_within_budget(member_id)
        except Exception:
            log.exception("Could not look up the active sessions of member %d", member_id)
        try:
            recent = await self._storage.ledger.recent_sessions(member_id, limit=MAX_CHOICES)
        except Exception:
            log.exception("Could not read the recent sessions of member %d", member_id)
        return build_choices(active, recent, typed)

    async def _active_within_budget(self, member_id: int) -> tuple[SessionInfo, ...]:
        cached = self._cache.get(member_id)
        age = self._monotonic() - cached.fetched if cached is not None else None
        if cached is not None and age is not None and age < self._ttl:
            return cached.sessions
        task = self._refreshing.get(member_id)
        if task is None:
            bearer = await self._bearer(member_id)
            if bearer is None:
                return ()
            task = asyncio.create_task(
                self._refresh(member_id, bearer), name=f"sessions-refresh-{member_id}"
            )
            self._refreshing[member_id] = task
            task.add_done_callback(lambda done: self._refresh_finished(member_id, done))
        # Out of budget, the refresh is left running: it fills the cache for later.
        if await done_within(task, self._budget, self._sleep) and not task.cancelled():
            fresh = task.result()
            if fresh is not None:
                return fresh
        else:
            log.info("Sessions of member %d are slow to come; suggesting known ones", member_id)
        if cached is not None and age is not None and age < self._max_stale:
            return cached.sessions
        return ()

    async def _bearer(self, member_id: int) -> Secret | None:
        try:
            return await self._accounts.optional_bearer(member_id)
        except UserError:
            return None  # needs a reconnect: nothing to ask Chastity Tracker with

    async def _refresh(self, member_id: int, bearer: Secret) -> tuple[SessionInfo, ...] | None:
        """Fetch and cache the active sessions; None (logged) when that fails."""
        try:
            return await self.active(member_id, bearer)
        except Unauthorized:
            await self._accounts.token_refused(member_id)
        except ChastityTrackerError as error:
            log.info("Sessions of member %d unavailable: %s", member_id, type(error).__name__)
        return None

    def _refresh_finished(
        self, member_id: int, task: asyncio.Task[tuple[SessionInfo, ...] | None]
    ) -> None:
        if self._refreshing.get(member_id) is task:
            del self._refreshing[member_id]
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "Refreshing the sessions of member %d failed",
                member_id,
                exc_info=task.exception(),
            )

    def _remember(self, member_id: int, sessions: tuple[SessionInfo, ...]) -> None:
        self._cache.pop(member_id, None)
        if len(self._cache) >= self._max_members:
            # Oldest first (insertion order): the least recently refreshed go.
            del self._cache[next(iter(self._cache))]
        self._cache[member_id] = _Cached(sessions, self._monotonic())


def build_choices(
    active: Iterable[SessionInfo], recent: Iterable[int], typed: str
) -> list[SessionChoice]:
    """Active sessions first, then recent ones, filtered by what was typed; at most 25.

    A number typed that matches nothing is offered too, so any session can be named.
    """
    choices: list[SessionChoice] = []
    seen: set[int] = set()
    for info in active:
        if info.id not in seen and _matches(info.id, typed):
            choices.append(SessionChoice(session_label(info), info.id))
            seen.add(info.id)
    for session_id in recent:
        if session_id not in seen and _matches(session_id, typed):
            choices.append(SessionChoice(recent_label(session_id), session_id))
            seen.add(session_id)
    number = _typed_number(typed)
    if number is not None and number not in seen:
        choices.insert(0, SessionChoice(f"#{number}", number))
    return choices[:MAX_CHOICES]
