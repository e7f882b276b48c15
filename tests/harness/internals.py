"""Every discord.py internal the test harness touches, in one place.

The harness drives the real bot without a gateway connection, which needs a
few things discord.py does not expose publicly. Each use is marked
``# DEP-WARN`` and checked when this module is imported, so a discord.py
upgrade that moves one fails here with a clear message instead of deep inside
a test. pyproject.toml pins discord.py to the range checked here (>=2.7,<2.8).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord
import discord.http
from discord.state import ConnectionState

SUPPORTED_VERSIONS = ((2, 7),)


class HarnessIncompatible(RuntimeError):
    """discord.py changed in a way the harness relies on."""


def _check() -> None:
    version = (discord.version_info.major, discord.version_info.minor)
    if version not in SUPPORTED_VERSIONS:
        raise HarnessIncompatible(
            f"the test harness was written for discord.py {SUPPORTED_VERSIONS}, found "
            f"{discord.__version__}: re-check every DEP-WARN in tests/harness/internals.py"
        )
    problems = []
    if not isinstance(getattr(discord.http.Route, "BASE", None), str):  # DEP-WARN
        problems.append("discord.http.Route.BASE (the REST base URL) is gone")
    if getattr(ConnectionState, "parse_interaction_create", None) is None:  # DEP-WARN
        problems.append("ConnectionState.parse_interaction_create is gone")
    if getattr(ConnectionState, "parse_guild_create", None) is None:  # DEP-WARN
        problems.append("ConnectionState.parse_guild_create is gone")
    if problems:
        raise HarnessIncompatible(
            "discord.py internals used by tests/harness changed: " + "; ".join(problems)
        )


_check()


def rest_base_url() -> str:
    return discord.http.Route.BASE  # DEP-WARN: class attribute every REST route is built on


def set_rest_base_url(url: str) -> None:
    # DEP-WARN: every Route (bot REST and interaction webhooks alike) reads BASE when built.
    discord.http.Route.BASE = url  # type: ignore[misc]


def connection_state(client: discord.Client) -> ConnectionState[Any]:
    state = getattr(client, "_connection", None)  # DEP-WARN: the client's ConnectionState
    if not isinstance(state, ConnectionState):
        raise HarnessIncompatible("Client._connection is not a ConnectionState")
    return state


def gateway_parser(client: discord.Client, event: str) -> Callable[[dict[str, Any]], None]:
    """The function the gateway calls for a dispatch event, e.g. INTERACTION_CREATE."""
    parsers: dict[str, Callable[[dict[str, Any]], None]] = connection_state(
        client
    ).parsers  # DEP-WARN
    try:
        return parsers[event]
    except KeyError:
        raise HarnessIncompatible(f"discord.py has no parser for {event}") from None


def mark_ready(client: discord.Client) -> None:
    """What READY does for wait_until_ready()/is_ready(), without a gateway."""
    ready = getattr(client, "_ready", None)  # DEP-WARN: asyncio.Event set on READY
    if ready is None or not hasattr(ready, "set"):
        raise HarnessIncompatible("Client._ready is not an asyncio.Event after login()")
    ready.set()
