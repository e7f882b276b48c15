"""Settings from the environment (and a ``.env`` file), parsed and validated once.

Every other module receives a :class:`Settings`; nothing else reads ``os.environ``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from dotenv import load_dotenv
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.secrets import Secret

DEFAULT_API_BASE_URL = "https://www.chastitytracker.org"
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
LOG_FORMATS = ("text", "json")
# Every variable load_settings reads: the public interface (bot.md, README, .env.example).
SETTING_NAMES = (
    "DISCORD_TOKEN",
    "CT_API_BASE_URL",
    "CT_API_TIMEOUT",
    "DATA_DIR",
    "DATABASE_URL",
    "TOKEN_ENCRYPTION_KEY",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "SHARD_COUNT",
    "SHARD_IDS",
    "FLOOD_BURST",
    "FLOOD_INTERVAL",
    "GUILD_MAX_LOCKS",
    "GUILD_MAX_PANELS",
    "GUILD_MAX_OPEN_POLLS",
    "STOP_GRACE",
)
KEY_HINT = "generate one with `python -m bot.vault generate-key`"


class SettingsError(Exception):
    """A setting is missing or invalid; the message names it and says how to fix it."""

    def __init__(self, variable: str, problem: str, fix: str) -> None:
        self.variable = variable
        super().__init__(f"{variable} {problem}: {fix}")


@dataclass(frozen=True, slots=True)
class Settings:
    discord_token: Secret
    ct_api_base_url: str = DEFAULT_API_BASE_URL
    ct_api_timeout: float = 10.0
    data_dir: Path = Path("./data")
    database_url: str = ""
    token_encryption_keys: tuple[Secret, ...] = ()
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    # Flood control: a member may act `flood_burst` times at once, then one
    # action every `flood_interval` seconds.
    flood_burst: int = field(default=5)
    flood_interval: float = field(default=3.0)
    # Per-server limits: anyone can create a server, so no server may fill the
    # database or keep the poll closer busy for everyone else.
    guild_max_locks: int = 100
    guild_max_panels: int = 50
    guild_max_open_polls: int = 10
    # Seconds a stopping bot lets plays, votes and poll closes in flight finish.
    stop_grace: float = 20.0

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build :class:`Settings` from ``environ`` (default: the process environment).

    With ``dotenv`` true, ``./.env`` is loaded first; variables already set win.
    Raises :class:`SettingsError` for the first missing or invalid variable.
    """
    if environ is None:
        if dotenv:
            load_dotenv(Path.cwd() / ".env", override=False)
        environ = os.environ
    env = {k: v.strip() for k, v in environ.items()}

    token = env.get("DISCORD_TOKEN", "")
    if not token:
        raise SettingsError(
            "DISCORD_TOKEN",
            "is not set",
            "put your bot token from the Discord developer portal in .env "
            "(see .env.example) or the environment",
        )

    base_url = env.get("CT_API_BASE_URL") or DEFAULT_API_BASE_URL
    try:
        parsed = httpx.URL(base_url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise SettingsError(
            "CT_API_BASE_URL", "is not an http(s) URL", f"use e.g. {DEFAULT_API_BASE_URL}"
        )

    timeout = _positive_float(env, "CT_API_TIMEOUT", 10.0)
    data_dir = Path(env.get("DATA_DIR") or "./data")
    database_url = env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir}/bot.db"
    if not database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise SettingsError(
            "DATABASE_URL",
            "uses an unsupported driver",
            "use sqlite+aiosqlite:///path/bot.db or postgresql+asyncpg://user@host/db",
        )
    _check_database_url(database_url)

    keys = _encryption_keys(env.get("TOKEN_ENCRYPTION_KEY", ""))
    if not keys and not database_url.startswith("sqlite"):
        raise SettingsError(
            "TOKEN_ENCRYPTION_KEY", "is required with PostgreSQL", f"{KEY_HINT} and set it"
        )

    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in _LOG_LEVELS:
        raise SettingsError(
            "LOG_LEVEL", f"is {log_level!r}", f"use one of {', '.join(_LOG_LEVELS)}"
        )

    log_format = (env.get("LOG_FORMAT") or "text").lower()
    if log_format not in LOG_FORMATS:
        raise SettingsError(
            "LOG_FORMAT", f"is {log_format!r}", f"use one of {', '.join(LOG_FORMATS)}"
        )

    shard_count = _optional_int(env, "SHARD_COUNT", minimum=1)
    shard_ids: tuple[int, ...] | None = None
    if env.get("SHARD_IDS"):
        try:
            shard_ids = tuple(int(part) for part in env["SHARD_IDS"].split(",") if part.strip())
        except ValueError:
            raise SettingsError(
                "SHARD_IDS", "is not a list of numbers", "use e.g. SHARD_IDS=0,1"
            ) from None
        if shard_count is None:
            raise SettingsError("SHARD_IDS", "is set without SHARD_COUNT", "set SHARD_COUNT too")
        if any(i < 0 or i >= shard_count for i in shard_ids):
            raise SettingsError(
                "SHARD_IDS", "names a shard outside SHARD_COUNT", "use ids 0..SHARD_COUNT-1"
            )

    return Settings(
        discord_token=Secret(token),
        ct_api_base_url=base_url.rstrip("/"),
        ct_api_timeout=timeout,
        data_dir=data_dir,
        database_url=database_url,
        token_encryption_keys=keys,
        dev_guild_id=_optional_int(env, "DEV_GUILD_ID", minimum=1),
        log_level=log_level,
        log_format=log_format,
        shard_count=shard_count,
        shard_ids=shard_ids,
        flood_burst=_optional_int(env, "FLOOD_BURST", minimum=1) or 5,
        flood_interval=_positive_float(env, "FLOOD_INTERVAL", 3.0),
        guild_max_locks=_optional_int(env, "GUILD_MAX_LOCKS", minimum=1) or 100,
        guild_max_panels=_optional_int(env, "GUILD_MAX_PANELS", minimum=1) or 50,
        guild_max_open_polls=_optional_int(env, "GUILD_MAX_OPEN_POLLS", minimum=1) or 10,
        stop_grace=_positive_float(env, "STOP_GRACE", 20.0),
    )


