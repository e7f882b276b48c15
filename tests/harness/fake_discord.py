"""A fake Discord REST API that behaves like Discord where the bot can tell.

It serves login, command sync, interaction callbacks, followups and channel
messages on 127.0.0.1, enforces Discord's rules (3-second first response,
one acknowledgement, visibility fixed by a defer, edits of deleted messages
fail, the bot's permissions in each channel), records everything the bot
sent, in order, and records as a failure for the test to report:

- any request to a route it does not know;
- any request body Discord would refuse: checked against the route's schema in
  Discord's OpenAPI description (discord_spec.py), then against the documented
  rules the description cannot express (discord_rules.py). Such a body is
  answered 400 50035 "Invalid Form Body" with Discord's ``errors`` object, as
  Discord does, and the test fails even if the bot copes with the answer.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import discord
from aiohttp import web

from tests.harness import discord_rules, discord_spec, internals
from tests.harness.clock import TestClock
from tests.harness.discord_spec import Violation
from tests.harness.models import (
    BOT_PERMISSIONS,
    DM,
    EPHEMERAL,
    LOADING,
    FakeChannel,
    FakeGuild,
    FakeMessage,
    FakeUser,
    Snowflakes,
)

API_PREFIX = "/api/v10"
RESPONSE_WINDOW = 3.0  # seconds Discord waits for the first response
TOKEN_LIFETIME = 15 * 60.0  # seconds an interaction token accepts followups and edits

# Interaction types
PING, APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
# Interaction callback types
PONG = 1
CHANNEL_MESSAGE = 4
DEFERRED_CHANNEL_MESSAGE = 5
DEFERRED_UPDATE_MESSAGE = 6
UPDATE_MESSAGE = 7
AUTOCOMPLETE_RESULT = 8
MODAL = 9

ALLOWED_CALLBACKS = {
    PING: {PONG},
    APPLICATION_COMMAND: {CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL},
    COMPONENT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
        MODAL,
    },
    AUTOCOMPLETE: {AUTOCOMPLETE_RESULT},
    MODAL_SUBMIT: {
        CHANNEL_MESSAGE,
        DEFERRED_CHANNEL_MESSAGE,
        DEFERRED_UPDATE_MESSAGE,
        UPDATE_MESSAGE,
    },
}


BODY = web.RequestKey("body", object)
# The body as sent, for the schema: a multipart request's payload_json part.
SENT_BODY = web.RequestKey("sent_body", object)
INTERACTION_ID = web.RequestKey("interaction_id", int)
# Where the fake carries an upload's bytes from the request to its attachment.
UPLOAD_KEY = "_uploaded_bytes"
Violations = list[Violation]

# Each route the fake serves with a body, as the operation in Discord's OpenAPI
# description whose request schema the body must follow.
SPEC_OPERATIONS: dict[tuple[str, str], str] = {
    ("PUT", "/applications/{app_id}/commands"): "/applications/{application_id}/commands",
    ("PUT", "/applications/{app_id}/guilds/{guild_id}/commands"): (
        "/applications/{application_id}/guilds/{guild_id}/commands"
    ),
    ("POST", "/interactions/{interaction_id}/{token}/callback"): (
        "/interactions/{interaction_id}/{interaction_token}/callback"
    ),
    ("POST", "/webhooks/{app_id}/{token}"): "/webhooks/{webhook_id}/{webhook_token}",
    ("PATCH", "/webhooks/{app_id}/{token}/messages/{message_id}"): (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    ),
    ("POST", "/channels/{channel_id}/messages"): "/channels/{channel_id}/messages",
    ("POST", "/users/@me/channels"): "/users/@me/channels",
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): (
        "/channels/{channel_id}/messages/{message_id}"
    ),
}
# Routes whose requests carry no body, and the operation each is.
BODILESS_OPERATIONS: dict[tuple[str, str], str] = {
    ("GET", "/users/@me"): "/users/@me",
    ("GET", "/oauth2/applications/@me"): "/oauth2/applications/@me",
    ("GET", "/applications/{app_id}/commands"): "/applications/{application_id}/commands",
    ("GET", "/applications/{app_id}/guilds/{guild_id}/commands"): (
        "/applications/{application_id}/guilds/{guild_id}/commands"
    ),
    ("GET", "/webhooks/{app_id}/{token}/messages/{message_id}"): (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    ),
    ("DELETE", "/webhooks/{app_id}/{token}/messages/{message_id}"): (
        "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    ),
    ("GET", "/channels/{channel_id}"): "/channels/{channel_id}",
    ("GET", "/channels/{channel_id}/messages/{message_id}"): (
        "/channels/{channel_id}/messages/{message_id}"
    ),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}"): (
        "/channels/{channel_id}/messages/{message_id}"
    ),
}


def _json(data: Any, status: int = 200) -> web.Response:
    # Exactly "application/json": discord.py only parses JSON with that content type.
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


class DiscordError(Exception):
    """An error answer, in Discord's JSON shape."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def answer(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


