"""``python -m bot invite``: the OAuth2 URL that adds the bot to a server.

Worked out offline: a bot token's first part is the bot user's id in base64,
and for every application created since 2016 that id is also the
application's id, which the invite URL names.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final

import discord

from bot.config import SettingsError
from bot.secrets import Secret

SCOPES: Final = ("bot", "applications.commands")


def required_permissions() -> discord.Permissions:
    """The least the bot needs in a channel, and why.

    Replies to commands and buttons are interaction responses, which need no
    permission at all. What remains is what the bot posts on its own:
    """
    return discord.Permissions(
        # See the channel it posts panels and polls in, and edit those posts later
        # (Discord answers "Missing Access" without it).
        view_channel=True,
        # Voting panels, community polls and poll results are channel messages.
        send_messages=True,
        # /locks poll posts in the channel it is run in, which may be a thread.
        send_messages_in_threads=True,
        # Every one of those posts is an embed; without this Discord drops them.
        embed_links=True,
        # Not needed: read_message_history (the bot never reads messages; it edits its
        # own posts by id), manage_messages (it only ever edits its own), mentions
        # (it pings nobody), reactions and external emojis (it uses neither).
    )


def application_id_from_token(token: Secret) -> int:
    """The id encoded in the token's first part; SettingsError if there is none."""
    first = token.reveal().split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(first + "=" * (-len(first) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        decoded = ""
    if not decoded.isdigit() or int(decoded) <= 0:
        raise SettingsError(
            "DISCORD_TOKEN",
            "does not look like a bot token (its first part is not the bot's id)",
            "copy the token again from the developer portal (Bot > Reset Token)",
        )
    return int(decoded)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=required_permissions(), scopes=SCOPES
    )
