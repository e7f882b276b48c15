"""The lock registry: the locks a server votes on, registered and removed by its admins.

Knows servers and members by id. Registering normalises the name (NFKC, no
control or zero-width characters), stores the token encrypted beside its keyed
hash, and lets the database refuse a second registration of the token on the
server (a unique index: two racing ``/locks add`` end with one lock) or one
past the server's limit; removing first
retires the lock's panels and ends its open polls, so nothing keeps taking
votes for a lock that is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.embeds.format import escape_name
from bot.embeds.voting import LockLine
from bot.error_messages import UserError
from bot.panels import PanelService
from bot.polls import PollService
from bot.secrets import Secret
from bot.storage import DuplicateLockName, DuplicateLockToken, GuildLimitReached, Lock, Storage
from bot.storage.locks import NAME_MAX_LENGTH, normalise_name
from bot.vault import Vault, VaultError
from bot.voting import LockNotFound, VoteService

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Removal:
    """What removing a lock ended besides the lock itself."""

    lock: Lock
    panels_retired: int
    polls_closed: int


class LockRegistry:
    def __init__(
        self,
        *,
        storage: Storage,
        vault: Vault,
        votes: VoteService,
        panels: PanelService,
        polls: PollService,
        clock: Callable[[], datetime],
        max_locks: int = 100,
    ) -> None:
        self._max_locks = max_locks
        self._storage = storage
        self._vault = vault
        self._votes = votes
        self._panels = panels
        self._polls = polls
        self._clock = clock

    @staticmethod
    def clean_name(name: str) -> str:
        """The name as stored; a :class:`UserError` when nothing is left of it.

        See :func:`bot.storage.locks.normalise_name`.
        """
        name = normalise_name(name)
        if not 1 <= len(name) <= NAME_MAX_LENGTH:
            raise UserError(f"A lock name has 1 to {NAME_MAX_LENGTH} visible characters.")
        return name

    async def add(  # noqa: PLR0917 - the order of /locks add's options
        self,
        guild_id: int,
        name: str,
        link_token: Secret,
        wearer_id: int | None,
        allow_anonymous: bool,
        added_by: int,
    ) -> Lock:
        name = self.clean_name(name)
        try:
            return await self._storage.locks.add(
                guild_id,
                name,
                self._vault.encrypt(link_token),
                wearer_id,
                allow_anonymous,
                added_by,
                self._clock(),
                token_hash=self._vault.token_hash(link_token),
                guild_limit=self._max_locks,
            )
        except DuplicateLockToken:
            existing = await self._votes.registered_lock(guild_id, link_token)
            shown = f" as **{escape_name(existing.name)}**" if existing is not None else ""
            raise UserError(f"That token is already registered here{shown}.") from None
        except DuplicateLockName:
            raise UserError(
                f"This server already has a lock named **{escape_name(name)}** (names ignore "
                "case). Choose another name, or remove that lock first."
            ) from None
        except GuildLimitReached as limit:
            raise UserError(
                f"This server has registered {limit.limit} locks, its limit. Remove one "
                "with `/locks remove` first."
            ) from None

    async def get(self, guild_id: int, name: str) -> Lock:
        lock = await self._storage.locks.get_by_name(guild_id, name.strip())
        if lock is None:
            raise LockNotFound(name)
        return lock

    async def remove(self, guild_id: int, name: str) -> Removal:
        lock = await self.get(guild_id, name)
        open_polls = await self._storage.polls.open_for_lock(lock.id)
        panels = await self._panels.retire(lock)
        await self._storage.locks.remove(lock.guild_id, lock.name)
        # A poll on a removed lock can cast nothing: end it now rather than let
        # members keep choosing until its time is up.
        closed = [poll for poll in open_polls if await self._polls.close_poll(poll)]
        return Removal(lock, panels, len(closed))

    async def lines(self, guild_id: int) -> list[LockLine]:
        """The server's locks as listed to admins: tokens masked to their last characters."""
        return [
            LockLine(lock.name, self._masked(lock), lock.wearer_id, lock.allow_anonymous)
            for lock in await self._storage.locks.list(guild_id)
        ]

    async def names_like(self, guild_id: int, current: str) -> list[str]:
        return await self._storage.locks.names_like(guild_id, current)

    def _masked(self, lock: Lock) -> str | None:
        """The token masked, or None when the vault's keys cannot decrypt it."""
        try:
            return self._vault.decrypt(lock.token_ciphertext).masked()
        except VaultError:
            log.error("the token of lock %d cannot be decrypted", lock.id)
            return None
