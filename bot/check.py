"""``python -m bot check``: is this deployment ready, without starting the bot?

One line per check, ``ok`` or ``FAIL``, in the order a start needs them:

- settings: every variable parses (as at start);
- database: reachable, and its schema is one this bot can run. Pending
  migrations are ``ok``: the bot applies them itself at start (that is how an
  upgrade works), so a new version checked against the old database passes.
  The check never migrates and never creates a database file or key;
- key: the key in use decrypts the stored tokens (all are tried, and how many
  cannot be read is reported);
- Chastity Tracker: reachable. A ``GET`` of the games endpoint, which answers
  405 in the API's envelope: proof that the API is there, and nothing can be
  played by it;
- Discord: the token is accepted (``GET /users/@me``).

``--live`` runs only the settings and database checks: the container
healthcheck runs every half minute, and neither Chastity Tracker being down
nor a call to Discord's API every 30 s says anything about whether this
process should be restarted.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import aiohttp
import httpx
from sqlalchemy import Connection, func, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bot.config import Settings, SettingsError
from bot.ctapi.client import DEFAULT_USER_AGENT, GAMES_PATH
from bot.secrets import scrub
from bot.storage import Storage, StorageError
from bot.storage.database import Database, create_database
from bot.storage.migrations import discover, schema_version
from bot.vault import KEY_FILE_NAME, Vault, check_stored_tokens, wrong_key_error

# Longest a single check may take (a PostgreSQL server that does not answer
# would otherwise hold the healthcheck for asyncpg's 60 s).
CHECK_TIMEOUT: Final = 15.0


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        # Printed, not logged, so the log redactor does not see it: masked here.
        detail = scrub(" ".join(self.detail.split()))
        return f"{'ok' if self.ok else 'FAIL':<4} {self.name}: {detail}"


@dataclass(frozen=True, slots=True)
class _Schema:
    """What the database check learned, for the key check."""

    database: Database | None  # None: a SQLite file that does not exist yet
    version: int


async def run_checks(settings: Settings, *, live: bool = False) -> list[Result]:
    """Every check after the settings one (which the caller did by loading them)."""
    results = [Result("settings", True, "every variable is valid")]
    schema: _Schema | None = None
    try:
        schema = await asyncio.wait_for(_open_database(settings), CHECK_TIMEOUT)
    except (StorageError, DBAPIError, OSError, TimeoutError) as error:
        results.append(Result("database", False, f"cannot be used: {_reason(error)}"))
    else:
        results.append(_database_result(settings, schema))
    try:
        if not live:
            results.append(await _check_key(settings, schema))
            results.append(await _bounded("Chastity Tracker", _check_chastity_tracker(settings)))
            results.append(await _bounded("Discord", _check_discord(settings)))
    finally:
        if schema is not None and schema.database is not None:
            await schema.database.dispose()
    return results


async def _bounded(name: str, check: Awaitable[Result]) -> Result:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except TimeoutError:
        return Result(name, False, f"no answer within {CHECK_TIMEOUT:.0f} s")


# -- database ------------------------------------------------------------------------


def _sqlite_file(settings: Settings) -> Path | None:
    """The SQLite database file, or None for PostgreSQL or an in-memory database."""
    url = make_url(settings.database_url)
    name = url.database or ""
    if url.get_backend_name() != "sqlite" or name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


async def _open_database(settings: Settings) -> _Schema:
    path = _sqlite_file(settings)
    if path is not None and not path.exists():
        _require_creatable(path.parent)
        return _Schema(None, 0)
    database = create_database(settings.database_url)
    try:
        async with database.read() as conn:
            version = await conn.run_sync(_schema_version)
    except BaseException:
        await database.dispose()
        raise
    return _Schema(database, version)


def _require_creatable(folder: Path) -> None:
    """Raise OSError unless the bot could create its database file in ``folder``."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise OSError(f"{folder} cannot be created or written by this user")


def _schema_version(conn: Connection) -> int:
    if not inspect(conn).has_table(schema_version.name):
        return 0
    return int(conn.scalar(select(func.max(schema_version.c.version))) or 0)


def _database_result(settings: Settings, schema: _Schema) -> Result:
    known = len(discover())
    where = make_url(settings.database_url).render_as_string(hide_password=True)
    if schema.version > known:
        return Result(
            "database",
            False,
            f"{where} has schema version {schema.version}, newer than this bot knows "
            f"({known}); run the newer version of the bot",
        )
    pending = known - schema.version
    if schema.database is None:
        state = f"no database file yet; created at start with {pending} migration(s)"
    elif pending:
        state = (
            f"reachable, schema version {schema.version}; {pending} pending migration(s), "
            "applied at the next start"
        )
    else:
        state = f"reachable, schema up to date (version {schema.version})"
    return Result("database", True, f"{where}: {state}")


