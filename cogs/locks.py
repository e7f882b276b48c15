"""/locks: server admins register locks, post voting panels and start community polls.

Manage Server is required twice: as the commands' default permission (what
Discord shows), and checked here from ``interaction.permissions``, because
server admins can change who may use a command in Server Settings. Every
command passes the same flood control as members' actions
(``bot.actions.admit``) before it touches storage. Every reply is ephemeral.

``/locks panel channel:`` posts only where the admin can view and send: the
permissions Discord computed for the admin in that channel come with the
option (its resolved data); the bot does not compute them from its cache,
which without the members intent lacks the admin's roles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds.format import discord_time, escape_name
from bot.embeds.voting import lock_list_embed
from bot.error_messages import UserError
from bot.interactions.replies import defer, reply_private
from bot.lock_tokens import parse_link_token
from bot.polls import MAX_MINUTES, MIN_MINUTES
from cogs._options import LockName, lock_name_autocomplete

if TYPE_CHECKING:
    from bot.app import ChastityBot


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Locks(
    commands.GroupCog,
    group_name="locks",
    group_description="Locks this server votes on, voting panels and polls (Manage Server)",
):
    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    @app_commands.command(name="add", description="Register a lock for LINK voting on this server")
    @app_commands.describe(
        name="A short name members use to pick the lock (unique on this server)",
        token="The lock's public LINK token, or its share link",  # noqa: S106 - a description
        owner="The member who wears the lock (for the penalty guard and on panels)",
        allow_anonymous="Accept anonymous votes from members without an account (default yes)",
    )
    async def add(
        self,
        interaction: discord.Interaction[Any],
        name: LockName,
        token: str,
        owner: discord.Member | None = None,
        allow_anonymous: bool = True,
    ) -> None:
        guild_id = _guild(interaction)
        self.bot.actions.admit(interaction)
        name = self.bot.locks.clean_name(name)
        link_token = parse_link_token(token)
        await defer(interaction, private=True)
        lock = await self.bot.locks.add(
            guild_id,
            name,
            link_token,
            owner.id if owner is not None else None,
            allow_anonymous,
            interaction.user.id,
        )
        wearer = f"<@{lock.wearer_id}>" if lock.wearer_id is not None else "not set"
        await reply_private(
            interaction,
            f"Registered **{escape_name(lock.name)}** (token `{link_token.masked()}`). "
            f"Wearer: {wearer}. "
            f"Anonymous votes: {'allowed' if lock.allow_anonymous else 'not allowed'}.\n"
            "Members vote with `/link vote`; post a panel with `/locks panel` or start a "
            "community poll with `/locks poll`.",
        )

    @app_commands.command(name="remove", description="Remove a registered lock")
    @app_commands.describe(name="The lock to remove")
    @app_commands.autocomplete(name=lock_name_autocomplete)
    async def remove(self, interaction: discord.Interaction[Any], name: LockName) -> None:
        self.bot.actions.admit(interaction)
        await defer(interaction, private=True)
        removal = await self.bot.locks.remove(_guild(interaction), name)
        notes = []
        if removal.panels_retired:
            notes.append(f"{removal.panels_retired} voting panel(s) no longer take votes.")
        if removal.polls_closed:
            notes.append(f"{removal.polls_closed} open poll(s) were closed without casting a vote.")
        removed = f"Removed **{escape_name(removal.lock.name)}**."
        await reply_private(interaction, " ".join([removed, *notes]))

    @app_commands.command(name="list", description="List the locks registered on this server")
    async def list_locks(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = _guild(interaction)
        self.bot.actions.admit(interaction)
        await defer(interaction, private=True)
        lines = await self.bot.locks.lines(guild_id)
        guild_name = interaction.guild.name if interaction.guild is not None else "this server"
        await reply_private(interaction, embed=lock_list_embed(guild_name, lines))

    @app_commands.command(name="panel", description="Post a voting panel for a lock")
    @app_commands.describe(name="The lock", channel="Where to post it (default: here)")
    @app_commands.autocomplete(name=lock_name_autocomplete)
    async def panel(
        self,
        interaction: discord.Interaction[Any],
        name: LockName,
        channel: discord.TextChannel | None = None,
    ) -> None:
        self.bot.actions.admit(interaction)
        if channel is not None:
            _check_admin_can_post(interaction, channel.id)
        await defer(interaction, private=True)
        lock = await self.bot.locks.get(_guild(interaction), name)
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None:
            raise UserError("Name a `channel` to post the panel in.")
        await self.bot.panels.post(lock, channel_id)
        await reply_private(
            interaction, f"Voting panel for **{escape_name(lock.name)}** posted in <#{channel_id}>."
        )

    @app_commands.command(name="poll", description="Start a community poll: one anonymous vote")
    @app_commands.describe(
        name="The lock", minutes=f"How long members can choose ({MIN_MINUTES} to {MAX_MINUTES})"
    )
    @app_commands.autocomplete(name=lock_name_autocomplete)
    async def poll(
        self,
        interaction: discord.Interaction[Any],
        name: LockName,
        minutes: app_commands.Range[int, MIN_MINUTES, MAX_MINUTES],
    ) -> None:
        self.bot.actions.admit(interaction)
        await defer(interaction, private=True)
        lock = await self.bot.locks.get(_guild(interaction), name)
        if interaction.channel_id is None:
            raise UserError("Start the poll in a server channel.")
        poll = await self.bot.polls.start(
            lock, interaction.channel_id, minutes, interaction.user.id
        )
        await reply_private(
            interaction,
            f"Community poll on **{escape_name(lock.name)}** started in <#{poll.channel_id}>; "
            f"it ends {discord_time(poll.ends_at, 'R')}.",
        )


def _check_admin_can_post(interaction: discord.Interaction[Any], channel_id: int) -> None:
    """Refuse a channel the admin cannot view or send in (the bot may well be able to)."""
    resolved = interaction.namespace.channel
    permissions = getattr(resolved, "permissions", None)
    if not isinstance(permissions, discord.Permissions) or not (
        permissions.view_channel and permissions.send_messages
    ):
        raise UserError(
            f"You cannot view and send messages in <#{channel_id}>, so no panel is posted "
            "there. Choose a channel where you can."
        )


def _guild(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Locks(bot))
