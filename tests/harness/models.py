"""The fake Discord's world: users, members, guilds, channels and messages.

Each model renders the JSON payload Discord would send for it, so the bot
under test parses exactly what it would parse in production.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import discord
from discord.utils import time_snowflake

from tests.harness.clock import TestClock

EPHEMERAL = 1 << 6
LOADING = 1 << 7

GUILD_TEXT = 0
DM = 1

MEMBER_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_application_commands=True,
    create_public_threads=True,
)
ADMIN_PERMISSIONS = discord.Permissions.all()
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    read_message_history=True,
    embed_links=True,
    use_external_emojis=True,
    use_application_commands=True,
)


class Snowflakes:
    """Unique, increasing ids whose timestamp part follows the test clock."""

    def __init__(self, clock: TestClock) -> None:
        self._clock = clock
        self._last = 0

    def __call__(self) -> int:
        self._last = max(self._last + 1, time_snowflake(self._clock.now()))
        return self._last


@dataclass(frozen=True)
class FakeUser:
    id: int
    name: str
    bot: bool = False

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
    guild_id: int | None
    type: int = GUILD_TEXT
    position: int = 0

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        return data


@dataclass(frozen=True)
class FakeGuild:
    id: int
    name: str
    owner_id: int
    channels: tuple[FakeChannel, ...]

    def everyone_role(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": "@everyone",
            "permissions": str(MEMBER_PERMISSIONS.value),
            "position": 0,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def partial_payload(self) -> dict[str, Any]:
        """The ``guild`` object inside an interaction."""
        return {"id": str(self.id), "locale": "en-US", "features": []}

    def create_payload(self, bot_member: FakeMember) -> dict[str, Any]:
        """GUILD_CREATE, as the gateway sends it when the bot connects."""
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "features": [],
            "roles": [self.everyone_role()],
            "emojis": [],
            "stickers": [],
            "channels": [channel.payload() for channel in self.channels],
            "threads": [],
            "members": [bot_member.payload()],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "preferred_locale": "en-US",
            "joined_at": "2024-01-01T00:00:00+00:00",
        }


@dataclass(frozen=True)
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    permissions: discord.Permissions = MEMBER_PERMISSIONS
    nick: str | None = None

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return self.user.mention

    def payload(self) -> dict[str, Any]:
        return {
            "user": self.user.payload(),
            "nick": self.nick,
            "avatar": None,
            "roles": [],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "permissions": str(self.permissions.value),
        }


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component, depth first, through action rows, labels and sections."""
    for component in components:
        yield component
        yield from walk_components(component.get("components", []))
        if "component" in component:
            yield from walk_components([component["component"]])
        if "accessory" in component:
            yield from walk_components([component["accessory"]])


@dataclass
class FakeMessage:
    """A message as the fake Discord holds it (latest version; ``history`` has the rest)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    created_at: datetime
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    interaction_id: int | None = None
    application_id: int | None = None
    edited_at: datetime | None = None
    deleted: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    reference_id: int | None = None  # the message this one replies to

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def loading(self) -> bool:
        """A deferred response still showing "thinking..."."""
        return bool(self.flags & LOADING)

    @property
    def embed(self) -> dict[str, Any] | None:
        return self.embeds[0] if self.embeds else None

    def text(self) -> str:
        """Everything a member reads in the message, for loose assertions."""
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            for embed_field in embed.get("fields", []):
                parts += [embed_field.get("name", ""), embed_field.get("value", "")]
            parts.append(embed.get("footer", {}).get("text", ""))
        for component in walk_components(self.components):
            parts += [component.get("label") or "", component.get("content") or ""]
        return "\n".join(part for part in parts if part)

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in walk_components(self.components) if c.get("type") == 2]

    def find_component(
        self, *, custom_id: str | None = None, label: str | None = None
    ) -> dict[str, Any]:
        for component in walk_components(self.components):
            if custom_id is not None and component.get("custom_id") == custom_id:
                return component
            if label is not None and component.get("label") == label:
                return component
        wanted = f"custom_id={custom_id!r}" if custom_id is not None else f"label={label!r}"
        have = [(c.get("label"), c.get("custom_id")) for c in walk_components(self.components)]
        raise AssertionError(f"message {self.id} has no component with {wanted}; it has {have}")

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "embeds": self.embeds,
            "components": self.components,
            "attachments": self.attachments,
            "flags": self.flags,
            "timestamp": self.created_at.isoformat(),
            "edited_timestamp": self.edited_at.isoformat() if self.edited_at else None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "type": 0,
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
            data["webhook_id"] = str(self.application_id)
        return data