# -- key -------------------------------------------------------------------------------


async def _check_key(settings: Settings, schema: _Schema | None) -> Result:
    key_file = settings.data_dir / KEY_FILE_NAME
    if not settings.token_encryption_keys and not key_file.exists():
        stored = await _stored_token_count(schema)
        if stored:
            return Result(
                "key",
                False,
                f"no key: TOKEN_ENCRYPTION_KEY is unset and {key_file} is missing, "
                f"but {stored} token(s) are stored; restore the key file or set the key",
            )
        return Result("key", True, f"no stored tokens; a key is generated into {key_file}")
    try:
        vault = Vault.from_settings(settings)
    except SettingsError as error:
        return Result("key", False, str(error))
    if schema is None or schema.database is None or schema.version == 0:
        return Result("key", True, f"{_key_source(settings)} is valid; no stored tokens yet")
    check = await check_stored_tokens(Storage(schema.database), vault, count_all=True)
    if check.key_is_wrong:
        return Result("key", False, str(wrong_key_error(check)))
    if check.readable == 0:
        return Result("key", True, f"{_key_source(settings)} is valid; no stored tokens yet")
    detail = f"{_key_source(settings)} decrypts {check.readable} stored token(s)"
    if check.unreadable:
        detail += (
            f"; {check.unreadable} cannot be decrypted with any key (those members must "
            "connect again; `python -m bot.vault forget-unreadable` removes them)"
        )
    return Result("key", True, detail)


async def _stored_token_count(schema: _Schema | None) -> int:
    if schema is None or schema.database is None or schema.version == 0:
        return 0
    storage = Storage(schema.database)
    count = 0
    for stored in (storage.accounts.iter_ciphertexts(), storage.locks.iter_ciphertexts()):
        async for _ in stored:
            count += 1
    return count


def _key_source(settings: Settings) -> str:
    if settings.token_encryption_keys:
        return f"TOKEN_ENCRYPTION_KEY ({len(settings.token_encryption_keys)} key(s))"
    return str(settings.data_dir / KEY_FILE_NAME)


# -- Chastity Tracker --------------------------------------------------------------------


async def _check_chastity_tracker(settings: Settings) -> Result:
    name = "Chastity Tracker"
    url = settings.ct_api_base_url + GAMES_PATH
    # No Authorization header and no body: GET is refused with 405, never played.
    async with httpx.AsyncClient(
        timeout=settings.ct_api_timeout,
        follow_redirects=False,
        headers={"User-Agent": DEFAULT_USER_AGENT, "Accept": "application/json"},
    ) as client:
        try:
            response = await client.get(url)
        except httpx.HTTPError as error:
            return Result(name, False, f"cannot reach {url} ({type(error).__name__})")
    status = response.status_code
    if 300 <= status < 400:
        location = response.headers.get("Location", "elsewhere")
        return Result(
            name,
            False,
            f"{url} redirects ({status}) to {location}; set CT_API_BASE_URL to the "
            "address it redirects to",
        )
    if status >= 500:
        return Result(name, False, f"{url} answered {status}: the site has a problem")
    if _is_envelope(response) or status == 405:
        return Result(name, True, f"{settings.ct_api_base_url} answers (GET games: {status})")
    return Result(
        name,
        False,
        f"{url} answered {status} without the API's JSON envelope; is CT_API_BASE_URL "
        "the site's address?",
    )


def _is_envelope(response: httpx.Response) -> bool:
    try:
        payload = response.json()
    except ValueError:
        return False
    return isinstance(payload, dict) and isinstance(payload.get("ok"), bool)


# -- Discord ---------------------------------------------------------------------------


async def _check_discord(settings: Settings) -> Result:
    import discord
    from discord.http import HTTPClient

    http = HTTPClient(asyncio.get_running_loop())
    try:
        user = await http.static_login(settings.discord_token.reveal())
    except discord.LoginFailure:
        return Result(
            "Discord",
            False,
            "the token was refused (401): reset it in the developer portal "
            "(Bot > Reset Token) and set DISCORD_TOKEN",
        )
    except discord.HTTPException as error:
        return Result("Discord", False, f"Discord answered {error.status}")
    except (aiohttp.ClientError, OSError) as error:
        return Result("Discord", False, f"cannot reach Discord ({type(error).__name__})")
    finally:
        await http.close()
    return Result(
        "Discord", True, f"the token is accepted: logged in as {user['username']} ({user['id']})"
    )


def _reason(error: BaseException) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT:.0f} s"
    if isinstance(error, DBAPIError) and error.orig is not None:
        return str(error.orig)
    return str(error) or type(error).__name__
