"""Encryption at rest for bearer tokens and lock tokens.

Keys come from TOKEN_ENCRYPTION_KEY (comma-separated Fernet keys: the first
encrypts, all decrypt, so a key can be rotated without losing tokens). With
SQLite and no key set, one is generated once into ``{DATA_DIR}/secret.key``
(readable by the owner only) and reused.

    python -m bot.vault generate-key       print a new key
    python -m bot.vault reencrypt          re-encrypt every stored token with the first key
    python -m bot.vault forget-unreadable  delete the stored tokens no key can decrypt

At start the bot checks that the key in use decrypts the stored tokens (any one
of them is enough), so a wrong or replaced key stops it with one line instead
of every member's token failing later.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import os
import stat
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, NoReturn

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.config import Settings, SettingsError, load_settings
from bot.secrets import Secret
from bot.storage import Storage, StorageError

log = logging.getLogger(__name__)

KEY_FILE_NAME: Final = "secret.key"
_VARIABLE: Final = "TOKEN_ENCRYPTION_KEY"
_GENERATE_HINT: Final = "generate one with `python -m bot.vault generate-key`"
# The label a token-hash key is derived under: the hash key is never the Fernet key
# itself, and changing the label would orphan every stored hash.
_HASH_KEY_LABEL: Final = b"chastity-bot/token-hash/v1"


class VaultError(Exception):
    """A stored token could not be decrypted with any configured key."""


class Vault:
    """Encrypts tokens at rest, and recognises them by a keyed hash without decrypting.

    A token's hash is HMAC-SHA256 under a key derived from a Fernet key (an HMAC
    of a fixed label), so stored hashes reveal nothing without the encryption
    key, and equal tokens have equal hashes: a lock is found by its token with
    one indexed lookup. The first key hashes; while a rotation is under way
    (``new,old`` before ``reencrypt`` ran) a token is looked up under every
    key's hash (:meth:`token_hashes`), and ``reencrypt`` recomputes the stored
    hashes with the first key.
    """

    __slots__ = ("_hash_keys", "_key_count", "_multi", "_primary")

    def __init__(self, keys: Sequence[Secret]) -> None:
        """``keys``: Fernet keys, the first one encrypts. Raises SettingsError if one is
        not a valid key (without showing it)."""
        if not keys:
            raise SettingsError(_VARIABLE, "has no key", _GENERATE_HINT)
        fernets: list[Fernet] = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key.reveal()))
            except (ValueError, TypeError):
                raise SettingsError(
                    _VARIABLE,
                    f"key {position} of {len(keys)} is not a valid Fernet key",
                    f"{_GENERATE_HINT} (keys are comma-separated)",
                ) from None
        self._primary = fernets[0]
        self._multi = MultiFernet(fernets)
        self._key_count = len(fernets)
        self._hash_keys = tuple(_hash_key(key) for key in keys)

    def __repr__(self) -> str:
        return f"Vault(keys={self._key_count})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Vault cannot be pickled")

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        """The keys from TOKEN_ENCRYPTION_KEY, or (SQLite only) the generated key file."""
        if settings.token_encryption_keys:
            return cls(settings.token_encryption_keys)
        if not settings.uses_sqlite:
            # load_settings refuses this already; a Settings built another way must too.
            raise SettingsError(
                _VARIABLE, "is required with PostgreSQL", f"{_GENERATE_HINT} and set it"
            )
        return cls([load_or_create_key_file(settings.data_dir / KEY_FILE_NAME)])

    def encrypt(self, secret: Secret) -> bytes:
        return self._multi.encrypt(secret.reveal().encode())

    def decrypt(self, blob: bytes) -> Secret:
        try:
            return Secret(self._multi.decrypt(blob).decode())
        except InvalidToken:
            raise VaultError(_UNDECRYPTABLE) from None

    def rotate(self, blob: bytes) -> bytes:
        """``blob`` re-encrypted with the first key."""
        try:
            return self._multi.rotate(blob)
        except InvalidToken:
            raise VaultError(_UNDECRYPTABLE) from None

    def token_hash(self, secret: Secret) -> bytes:
        """The keyed hash stored beside an encrypted token (under the first key)."""
        return _keyed_hash(self._hash_keys[0], secret)

    def token_hashes(self, secret: Secret) -> tuple[bytes, ...]:
        """The token's hash under every key, the first key's first: what to look up."""
        return tuple(_keyed_hash(key, secret) for key in self._hash_keys)

    def is_current(self, blob: bytes) -> bool:
        """True if ``blob`` is already encrypted with the first key."""
        try:
            self._primary.decrypt(blob)
        except InvalidToken:
            return False
        return True


def _hash_key(fernet_key: Secret) -> bytes:
    raw = base64.urlsafe_b64decode(fernet_key.reveal())
    return hmac.new(raw, _HASH_KEY_LABEL, hashlib.sha256).digest()


def _keyed_hash(key: bytes, secret: Secret) -> bytes:
    return hmac.new(key, secret.reveal().encode(), hashlib.sha256).digest()


_UNDECRYPTABLE: Final = (
    "a stored token cannot be decrypted with any configured key "
    f"({_VARIABLE} or {KEY_FILE_NAME} changed?); it must be connected or registered again"
)


def load_or_create_key_file(path: Path) -> Secret:
    """Read the key at ``path``, generating it first if it does not exist.

    The file is created with mode 0600 from the start (never chmod-ed later, so
    it is never readable by others even for a moment), and appears complete:
    it is written under a temporary name and hard-linked into place, so a second
    process starting at the same time either creates it or reads the finished one.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create_key_file(path)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise SettingsError(
            _VARIABLE,
            f"is unset and the key file {path} cannot be used ({reason})",
            f"make it readable by the bot's user, or set {_VARIABLE}",
        ) from None
    _warn_if_others_can_read(path)
    key = Secret(text)
    try:
        Fernet(key.reveal())
    except (ValueError, TypeError):
        raise SettingsError(
            _VARIABLE,
            f"is unset and the key file {path} does not hold a valid key",
            f"restore it from a backup, or set {_VARIABLE} "
            "(tokens encrypted with a lost key must be connected again)",
        ) from None
    return key