def prepare_data_dir(settings: Settings) -> None:
    """Create DATA_DIR if missing; SettingsError (one line) if it cannot be a folder."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise SettingsError(
            "DATA_DIR",
            f"cannot be used as a folder ({error.strerror or type(error).__name__})",
            "point it to a folder the bot's user can create and write",
        ) from None


def _encryption_keys(raw: str) -> tuple[Secret, ...]:
    """The comma-separated Fernet keys, each checked now (a typo found at start, not
    after the database opened). The message says which key, never what it is."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    for position, part in enumerate(parts, start=1):
        try:
            Fernet(part)
        except (ValueError, TypeError):
            raise SettingsError(
                "TOKEN_ENCRYPTION_KEY",
                f"key {position} of {len(parts)} is not a valid Fernet key",
                f"{KEY_HINT} (keys are comma-separated)",
            ) from None
    return tuple(Secret(part) for part in parts)


def _check_database_url(url: str) -> None:
    """Refuse a URL the database driver could not even parse, before anything starts."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        parsed = None
    sqlite_with_host = parsed is not None and parsed.drivername.startswith("sqlite") and parsed.host
    if parsed is None or sqlite_with_host:
        raise SettingsError(
            "DATABASE_URL",
            "is not a valid database URL",
            "use sqlite+aiosqlite:///path/bot.db or postgresql+asyncpg://user:password@host:5432/db",
        )


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (0 < value < float("inf")):
        raise SettingsError(name, f"is {raw!r}", "use a positive number")
    return value


def _optional_int(env: Mapping[str, str], name: str, *, minimum: int) -> int | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise SettingsError(name, f"is {raw!r}", f"use a whole number >= {minimum}")
    return value
