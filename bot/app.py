"""The bot object: what it holds, how it starts, and how it syncs its commands.

Dependencies (API client, storage, token vault, clock, sleep) are built outside and
handed to :func:`create_bot`, so tests build the very same bot with fakes.
Every service is built from them in one place, :meth:`ChastityBot.__init__`,
and is a typed attribute of the bot; cogs and buttons reach services only
through those attributes.

Cogs live one per module in the ``cogs`` package; each module has
``async def setup(bot: ChastityBot)``. Modules whose name starts with ``_`` are
helpers, not cogs.

The panel and poll buttons belong to the bot and are registered in
:meth:`ChastityBot.setup_hook`. Other buttons that must keep working after a
restart are declared by the cog that owns them, and registered once every cog
is loaded:

- ``dynamic_items``: a class attribute, a sequence of ``discord.ui.DynamicItem``
  subclasses (buttons whose ``custom_id`` carries an id, e.g. a panel or poll).
- ``persistent_views()``: an optional method returning ``discord.ui.View``
  objects with ``timeout=None`` and an explicit ``custom_id`` on every item.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import pkgutil
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

import cogs
from bot.accounts import AccountService
from bot.config import Settings, SettingsError, prepare_data_dir
from bot.flood import FloodGate
from bot.games import GameService
from bot.history import HistoryService
from bot.interactions.actions import MemberActions
from bot.interactions.errors import handle_app_command_error
from bot.interactions.insights import LockInsights
from bot.interactions.reminders import ReminderActions
from bot.interactions.stopping import GatedCommandTree
from bot.lock_stats import LockStatsService
from bot.locks import LockRegistry
from bot.panels import PanelService
from bot.polls import PollService
from bot.reminders import ReminderService
from bot.session_choices import SessionChoices
from bot.sharing import SharingService
from bot.startup_memory import settle_startup_objects
from bot.stopping import StopSignals, WorkGate
from bot.timeline import TimelineService
from bot.timing import Sleep
from bot.views.buttons import PanelButton, PollButton
from bot.views.insights import TimelineButton
from bot.views.reminders import RemindButton
from bot.voting import VoteService

if TYPE_CHECKING:
    from bot.ctapi import ChastityTrackerClient
    from bot.storage import Storage
    from bot.vault import Vault

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time as an aware UTC datetime."""

COMMAND_SYNC_KEY = "command_sync_hash"


def utcnow() -> datetime:
    return datetime.now(UTC)


def bot_intents() -> discord.Intents:
    # Slash commands and buttons arrive as interactions whatever the intents;
    # guilds keeps servers and channels cached (channel options resolve from it).
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def discover_extensions() -> list[str]:
    """Every cog module, in name order; ``_private`` modules are helpers, not cogs."""
    return sorted(
        module.name
        for module in pkgutil.iter_modules(cogs.__path__, prefix=f"{cogs.__name__}.")
        if not module.name.rpartition(".")[2].startswith("_")
    )


