"""Errors the storage layer raises for callers to handle."""

from __future__ import annotations


class StorageError(Exception):
    """The database could not be opened or migrated."""


class DuplicateLockName(StorageError):
    """A lock with this name (compared case-insensitively) already exists on the guild."""

    def __init__(self, guild_id: int, name: str) -> None:
        self.guild_id = guild_id
        self.name = name
        super().__init__(f"a lock named {name!r} already exists on this server")


class DuplicateLockToken(StorageError):
    """This token is already registered on the guild (compared by its keyed hash)."""

    def __init__(self, guild_id: int) -> None:
        self.guild_id = guild_id
        super().__init__("this token is already registered on this server")


class GuildLimitReached(StorageError):
    """The server already has as many of these as it may (locks, panels)."""

    def __init__(self, guild_id: int, limit: int) -> None:
        self.guild_id = guild_id
        self.limit = limit
        super().__init__(f"this server reached its limit of {limit}")
