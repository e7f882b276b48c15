"""Voting panels: a message about a lock with three vote buttons, kept up to date.

A click votes exactly like ``/link vote`` for the member who clicked (the
interaction layer, ``bot.interactions.actions``, runs that vote privately on
:meth:`PanelService.vote_target`), and :meth:`PanelService.record` redraws the
panel with the latest result. Redraws are coalesced per panel (see ``bot.edits``).
A panel whose message (or channel) was deleted is forgotten the first time an
edit says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Final

import discord

from bot.ctapi import Choice, LinkResult
from bot.edits import EditCoalescer
from bot.embeds.insights import wearer_card_embed
from bot.embeds.voting import ResultSummary, panel_embed, removed_panel_embed
from bot.error_messages import UserError
from bot.sharing import SharingService
from bot.storage import GuildLimitReached, Lock, Panel, Storage
from bot.views.buttons import panel_view
from bot.voting import VoteService, VoteTarget

log = logging.getLogger(__name__)

UNKNOWN_CHANNEL: Final = 10003
UNKNOWN_MESSAGE: Final = 10008
PANEL_EDIT_INTERVAL: Final = 5.0
"""Seconds between two edits of one panel: a burst of clicks becomes a few edits."""


class PanelGone(UserError):
    def __init__(self) -> None:
        super().__init__("This panel no longer takes votes: its lock was removed from the server.")


class NotThisPanel(UserError):
    def __init__(self) -> None:
        super().__init__("This button does not belong to a voting panel of this server.")


class CannotPost(UserError):
    def __init__(self, channel_id: int) -> None:
        super().__init__(
            f"I could not post in <#{channel_id}>. Check that I can view the channel, "
            "send messages and embed links there."
        )


class PanelService:
    def __init__(
        self,
        *,
        client: discord.Client,
        storage: Storage,
        votes: VoteService,
        clock: Callable[[], datetime],
        edit_interval: float = PANEL_EDIT_INTERVAL,
        max_panels: int = 50,
        cards: SharingService | None = None,
    ) -> None:
        self._max_panels = max_panels
        self._client = client
        self._storage = storage
        self._votes = votes
        self._clock = clock
        # The wearer's card under the panel, when the wearer shares the lock.
        self._cards = cards
        self.edits = EditCoalescer(edit_interval)

    async def close(self) -> None:
        await self.edits.close()

    # -- posting ---------------------------------------------------------------------

    async def post(self, lock: Lock, channel_id: int) -> Panel:
        """Record the panel, then post it (its buttons carry the panel id)."""
        try:
            panel = await self._storage.panels.create(
                lock.guild_id, channel_id, lock.id, self._clock(), guild_limit=self._max_panels
            )
        except GuildLimitReached as limit:
            raise UserError(
                f"This server has {limit.limit} voting panels, its limit. Delete a panel's "
                "message (it is then forgotten at its next vote) or remove its lock first."
            ) from None
        channel = self._client.get_partial_messageable(channel_id, guild_id=lock.guild_id)
        try:
            message = await channel.send(
                embeds=await self._embeds(lock, None), view=panel_view(panel.id)
            )
        except discord.HTTPException as error:
            await self._storage.panels.delete(panel.id)
            log.info("Could not post a panel in channel %d: %s", channel_id, error)
            raise CannotPost(channel_id) from None
        await self._storage.panels.set_message(panel.id, message.id)
        return panel

    async def retire(self, lock: Lock) -> int:
        """Before a lock is removed: turn its panels into a notice without buttons."""
        panels = await self._storage.panels.for_lock(lock.id)
        for panel in panels:
            if panel.message_id is None:
                continue
            try:
                await self._message(panel).edit(embed=removed_panel_embed(lock.name), view=None)
            except discord.HTTPException as error:
                log.info("Could not retire panel %d: %s", panel.id, error)
        return len(panels)

    # -- clicks ----------------------------------------------------------------------

    async def vote_target(
        self, panel_id: int, guild_id: int | None, message_id: int | None
    ) -> VoteTarget:
        """The lock a click on this panel votes on; :class:`PanelGone` once it was removed.

        The button carries only the panel id, which anyone can write into a
        message of their own: the click counts only on the panel's own message,
        in its own server.
        """
        panel = await self._storage.panels.get(panel_id)
        if panel is not None and (panel.guild_id != guild_id or panel.message_id != message_id):
            log.warning("a click on panel %d came from another message or server", panel_id)
            raise NotThisPanel()
        lock = await self._storage.locks.get(panel.lock_id) if panel is not None else None
        if panel is None or lock is None:
            raise PanelGone()
        return self._votes.target_of(lock)

    async def record(self, panel_id: int, result: LinkResult, choice: Choice) -> None:
        summary = ResultSummary.of(result, choice, self._clock())
        await self._storage.panels.record_result(panel_id, summary.to_json(), self._clock())
        self.refresh(panel_id)

    # -- drawing ---------------------------------------------------------------------

    async def vote_landed(self, lock_id: int) -> None:
        """A vote moved the lock: a shared wearer's card on its panels shows it."""
        if self._cards is not None and await self._storage.shares.shared_by(lock_id) is not None:
            await self.refresh_lock(lock_id)

    async def refresh_lock(self, lock_id: int) -> None:
        """Redraw every panel of the lock soon (e.g. its wearer's card changed)."""
        for panel in await self._storage.panels.for_lock(lock_id):
            self.refresh(panel.id)

    def refresh(self, panel_id: int) -> None:
        """Redraw the panel soon, merged with other redraws of the same panel."""
        self.edits.request(("panel", panel_id), lambda: self.redraw(panel_id))

    async def redraw(self, panel_id: int) -> None:
        """Edit the panel's message to its stored state now; forget it if the message is gone."""
        panel = await self._storage.panels.get(panel_id)
        if panel is None or panel.message_id is None:
            return
        lock = await self._storage.locks.get(panel.lock_id)
        if lock is None:
            return
        latest = ResultSummary.from_json(panel.last_result_json)
        try:
            await self._message(panel).edit(
                embeds=await self._embeds(lock, latest), view=panel_view(panel.id)
            )
        except discord.NotFound as error:
            if error.code not in {UNKNOWN_MESSAGE, UNKNOWN_CHANNEL}:
                raise
            await self._storage.panels.delete(panel.id)
            log.info("Panel %d's message was deleted; the panel is forgotten", panel.id)
        except discord.HTTPException as error:
            # E.g. the bot lost access to the channel: the next vote tries again.
            log.warning("Could not redraw panel %d: %s", panel.id, error)

    def _message(self, panel: Panel) -> discord.PartialMessage:
        assert panel.message_id is not None
        channel = self._client.get_partial_messageable(panel.channel_id, guild_id=panel.guild_id)
        return channel.get_partial_message(panel.message_id)

    async def _embeds(self, lock: Lock, latest: ResultSummary | None) -> list[discord.Embed]:
        embeds = [
            panel_embed(
                lock_name=lock.name,
                wearer_id=lock.wearer_id,
                allow_anonymous=lock.allow_anonymous,
                latest=latest,
            )
        ]
        if self._cards is not None and lock.wearer_id is not None:
            try:
                card = await self._cards.card(lock)
            except Exception:
                # The panel is drawn without the card rather than not at all.
                log.exception("Could not build the wearer's card of lock %d", lock.id)
                card = None
            if card is not None:
                embeds.append(wearer_card_embed(lock.wearer_id, card))
        return embeds
