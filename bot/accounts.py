"""Connected accounts: check a member's API token, keep it encrypted, hand it out."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum

from bot.ctapi import (
    ChastityTrackerClient,
    ChastityTrackerError,
    NotSent,
    OutcomeUnknown,
    Stats,
    Unauthorized,
)
from bot.error_messages import RECONNECT_HINT, NotConnected, UserError
from bot.lock_tokens import InvalidLinkToken, parse_link_token
from bot.secrets import Secret
from bot.storage import Storage
from bot.storage.accounts import Account
from bot.vault import Vault, VaultError

log = logging.getLogger(__name__)


class NeedsReconnect(UserError):
    def __init__(self) -> None:
        super().__init__(
            "Chastity Tracker refused your stored API token (revoked or regenerated). "
            + RECONNECT_HINT
        )


class StatsProblem(Enum):
    """Why a connected member's current lock could not be shown."""

    REFUSED_EARLIER = "refused earlier"  # the account was marked for reconnecting
    REFUSED_NOW = "refused now"  # Chastity Tracker just answered 401
    UNREACHABLE = "unreachable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LiveStats:
    """The member's stats from Chastity Tracker, or why they could not be had."""

    stats: Stats | None = None
    problem: StatsProblem | None = None


class AccountService:
    """The only code that turns a stored ciphertext back into a bearer token."""

    def __init__(
        self,
        storage: Storage,
        vault: Vault,
        api: ChastityTrackerClient,
        clock: Callable[[], datetime],
    ) -> None:
        self._storage = storage
        self._vault = vault
        self._api = api
        self._clock = clock

    async def connect(self, user_id: int, token: Secret) -> Stats:
        """Check ``token`` with Chastity Tracker, then store it (replacing any old one).

        API errors propagate unchanged and nothing is stored.
        """
        stats = await self._api.stats(token)
        now = self._clock()
        await self._storage.accounts.upsert(
            user_id,
            self._vault.encrypt(token),
            stats.nick,
            now,
            link_token_hash=self._link_hash(stats),
            link_checked_at=now,
        )
        log.info("member %d connected a Chastity Tracker account", user_id)
        return stats

    async def disconnect(self, user_id: int) -> bool:
        removed = await self._storage.accounts.delete(user_id)
        if removed:
            log.info("member %d disconnected their account", user_id)
        return removed

    async def get(self, user_id: int) -> Account | None:
        return await self._storage.accounts.get(user_id)

    async def bearer(self, user_id: int) -> Secret:
        """The member's token; raises a :class:`UserError` saying how to connect if unusable."""
        token = await self.optional_bearer(user_id)
        if token is None:
            raise NotConnected()
        return token

    async def optional_bearer(self, user_id: int) -> Secret | None:
        """The member's token, None if they never connected; raises if it needs renewing."""
        account = await self._storage.accounts.get(user_id)
        if account is None:
            return None
        if account.needs_reconnect:
            raise NeedsReconnect()
        try:
            return self._vault.decrypt(account.token_ciphertext)
        except VaultError:
            log.error("stored token of member %d cannot be decrypted", user_id)
            raise UserError(
                "Your stored API token can no longer be read by the bot. "
                "Run `/account connect` again."
            ) from None

    async def live_stats(self, account: Account) -> LiveStats:
        """Ask Chastity Tracker about ``account`` now; a 401 marks it for reconnecting."""
        if account.needs_reconnect:
            return LiveStats(problem=StatsProblem.REFUSED_EARLIER)
        try:
            stats = await self._api.stats(await self.bearer(account.user_id))
        except Unauthorized:
            await self.token_refused(account.user_id)
            return LiveStats(problem=StatsProblem.REFUSED_NOW)
        except (NotSent, OutcomeUnknown):
            return LiveStats(problem=StatsProblem.UNREACHABLE)
        except ChastityTrackerError:
            return LiveStats(problem=StatsProblem.FAILED)
        await self._storage.accounts.set_link_hash(
            account.user_id, self._link_hash(stats), self._clock()
        )
        return LiveStats(stats=stats)

    async def owns_link_token(self, user_id: int, token_hashes: Sequence[bytes]) -> bool:
        """True when the token is the member's own LINK token (the penalty guard).

        Learned at connect and at ``/account status``; an account that never
        learned it (connected before the bot kept it, or after a key rotation)
        asks Chastity Tracker now, once. If that fails the guard falls back on
        the registered wearers, and the next logged vote asks again.
        """
        account = await self._storage.accounts.get(user_id)
        if account is None:
            return False
        if account.link_checked_at is None and not account.needs_reconnect:
            try:
                stats = await self._api.stats(await self.bearer(user_id))
            except ChastityTrackerError:
                log.info("could not learn the LINK token of member %d now", user_id)
                return False
            link_hash = self._link_hash(stats)
            await self._storage.accounts.set_link_hash(user_id, link_hash, self._clock())
            return link_hash is not None and link_hash in token_hashes
        return account.link_token_hash is not None and account.link_token_hash in token_hashes

    def _link_hash(self, stats: Stats) -> bytes | None:
        """The keyed hash of the member's own LINK token; only the hash is kept."""
        if not stats.link_game:
            return None
        try:
            return self._vault.token_hash(parse_link_token(stats.link_game))
        except InvalidLinkToken:
            log.info("the link_game of a member's stats holds no token the bot can read")
            return None

    async def token_refused(self, user_id: int) -> None:
        """Chastity Tracker answered 401 for the stored token: ask for a reconnect."""
        await self._storage.accounts.mark_needs_reconnect(user_id)
        log.info("stored token of member %d was refused; marked for reconnect", user_id)