class OffSpecBody(DiscordError):
    """A body real Discord refuses: 400 Invalid Form Body, and a failure of the test."""

    def __init__(self, violations: list[Violation]) -> None:
        if [v.code for v in violations] == [discord_rules.EMPTY_MESSAGE]:
            super().__init__(400, 50006, "Cannot send an empty message")
        else:
            super().__init__(400, 50035, "Invalid Form Body", _errors_object(violations))
        self.violations = violations


def _errors_object(violations: list[Violation]) -> dict[str, Any]:
    """Discord's nested ``errors``: ``{"embeds": {"0": {"title": {"_errors": [...]}}}}``."""
    errors: dict[str, Any] = {}
    for violation in violations:
        node = errors
        for step in violation.where.split(".") if violation.where else []:
            node = node.setdefault(step, {})
        node.setdefault("_errors", []).append(
            {"code": violation.code, "message": violation.problem}
        )
    return errors


def missing_access() -> DiscordError:
    return DiscordError(403, 50001, "Missing Access")


def missing_permissions() -> DiscordError:
    return DiscordError(403, 50013, "Missing Permissions")


def unknown_interaction() -> DiscordError:
    return DiscordError(404, 10062, "Unknown interaction")


def unknown_message() -> DiscordError:
    return DiscordError(404, 10008, "Unknown Message")


def unknown_webhook() -> DiscordError:
    return DiscordError(404, 10015, "Unknown Webhook")


def off_spec(where: str, problem: str) -> OffSpecBody:
    return OffSpecBody([Violation(where, problem)])


def refuse(violations: list[Violation]) -> None:
    if violations:
        raise OffSpecBody(violations)


