"""The production bot, logged in against the fake Discord, driven like a member would.

Interactions go through discord.py's own gateway parser (INTERACTION_CREATE),
so the command tree, views, modals and the error handler all run for real;
answers go over HTTP to the fake Discord, which records them.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.app import ChastityBot, create_bot
from bot.config import Settings
from bot.timing import Sleep
from tests.harness import internals
from tests.harness.clock import TestClock
from tests.harness.fake_discord import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE,
    COMPONENT,
    MODAL_SUBMIT,
    RESPONSE_WINDOW,
    FakeDiscord,
    FakeInteraction,
)
from tests.harness.models import (
    ADMIN_PERMISSIONS,
    BOT_PERMISSIONS,
    DM,
    MEMBER_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeMessage,
    FakeUser,
    Snowflakes,
)
from tests.harness.payloads import (
    Actor,
    OptionError,
    base_interaction,
    command_data,
    component_data,
    modal_submit_data,
)
from tests.harness.result import InteractionResult

if TYPE_CHECKING:
    import discord

    from bot.ctapi import ChastityTrackerClient
    from bot.storage import Storage
    from bot.vault import Vault

Prepare = Callable[[ChastityBot], Awaitable[None]]
"""Runs on a new bot before it logs in: add test-only cogs, views or dynamic items here,
so they are part of the command set the bot syncs (exactly as a real cog would be)."""


@dataclass(frozen=True)
class World:
    """The server the bot lives in during a test, and who is in it."""

    application_id: int
    bot_user: FakeUser
    guild: FakeGuild
    channel: FakeChannel
    other_channel: FakeChannel
    owner: FakeUser

    @classmethod
    def build(cls, snowflake: Snowflakes) -> World:
        application_id = snowflake()
        owner = FakeUser(snowflake(), "server-owner")
        guild_id = snowflake()
        channel = FakeChannel(snowflake(), "general", guild_id, position=0)
        other = FakeChannel(snowflake(), "votes", guild_id, position=1)
        guild = FakeGuild(guild_id, "Test Server", owner.id, (channel, other))
        bot_user = FakeUser(application_id, "Chastity Tracker", bot=True)
        return cls(application_id, bot_user, guild, channel, other, owner)

    def bot_member(self) -> FakeMember:
        return FakeMember(self.bot_user, self.guild, BOT_PERMISSIONS)


class Harness:
    """One fake Discord plus the bot under test. Build it with :meth:`start`."""

    def __init__(
        self,
        *,
        settings: Settings,
        api: ChastityTrackerClient,
        storage: Storage,
        vault: Vault,
        clock: TestClock,
        snowflake: Snowflakes,
        world: World,
        fake: FakeDiscord,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.api = api
        self.storage = storage
        self.vault = vault
        self.clock = clock
        self.sleep = sleep
        self.snowflake = snowflake
        self.world = world
        self.fake = fake
        self.guild = world.guild
        self.channel = world.channel
        self.other_channel = world.other_channel
        self.member = self.new_member("member")
        self.admin = self.new_member("admin", permissions=ADMIN_PERMISSIONS)
        self._bot: ChastityBot | None = None
        self._contexts: dict[int, tuple[Actor, FakeChannel, FakeGuild | None]] = {}
        self._dm_channels: dict[int, FakeChannel] = {}
        self._member_permissions: dict[tuple[int, int], discord.Permissions] = {}

    @classmethod
    async def start(
        cls,
        *,
        settings: Settings,
        api: ChastityTrackerClient,
        storage: Storage,
        vault: Vault,
        clock: TestClock,
        snowflake: Snowflakes,
        world: World,
        prepare: Prepare | None = None,
        response_window: float = RESPONSE_WINDOW,
        sleep: Sleep = asyncio.sleep,
    ) -> Harness:
        fake = FakeDiscord(
            clock,
            token=settings.discord_token.reveal(),
            bot_user=world.bot_user,
            application_id=world.application_id,
            guilds=[world.guild],
            snowflakes=snowflake,
            response_window=response_window,
        )
        await fake.start()
        harness = cls(
            settings=settings,
            api=api,
            storage=storage,
            vault=vault,
            clock=clock,
            snowflake=snowflake,
            world=world,
            fake=fake,
            sleep=sleep,
        )
        try:
            harness._bot = await harness._launch(prepare)
        except BaseException:
            await fake.close()
            raise
        return harness

    @property
    def bot(self) -> ChastityBot:
        if self._bot is None:
            raise RuntimeError("the harness has no running bot")
        return self._bot

    async def _launch(self, prepare: Prepare | None) -> ChastityBot:
        bot = create_bot(
            self.settings,
            api=self.api,
            storage=self.storage,
            vault=self.vault,
            clock=self.clock.now,
            sleep=self.sleep,
        )
        try:
            if prepare is not None:
                await prepare(bot)
            await bot.login(self.settings.discord_token.reveal())
            internals.mark_ready(bot)
            guild_create = internals.gateway_parser(bot, "GUILD_CREATE")
            guild_create(self.guild.create_payload(self.world.bot_member()))
        except BaseException:
            await bot.close()
            raise
        return bot

    async def restart(self, *, prepare: Prepare | None = None) -> ChastityBot:
        """Stop the bot and start a new one on the same storage and the same Discord."""
        await self.bot.close()
        self._bot = None
        self._bot = await self._launch(prepare)
        return self._bot

    async def close(self) -> None:
        try:
            if self._bot is not None:
                await self._bot.close()
                self._bot = None
        finally:
            await self.fake.close()

    # -- people and places ---------------------------------------------------------

    def new_member(
        self, name: str, *, permissions: discord.Permissions = MEMBER_PERMISSIONS
    ) -> FakeMember:
        return FakeMember(FakeUser(self.snowflake(), name), self.guild, permissions)

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The member's direct messages with the bot (the same channel the bot opens)."""
        return self.fake.dm_channel(user)

    def set_bot_permissions(self, channel: FakeChannel, permissions: discord.Permissions) -> None:
        """The bot's permissions in ``channel`` from now on (default: BOT_PERMISSIONS).

        Interactions there carry them as ``app_permissions``; posting, editing or
        reading there without them gets Discord's 403 (50001 Missing Access
        without View Channel, 50013 Missing Permissions without Send Messages),
        and embeds sent without Embed Links are dropped.
        """
        self.fake.set_bot_permissions(channel.id, permissions)

    def set_member_permissions(
        self, member: FakeMember, channel: FakeChannel, permissions: discord.Permissions
    ) -> None:
        """``member``'s permissions in ``channel`` from now on (default: their own).

        A channel option naming ``channel`` carries them, as Discord resolves it:
        the invoking member's permissions there, overwrites included.
        """
        self._member_permissions[(member.id, channel.id)] = permissions

    def _resolve_member_permissions(self, data: dict[str, Any], actor: Actor) -> None:
        channels = data.get("resolved", {}).get("channels", {})
        for channel_id, channel in channels.items():
            if isinstance(actor, FakeMember):
                permissions = self._member_permissions.get(
                    (actor.id, int(channel_id)), actor.permissions
                )
                channel["permissions"] = str(permissions.value)

    def channel_messages(self, channel: FakeChannel | None = None) -> list[FakeMessage]:
        """What members see in a channel now, oldest first."""
        return self.fake.channel_messages((channel or self.channel).id)

    # -- interactions ---------------------------------------------------------------

    async def run(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        *,
        by: Actor | None = None,
        channel: FakeChannel | None = None,
        dm: bool = False,
        wait: bool = True,
    ) -> InteractionResult:
        """Run ``/command`` ("help", "link vote", ...) as a member; waits for the first response."""
        actor, where, guild = self._where(by, channel, dm)
        data = self._command_data(command, options or {}, focused=None, guild=guild)
        self._resolve_member_permissions(data, actor)
        result = self.feed(APPLICATION_COMMAND, data, actor=actor, channel=where, guild=guild)
        if wait:
            await result.wait_for_response()
        return result

    async def autocomplete(
        self,
        command: str,
        options: Mapping[str, Any],
        *,
        focused: str,
        by: Actor | None = None,
        channel: FakeChannel | None = None,
        dm: bool = False,
    ) -> list[dict[str, Any]]:
        """The choices the bot offers while a member types ``options[focused]``."""
        actor, where, guild = self._where(by, channel, dm)
        data = self._command_data(command, options, focused=focused, guild=guild)
        result = self.feed(AUTOCOMPLETE, data, actor=actor, channel=where, guild=guild)
        response = await result.wait_for_response()
        if response.choices is None:
            raise AssertionError(f"autocomplete answered with type {response.type}")
        return response.choices

    async def click(
        self,
        message: FakeMessage,
        *,
        label: str | None = None,
        custom_id: str | None = None,
        values: list[str] | None = None,
        by: Actor | None = None,
        wait: bool = True,
    ) -> InteractionResult:
        """Click a button (or pick ``values`` in a select menu) on a message the bot sent."""
        current = self.fake.messages.get(message.id)
        if current is None or current.deleted:
            raise OptionError(f"message {message.id} is gone: nobody can click it")
        actor = by if by is not None else self._viewer(current)
        if current.ephemeral and _user(actor) != _user(self._viewer(current)):
            raise OptionError("only the member an ephemeral message was shown to can click it")
        component = current.find_component(custom_id=custom_id, label=label)
        channel = self.fake.channels[current.channel_id]
        guild = self.guild if channel.guild_id == self.guild.id else None
        if guild is None and isinstance(actor, FakeMember):
            actor = actor.user
        result = self.feed(
            COMPONENT,
            component_data(component, values),
            actor=actor,
            channel=channel,
            guild=guild,
            message=current,
        )
        if wait:
            await result.wait_for_response()
        return result

    async def submit_modal(
        self,
        opened_by: InteractionResult,
        values: Mapping[str, str],
        *,
        wait: bool = True,
    ) -> InteractionResult:
        """Fill in and submit the modal the bot opened in answer to ``opened_by``."""
        response = opened_by.response
        if response is None or response.modal is None:
            raise OptionError(f"the bot did not open a modal: {response!r}")
        actor, channel, guild = self._contexts[opened_by.id]
        source = opened_by.interaction.message_id
        message = self.fake.messages.get(source) if source is not None else None
        result = self.feed(
            MODAL_SUBMIT,
            modal_submit_data(response.modal, values),
            actor=actor,
            channel=channel,
            guild=guild,
            message=message,
        )
        if wait:
            await result.wait_for_response()
        return result

    def feed(
        self,
        interaction_type: int,
        data: dict[str, Any],
        *,
        actor: Actor,
        channel: FakeChannel,
        guild: FakeGuild | None,
        message: FakeMessage | None = None,
    ) -> InteractionResult:
        """Deliver one INTERACTION_CREATE to the bot, as the gateway would."""
        interaction_id = self.snowflake()
        token = f"aW50ZXJhY3Rpb24{interaction_id}{secrets.token_urlsafe(24)}"
        payload = base_interaction(
            interaction_id=interaction_id,
            token=token,
            interaction_type=interaction_type,
            application_id=self.world.application_id,
            data=data,
            actor=actor,
            channel=channel,
            guild=guild,
            app_permissions=self.fake.bot_permissions_in(channel.id),
        )
        if channel.type == DM:
            user = actor.user if isinstance(actor, FakeMember) else actor
            payload["channel"]["recipients"] = [user.payload()]
        if message is not None:
            payload["message"] = message.payload()
        record = FakeInteraction(
            id=interaction_id,
            token=token,
            type=interaction_type,
            payload=payload,
            started=self.clock.monotonic(),
            channel_id=channel.id,
            guild_id=guild.id if guild else None,
            user=actor.user if isinstance(actor, FakeMember) else actor,
            message_id=message.id if message is not None else None,
        )
        self.fake.add_interaction(record)
        self._contexts[interaction_id] = (actor, channel, guild)
        self.deliver(payload)
        return InteractionResult(self.fake, record)

    def deliver(self, payload: dict[str, Any]) -> None:
        """Hand one INTERACTION_CREATE to the bot, as the gateway would (here: in-process)."""
        internals.gateway_parser(self.bot, "INTERACTION_CREATE")(payload)

    # -- helpers ----------------------------------------------------------------------

    def _where(
        self, by: Actor | None, channel: FakeChannel | None, dm: bool
    ) -> tuple[Actor, FakeChannel, FakeGuild | None]:
        actor: Actor = by if by is not None else self.member
        if dm:
            user = actor.user if isinstance(actor, FakeMember) else actor
            return user, self.dm_channel(user), None
        if not isinstance(actor, FakeMember):
            raise OptionError("in a server, commands come from a FakeMember (or pass dm=True)")
        return actor, channel or self.channel, self.guild

    def _command_data(
        self,
        command: str,
        options: Mapping[str, Any],
        *,
        focused: str | None,
        guild: FakeGuild | None,
    ) -> dict[str, Any]:
        path = command.removeprefix("/").split()
        registered = self.fake.registered_command(path[0], guild.id if guild else None)
        if registered is None:
            known = sorted(c["name"] for scope in self.fake.commands.values() for c in scope)
            raise OptionError(
                f"/{path[0]} is not registered with Discord here (registered: {known}); "
                "commands reach Discord only through the bot's sync"
            )
        return command_data(registered, path, options, focused=focused, guild=guild)

    def _viewer(self, message: FakeMessage) -> Actor:
        """Who can click an ephemeral message: only the member it was shown to."""
        if message.interaction_id is not None and message.ephemeral:
            return self._contexts[message.interaction_id][0]
        return self.member


def _user(actor: Actor) -> FakeUser:
    return actor.user if isinstance(actor, FakeMember) else actor
