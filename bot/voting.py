"""Public LINK votes (dom=0) by server members: which lock, logged or anonymous, sent once.

A vote is logged (the member's bearer token identifies them, and the API
counts it per member) when the member connected an account, unless they ask
for an anonymous vote. An anonymous vote carries no bearer; Chastity Tracker
counts those per address, and every anonymous vote sent by the bot comes from
the bot's one address, so they all share one vote per lock and cooldown
window. That is why an anonymous cooldown refusal gets its own explanation.

Anonymous votes are guarded by ``bot.anonymous_votes``: refused while a
community poll holds the vote, answered from memory once it is used.

The API punishes a logged vote by the session's owner, the lock's wearer (the
penalty). A logged vote is therefore confirmed first
(:attr:`VotePlan.penalty_risk`) when the voter is registered as the wearer of
the lock on any server that registered its token, or when the token is the
voter's own LINK token as Chastity Tracker reported it (stats ``link_game``,
kept as a keyed hash): on any server or in a DM, by name, token or share link,
registered or not. The interaction layer shows that dialog
(``bot.interactions.actions``).

A lock is recognised by its token's keyed hash (``bot.vault.Vault``), one
indexed lookup however many locks are stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.anonymous_votes import (
    AnonymousVoteBeingSent,
    AnonymousVoteMemory,
    AnonymousVoteUsed,
    PollHoldsAnonymousVote,
)
from bot.ctapi import BadRequest, Choice, Game, LinkResult, Unauthorized
from bot.embeds.format import escape_name as escape
from bot.error_messages import AnonymousCooldown, UserError
from bot.plays import Attempt, recorded
from bot.secrets import Secret
from bot.storage import Lock
from bot.vault import VaultError

if TYPE_CHECKING:
    from bot.accounts import AccountService
    from bot.ctapi import ChastityTrackerClient
    from bot.storage import Storage
    from bot.vault import Vault

log = logging.getLogger(__name__)


class LockNotFound(UserError):
    def __init__(self, name: str) -> None:
        super().__init__(
            f"No lock named **{escape(name)}** is registered on this server. "
            "`/locks list` shows the registered ones (admins), or give a `token` instead."
        )


class LockNotChosen(UserError):
    pass


class AnonymousNotAllowed(UserError):
    def __init__(self, lock_name: str, *, connected: bool) -> None:
        how = (
            "Vote without `anonymous:true` to vote logged, as yourself."
            if connected
            else "Connect your Chastity Tracker account with `/account connect`, then vote "
            "again: your vote is then logged, as yourself."
        )
        super().__init__(f"{lock_name} does not take anonymous votes on this server. {how}")


class AnonymousNotAllowedAnywhere(UserError):
    def __init__(self, *, connected: bool) -> None:
        how = (
            "Vote without `anonymous:true` to vote logged, as yourself."
            if connected
            else "Connect your Chastity Tracker account with `/account connect`, then vote "
            "again: your vote is then logged, as yourself."
        )
        super().__init__(
            "Not sent: a server that registered this lock does not take anonymous votes on "
            f"it, and a vote from a DM follows the strictest server. {how}"
        )


class VoteInProgress(UserError):
    def __init__(self) -> None:
        super().__init__(
            "Your vote on this lock is already being sent. Wait for its result; it counts once."
        )


class LockTokenUnreadable(UserError):
    def __init__(self) -> None:
        super().__init__(
            "This lock's token can no longer be read by the bot. "
            "Ask a server admin to register the lock again (`/locks remove`, then `/locks add`)."
        )


@dataclass(frozen=True, slots=True)
class VoteTarget:
    """The lock a vote goes to: its token, and the registrations whose rules apply.

    On a server, ``lock`` is that server's registration of the token (if any);
    in a DM, ``registrations`` holds every server's, and the strictest rule wins.
    """

    link_token: Secret = field(repr=False)
    token_hashes: tuple[bytes, ...] = field(repr=False)
    lock: Lock | None = None
    registrations: tuple[Lock, ...] = ()

    @property
    def name(self) -> str | None:
        if self.lock is not None:
            return self.lock.name
        return self.registrations[0].name if len(self.registrations) == 1 else None

    @property
    def allow_anonymous(self) -> bool:
        return all(lock.allow_anonymous for lock in self.registrations)

    @property
    def wearer_ids(self) -> frozenset[int]:
        return frozenset(lock.wearer_id for lock in self.registrations if lock.wearer_id)

    @property
    def current_hash(self) -> bytes:
        return self.token_hashes[0]


@dataclass(frozen=True, slots=True)
class VotePlan:
    """A vote decided but not sent yet."""

    voter_id: int
    guild_id: int | None
    target: VoteTarget
    choice: Choice
    bearer: Secret | None = field(default=None, repr=False)
    # The voter is the lock's wearer: registered as such, or it is their own LINK token.
    own_lock: bool = False
    connected: bool = False

    @property
    def logged(self) -> bool:
        return self.bearer is not None

    @property
    def penalty_risk(self) -> bool:
        """A logged vote by the lock's wearer: the API would apply its penalty."""
        return self.logged and self.own_lock


