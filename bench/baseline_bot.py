"""The bare discord.py bot the crowd bench compares the project bot with.

It does the least a correct bot can do for each scenario, and nothing else:
no database, no encryption, no flood control, no ledger, plain embeds.

- ``/dice session``: defer, one POST to games.php with a fixed bearer token
  through one pooled ``httpx.AsyncClient`` (20 connections, kept open,
  at most 20 requests in it at once), one followup;
- connect form submit: defer, one GET stats.php with the submitted token, one followup;
- panel button: defer (ephemeral), one anonymous LINK vote, one followup;
- poll button: answer at once with an ephemeral message (the choice is kept in memory);
- ``/link vote`` ``lock`` autocomplete: names from a fixed list.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
import httpx
from discord import app_commands

log = logging.getLogger("baseline")

GAMES_PATH = "/api/v2/games.php"
STATS_PATH = "/api/v2/stats.php"
CONNECT_FORM_ID = "baseline:connect"
TOKEN_INPUT_ID = "baseline:connect:token"
PANEL_PREFIX = "bpanel:"
POLL_PREFIX = "bpoll:"
LOCK_NAMES = ("cage", "cabin", "castle", "belt", "tube")
CHOICES = ("add", "sub", "rand")
# As many connections as the project bot's client opens (bot.ctapi.client.MAX_CONNECTIONS),
# all kept between requests: httpx's default opens up to 100 but keeps only 20, and
# httpcore then closes an idle connection whenever more than 20 exist, so a burst
# would reconnect over and over. httpcore's pool bookkeeping costs grow with the
# square of its connections, so more is not free either.
POOL_SIZE = 20
POOL = httpx.Limits(max_connections=POOL_SIZE, max_keepalive_connections=POOL_SIZE)

CONNECT_FORM: dict[str, Any] = {
    "custom_id": CONNECT_FORM_ID,
    "title": "Connect Chastity Tracker",
    "components": [
        {
            "type": 1,
            "components": [
                {
                    "type": 4,
                    "custom_id": TOKEN_INPUT_ID,
                    "label": "API token",
                    "style": 1,
                    "min_length": 8,
                    "max_length": 200,
                    "required": True,
                }
            ],
        }
    ],
}
"""The connect form as Discord holds it: what a member's submit answers."""


def voting_buttons(prefix: str) -> list[dict[str, Any]]:
    """One action row with the three voting buttons, ``<prefix><choice>`` as custom ids."""
    return [
        {
            "type": 1,
            "components": [
                {"type": 2, "style": 1, "label": choice, "custom_id": f"{prefix}{choice}"}
                for choice in CHOICES
            ],
        }
    ]


def _summary(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"Chastity Tracker answered {answer.status_code}."
    if isinstance(body, dict) and body.get("ok"):
        data = body.get("data") or {}
        return f"{data.get('operation', 'done')} {data.get('seconds', '')} s".strip()
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return str(message or f"Chastity Tracker answered {answer.status_code}.")


class BaselineBot(discord.Client):
    def __init__(self, ct_base_url: str, game_token: str, lock_token: str) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(intents=intents, allowed_mentions=discord.AllowedMentions.none())
        self.tree = app_commands.CommandTree(self)
        self._ct_base_url = ct_base_url
        self._game_headers = {"Authorization": f"Bearer {game_token}"}
        self._lock_token = lock_token
        self._ct: httpx.AsyncClient | None = None
        # httpcore re-scans every request queued in its pool against every connection
        # each time one is taken or given back: quadratic in a burst of hundreds.
        # Requests wait here instead, so the pool never holds a queue.
        self._slots = asyncio.Semaphore(POOL_SIZE)
        self.poll_choices: dict[int, str] = {}
        self._add_commands()

    @property
    def ct(self) -> httpx.AsyncClient:
        if self._ct is None:
            raise RuntimeError("not logged in")
        return self._ct

    async def setup_hook(self) -> None:
        self._ct = httpx.AsyncClient(base_url=self._ct_base_url, timeout=10.0, limits=POOL)
        await self.tree.sync()

    async def close(self) -> None:
        if self._ct is not None:
            await self._ct.aclose()
        await super().close()

    def _add_commands(self) -> None:
        @self.tree.command(name="dice", description="Roll DICE on a session")
        async def dice(interaction: discord.Interaction[Any], session: int) -> None:
            await interaction.response.defer(thinking=True)
            async with self._slots:
                answer = await self.ct.post(
                    GAMES_PATH,
                    json={"game": "dice", "dom": 0, "session": session},
                    headers=self._game_headers,
                )
            await interaction.followup.send(
                embed=discord.Embed(title="DICE", description=_summary(answer))
            )

        link = app_commands.Group(name="link", description="LINK votes")

        @link.command(name="vote", description="Vote on a lock")
        @app_commands.choices(
            choice=[app_commands.Choice(name=choice, value=choice) for choice in CHOICES]
        )
        async def vote(
            interaction: discord.Interaction[Any], choice: app_commands.Choice[str], lock: str
        ) -> None:
            await self._vote(interaction, choice.value)

        @vote.autocomplete("lock")
        async def lock_names(
            interaction: discord.Interaction[Any], current: str
        ) -> list[app_commands.Choice[str]]:
            return [
                app_commands.Choice(name=name, value=name)
                for name in LOCK_NAMES
                if name.startswith(current.lower())
            ]

        self.tree.add_command(link)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if interaction.type is discord.InteractionType.component:
            if custom_id.startswith(PANEL_PREFIX):
                await self._vote(interaction, custom_id.removeprefix(PANEL_PREFIX))
            elif custom_id.startswith(POLL_PREFIX):
                choice = custom_id.removeprefix(POLL_PREFIX)
                self.poll_choices[interaction.user.id] = choice
                await interaction.response.send_message(f"Your choice: {choice}", ephemeral=True)
        elif (
            interaction.type is discord.InteractionType.modal_submit
            and custom_id == CONNECT_FORM_ID
        ):
            await self._connect(interaction, _submitted(data, TOKEN_INPUT_ID))

    async def _vote(self, interaction: discord.Interaction[Any], choice: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        vote = {"game": "link", "dom": 0, "token": self._lock_token, "type": choice}
        async with self._slots:
            answer = await self.ct.post(GAMES_PATH, json=vote)
        await interaction.followup.send(
            embed=discord.Embed(title="LINK", description=_summary(answer)), ephemeral=True
        )

    async def _connect(self, interaction: discord.Interaction[Any], token: str) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._slots:
            answer = await self.ct.get(
                STATS_PATH, headers={"Authorization": f"Bearer {token.strip()}"}
            )
        if answer.status_code == 200:
            nick = (answer.json().get("data") or {}).get("nick", "?")
            text = f"Connected as {discord.utils.escape_markdown(str(nick))}."
        else:
            text = "Chastity Tracker refused that token."
        await interaction.followup.send(text, ephemeral=True)


def _submitted(data: dict[str, Any], custom_id: str) -> str:
    """The value of one text input in a modal submit's components."""
    stack: list[Any] = list(data.get("components") or [])
    while stack:
        component = stack.pop()
        if component.get("custom_id") == custom_id:
            return str(component.get("value", ""))
        stack.extend(component.get("components") or [])
        if "component" in component:
            stack.append(component["component"])
    return ""
