"""What a lock's story looks like to members: its timeline, its stats, the wearer's card.

Same order as ``bot.interactions.actions``: flood control, acknowledge, and only
then storage, Chastity Tracker or the chart's drawing (which takes a moment:
the member sees "thinking…" meanwhile).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

import discord

from bot.embeds.insights import TIMELINE_FILENAME, lock_stats_embed, timeline_embed
from bot.error_messages import UserError
from bot.flood import FloodGate
from bot.interactions.replies import defer, reply, reply_private
from bot.lock_stats import LockStatsService
from bot.panels import PanelGone, PanelService
from bot.sharing import SharingService
from bot.storage import Lock, Storage
from bot.timeline import DEFAULT_DAYS, TimelineService
from bot.voting import LockNotChosen, LockNotFound


class LockNeeded(UserError):
    pass


class LockInsights:
    def __init__(
        self,
        *,
        flood: FloodGate,
        clock: Callable[[], datetime],
        storage: Storage,
        timeline: TimelineService,
        stats: LockStatsService,
        sharing: SharingService,
        panels: PanelService,
    ) -> None:
        self._flood = flood
        self._clock = clock
        self._storage = storage
        self._timeline = timeline
        self._stats = stats
        self._sharing = sharing
        self._panels = panels

    def _admit(self, interaction: discord.Interaction[Any]) -> None:
        self._flood.check(interaction.user.id, self._clock())

    async def registered_lock(self, guild_id: int | None, name: str | None) -> Lock:
        """The lock named ``name`` on this server, or its only one (as ``/link vote``)."""
        if guild_id is None:
            raise LockNeeded("Locks are registered per server: use this command in a server.")
        if name:
            lock = await self._storage.locks.get_by_name(guild_id, name.strip())
            if lock is None:
                raise LockNotFound(name)
            return lock
        locks = await self._storage.locks.list(guild_id)
        if len(locks) == 1:
            return locks[0]
        if not locks:
            raise LockNotChosen("No lock is registered on this server yet.")
        names = ", ".join(f"**{lock.name}**" for lock in locks[:10])
        more = " …" if len(locks) > 10 else ""
        raise LockNotChosen(
            f"This server has several locks: choose one with `lock` ({names}{more})."
        )

    # -- timeline ------------------------------------------------------------------------

    async def timeline(
        self, interaction: discord.Interaction[Any], lock_name: str | None, days: int | None
    ) -> None:
        self._admit(interaction)
        await defer(interaction, private=False)
        lock = await self.registered_lock(interaction.guild_id, lock_name)
        await self._send_chart(interaction, lock, days or DEFAULT_DAYS, private=False)

    async def panel_timeline(self, interaction: discord.Interaction[Any], panel_id: int) -> None:
        self._admit(interaction)
        # Only the member who clicked sees the chart: the panel stays as it is.
        await defer(interaction, private=True)
        panel = await self._storage.panels.get(panel_id)
        lock = await self._storage.locks.get(panel.lock_id) if panel is not None else None
        if lock is None:
            raise PanelGone()
        await self._send_chart(interaction, lock, DEFAULT_DAYS, private=True)

    async def _send_chart(
        self, interaction: discord.Interaction[Any], lock: Lock, days: int, *, private: bool
    ) -> None:
        chart = await self._timeline.chart(lock, days)
        file = discord.File(io.BytesIO(chart.png), filename=TIMELINE_FILENAME)
        await reply(
            interaction, private=private, embed=timeline_embed(lock.name, days, chart), file=file
        )

    # -- stats ---------------------------------------------------------------------------

    async def stats(self, interaction: discord.Interaction[Any], lock_name: str | None) -> None:
        self._admit(interaction)
        await defer(interaction, private=False)
        lock = await self.registered_lock(interaction.guild_id, lock_name)
        stats = await self._stats.of(lock)
        await reply(interaction, private=False, embed=lock_stats_embed(stats))

    # -- the wearer's card ---------------------------------------------------------------

    async def share(
        self, interaction: discord.Interaction[Any], lock_name: str, enabled: bool
    ) -> None:
        self._admit(interaction)
        await defer(interaction, private=True)
        lock = await self.registered_lock(interaction.guild_id, lock_name)
        changed = await self._sharing.set_shared(interaction.user.id, lock, enabled)
        await self._panels.refresh_lock(lock.id)
        if enabled:
            text = (
                f"The panels of **{lock.name}** now show your card: locked since, the "
                "scheduled end and what this server's votes did today, from your Chastity "
                "Tracker account. Its timeline also includes your session's history. "
                f"`/account share lock:{lock.name} enabled:false` stops it at any time."
            )
            if not changed:
                text = "You already share this lock. " + text
        else:
            text = (
                f"**{lock.name}** no longer shows anything from your account: its panels "
                "drop your card and its timeline shows only the votes through the bot."
                if changed
                else f"You were not sharing **{lock.name}**; nothing of yours is shown."
            )
        await reply_private(interaction, text)