def _create_key_file(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key() + b"\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first; its key is the one to use
        else:
            log.info("generated a new token encryption key in %s", path)
    finally:
        temporary.unlink(missing_ok=True)


def _warn_if_others_can_read(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s can be read by other users; restrict it with chmod 600", path)


@dataclass(frozen=True, slots=True)
class KeyCheck:
    """What the key in use makes of the stored tokens (account and lock tokens)."""

    readable: int
    unreadable: int

    @property
    def key_is_wrong(self) -> bool:
        """Tokens are stored and not one of them decrypts: the key is not theirs."""
        return self.readable == 0 and self.unreadable > 0


async def check_stored_tokens(storage: Storage, vault: Vault, *, count_all: bool) -> KeyCheck:
    """Try the vault on the stored tokens.

    With ``count_all`` false it stops at the first token that decrypts (one is
    proof enough that this is the right key; at start that is one row read).
    A few unreadable tokens beside readable ones are not a wrong key: they are
    left over from a lost key, and their members are asked to reconnect.
    """
    readable = unreadable = 0
    for stored in (storage.accounts.iter_ciphertexts(), storage.locks.iter_ciphertexts()):
        async for _row_id, blob in stored:
            try:
                vault.decrypt(blob)
            except VaultError:
                unreadable += 1
                continue
            readable += 1
            if not count_all:
                # Each batch is read and its connection released before it is handed
                # out, so leaving the iteration here holds nothing open.
                return KeyCheck(readable, unreadable)
    return KeyCheck(readable, unreadable)


WRONG_KEY_FIX: Final = (
    "the key in use cannot read the stored tokens: restore the right key "
    f"({_VARIABLE}, or {KEY_FILE_NAME} in DATA_DIR), or after changing keys list the old "
    f"key after the new one ({_VARIABLE}=new,old); if the old key is lost for good, "
    "`python -m bot.vault forget-unreadable` deletes the tokens no key can read"
)


def wrong_key_error(check: KeyCheck) -> SettingsError:
    return SettingsError(
        _VARIABLE, f"decrypts none of the {check.unreadable} stored token(s)", WRONG_KEY_FIX
    )


async def ensure_key_reads_stored_tokens(storage: Storage, vault: Vault) -> None:
    """Raise SettingsError when tokens are stored and the key decrypts none of them."""
    check = await check_stored_tokens(storage, vault, count_all=False)
    if check.key_is_wrong:
        raise wrong_key_error(check)


async def open_vault(settings: Settings, storage: Storage) -> Vault:
    """The vault for a start: its key checked against the stored tokens.

    A missing key file beside stored tokens means the key was lost or moved;
    generating a new one would only hide that, so it is refused instead.
    """
    key_file = settings.data_dir / KEY_FILE_NAME
    generates_key = not settings.token_encryption_keys and settings.uses_sqlite
    if generates_key and not key_file.exists() and await has_stored_tokens(storage):
        raise SettingsError(
            _VARIABLE,
            f"is unset and the key file {key_file} is missing, but tokens are stored",
            "restore the key file from a backup or set the key it held; "
            "if it is lost for good, `python -m bot.vault forget-unreadable` with a "
            "new key deletes the tokens no key can read",
        )
    vault = Vault.from_settings(settings)
    await ensure_key_reads_stored_tokens(storage, vault)
    filled = await fill_token_hashes(storage, vault)
    if filled:
        log.info("computed the token hash of %d lock(s) stored before hashes existed", filled)
    return vault


async def fill_token_hashes(storage: Storage, vault: Vault) -> int:
    """Hash the tokens of locks stored without a hash (before migration 0002).

    Done at start, before the bot connects, because it needs the key, which
    migrations never see. Only rows without a hash are decrypted, so after the
    first start this reads the lock ids and decrypts nothing.
    """
    filled = 0
    async for lock_id, blob, token_hash in storage.locks.iter_hashes():
        if token_hash is not None:
            continue
        try:
            token = vault.decrypt(blob)
        except VaultError:
            continue  # reported by the key check; forget-unreadable deletes it
        if await storage.locks.set_token_hash(lock_id, blob, vault.token_hash(token)):
            filled += 1
    return filled


async def has_stored_tokens(storage: Storage) -> bool:
    for stored in (storage.accounts.iter_ciphertexts(1), storage.locks.iter_ciphertexts(1)):
        async for _ in stored:
            return True
    return False


@dataclass(frozen=True, slots=True)
class ForgetReport:
    accounts: int
    locks: int


async def forget_unreadable(storage: Storage, vault: Vault) -> ForgetReport:
    """Delete every account and lock whose token no configured key decrypts.

    For a key that is lost for good: those tokens are noise nobody can read.
    Members connect again and admins add the locks again.
    """
    accounts = locks = 0
    async for user_id, blob in storage.accounts.iter_ciphertexts():
        if not _decrypts(vault, blob) and await storage.accounts.delete(user_id):
            accounts += 1
    async for lock_id, blob in storage.locks.iter_ciphertexts():
        if _decrypts(vault, blob):
            continue
        lock = await storage.locks.get(lock_id)
        if lock is not None and await storage.locks.remove(lock.guild_id, lock.name):
            locks += 1
    return ForgetReport(accounts, locks)


def _decrypts(vault: Vault, blob: bytes) -> bool:
    try:
        vault.decrypt(blob)
    except VaultError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class ReencryptReport:
    accounts: int
    locks: int
    unreadable: int


async def reencrypt_all(storage: Storage, vault: Vault) -> ReencryptReport:
    """Re-encrypt every stored account token and lock token with the vault's first key."""
    accounts = storage.accounts
    accounts_done, accounts_unreadable = await _reencrypt(
        vault, accounts.iter_ciphertexts(), accounts.replace_ciphertext, "account"
    )
    locks_done, locks_unreadable = await _reencrypt_locks(storage, vault)
    # A member's own LINK token is kept only as a hash, which cannot be recomputed
    # under the new key: it is forgotten and learned again at their next logged vote.
    await accounts.forget_link_hashes()
    return ReencryptReport(accounts_done, locks_done, accounts_unreadable + locks_unreadable)


async def _reencrypt_locks(storage: Storage, vault: Vault) -> tuple[int, int]:
    """Lock tokens re-encrypted, and their hashes recomputed, with the first key."""
    reencrypted = unreadable = 0
    async for lock_id, blob, token_hash in storage.locks.iter_hashes():
        try:
            token = vault.decrypt(blob)
        except VaultError:
            unreadable += 1
            log.warning("the token of lock %s cannot be decrypted with any key", lock_id)
            continue
        current_hash = vault.token_hash(token)
        if vault.is_current(blob) and token_hash == current_hash:
            continue
        rotated = blob if vault.is_current(blob) else vault.rotate(blob)
        changed = await storage.locks.replace_ciphertext(
            lock_id, blob, rotated, token_hash=current_hash
        )
        if changed and rotated != blob:
            reencrypted += 1
    return reencrypted, unreadable


async def _reencrypt(
    vault: Vault,
    stored: AsyncIterator[tuple[int, bytes]],
    replace: Callable[[int, bytes, bytes], Awaitable[bool]],
    kind: str,
) -> tuple[int, int]:
    """(re-encrypted, undecryptable) counts for one table."""
    reencrypted = unreadable = 0
    async for row_id, blob in stored:
        if vault.is_current(blob):
            continue
        try:
            rotated = vault.rotate(blob)
        except VaultError:
            unreadable += 1
            log.warning("the token of %s %s cannot be decrypted with any key", kind, row_id)
            continue
        # False when the row changed meanwhile (reconnected, removed): nothing to do.
        if await replace(row_id, blob, rotated):
            reencrypted += 1
    return reencrypted, unreadable


async def _reencrypt_database(settings: Settings, vault: Vault) -> ReencryptReport:
    storage = await Storage.open(settings.database_url)
    try:
        return await reencrypt_all(storage, vault)
    finally:
        await storage.close()


async def _forget_in_database(settings: Settings, vault: Vault) -> ForgetReport:
    storage = await Storage.open(settings.database_url)
    try:
        return await forget_unreadable(storage, vault)
    finally:
        await storage.close()


_USAGE: Final = """usage: python -m bot.vault COMMAND

  generate-key       print a new key for TOKEN_ENCRYPTION_KEY
  reencrypt          re-encrypt every stored token with the first key of
                     TOKEN_ENCRYPTION_KEY (after putting a new key first and
                     keeping the old ones after it); reads the bot's settings
  forget-unreadable  delete the accounts and locks whose token no configured key
                     decrypts (when the old key is lost for good); members connect
                     again, admins add those locks again"""


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == ["generate-key"]:
        print(Fernet.generate_key().decode())
        return 0
    if args not in (["reencrypt"], ["forget-unreadable"]):
        print(_USAGE, file=sys.stderr)
        return 2
    try:
        settings = load_settings(environ)
        vault = Vault.from_settings(settings)
        if args == ["forget-unreadable"]:
            forgotten = asyncio.run(_forget_in_database(settings, vault))
        else:
            report = asyncio.run(_reencrypt_database(settings, vault))
    except (SettingsError, StorageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args == ["forget-unreadable"]:
        print(
            f"deleted {forgotten.accounts} account(s) and {forgotten.locks} lock(s) whose "
            "token no key can decrypt"
        )
        return 0
    print(
        f"re-encrypted {report.accounts} account token(s) and {report.locks} lock token(s) "
        "with the first key"
    )
    if report.unreadable:
        print(
            f"{report.unreadable} token(s) could not be decrypted with any key and were left "
            "as they were",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
