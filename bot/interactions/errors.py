"""The one place that turns a failed interaction into a message for the member.

Installed as the command tree's error handler in ``ChastityBot.setup_hook``.
Views, modals and dynamic items call :func:`handle_interaction_error` from their
``on_error`` so buttons and forms fail the same way commands do.

Known errors (API errors, :class:`bot.error_messages.UserError`) get their own
text from :func:`bot.error_messages.describe_error`; check failures get plain
words; anything else gets a short apology and one logged error with the
traceback. Every such message is ephemeral: only the member who acted sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.error_messages import describe_error
from bot.interactions.replies import reply_private

log = logging.getLogger(__name__)

UNKNOWN_INTERACTION = 10062
# No plain "try again": the failure may have come after a play or vote reached
# Chastity Tracker, and repeating it would play twice.
SOMETHING_WENT_WRONG = (
    "⚠️ Something went wrong on our side. If you were playing or voting, it **may or may "
    "not** have happened.\n• Check `/history` (or your session's history on Chastity "
    "Tracker) before trying again."
)


def unwrap(error: BaseException) -> BaseException:
    """The error a command really raised, without discord.py's wrapper."""
    if isinstance(error, app_commands.CommandInvokeError):
        return error.original
    return error


def describe_check_failure(error: BaseException) -> str | None:
    """Plain words for discord.py's own refusals (permissions, DMs, bad option values)."""
    match error:
        case app_commands.NoPrivateMessage():
            return "❌ This command only works in a server, not in direct messages."
        case app_commands.MissingPermissions():
            needed = ", ".join(_permission_name(p) for p in error.missing_permissions)
            return f"❌ You need the {needed} permission to use this command."
        case app_commands.BotMissingPermissions():
            needed = ", ".join(_permission_name(p) for p in error.missing_permissions)
            return f"❌ I need the {needed} permission in this channel to do that."
        case app_commands.CommandOnCooldown():
            return f"⏳ Slow down: try again in {error.retry_after:.0f} s."
        case app_commands.MissingRole() | app_commands.MissingAnyRole():
            return "❌ You do not have the role needed for this command."
        case app_commands.CheckFailure():
            return "❌ You cannot use this command here."
        case app_commands.TransformerError():
            # The value is not echoed: it may be something secret typed by mistake.
            return f"❌ The {error.type.name} you gave is not valid here."
        case _:
            return None


def user_message(error: BaseException) -> str | None:
    """What the member reads for ``error``, or None when it is unexpected."""
    error = unwrap(error)
    return describe_error(error) or describe_check_failure(error)


def is_expired_interaction(error: BaseException) -> bool:
    error = unwrap(error)
    return isinstance(error, discord.NotFound) and error.code == UNKNOWN_INTERACTION


async def handle_interaction_error(
    interaction: discord.Interaction[Any], error: BaseException
) -> None:
    """Tell the member what went wrong, privately; log what we did not expect."""
    if is_expired_interaction(error):
        # Discord no longer accepts a response; nothing can be shown to the member.
        log.warning(
            "Interaction %s (%s) expired before the bot answered",
            interaction.id,
            _describe(interaction),
        )
        return
    text = user_message(error)
    if text is None:
        log.error("Unexpected error in %s", _describe(interaction), exc_info=unwrap(error))
        text = SOMETHING_WENT_WRONG
    try:
        await reply_private(interaction, text)
    except discord.HTTPException as reply_error:
        log.warning(
            "Could not tell the member about an error in %s: %s",
            _describe(interaction),
            reply_error,
        )


async def handle_app_command_error(
    interaction: discord.Interaction[Any], error: app_commands.AppCommandError
) -> None:
    await handle_interaction_error(interaction, error)


def _describe(interaction: discord.Interaction[Any]) -> str:
    command = interaction.command
    if command is not None:
        return f"/{command.qualified_name}"
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = data.get("custom_id")
    if custom_id is not None:
        return f"{interaction.type.name} {custom_id!r}"
    return interaction.type.name


def _permission_name(permission: str) -> str:
    return permission.replace("_", " ").replace("guild", "server").title()
