"""A test-only cog that exercises every interaction kind through the harness.

Add it with ``make_harness(prepare=add_probe)``: it then takes part in the
bot's command sync like any real cog.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.app import ChastityBot
from bot.error_messages import UserError
from bot.interactions.errors import handle_interaction_error
from bot.interactions.replies import defer, reply, reply_private

FRUITS = ("apple", "apricot", "banana", "cherry", "grape", "lemon", "mango", "pear")


class CounterButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"probe:count:(?P<n>\d+)"
):
    """A button that keeps its state in its custom_id, so it survives restarts."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            discord.ui.Button(label=f"Count {count}", custom_id=f"probe:count:{count}")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str]
    ) -> CounterButton:
        return cls(int(match["n"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        view = discord.ui.View(timeout=None)
        view.add_item(CounterButton(self.count + 1))
        await interaction.response.edit_message(content=f"count={self.count + 1}", view=view)


class ConfirmView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.button(label="Confirm", custom_id="probe:confirm", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]
    ) -> None:
        await reply_private(interaction, f"confirmed by {interaction.user.name}")

    @discord.ui.button(label="Fail", custom_id="probe:fail")
    async def fail(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        raise UserError("That button refuses politely.")

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        await handle_interaction_error(interaction, error)


class PanelView(discord.ui.View):
    """A persistent view: fixed custom_ids, no timeout, registered at start."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Ping", custom_id="probe:panel:ping")
    async def ping(self, interaction: discord.Interaction[Any], _: discord.ui.Button[Any]) -> None:
        await reply_private(interaction, "pong")


class NameForm(discord.ui.Modal, title="Tell me"):
    name: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Name", custom_id="probe:name")
    secret = discord.ui.Label(
        text="Token",
        component=discord.ui.TextInput(custom_id="probe:token", required=False),
    )

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        token = self.secret.component
        assert isinstance(token, discord.ui.TextInput)
        await reply_private(interaction, f"hello {self.name.value} ({len(token.value)} chars)")


class Probe(commands.GroupCog, group_name="probe", group_description="Harness probes"):
    dynamic_items = (CounterButton,)

    def __init__(self, bot: ChastityBot) -> None:
        self.bot = bot
        self.release = asyncio.Event()
        super().__init__()

    def persistent_views(self) -> list[discord.ui.View]:
        return [PanelView()]

    @app_commands.command(description="Post a panel in a channel")
    async def panel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        await channel.send("panel", view=PanelView())
        await reply_private(interaction, f"posted in {channel.mention}")

    @app_commands.command(description="Echo the options back")
    async def echo(
        self,
        interaction: discord.Interaction[Any],
        text: str,
        times: app_commands.Range[int, 1, 3] = 1,
        loud: bool = False,
        who: discord.Member | None = None,
        where: discord.TextChannel | None = None,
    ) -> None:
        said = " ".join([text.upper() if loud else text] * times)
        extra = "".join(
            [f" who={who.name}" if who else "", f" where={where.name}" if where else ""]
        )
        await reply(interaction, f"{said}{extra}", private=False)

    @app_commands.command(description="Pick a fruit")
    async def pick(self, interaction: discord.Interaction[Any], fruit: str) -> None:
        await reply_private(interaction, f"you picked {fruit}")

    @pick.autocomplete("fruit")
    async def pick_fruit(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f, value=f) for f in FRUITS if f.startswith(current)]

    @app_commands.command(description="Post buttons")
    async def buttons(self, interaction: discord.Interaction[Any]) -> None:
        view = ConfirmView()
        view.add_item(CounterButton(0))
        await reply(interaction, "press a button", private=False, view=view)

    @app_commands.command(description="Open a form")
    async def form(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_modal(NameForm())

    @app_commands.command(description="Answer only when released")
    async def slow(self, interaction: discord.Interaction[Any]) -> None:
        await self.release.wait()
        await reply_private(interaction, "finally")

    @app_commands.command(description="Defer, then fail")
    @app_commands.describe(private="Defer privately")
    async def deferfail(self, interaction: discord.Interaction[Any], private: bool = False) -> None:
        await defer(interaction, private=private)
        raise UserError("That did not work, and only you see this.")

    @app_commands.command(description="Defer, then answer")
    async def deferok(self, interaction: discord.Interaction[Any], private: bool = False) -> None:
        await defer(interaction, private=private)
        await reply(interaction, "done", private=private)

    @app_commands.command(description="Defer publicly, then follow up with ephemeral=True")
    async def leak(self, interaction: discord.Interaction[Any]) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("meant to be private", ephemeral=True)

    @app_commands.command(description="Break")
    async def boom(self, interaction: discord.Interaction[Any]) -> None:
        raise RuntimeError("probe exploded")

    @app_commands.command(description="Admins only")
    @app_commands.guild_only()
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin(self, interaction: discord.Interaction[Any]) -> None:
        await reply_private(interaction, "hello admin")


async def add_probe(bot: ChastityBot) -> None:
    await bot.add_cog(Probe(bot))
