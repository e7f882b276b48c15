"""What the crowd does in each scenario, for the project bot and for the baseline.

A scenario says what Chastity Tracker holds (users, sessions), which members are
connected, what is set up through the bot before the clock starts (locks,
panels, polls, open connect forms), and the N interactions of the burst itself.
Set-up is never measured.
"""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bench import baseline_bot
from bench.driver import BenchHarness
from tests.harness import FakeMember, FakeMessage, InteractionResult
from tests.harness.fake_discord import APPLICATION_COMMAND, MODAL_SUBMIT
from tests.harness.payloads import modal_submit_data

PROJECT, BASELINE = "project", "baseline"
BOTS = (PROJECT, BASELINE)
CONNECT_TOKEN_FIELD = "account:connect:token"
CHOICES = ("add", "sub", "rand")
CHOICE_LABELS = {"add": "Add time", "sub": "Remove time", "rand": "Random"}
SETUP_CONCURRENCY = 25
LOCK_NAME = "cage"

Action = Callable[[], Awaitable[InteractionResult]]
"""Feeds one interaction of the burst; never waits for the bot (it awaits nothing that blocks)."""


def _token(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))


@dataclass
class World:
    """Chastity Tracker's users and sessions, and which member holds which account."""

    users: list[dict[str, str]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    # member index -> user index, stored as connected accounts before the bot starts
    accounts: dict[int, int] = field(default_factory=dict)

    def add_user(self, rng: random.Random, nick: str) -> int:
        self.users.append({"nick": nick, "token": _token(rng, 40)})
        return len(self.users) - 1

    def spec(self) -> dict[str, Any]:
        return {"users": self.users, "sessions": self.sessions}


@dataclass
class Run:
    """One bot's run of one scenario: who is who, and what set-up left behind."""

    bot: str
    n: int
    world: World
    sessions: list[int]  # session ids, in World.sessions order
    harness: BenchHarness
    members: list[FakeMember]
    message: FakeMessage | None = None  # the panel or poll members click
    forms: list[InteractionResult] = field(default_factory=list)  # open connect forms


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    sizes: tuple[int, ...]  # the N values the full run uses
    build_world: Callable[[int], World]
    setup: Callable[[Run], Awaitable[None]]
    actions: Callable[[Run], list[Action]]
    spread: float = 0.0  # seconds the burst is spread over (0: all at once)

    def baseline_tokens(self, world: World) -> dict[str, str]:
        """The baseline's fixed tokens: the first user's bearer, the first lock's link token."""
        game = world.users[0]["token"] if world.users else ""
        link = next((s["link_token"] for s in world.sessions if s.get("link_token")), "")
        return {"game_token": game, "lock_token": link}


# -- shared steps ----------------------------------------------------------------------


async def gather_limited(jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run set-up steps a few at a time: set-up is not what is measured."""
    limit = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with limit:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def register_lock(run: Run, name: str, token: str) -> None:
    harness = run.harness
    options = {"name": name, "token": token, "allow_anonymous": True}
    answer = await (await harness.run("locks add", options, by=harness.admin)).wait_for_message()
    if not answer.text().startswith("Registered"):
        raise RuntimeError(f"/locks add {name} answered: {answer.text()}")


def bot_message(run: Run, channel_id: int, components: list[dict[str, Any]]) -> FakeMessage:
    """A message with buttons, as if the bot had posted it (the baseline posts nothing)."""
    fake = run.harness.fake
    message = FakeMessage(
        id=run.harness.snowflake(),
        channel_id=channel_id,
        guild_id=run.harness.guild.id,
        author=fake.bot_user,
        created_at=run.harness.clock.now(),
        content="Vote",
        components=components,
    )
    fake.messages[message.id] = message
    return message


def click_actions(run: Run, prefix: str) -> list[Action]:
    assert run.message is not None
    message, harness = run.message, run.harness
    return [
        lambda m=member, c=f"{prefix}{choice}": harness.click(
            message, custom_id=c, by=m, wait=False
        )
        for member, choice in zip(run.members, _cycle(len(run.members)), strict=True)
    ]


def _cycle(count: int) -> list[str]:
    """add, sub, rand, add, ... for ``count`` members."""
    return [CHOICES[i % len(CHOICES)] for i in range(count)]


def _command(run: Run, command: str, options: dict[str, Any], member: FakeMember) -> Action:
    harness = run.harness
    data = harness._command_data(command, options, focused=None, guild=harness.guild)

    async def feed() -> InteractionResult:
        return harness.feed(
            APPLICATION_COMMAND, data, actor=member, channel=harness.channel, guild=harness.guild
        )

    return feed


# -- /dice -----------------------------------------------------------------------------


def dice_world(n: int) -> World:
    rng = random.Random(f"dice-{n}")
    world = World()
    for i in range(n):
        user = world.add_user(rng, f"wearer{i}")
        world.sessions.append({"owner": user, "dice": True})
        world.accounts[i] = user
    return world


async def no_setup(run: Run) -> None:
    return None


def dice_actions(run: Run) -> list[Action]:
    # Each member rolls on their own session; the baseline's fixed token owns session 0.
    return [
        _command(run, "dice", {"session": run.sessions[i if run.bot == PROJECT else 0]}, member)
        for i, member in enumerate(run.members)
    ]


# -- /account connect --------------------------------------------------------------------


def connect_world(n: int) -> World:
    rng = random.Random(f"connect-{n}")
    world = World()
    for i in range(n):
        world.add_user(rng, f"member{i}")
    return world


async def open_forms(run: Run) -> None:
    if run.bot == BASELINE:
        return  # the baseline's form is fixed: nothing to open per member
    harness = run.harness

    async def open_form(member: FakeMember) -> InteractionResult:
        opened = await harness.run("account connect", by=member)
        if opened.response is None or opened.response.modal is None:
            raise RuntimeError(f"/account connect answered {opened.response}")
        return opened

    run.forms = await gather_limited([lambda m=m: open_form(m) for m in run.members])


def connect_actions(run: Run) -> list[Action]:
    harness = run.harness
    actions: list[Action] = []
    for i, member in enumerate(run.members):
        token = run.world.users[i]["token"]
        if run.bot == PROJECT:
            form = run.forms[i]
            assert form.response is not None
            assert form.response.modal is not None
            data = modal_submit_data(form.response.modal, {CONNECT_TOKEN_FIELD: token})
        else:
            data = modal_submit_data(
                baseline_bot.CONNECT_FORM, {baseline_bot.TOKEN_INPUT_ID: token}
            )
        actions.append(_modal_submit(harness, data, member))
    return actions


def _modal_submit(harness: BenchHarness, data: dict[str, Any], member: FakeMember) -> Action:
    async def feed() -> InteractionResult:
        return harness.feed(
            MODAL_SUBMIT, data, actor=member, channel=harness.channel, guild=harness.guild
        )

    return feed


# -- panel clicks ------------------------------------------------------------------------


def lock_world(n: int, *, logged_every: int) -> World:
    """A wearer whose LINK lock is public; every ``logged_every``-th member is connected."""
    rng = random.Random(f"lock-{n}")
    world = World()
    wearer = world.add_user(rng, "wearer")
    world.sessions.append({"owner": wearer, "link_token": _token(rng, 32)})
    for i in range(n):
        if logged_every and i % logged_every == 0:
            world.accounts[i] = world.add_user(rng, f"voter{i}")
    return world


def panel_world(n: int) -> World:
    return lock_world(n, logged_every=2)  # half logged, half anonymous


async def post_panel(run: Run) -> None:
    harness = run.harness
    if run.bot == BASELINE:
        run.message = bot_message(
            run, harness.other_channel.id, baseline_bot.voting_buttons(baseline_bot.PANEL_PREFIX)
        )
        return
    await register_lock(run, LOCK_NAME, run.world.sessions[0]["link_token"])
    options = {"name": LOCK_NAME, "channel": harness.other_channel}
    await (await harness.run("locks panel", options, by=harness.admin)).wait_for_message()
    (run.message,) = harness.channel_messages(harness.other_channel)


def panel_actions(run: Run) -> list[Action]:
    prefix = "panel:" if run.bot == PROJECT else baseline_bot.PANEL_PREFIX
    if run.bot == PROJECT:
        assert run.message is not None
        panel_id = run.message.buttons()[0]["custom_id"].split(":")[1]
        prefix = f"panel:{panel_id}:"
    return click_actions(run, prefix)


# -- poll choices ------------------------------------------------------------------------


def poll_world(n: int) -> World:
    return lock_world(n, logged_every=0)


async def start_poll(run: Run) -> None:
    harness = run.harness
    if run.bot == BASELINE:
        run.message = bot_message(
            run, harness.channel.id, baseline_bot.voting_buttons(baseline_bot.POLL_PREFIX)
        )
        return
    await register_lock(run, LOCK_NAME, run.world.sessions[0]["link_token"])
    options = {"name": LOCK_NAME, "minutes": 30}
    await (await harness.run("locks poll", options, by=harness.admin)).wait_for_message()
    (run.message,) = harness.channel_messages(harness.channel)


def poll_actions(run: Run) -> list[Action]:
    prefix = baseline_bot.POLL_PREFIX
    if run.bot == PROJECT:
        assert run.message is not None
        poll_id = run.message.buttons()[0]["custom_id"].split(":")[1]
        prefix = f"poll:{poll_id}:"
    return click_actions(run, prefix)


# -- autocomplete ------------------------------------------------------------------------


def autocomplete_world(n: int) -> World:
    rng = random.Random(f"autocomplete-{n}")
    world = World()
    for name in baseline_bot.LOCK_NAMES:
        wearer = world.add_user(rng, f"wearer-{name}")
        world.sessions.append({"owner": wearer, "link_token": _token(rng, 32)})
    return world


async def register_locks(run: Run) -> None:
    if run.bot == BASELINE:
        return  # the baseline answers from a fixed list
    for name, session in zip(baseline_bot.LOCK_NAMES, run.world.sessions, strict=True):
        await register_lock(run, name, session["link_token"])


def autocomplete_actions(run: Run) -> list[Action]:
    harness = run.harness

    def typing(member: FakeMember) -> Action:
        async def feed() -> InteractionResult:
            return harness.autocomplete_nowait(
                "link vote", {"lock": "ca"}, focused="lock", by=member
            )

        return feed

    return [typing(member) for member in run.members]


SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "dice",
            "members bursting /dice",
            (300, 1000),
            dice_world,
            no_setup,
            dice_actions,
        ),
        Scenario(
            "connect",
            "members submitting the connect form at once",
            (1000,),
            connect_world,
            open_forms,
            connect_actions,
        ),
        Scenario(
            "panel",
            "clicks on one panel, half logged, half anonymous",
            (300,),
            panel_world,
            post_panel,
            panel_actions,
        ),
        Scenario(
            "poll",
            "members choosing in one poll within 2 s",
            (300,),
            poll_world,
            start_poll,
            poll_actions,
            spread=2.0,
        ),
        Scenario(
            "autocomplete",
            "members typing a lock name in /link vote",
            (1000,),
            autocomplete_world,
            register_locks,
            autocomplete_actions,
        ),
    )
}