class ChastityBot(commands.AutoShardedBot):
    settings: Settings
    api: ChastityTrackerClient
    storage: Storage
    vault: Vault
    clock: Clock
    sleep: Sleep
    gate: WorkGate
    accounts: AccountService
    flood: FloodGate
    games: GameService
    votes: VoteService
    panels: PanelService
    polls: PollService
    locks: LockRegistry
    history: HistoryService
    actions: MemberActions
    sharing: SharingService
    timeline: TimelineService
    lock_stats: LockStatsService
    insights: LockInsights
    reminders: ReminderService
    reminder_actions: ReminderActions

    def __init__(
        self,
        settings: Settings,
        *,
        api: ChastityTrackerClient,
        storage: Storage,
        vault: Vault,
        clock: Clock,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        sharding: dict[str, Any] = {}
        if settings.shard_count is not None:
            sharding["shard_count"] = settings.shard_count
        if settings.shard_ids is not None:
            sharding["shard_ids"] = list(settings.shard_ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            tree_cls=GatedCommandTree,
            # Replies never ping anyone by accident; a cog that means to ping says so.
            allowed_mentions=discord.AllowedMentions.none(),
            **sharding,
        )
        self.settings = settings
        self.api = api
        self.storage = storage
        self.vault = vault
        self.clock = clock
        self.sleep = sleep
        self.gate = WorkGate()
        self._stopping: asyncio.Task[None] | None = None
        # Every service, built here and only here.
        self.accounts = AccountService(storage, vault, api, clock)
        self.flood = FloodGate(settings.flood_burst, settings.flood_interval)
        sessions = SessionChoices(api, self.accounts, storage, sleep=sleep)
        self.games = GameService(api, self.accounts, storage, clock=clock, sessions=sessions)
        self.votes = VoteService(
            api=api, storage=storage, vault=vault, accounts=self.accounts, clock=clock
        )
        self.sharing = SharingService(storage=storage, accounts=self.accounts, api=api, clock=clock)
        self.panels = PanelService(
            client=self,
            storage=storage,
            votes=self.votes,
            clock=clock,
            max_panels=settings.guild_max_panels,
            cards=self.sharing,
        )
        self.polls = PollService(
            client=self,
            storage=storage,
            votes=self.votes,
            clock=clock,
            sleep=sleep,
            vault=vault,
            max_open_polls=settings.guild_max_open_polls,
            stop_grace=settings.stop_grace,
        )
        self.locks = LockRegistry(
            storage=storage,
            vault=vault,
            votes=self.votes,
            panels=self.panels,
            polls=self.polls,
            clock=clock,
            max_locks=settings.guild_max_locks,
        )
        self.history = HistoryService(storage)
        # Top-level command name -> its id on Discord, for clickable mentions (</dice:id>).
        self.command_ids: dict[str, int] = {}
        self.actions = MemberActions(
            gate=self.gate,
            flood=self.flood,
            clock=clock,
            accounts=self.accounts,
            games=self.games,
            votes=self.votes,
            panels=self.panels,
            polls=self.polls,
        )
        self.timeline = TimelineService(storage=storage, api=api, sharing=self.sharing, clock=clock)
        self.lock_stats = LockStatsService(storage)
        # Its own pauses are real ones: tests drive it with wake(), and the injected
        # sleep stays the poll scheduler's alone.
        self.reminders = ReminderService(client=self, storage=storage, clock=clock)
        self.reminder_actions = ReminderActions(
            flood=self.flood, clock=clock, reminders=self.reminders
        )
        self.insights = LockInsights(
            flood=self.flood,
            clock=clock,
            storage=storage,
            timeline=self.timeline,
            stats=self.lock_stats,
            sharing=self.sharing,
            panels=self.panels,
        )

    async def setup_hook(self) -> None:
        self.tree.error(handle_app_command_error)
        # Panel and poll buttons keep working after a restart, whatever message they are on.
        self.add_dynamic_items(PanelButton, PollButton, TimelineButton, RemindButton)
        await self.load_cogs(discover_extensions())
        self.register_persistent_components()
        if self.syncs_commands():
            await self.sync_commands_if_changed()
        else:
            log.info("Commands are synced by the process that runs shard 0; not here")
        self.polls.start_scheduler()
        self.reminders.start()

    async def close(self) -> None:
        """Stop gracefully, then disconnect; calling it again waits for the same stop.

        No new member action starts (one that arrives is told the bot is
        restarting); the plays, votes and poll closes under way are let finish
        within ``STOP_GRACE`` seconds; then panel and poll edits are flushed.
        """
        if self._stopping is None:
            self._stopping = asyncio.create_task(self._stop(), name="bot-stop")
        await asyncio.shield(self._stopping)

    async def _stop(self) -> None:
        self.gate.close()
        grace = self.settings.stop_grace
        under_way = self.gate.running
        if under_way:
            log.info("Stopping: waiting up to %g s for %d action(s) under way", grace, under_way)
        cut, _ = await asyncio.gather(self.gate.drain(grace), self.polls.close())
        if cut:
            log.warning(
                "Stopped %d action(s) still running after STOP_GRACE (%g s); "
                "the ledger records them as unknown",
                cut,
                grace,
            )
        await self.panels.close()
        await self.games.sessions.close()
        await self.timeline.close()
        await self.reminders.close()
        await super().close()

    async def load_cogs(self, extensions: Iterable[str]) -> None:
        """Load every extension, logging each failure on its own, then re-raise the first."""
        failures: list[BaseException] = []
        for name in extensions:
            try:
                await self.load_extension(name)
            except Exception as error:
                log.exception("Could not load the cog %s", name)
                failures.append(error)
        if failures:
            raise failures[0]

    def register_persistent_components(self) -> None:
        """Register the dynamic items and persistent views the loaded cogs declare."""
        for cog in self.cogs.values():
            items: Sequence[type[discord.ui.DynamicItem[Any]]] = getattr(cog, "dynamic_items", ())
            if items:
                self.add_dynamic_items(*items)
            views: Callable[[], Iterable[discord.ui.View]] | None = getattr(
                cog, "persistent_views", None
            )
            if views is not None:
                for view in views():
                    self.add_view(view)

    def syncs_commands(self) -> bool:
        """Whether this process syncs the commands: with several processes (SHARD_IDS),
        only the one running shard 0, so a deploy spends one sync, not one per process."""
        shard_ids = self.settings.shard_ids
        return shard_ids is None or 0 in shard_ids

    def command_scope(self) -> discord.Object | None:
        """Where commands are synced: the development guild, or None for global."""
        if self.settings.dev_guild_id is None:
            return None
        return discord.Object(id=self.settings.dev_guild_id)

    def command_payload(self, guild: discord.abc.Snowflake | None) -> list[dict[str, Any]]:
        """The commands exactly as a sync would send them, in a stable order."""
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        return sorted(payload, key=lambda command: (command.get("type", 1), command["name"]))

    async def sync_commands_if_changed(self) -> bool:
        """Sync application commands only when they differ from the last sync.

        Global sync has a small daily budget, so the hash of what was last
        synced (per application and scope) is kept in storage.
        """
        guild = self.command_scope()
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        digest = command_hash(self.command_payload(guild))
        scope = "global" if guild is None else f"guild:{guild.id}"
        key = f"{COMMAND_SYNC_KEY}:{self.application_id}:{scope}"
        if await self.storage.meta.get(key) == digest:
            log.info("Application commands unchanged (%s); not syncing", scope)
            await self._learn_command_ids(guild)
            return False
        synced = await self.tree.sync(guild=guild)
        self.command_ids = {command.name: command.id for command in synced}
        await self.storage.meta.set(key, digest)
        log.info("Synced %d application commands (%s)", len(synced), scope)
        return True

    async def _learn_command_ids(self, guild: discord.abc.Snowflake | None) -> None:
        """Ask Discord for the registered commands' ids; without them, help names
        commands as plain text."""
        try:
            commands_now = await self.tree.fetch_commands(guild=guild)
        except discord.HTTPException as error:
            log.warning("Could not fetch the command ids (mentions stay plain): %s", error)
            return
        self.command_ids = {command.name: command.id for command in commands_now}


def command_hash(payload: list[dict[str, Any]]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def create_bot(
    settings: Settings,
    *,
    api: ChastityTrackerClient,
    storage: Storage,
    vault: Vault,
    clock: Clock = utcnow,
    sleep: Sleep = asyncio.sleep,
) -> ChastityBot:
    return ChastityBot(settings, api=api, storage=storage, vault=vault, clock=clock, sleep=sleep)


async def run_bot(settings: Settings) -> None:
    """Build every dependency, run the bot until it stops, close in reverse order."""
    from bot.ctapi import ChastityTrackerClient
    from bot.storage import Storage, StorageError
    from bot.vault import open_vault

    prepare_data_dir(settings)
    async with ChastityTrackerClient(settings.ct_api_base_url, settings.ct_api_timeout) as api:
        try:
            storage = await Storage.open(settings.database_url)
        except (StorageError, OSError) as error:
            raise SettingsError(
                "DATABASE_URL",
                f"cannot be used ({error})",
                "check the URL, that the database server is running and the credentials",
            ) from None
        try:
            vault = await open_vault(settings, storage)
            async with create_bot(settings, api=api, storage=storage, vault=vault) as bot:
                try:
                    serving = start_settled(bot, settings.discord_token.reveal())
                    await serve_until_stopped(bot, serving)
                except discord.LoginFailure:
                    raise SettingsError(
                        "DISCORD_TOKEN",
                        "was refused by Discord",
                        "reset the token in the developer portal (Bot > Reset Token) "
                        "and put the new one in .env",
                    ) from None
        finally:
            await storage.close()


async def start_settled(bot: ChastityBot, token: str) -> None:
    """``bot.start(token)``, with start-up's objects settled between login and connecting.

    Login runs ``setup_hook`` (cogs, commands, services): what exists after it
    stays for the life of the process (see :mod:`bot.startup_memory`).
    """
    await bot.login(token)
    settle_startup_objects()
    await bot.connect()


async def serve_until_stopped(bot: ChastityBot, serving: Awaitable[None]) -> None:
    """Run ``serving`` (the gateway connection) until it ends or SIGTERM/SIGINT arrives.

    A signal stops the bot gracefully (:meth:`ChastityBot.close`), then ends
    ``serving``; a second signal during the stop exits at once
    (:class:`bot.stopping.StopSignals`).
    """
    signals = StopSignals()
    signals.install()
    try:
        serve = asyncio.ensure_future(serving)
        stop = asyncio.ensure_future(signals.requested.wait())
        try:
            await asyncio.wait({serve, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
        if not serve.done():
            await bot.close()
            serve.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serve
        if signals.signal_name is not None:
            log.info("Stopped after %s", signals.signal_name)
    finally:
        signals.uninstall()