class VoteService:
    """Resolves, plans and sends members' LINK votes. Knows Discord only by ids."""

    def __init__(
        self,
        *,
        api: ChastityTrackerClient,
        storage: Storage,
        vault: Vault,
        accounts: AccountService,
        clock: Callable[[], datetime],
    ) -> None:
        self._api = api
        self._storage = storage
        self._vault = vault
        self._accounts = accounts
        self._clock = clock
        self.memory = AnonymousVoteMemory(storage, clock)
        # (member, token hash) pairs with a vote on the way: a double click counts once.
        self._sending: set[tuple[int, bytes]] = set()
        # Tokens with an anonymous vote on the way: the bot has one per lock, so a
        # second member's anonymous vote meanwhile would only be refused.
        self._anonymous_sending: set[bytes] = set()

    # -- which lock ----------------------------------------------------------------

    def target_of(self, lock: Lock) -> VoteTarget:
        try:
            token = self._vault.decrypt(lock.token_ciphertext)
        except VaultError:
            log.error("the token of lock %d cannot be decrypted", lock.id)
            raise LockTokenUnreadable() from None
        return VoteTarget(token, self._vault.token_hashes(token), lock, (lock,))

    async def resolve(
        self, guild_id: int | None, lock_name: str | None, token: Secret | None
    ) -> VoteTarget:
        """The lock named ``lock_name``, or given by ``token``, or the server's only one."""
        if lock_name and token:
            raise LockNotChosen("Give either `lock` or `token`, not both.")
        if token:
            return await self._by_token(guild_id, token)
        if guild_id is None:
            raise LockNotChosen(
                "Registered locks belong to a server. Here, give the lock's public `token` "
                "(or its share link)."
            )
        if lock_name:
            lock = await self._storage.locks.get_by_name(guild_id, lock_name.strip())
            if lock is None:
                raise LockNotFound(lock_name)
            return self.target_of(lock)
        locks = await self._storage.locks.list(guild_id)
        if len(locks) == 1:
            return self.target_of(locks[0])
        if not locks:
            raise LockNotChosen(
                "No lock is registered on this server yet. Give the lock's public `token` "
                "(or its share link), or ask an admin to register it with `/locks add`."
            )
        names = ", ".join(f"**{escape(lock.name)}**" for lock in locks[:10])
        more = " …" if len(locks) > 10 else ""
        raise LockNotChosen(
            f"This server has several locks: choose one with `lock` ({names}{more})."
        )

    async def _by_token(self, guild_id: int | None, token: Secret) -> VoteTarget:
        # A pasted token of a registered lock is that lock: its owner and its
        # anonymous rule apply, so neither can be bypassed by pasting. From a DM,
        # every server that registered the token has its say.
        hashes = self._vault.token_hashes(token)
        if guild_id is None:
            registrations = await self._storage.locks.everywhere_by_token(hashes)
            return VoteTarget(token, hashes, None, tuple(registrations))
        lock = await self._storage.locks.find_by_token(guild_id, hashes)
        return VoteTarget(token, hashes, lock, (lock,) if lock is not None else ())

    async def registered_lock(self, guild_id: int, token: Secret) -> Lock | None:
        """The lock registered on this server with ``token``, if there is one."""
        return await self._storage.locks.find_by_token(guild_id, self._vault.token_hashes(token))

    # -- how -------------------------------------------------------------------------

    async def plan(
        self,
        voter_id: int,
        guild_id: int | None,
        target: VoteTarget,
        choice: Choice,
        *,
        anonymous: bool = False,
    ) -> VotePlan:
        """Logged (when connected and not ``anonymous``) or anonymous, as the lock allows."""
        bearer = None if anonymous else await self._accounts.optional_bearer(voter_id)
        if bearer is None:
            connected = anonymous and await self._accounts.get(voter_id) is not None
            if not target.allow_anonymous:
                if target.lock is None and target.registrations:
                    raise AnonymousNotAllowedAnywhere(connected=connected)
                raise AnonymousNotAllowed(_shown(target.name) or "This lock", connected=connected)
            plan = VotePlan(voter_id, guild_id, target, choice, connected=connected)
            await self._check_anonymous_vote_free(plan)
            return plan
        own = voter_id in target.wearer_ids or await self._accounts.owns_link_token(
            voter_id, target.token_hashes
        )
        return VotePlan(voter_id, guild_id, target, choice, bearer, own_lock=own, connected=True)

    async def _check_anonymous_vote_free(
        self, plan: VotePlan, *, poll_id: int | None = None
    ) -> None:
        """Refuse, sending nothing, when a poll holds the bot's anonymous vote on the token
        (``poll_id``: the poll casting now, which holds it itself) or it is known used."""
        target = plan.target
        for poll in await self._storage.polls.active_on_tokens(target.token_hashes):
            if poll.id != poll_id:
                raise PollHoldsAnonymousVote(
                    poll,
                    lock_name=_shown(target.name),
                    voter_guild_id=plan.guild_id,
                    connected=plan.connected,
                )
        use = await self.memory.in_use(target.token_hashes)
        if use is not None:
            raise AnonymousVoteUsed(use, lock_name=_shown(target.name), connected=plan.connected)

    @asynccontextmanager
    async def exclusive(self, plan: VotePlan) -> AsyncIterator[None]:
        """Hold the member's vote on this lock; a second one meanwhile is refused."""
        key = (plan.voter_id, plan.target.current_hash)
        if key in self._sending:
            raise VoteInProgress()
        self._sending.add(key)
        try:
            yield
        finally:
            self._sending.discard(key)

    # -- send ------------------------------------------------------------------------

    async def cast(self, plan: VotePlan) -> LinkResult:
        """Send a member's vote once; API errors pass on as typed errors."""
        try:
            if plan.logged:
                return await self._send(plan)
            return await self._send_anonymous(plan)
        except Unauthorized:
            if plan.logged:
                await self._accounts.token_refused(plan.voter_id)
            raise
        except BadRequest as error:
            if not plan.logged and error.may_be_cooldown:
                raise AnonymousCooldown(error.message, certain=error.is_cooldown) from None
            raise

    async def cast_anonymous(
        self, lock: Lock, choice: Choice, *, caster_id: int, guild_id: int | None, poll_id: int
    ) -> LinkResult:
        """One anonymous vote on behalf of many members (a community poll); no flood check."""
        plan = VotePlan(caster_id, guild_id, self.target_of(lock), choice)
        return await self._send_anonymous(plan, poll_id=poll_id)

    async def _send_anonymous(self, plan: VotePlan, *, poll_id: int | None = None) -> LinkResult:
        """The bot's one anonymous vote on the token, unless known to be held or used."""
        key = plan.target.current_hash
        if key in self._anonymous_sending:
            raise AnonymousVoteBeingSent(_shown(plan.target.name))
        self._anonymous_sending.add(key)
        try:
            # Checked again here: the member may have waited on a dialog or a lock.
            await self._check_anonymous_vote_free(plan, poll_id=poll_id)
            try:
                result = await self._send(plan)
            except BadRequest as error:
                if error.is_cooldown:
                    await self.memory.refused(key, error.message)
                raise
            await self.memory.used(key)
            return result
        finally:
            self._anonymous_sending.discard(key)

    async def _send(self, plan: VotePlan) -> LinkResult:
        """The request, recorded in the ledger before it is sent and after it answered."""
        attempt = Attempt(
            user_id=plan.voter_id,
            guild_id=plan.guild_id,
            game=Game.LINK,
            dom=False,
            lock_id=plan.target.lock.id if plan.target.lock is not None else None,
            choice=plan.choice,
            logged=plan.logged,
        )
        return await recorded(
            self._storage,
            self._clock,
            attempt,
            lambda: self._api.vote_link(plan.target.link_token, plan.choice, bearer=plan.bearer),
        )


def _shown(name: str | None) -> str | None:
    return f"**{escape(name)}**" if name else None