@dataclass
class RecordedRequest:
    """One request the bot made, as received, with what the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    answer: Any
    interaction_id: int | None = None


@dataclass
class Event:
    """Something the bot did that a member would see (or that Discord refused)."""

    kind: str  # response | followup | edit | delete | channel_message | rejected
    interaction_id: int | None
    message_id: int | None = None
    body: Any = None
    error: DiscordError | None = None


@dataclass
class FakeInteraction:
    id: int
    token: str
    type: int
    payload: dict[str, Any]
    started: float  # TestClock.monotonic() when fed
    channel_id: int | None
    guild_id: int | None
    user: FakeUser
    message_id: int | None = None  # the message a component sits on
    response_type: int | None = None
    response: dict[str, Any] | None = None
    original_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)


LISTEN_BACKLOG = 4096


class FakeDiscord:
    # Every REST route is built on discord.http.Route.BASE, a process-wide
    # setting: two fakes at once would receive each other's requests.
    _active: FakeDiscord | None = None

    def __init__(
        self,
        clock: TestClock,
        *,
        token: str,
        bot_user: FakeUser,
        application_id: int,
        guilds: list[FakeGuild],
        snowflakes: Snowflakes,
        response_window: float = RESPONSE_WINDOW,
        uploads_checked_in: Executor | None = None,
    ) -> None:
        self.clock = clock
        # Where a multipart body (a file upload) is read and checked against the schema:
        # here by default; a process pool keeps that work off this event loop, as
        # Discord's handling of one member's upload never delays another's answer
        # (bench.timeline measures other members' answers while charts are uploaded).
        self.uploads_checked_in = uploads_checked_in
        self.token = token
        self.bot_user = bot_user
        self.application_id = application_id
        self.guilds = {guild.id: guild for guild in guilds}
        self.channels: dict[int, FakeChannel] = {
            channel.id: channel for guild in guilds for channel in guild.channels
        }
        self.snowflake = snowflakes
        self.response_window = response_window
        # The bot's permissions per channel; a channel not listed has BOT_PERMISSIONS.
        self.bot_permissions: dict[int, discord.Permissions] = {}

        self.requests: list[RecordedRequest] = []
        self.events: list[Event] = []
        self.failures: list[str] = []
        self.messages: dict[int, FakeMessage] = {}
        # Direct-message channels by the member they are with, and members whose
        # privacy settings refuse DMs from the bot (Discord answers 50007).
        self.dm_channels: dict[int, FakeChannel] = {}
        self.dm_recipients: dict[int, FakeUser] = {}
        self.closed_dms: set[int] = set()
        # The bytes of every uploaded file, by the attachment id Discord gave it.
        self.uploads: dict[int, bytes] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        # Registered commands per scope: None is global, else the guild id.
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.sync_log: list[tuple[int | None, list[dict[str, Any]]]] = []

        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._previous_base: str | None = None
        self.base_url = ""

    # -- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        if FakeDiscord._active is not None:
            raise RuntimeError("only one fake Discord can run at a time (Route.BASE is global)")
        app = web.Application(middlewares=[self._record])
        self._routes(app.router)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        # Discord accepts a crowd's connections at once; aiohttp's default backlog (128)
        # would drop the SYNs of a burst and delay those members by a 1 s retransmit.
        site = web.TCPSite(self._runner, "127.0.0.1", 0, backlog=LISTEN_BACKLOG)
        await site.start()
        server = site._server
        assert server is not None
        port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}{API_PREFIX}"
        self._previous_base = internals.rest_base_url()
        internals.set_rest_base_url(self.base_url)
        FakeDiscord._active = self

    async def close(self) -> None:
        if self._previous_base is not None:
            internals.set_rest_base_url(self._previous_base)
            self._previous_base = None
        if FakeDiscord._active is self:
            FakeDiscord._active = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- what tests look at --------------------------------------------------------

    def sync_count(self, guild_id: int | None = None) -> int:
        return sum(1 for scope, _ in self.sync_log if scope == guild_id)

    def command_schema(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """The commands as the bot last sent them for a scope, without Discord's ids."""
        for scope, payload in reversed(self.sync_log):
            if scope == guild_id:
                return payload
        return []

    def channel_messages(self, channel_id: int) -> list[FakeMessage]:
        """Messages members see in a channel (no ephemeral, no deleted), oldest first."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and not m.ephemeral and not m.deleted
        ]

    def uploaded(self, message: FakeMessage, filename: str) -> bytes:
        """The bytes of the file ``filename`` attached to ``message`` (as it is now)."""
        current = self.messages.get(message.id, message)
        for attachment in current.attachments:
            if attachment["filename"] == filename:
                return self.uploads[int(attachment["id"])]
        raise AssertionError(f"message {message.id} has no attachment {filename!r}")

    def dm_channel(self, user: FakeUser) -> FakeChannel:
        """The direct-message channel between the bot and ``user`` (opened on first use)."""
        channel = self.dm_channels.get(user.id)
        if channel is None:
            channel = dm_channel(self.snowflake(), user)
            self.dm_channels[user.id] = channel
            self.dm_recipients[channel.id] = user
            self.channels[channel.id] = channel
        return channel

    def close_dms(self, user: FakeUser) -> None:
        """``user`` stops accepting direct messages from the bot."""
        self.closed_dms.add(user.id)

    def set_bot_permissions(self, channel_id: int, permissions: discord.Permissions) -> None:
        """What the bot may do in a channel from now on (its roles and overwrites, resolved)."""
        self.bot_permissions[channel_id] = permissions

    def bot_permissions_in(self, channel_id: int) -> discord.Permissions:
        return self.bot_permissions.get(channel_id, BOT_PERMISSIONS)

    def delete_message(self, message_id: int) -> None:
        """Someone (a moderator) deletes a message: later edits get 10008."""
        self.messages[message_id].deleted = True

    async def wait_for(self, predicate: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def add_interaction(self, interaction: FakeInteraction) -> None:
        self.interactions[interaction.id] = interaction

    # -- plumbing --------------------------------------------------------------------

    def _routes(self, router: web.UrlDispatcher) -> None:
        p = API_PREFIX
        add = router.add_route
        add("GET", f"{p}/users/@me", self._get_me)
        add("GET", f"{p}/oauth2/applications/@me", self._get_application)
        add("POST", f"{p}/users/@me/channels", self._open_dm)
        for scope in ("", "/guilds/{guild_id}"):
            add("GET", f"{p}/applications/{{app_id}}{scope}/commands", self._get_commands)
            add("PUT", f"{p}/applications/{{app_id}}{scope}/commands", self._put_commands)
        add("POST", f"{p}/interactions/{{interaction_id}}/{{token}}/callback", self._callback)
        add("POST", f"{p}/webhooks/{{app_id}}/{{token}}", self._followup)
        hook_message = f"{p}/webhooks/{{app_id}}/{{token}}/messages/{{message_id}}"
        add("GET", hook_message, self._get_hook_message)
        add("PATCH", hook_message, self._edit_hook_message)
        add("DELETE", hook_message, self._delete_hook_message)
        add("GET", f"{p}/channels/{{channel_id}}", self._get_channel)
        add("POST", f"{p}/channels/{{channel_id}}/messages", self._post_channel_message)
        channel_message = f"{p}/channels/{{channel_id}}/messages/{{message_id}}"
        add("GET", channel_message, self._get_channel_message)
        add("PATCH", channel_message, self._edit_channel_message)
        add("DELETE", channel_message, self._delete_channel_message)
        add("*", "/{tail:.*}", self._unknown)

    @web.middleware
    async def _record(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
    ) -> web.StreamResponse:
        sent, body, violations = await self._read_and_check(request)
        request[SENT_BODY] = sent
        request[BODY] = body
        try:
            if violations is None:
                self._check_against_spec(request, sent)
            else:
                refuse(violations)
            response = await handler(request)
            status = response.status
            answer: Any = None
            if isinstance(response, web.Response) and response.body is not None:
                answer = json.loads(response.text)
        except DiscordError as error:
            answer = error.answer()
            status = error.status
            response = _json(answer, status=status)
            self._record_rejection(request, error)
            if isinstance(error, OffSpecBody):
                # The route's template, not its path: that holds interaction tokens.
                route = request.match_info.route.resource
                where = route.canonical if route is not None else "?"
                self.failures.append(
                    f"{request.method} {where} sent a body Discord refuses: "
                    + "; ".join(str(v) for v in error.violations)
                )
        self.requests.append(
            RecordedRequest(
                method=request.method,
                path=request.path.removeprefix(API_PREFIX),
                query=dict(request.query),
                body=body,
                status=status,
                answer=answer,
                interaction_id=request.get(INTERACTION_ID),
            )
        )
        await self.notify()
        return response

    async def _read_and_check(self, request: web.Request) -> tuple[Any, Any, Violations | None]:
        """The body as sent and as the fake reads it; for an upload checked elsewhere, also
        what breaks the schema (else None: :meth:`_check_against_spec` checks it here)."""
        raw = await request.read() if request.can_read_body else None
        content_type = request.headers.get("Content-Type", "")
        key = self._operation_key(request)
        operation = None if key is None else operation_of(request, key)
        if self.uploads_checked_in is None or operation is None or not is_form(content_type):
            sent, body = read_body(content_type, raw)
            return sent, body, None
        return await asyncio.get_running_loop().run_in_executor(
            self.uploads_checked_in, read_and_check, content_type, raw, operation, request.method
        )

    def _check_against_spec(self, request: web.Request, sent: Any) -> None:
        """The body against its operation's request schema in Discord's OpenAPI description."""
        key = self._operation_key(request)
        if key is None:
            return  # an unknown route: _unknown reports it
        operation = operation_of(request, key)
        if operation is None:
            # A route added to the fake without saying which Discord operation it is.
            self.failures.append(f"{key} is not mapped to a Discord operation in the fake")
            raise DiscordError(404, 0, "404: Not Found")
        refuse(discord_spec.check_body(operation, request.method, sent))

    @staticmethod
    def _operation_key(request: web.Request) -> tuple[str, str] | None:
        """(method, route template) of a route the fake serves; None for an unknown route."""
        route = request.match_info.route.resource
        if route is None or route.canonical == "/{tail}":
            return None
        return (request.method, route.canonical.removeprefix(API_PREFIX))

    def _record_rejection(self, request: web.Request, error: DiscordError) -> None:
        interaction_id = request.get(INTERACTION_ID)
        self.events.append(Event("rejected", interaction_id, body=request.get(BODY), error=error))

    def _require_bot_auth(self, request: web.Request) -> None:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(401, 0, "401: Unauthorized")

    def _event(
        self, kind: str, interaction_id: int | None, message_id: int | None, body: Any
    ) -> None:
        self.events.append(Event(kind, interaction_id, message_id, body))

    async def _unknown(self, request: web.Request) -> web.Response:
        self.failures.append(f"{request.method} {request.path} is not a route the fake knows")
        raise DiscordError(404, 0, "404: Not Found")

    # -- login and commands ------------------------------------------------------------

    async def _get_me(self, request: web.Request) -> web.Response:
        self._require_bot_auth(request)
        user = self.bot_user.payload() | {"verified": True, "mfa_enabled": False, "flags": 0}
        return _json(user)

    async def _get_application(self, request: web.Request) -> web.Response:
        self._require_bot_auth(request)
        return _json(
            {
                "id": str(self.application_id),
                "name": self.bot_user.name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": FakeUser(self.application_id + 1, "owner").payload(),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "interactions_endpoint_url": None,
                "redirect_uris": [],
            }
        )

    def _scope(self, request: web.Request) -> int | None:
        self._require_bot_auth(request)
        if int(request.match_info["app_id"]) != self.application_id:
            raise DiscordError(403, 50001, "Missing Access")
        guild_id = request.match_info.get("guild_id")
        if guild_id is None:
            return None
        if int(guild_id) not in self.guilds:
            raise DiscordError(403, 50001, "Missing Access")
        return int(guild_id)

    async def _get_commands(self, request: web.Request) -> web.Response:
        return _json(self.commands.get(self._scope(request), []))

    async def _put_commands(self, request: web.Request) -> web.Response:
        scope = self._scope(request)
        payload = request[BODY]
        if not isinstance(payload, list):
            raise off_spec("", "expected a list of commands")
        refuse(discord_rules.check_commands(payload))
        previous = {c["name"]: c["id"] for c in self.commands.get(scope, [])}
        registered = []
        for command in payload:
            registered.append(
                command
                | {
                    "id": previous.get(command["name"]) or str(self.snowflake()),
                    "application_id": str(self.application_id),
                    "version": str(self.snowflake()),
                    "type": command.get("type", 1),
                }
                | ({"guild_id": str(scope)} if scope is not None else {})
            )
        self.commands[scope] = registered
        self.sync_log.append((scope, payload))
        return _json(registered)

    def registered_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        """A top-level command a member in ``guild_id`` (None: a DM) can use, as Discord does."""
        if guild_id is not None:
            for command in self.commands.get(guild_id, []):
                if command["name"] == name:
                    return command
        for command in self.commands.get(None, []):
            if command["name"] == name:
                return command
        return None

    # -- interactions --------------------------------------------------------------

    def _interaction(self, request: web.Request) -> FakeInteraction:
        interaction = self.interactions.get(int(request.match_info["interaction_id"]))
        if interaction is None or interaction.token != request.match_info["token"]:
            raise unknown_interaction()
        request[INTERACTION_ID] = interaction.id
        return interaction

    async def _callback(self, request: web.Request) -> web.Response:
        interaction = self._interaction(request)
        body = request[BODY]
        if interaction.response_type is not None:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        if self.clock.monotonic() - interaction.started > self.response_window:
            raise unknown_interaction()
        callback_type = body["type"]  # the schema requires it
        if callback_type not in ALLOWED_CALLBACKS[interaction.type]:
            raise off_spec("type", f"{callback_type} cannot answer interaction {interaction.type}")
        data = body.get("data") or {}
        message: FakeMessage | None = None
        if callback_type == CHANNEL_MESSAGE:
            refuse(discord_rules.check_message(data, creating=True, prefix="data"))
            message = self._new_message(interaction, data, flags=data.get("flags") or 0)
        elif callback_type == DEFERRED_CHANNEL_MESSAGE:
            flags = (data.get("flags", 0) & EPHEMERAL) | LOADING
            message = self._new_message(interaction, {}, flags=flags)
        elif callback_type in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            if interaction.message_id is None:
                raise off_spec("type", "this interaction has no message to update")
            interaction.original_id = interaction.message_id
            if callback_type == UPDATE_MESSAGE:
                refuse(discord_rules.check_message(data, creating=False, prefix="data"))
                message = self._live_message(interaction.message_id)
                self._apply_edit(message, data)
        elif callback_type == AUTOCOMPLETE_RESULT:
            refuse(discord_rules.check_choices(data))
        elif callback_type == MODAL:
            refuse(discord_rules.check_modal(data))
        interaction.response_type = callback_type
        interaction.response = body
        self._event("response", interaction.id, message.id if message else None, body)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return web.Response(status=204)

        answer: dict[str, Any] = {
            "interaction": {"id": str(interaction.id), "type": interaction.type},
            "resource": {"type": callback_type},
        }
        if message is not None:
            answer["interaction"] |= {
                "response_message_id": str(message.id),
                "response_message_loading": message.loading,
                "response_message_ephemeral": message.ephemeral,
            }
            answer["resource"]["message"] = message.payload()
        return _json(answer)

    def _new_message(
        self, interaction: FakeInteraction, data: dict[str, Any], *, flags: int
    ) -> FakeMessage:
        assert interaction.channel_id is not None
        message = FakeMessage(
            id=self.snowflake(),
            channel_id=interaction.channel_id,
            guild_id=interaction.guild_id,
            author=self.bot_user,
            created_at=self.clock.now(),
            flags=flags,
            interaction_id=interaction.id,
            application_id=self.application_id,
        )
        self._fill(message, data)
        self.messages[message.id] = message
        if interaction.original_id is None:
            interaction.original_id = message.id
        return message

    def _hook_interaction(self, request: web.Request) -> FakeInteraction:
        if int(request.match_info["app_id"]) != self.application_id:
            raise unknown_webhook()
        token = request.match_info["token"]
        interaction = next((i for i in self.interactions.values() if i.token == token), None)
        if interaction is None or interaction.response_type is None:
            # Before the first response the token is not a webhook yet.
            raise unknown_webhook()
        request[INTERACTION_ID] = interaction.id
        if self.clock.monotonic() - interaction.started > TOKEN_LIFETIME:
            raise DiscordError(401, 50027, "Invalid Webhook Token")
        return interaction

    async def _followup(self, request: web.Request) -> web.Response:
        interaction = self._hook_interaction(request)
        data = request[BODY]
        refuse(discord_rules.check_message(data, creating=True))
        original = self.messages.get(interaction.original_id) if interaction.original_id else None
        if original is not None and original.loading and not original.deleted:
            # The first followup after a defer replaces "thinking...", keeping
            # the visibility chosen when deferring; its own flag is ignored.
            self._apply_edit(original, data, resolve=True)
            message = original
        else:
            message = self._new_message(interaction, data, flags=data.get("flags") or 0)
        interaction.followup_ids.append(message.id)
        self._event("followup", interaction.id, message.id, data)
        if request.query.get("wait") in ("1", "true", "True"):
            return _json(message.payload())
        return web.Response(status=204)

    def _hook_message(self, request: web.Request, interaction: FakeInteraction) -> FakeMessage:
        raw = request.match_info["message_id"]
        message_id = interaction.original_id if raw == "@original" else int(raw)
        if message_id is None:
            raise unknown_message()
        belongs = message_id == interaction.original_id or message_id in interaction.followup_ids
        if not belongs:
            raise unknown_message()
        return self._live_message(message_id)

    async def _get_hook_message(self, request: web.Request) -> web.Response:
        interaction = self._hook_interaction(request)
        return _json(self._hook_message(request, interaction).payload())

    async def _edit_hook_message(self, request: web.Request) -> web.Response:
        interaction = self._hook_interaction(request)
        message = self._hook_message(request, interaction)
        data = request[BODY]
        refuse(discord_rules.check_message(data, creating=False))
        self._apply_edit(message, data, resolve=True)
        self._event("edit", interaction.id, message.id, data)
        return _json(message.payload())

    async def _delete_hook_message(self, request: web.Request) -> web.Response:
        interaction = self._hook_interaction(request)
        message = self._hook_message(request, interaction)
        message.deleted = True
        self._event("delete", interaction.id, message.id, None)
        return web.Response(status=204)

    # -- channels ------------------------------------------------------------------

    def _channel(self, request: web.Request) -> FakeChannel:
        """The channel of a channel route, which the bot must be able to see."""
        self._require_bot_auth(request)
        channel = self.channels.get(int(request.match_info["channel_id"]))
        if channel is None:
            raise DiscordError(404, 10003, "Unknown Channel")
        if not self.bot_permissions_in(channel.id).view_channel:
            raise missing_access()
        return channel

    def _shown(self, channel: FakeChannel, data: dict[str, Any]) -> dict[str, Any]:
        """What Discord keeps of a message the bot sends or edits in a channel.

        Without Embed Links, Discord drops the embeds and keeps the rest, which
        may leave nothing to send; files need Attach Files.
        """
        permissions = self.bot_permissions_in(channel.id)
        if data.get("attachments") and not permissions.attach_files:
            raise missing_permissions()
        if data.get("embeds") and not permissions.embed_links:
            return {key: value for key, value in data.items() if key != "embeds"}
        return data

    def _live_message(self, message_id: int) -> FakeMessage:
        message = self.messages.get(message_id)
        if message is None or message.deleted:
            raise unknown_message()
        return message

    def _channel_message(self, request: web.Request) -> FakeMessage:
        channel = self._channel(request)
        if request.method == "GET" and not self.bot_permissions_in(channel.id).read_message_history:
            raise missing_access()
        message = self._live_message(int(request.match_info["message_id"]))
        if message.channel_id != channel.id or message.ephemeral:
            raise unknown_message()
        return message

    async def _get_channel(self, request: web.Request) -> web.Response:
        return _json(self._channel(request).payload())

    async def _open_dm(self, request: web.Request) -> web.Response:
        self._require_bot_auth(request)
        body = request[BODY]
        user_id = int(body["recipient_id"])  # the schema requires it
        known = self.dm_channels.get(user_id)
        user = self.dm_recipients[known.id] if known is not None else FakeUser(user_id, "member")
        channel = self.dm_channel(user)
        return _json(channel.payload() | {"recipients": [user.payload()]})

    async def _post_channel_message(self, request: web.Request) -> web.Response:
        channel = self._channel(request)
        recipient = self.dm_recipients.get(channel.id)
        if recipient is not None and recipient.id in self.closed_dms:
            raise DiscordError(403, 50007, "Cannot send messages to this user")
        data = request[BODY]
        refuse(discord_rules.check_message(data, creating=True))
        if not self.bot_permissions_in(channel.id).send_messages:
            raise missing_permissions()
        data = self._shown(channel, data)
        if not (data.get("content") or data.get("embeds") or data.get("components")):
            # Only embeds, and no Embed Links: Discord has nothing left to send.
            raise DiscordError(400, 50006, "Cannot send an empty message")
        message = FakeMessage(
            id=self.snowflake(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot_user,
            created_at=self.clock.now(),
            flags=(data.get("flags") or 0) & ~EPHEMERAL,
        )
        self._fill(message, data)
        reference = data.get("message_reference") or {}
        if reference.get("message_id") is not None:
            message.reference_id = int(reference["message_id"])
        self.messages[message.id] = message
        self._event("channel_message", None, message.id, data)
        return _json(message.payload())

    async def _get_channel_message(self, request: web.Request) -> web.Response:
        return _json(self._channel_message(request).payload())

    async def _edit_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        if message.author.id != self.bot_user.id:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        data = request[BODY]
        refuse(discord_rules.check_message(data, creating=False))
        data = self._shown(self.channels[message.channel_id], data)
        self._apply_edit(message, data)
        self._event("channel_edit", None, message.id, data)
        return _json(message.payload())

    async def _delete_channel_message(self, request: web.Request) -> web.Response:
        message = self._channel_message(request)
        message.deleted = True
        self._event("channel_delete", None, message.id, None)
        return web.Response(status=204)

    # -- message content -------------------------------------------------------------

    def _fill(self, message: FakeMessage, data: dict[str, Any]) -> None:
        message.content = data.get("content") or ""
        message.embeds = list(data.get("embeds") or [])
        message.components = list(data.get("components") or [])
        message.attachments = self._attachments(message, data.get("attachments") or [])

    def _attachments(
        self, message: FakeMessage, sent: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Discord's attachment objects: an upload becomes one, a kept one stays as it was."""
        kept = {str(a["id"]): a for a in message.attachments}
        attachments = []
        for attachment in sent:
            if str(attachment.get("id")) in kept and "size" not in attachment:
                attachments.append(kept[str(attachment["id"])])
                continue
            attachment_id = self.snowflake()
            if UPLOAD_KEY in attachment:
                self.uploads[attachment_id] = attachment[UPLOAD_KEY]
            filename = attachment.get("filename") or "file"
            url = f"https://cdn.discordapp.com/attachments/{message.channel_id}/{attachment_id}/{filename}"
            attachments.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "size": attachment.get("size", 0),
                    "url": url,
                    "proxy_url": url,
                }
            )
        return attachments

    def _apply_edit(
        self, message: FakeMessage, data: dict[str, Any], *, resolve: bool = False
    ) -> None:
        message.history.append(message.payload())
        if "content" in data:
            message.content = data["content"] or ""
        if "embeds" in data:
            message.embeds = list(data["embeds"] or [])
        if "components" in data:
            message.components = list(data["components"] or [])
        if "attachments" in data:
            message.attachments = self._attachments(message, data["attachments"] or [])
        if resolve:
            message.flags &= ~LOADING
        message.edited_at = self.clock.now()


