"""Public LINK votes (dom=0) by server members: which lock, logged or anonymous, sent once.

A vote is logged (the member's bearer token identifies them, and the API
counts it per member) when the member connected an account, unless they ask
for an anonymous vote. An anonymous vote carries no bearer; Chastity Tracker
counts those per address, and every anonymous vote sent by the bot comes from
the bot's one address, so they all share one vote per lock and cooldown
window. That is why an anonymous cooldown refusal gets its own explanation.

The API punishes a logged vote by the session's owner, the lock's wearer (the
penalty). The member registered as a lock's wearer is therefore asked to
confirm first (:attr:`VotePlan.penalty_risk`); the interaction layer shows that
dialog (``bot.interactions.actions``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.ctapi import BadRequest, Choice, Game, LinkResult, Unauthorized
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
            f"No lock named **{name}** is registered on this server. "
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
        super().__init__(f"**{lock_name}** does not take anonymous votes on this server. {how}")


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
    """The lock a vote goes to: a registered lock, or a bare public token."""

    link_token: Secret = field(repr=False)
    lock: Lock | None = None

    @property
    def name(self) -> str | None:
        return self.lock.name if self.lock is not None else None

    @property
    def allow_anonymous(self) -> bool:
        return self.lock.allow_anonymous if self.lock is not None else True

    @property
    def wearer_id(self) -> int | None:
        return self.lock.wearer_id if self.lock is not None else None


@dataclass(frozen=True, slots=True)
class VotePlan:
    """A vote decided but not sent yet."""

    voter_id: int
    guild_id: int | None
    target: VoteTarget
    choice: Choice
    bearer: Secret | None = field(default=None, repr=False)

    @property
    def logged(self) -> bool:
        return self.bearer is not None

    @property
    def penalty_risk(self) -> bool:
        """A logged vote by the lock's registered wearer: the API would apply its penalty."""
        return self.logged and self.target.wearer_id == self.voter_id


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
        # (member, link token) pairs with a vote on the way: a double click counts once.
        self._sending: set[tuple[int, Secret]] = set()

    # -- which lock ----------------------------------------------------------------

    def target_of(self, lock: Lock) -> VoteTarget:
        try:
            return VoteTarget(self._vault.decrypt(lock.token_ciphertext), lock)
        except VaultError:
            log.error("the token of lock %d cannot be decrypted", lock.id)
            raise LockTokenUnreadable() from None

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
        names = ", ".join(f"**{lock.name}**" for lock in locks[:10])
        more = " …" if len(locks) > 10 else ""
        raise LockNotChosen(
            f"This server has several locks: choose one with `lock` ({names}{more})."
        )

    async def _by_token(self, guild_id: int | None, token: Secret) -> VoteTarget:
        # A pasted token of a registered lock is that lock: its owner and its
        # anonymous rule apply, so the penalty guard cannot be bypassed by pasting.
        lock = await self.registered_lock(guild_id, token) if guild_id is not None else None
        return VoteTarget(token, lock)

    async def registered_lock(self, guild_id: int, token: Secret) -> Lock | None:
        """The lock registered on this server with ``token``, if there is one."""
        for lock in await self._storage.locks.list(guild_id):
            try:
                if self._vault.decrypt(lock.token_ciphertext) == token:
                    return lock
            except VaultError:
                continue
        return None

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
        if bearer is None and not target.allow_anonymous:
            connected = anonymous and await self._accounts.get(voter_id) is not None
            raise AnonymousNotAllowed(target.name or "This lock", connected=connected)
        return VotePlan(voter_id, guild_id, target, choice, bearer)

    @asynccontextmanager
    async def exclusive(self, plan: VotePlan) -> AsyncIterator[None]:
        """Hold the member's vote on this lock; a second one meanwhile is refused."""
        key = (plan.voter_id, plan.target.link_token)
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
            return await self._send(plan)
        except Unauthorized:
            if plan.logged:
                await self._accounts.token_refused(plan.voter_id)
            raise
        except BadRequest as error:
            if not plan.logged and error.may_be_cooldown:
                raise AnonymousCooldown(error.message, certain=error.is_cooldown) from None
            raise

    async def cast_anonymous(
        self, lock: Lock, choice: Choice, *, caster_id: int, guild_id: int | None
    ) -> LinkResult:
        """One anonymous vote on behalf of many members (a community poll); no flood check."""
        return await self._send(VotePlan(caster_id, guild_id, self.target_of(lock), choice))

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
