"""/locks: server admins register locks, post voting panels and start community polls.

Manage Server is required twice: as the commands' default permission (what
Discord shows), and checked here from ``interaction.permissions``, because
server admins can change who may use a command in Server Settings.
Every reply is ephemeral.

This cog also owns the voting services (votes, panels, polls) that panel and
poll buttons and ``/link vote`` use.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.embeds.format import discord_time
from bot.embeds.voting import LockLine, lock_list_embed
from bot.error_messages import UserError
from bot.lock_tokens import parse_link_token
from bot.panels import PanelService
from bot.polls import MAX_MINUTES, MIN_MINUTES, PollService
from bot.replies import defer, reply_private
from bot.storage import DuplicateLockName, Lock
from bot.storage.locks import NAME_MAX_LENGTH
from bot.vault import VaultError
from bot.views.buttons import PanelButton, PollButton
from bot.voting import LockNotFound, VoteService

if TYPE_CHECKING:
    from bot.app import ChastityBot

log = logging.getLogger(__name__)

LockName = app_commands.Range[str, 1, NAME_MAX_LENGTH]


def can_manage(interaction: discord.Interaction[Any]) -> bool:
    return interaction.guild_id is not None and interaction.permissions.manage_guild


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Locks(
    commands.GroupCog,
    group_name="locks",
    group_description="Locks this server votes on, voting panels and polls (Manage Server)",
):
    # Panel and poll buttons keep working after a restart: the bot registers these.
    dynamic_items = (PanelButton, PollButton)

    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot
        self.votes = VoteService.for_bot(bot)
        self.panels = PanelService(
            client=bot, storage=bot.storage, votes=self.votes, clock=bot.clock
        )
        self.polls = PollService(
            client=bot,
            storage=bot.storage,
            votes=self.votes,
            flood=bot.flood,
            clock=bot.clock,
            sleep=bot.sleep,
        )
        super().__init__()

    async def cog_load(self) -> None:
        self.polls.start_scheduler()

    async def cog_unload(self) -> None:
        await self.polls.close()
        await self.panels.close()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    # -- commands ------------------------------------------------------------------------

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
        name = name.strip()
        if not name:
            raise UserError(f"A lock name has 1 to {NAME_MAX_LENGTH} characters.")
        link_token = parse_link_token(token)
        await defer(interaction, private=True)
        existing = await self.votes.registered_lock(guild_id, link_token)
        if existing is not None:
            raise UserError(f"That token is already registered here as **{existing.name}**.")
        try:
            lock = await self.bot.storage.locks.add(
                guild_id,
                name,
                self.bot.vault.encrypt(link_token),
                owner.id if owner is not None else None,
                allow_anonymous,
                interaction.user.id,
                self.bot.clock(),
            )
        except DuplicateLockName:
            raise UserError(
                f"This server already has a lock named **{name}** (names ignore case). "
                "Choose another name, or remove that lock first."
            ) from None
        wearer = f"<@{lock.owner_id}>" if lock.owner_id is not None else "not set"
        await reply_private(
            interaction,
            f"Registered **{lock.name}** (token `{link_token.masked()}`). Wearer: {wearer}. "
            f"Anonymous votes: {'allowed' if lock.allow_anonymous else 'not allowed'}.\n"
            "Members vote with `/link vote`; post a panel with `/locks panel` or start a "
            "community poll with `/locks poll`.",
        )

    @app_commands.command(name="remove", description="Remove a registered lock")
    @app_commands.describe(name="The lock to remove")
    async def remove(self, interaction: discord.Interaction[Any], name: LockName) -> None:
        await defer(interaction, private=True)
        lock = await self._lock(interaction, name)
        open_polls = await self.bot.storage.polls.open_for_lock(lock.id)
        panels = await self.panels.retire(lock)
        await self.bot.storage.locks.remove(lock.guild_id, lock.name)
        # A poll on a removed lock can cast nothing: end it now rather than let
        # members keep choosing until its time is up.
        closed = [poll for poll in open_polls if await self.polls.close_poll(poll)]
        notes = []
        if panels:
            notes.append(f"{panels} voting panel(s) no longer take votes.")
        if closed:
            notes.append(f"{len(closed)} open poll(s) were closed without casting a vote.")
        await reply_private(interaction, " ".join([f"Removed **{lock.name}**.", *notes]))

    @app_commands.command(name="list", description="List the locks registered on this server")
    async def list_locks(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = _guild(interaction)
        await defer(interaction, private=True)
        lines = [
            LockLine(lock.name, self._masked(lock), lock.owner_id, lock.allow_anonymous)
            for lock in await self.bot.storage.locks.list(guild_id)
        ]
        guild_name = interaction.guild.name if interaction.guild is not None else "this server"
        await reply_private(interaction, embed=lock_list_embed(guild_name, lines))

    @app_commands.command(name="panel", description="Post a voting panel for a lock")
    @app_commands.describe(name="The lock", channel="Where to post it (default: here)")
    async def panel(
        self,
        interaction: discord.Interaction[Any],
        name: LockName,
        channel: discord.TextChannel | None = None,
    ) -> None:
        await defer(interaction, private=True)
        lock = await self._lock(interaction, name)
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None:
            raise UserError("Name a `channel` to post the panel in.")
        await self.panels.post(lock, channel_id)
        await reply_private(
            interaction, f"Voting panel for **{lock.name}** posted in <#{channel_id}>."
        )

    @app_commands.command(name="poll", description="Start a community poll: one anonymous vote")
    @app_commands.describe(
        name="The lock", minutes=f"How long members can choose ({MIN_MINUTES} to {MAX_MINUTES})"
    )
    async def poll(
        self,
        interaction: discord.Interaction[Any],
        name: LockName,
        minutes: app_commands.Range[int, MIN_MINUTES, MAX_MINUTES],
    ) -> None:
        await defer(interaction, private=True)
        lock = await self._lock(interaction, name)
        if interaction.channel_id is None:
            raise UserError("Start the poll in a server channel.")
        poll = await self.polls.start(lock, interaction.channel_id, minutes, interaction.user.id)
        await reply_private(
            interaction,
            f"Community poll on **{lock.name}** started in <#{poll.channel_id}>; it ends "
            f"{discord_time(poll.ends_at, 'R')}.",
        )

    @remove.autocomplete("name")
    @panel.autocomplete("name")
    @poll.autocomplete("name")
    async def lock_names(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        if not can_manage(interaction) or interaction.guild_id is None:
            return []
        names = await self.bot.storage.locks.names_like(interaction.guild_id, current)
        return [app_commands.Choice(name=name, value=name) for name in names]

    # -- helpers -------------------------------------------------------------------------

    async def _lock(self, interaction: discord.Interaction[Any], name: str) -> Lock:
        lock = await self.bot.storage.locks.get_by_name(_guild(interaction), name.strip())
        if lock is None:
            raise LockNotFound(name)
        return lock

    def _masked(self, lock: Lock) -> str | None:
        """The token masked, or None when the vault's keys cannot decrypt it."""
        try:
            return self.bot.vault.decrypt(lock.token_ciphertext).masked()
        except VaultError:
            log.error("the token of lock %d cannot be decrypted", lock.id)
            return None


def _guild(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


async def setup(bot: ChastityBot) -> None:
    await bot.add_cog(Locks(bot))