def operation_of(request: web.Request, key: tuple[str, str]) -> str | None:
    """The OpenAPI path of the Discord operation the route ``key`` is; None if unmapped."""
    operation = SPEC_OPERATIONS.get(key) or BODILESS_OPERATIONS.get(key)
    if operation is not None and request.match_info.get("message_id") == "@original":
        operation = operation.replace("{message_id}", "@original")
    return operation


def is_form(content_type: str) -> bool:
    return content_type.lower().startswith("multipart/")


def read_body(content_type: str, raw: bytes | None) -> tuple[Any, Any]:
    """The body as sent (for the schema) and as the fake reads it (files as attachments)."""
    if not raw:
        return None, None
    if is_form(content_type):
        return read_form(content_type, raw)
    body = json.loads(raw)
    return body, body


def read_form(content_type: str, raw: bytes) -> tuple[Any, dict[str, Any]]:
    """A multipart body: its payload_json part, and that with the files as attachments."""
    form = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in form.iter_parts() if form.is_multipart() else ():
        name = part.get_param("name", header="content-disposition")
        content = part.get_payload(decode=True)
        if isinstance(name, str):
            parts[name] = (part.get_filename(), content if isinstance(content, bytes) else b"")
    payload = parts.pop("payload_json", None)
    sent: Any = json.loads(payload[1]) if payload is not None else {}
    data: dict[str, Any] = dict(sent) if isinstance(sent, dict) else {}
    described = data.get("attachments") or [
        {"id": index, "filename": filename or name}
        for index, (name, (filename, _)) in enumerate(parts.items())
    ]
    attachments = []
    for attachment in described:
        upload = parts.get(f"files[{attachment.get('id')}]")
        if upload is not None and upload[0] is not None:
            attachments.append(attachment | {"size": len(upload[1]), UPLOAD_KEY: upload[1]})
        else:
            attachments.append(attachment)
    data["attachments"] = attachments
    return sent, data


def read_and_check(
    content_type: str, raw: bytes | None, operation: str, method: str
) -> tuple[Any, Any, Violations]:
    """:func:`read_body` and the schema check, for a worker process."""
    sent, body = read_body(content_type, raw)
    return sent, body, discord_spec.check_body(operation, method, sent)


def dm_channel(channel_id: int, user: FakeUser) -> FakeChannel:
    return FakeChannel(id=channel_id, name=user.name, guild_id=None, type=DM)
