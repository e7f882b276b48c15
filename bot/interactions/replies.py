"""Answering an interaction the right way, whatever has been sent so far.

Discord fixes a reply's visibility at the first response. After a deferred
("thinking...") response, the first followup replaces the thinking message and
keeps the visibility chosen when deferring, whatever its own flag says. So:

- nothing sent yet: respond, with the visibility asked for;
- deferred with the visibility asked for: the followup replaces the thinking
  message;
- deferred with the other visibility: delete the thinking message first, then
  send a followup, which is then a message of its own with its own flag;
- anything else (a message already sent, a component update): a new followup.

Cogs defer through :func:`defer` so the chosen visibility is remembered; when
an interaction was deferred some other way, the original response is fetched to
learn it.
"""

from __future__ import annotations

from typing import Any

import discord
from discord.utils import MISSING

_PRIVATE_KEY = "replies.deferred_private"  # visibility chosen in defer()
_PENDING_KEY = "replies.thinking"  # False once a followup replaced the thinking message


async def defer(interaction: discord.Interaction[Any], *, private: bool) -> None:
    """Acknowledge now ("thinking..."), fixing the visibility of the coming reply."""
    interaction.extras[_PRIVATE_KEY] = private
    interaction.extras[_PENDING_KEY] = True
    await interaction.response.defer(ephemeral=private, thinking=True)


async def reply(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    private: bool,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
) -> discord.Message | None:
    """Send ``content``/``embed(s)``/``view``/``file`` publicly or only to the member.

    Returns the message when Discord reports it (always for followups).
    """
    embeds = ([embed] if embed is not None else []) + list(embeds or [])
    view_or_missing: Any = view if view is not None else MISSING
    file_or_missing: Any = file if file is not None else MISSING

    if not interaction.response.is_done():
        callback = await interaction.response.send_message(
            content, embeds=embeds, view=view_or_missing, file=file_or_missing, ephemeral=private
        )
        resource = callback.resource
        return resource if isinstance(resource, discord.Message) else None

    if (
        interaction.response.type is discord.InteractionResponseType.deferred_channel_message
        and interaction.extras.get(_PENDING_KEY, True)
    ):
        await _clear_thinking_if_visibility_differs(interaction, private=private)
        interaction.extras[_PENDING_KEY] = False
    followup: discord.WebhookMessage = await interaction.followup.send(
        content if content is not None else MISSING,
        embeds=embeds,
        view=view_or_missing,
        file=file_or_missing,
        ephemeral=private,
        wait=True,
    )
    return followup


async def reply_private(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
) -> discord.Message | None:
    """Send a message only the member who acted can see."""
    return await reply(interaction, content, private=True, embed=embed)


async def _clear_thinking_if_visibility_differs(
    interaction: discord.Interaction[Any], *, private: bool
) -> None:
    if interaction.extras.get(_PRIVATE_KEY) == private:
        return  # the followup replaces the thinking message, as wanted
    # Deleting is only right while the thinking message is still there: once a
    # reply replaced it, deleting would remove that reply. Ask Discord.
    original = await interaction.original_response()
    if original.flags.loading and original.flags.ephemeral != private:
        await interaction.delete_original_response()
