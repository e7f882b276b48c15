"""Suggestions for `session`: active sessions and recent ones, in time even when the API is slow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from cryptography.fernet import Fernet

from bot.accounts import AccountService
from bot.ctapi import ChastityTrackerClient, SessionInfo
from bot.secrets import Secret
from bot.session_choices import (
    DEFAULT_BUDGET,
    SessionChoice,
    SessionChoices,
    build_choices,
    session_label,
)
from bot.storage import Storage
from bot.vault import Vault
from tests.fake_time import FakeSleep
from tests.fakes.ct_api import SESSIONS_PATH, FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.games_support import add_session, players
from tests.harness import Harness


def info(session_id: int, **fields: object) -> SessionInfo:
    data: dict[str, object] = {"id": session_id, "active": 1} | fields
    return SessionInfo.parse(data)


# -- choices from what is known -----------------------------------------------------


def test_active_sessions_come_first_then_recent_ones_without_repeats() -> None:
    choices = build_choices(
        [info(101, scheduledend="2026-02-03 09:00:00", lockedby="Keyholder"), info(102)],
        [102, 77, 101, 55],
        "",
    )

    assert choices == [
        SessionChoice("#101 · active · ends 2026-02-03 09:00 · locked by Keyholder", 101),
        SessionChoice("#102 · active", 102),
        SessionChoice("#77 · played recently through the bot", 77),
        SessionChoice("#55 · played recently through the bot", 55),
    ]


def test_typing_filters_and_a_typed_number_is_offered_too() -> None:
    choices = build_choices([info(101), info(202)], [110, 9], "10")

    assert [c.value for c in choices] == [10, 101, 110]
    assert choices[0].name == "#10"
    assert [c.value for c in build_choices([info(101)], [], "#101")] == [101]
    assert build_choices([info(101)], [], "abc") == []


def test_at_most_25_choices_with_labels_discord_accepts() -> None:
    long_nick = "n" * 300
    choices = build_choices(
        [info(i, lockedby=long_nick) for i in range(1, 20)], list(range(100, 130)), ""
    )

    assert len(choices) == 25  # Discord's limit for one autocomplete answer
    assert all(1 <= len(c.name) <= 100 for c in choices)  # Discord's limit for a name
    assert session_label(info(1, lockedby=long_nick)).endswith("…")


# -- through the bot --------------------------------------------------------------


async def test_autocomplete_suggests_active_and_recently_played_sessions(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ended = add_session(ct_fake, world.wearer, active=False)
    await harness.storage.ledger.start(
        harness.member.id, None, "dice", False, ended.id, None, None, True, harness.clock.now()
    )

    choices = await harness.autocomplete("dice", {"session": ""}, focused="session")

    assert [c["value"] for c in choices] == [world.session.id, ended.id]
    assert choices[0]["name"].startswith(f"#{world.session.id} · active · ends ")
    assert choices[1]["name"] == f"#{ended.id} · played recently through the bot"
    [listing] = ct_fake.requests_to(SESSIONS_PATH)
    assert listing.query["active"] == "1"
    assert listing.bearer == world.wearer.token


async def test_autocomplete_is_cached_per_member(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)

    first = await harness.autocomplete("dice", {"session": ""}, focused="session")
    second = await harness.autocomplete("luck", {"session": "1"}, focused="session")
    dom_view = await harness.autocomplete(
        "link play", {"session": ""}, focused="session", by=world.dom_member
    )

    assert [c["value"] for c in first] == [world.session.id]
    assert [c["value"] for c in second][-1] == world.session.id
    assert dom_view == []  # the dom owns no session and has played none yet
    assert [r.bearer for r in ct_fake.requests_to(SESSIONS_PATH)] == [
        world.wearer.token,
        world.dom.token,
    ]


async def test_a_play_refreshes_the_suggestions(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    before = await harness.autocomplete("dice", {"session": ""}, focused="session")
    await (await harness.run("dice", {"session": world.session.id})).wait_for_message()

    after = await harness.autocomplete("dice", {"session": ""}, focused="session")

    assert len(ct_fake.requests_to(SESSIONS_PATH)) == 2
    end = ct_fake.session(world.session.id).scheduled_end
    assert end is not None
    assert end.strftime("%Y-%m-%d %H:%M") in after[0]["name"]
    assert before[0]["value"] == after[0]["value"]


async def test_a_slow_api_falls_back_to_recent_sessions_in_time(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    sleep = FakeSleep()
    harness = await make_harness(sleep=sleep)
    world = await players(harness, ct_fake)
    await harness.storage.ledger.start(
        harness.member.id, None, "luck", False, 4242, None, None, True, harness.clock.now()
    )
    ct_fake.inject(Fault.delay(2.0), path=SESSIONS_PATH)

    asking = asyncio.create_task(harness.autocomplete("dice", {"session": ""}, focused="session"))
    # It waits for Chastity Tracker within its budget, well inside Discord's 3 seconds...
    await sleep.sleeping(DEFAULT_BUDGET)
    assert not asking.done()
    sleep.release()  # ...and when the budget is spent, it answers with what it knows.
    choices = await asking

    assert [c["value"] for c in choices] == [4242]

    # The refresh went on in the background: its answer serves the next keystroke.
    await ct_fake.wait_idle()
    later = await harness.autocomplete("dice", {"session": ""}, focused="session")
    assert [c["value"] for c in later] == [world.session.id, 4242]
    assert len(ct_fake.requests_to(SESSIONS_PATH)) == 1


async def test_failing_api_or_no_account_still_suggests_what_is_known(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ct_fake.inject(Fault.status(500), path=SESSIONS_PATH, times=None)

    failing = await harness.autocomplete("dice", {"session": "12"}, focused="session")
    stranger = harness.new_member("stranger")
    unconnected = await harness.autocomplete(
        "dice", {"session": ""}, focused="session", by=stranger
    )

    assert [c["value"] for c in failing] == [12]
    assert unconnected == []
    # The wearer's list was asked for (reads are retried, so perhaps more than once)
    # and failed; nothing was asked for the stranger.
    asked = ct_fake.requests_to(SESSIONS_PATH)
    assert asked, "the sessions list was never asked for"
    assert {r.bearer for r in asked} == {world.wearer.token}
    assert all(r.response is None or r.response.status == 500 for r in asked)


async def test_a_refused_token_in_autocomplete_marks_the_account(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    world = await players(harness, ct_fake)
    ct_fake.revoke(world.wearer)

    assert await harness.autocomplete("dice", {"session": ""}, focused="session") == []

    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.needs_reconnect
    # Nothing more is asked with a token known to be refused.
    assert await harness.autocomplete("dice", {"session": ""}, focused="session") == []
    assert len(ct_fake.requests_to(SESSIONS_PATH)) == 1


# -- the cache on its own -----------------------------------------------------------


@pytest.fixture
async def api(ct_fake: FakeChastityTracker) -> AsyncIterator[ChastityTrackerClient]:
    async with ChastityTrackerClient(ct_fake.base_url, 5.0) as client:
        yield client


async def test_a_stale_list_beats_nothing_when_the_refresh_is_slow(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, sqlite_storage: Storage
) -> None:
    vault = Vault([Secret(Fernet.generate_key().decode())])
    accounts = AccountService(sqlite_storage, vault, api, lambda: datetime.now(UTC))
    wearer = ct_fake.add_user("wearer")
    session = add_session(ct_fake, wearer)
    await sqlite_storage.accounts.upsert(
        1, vault.encrypt(Secret(wearer.token)), "wearer", datetime.now(UTC)
    )
    # ttl=0: every suggestion wants a refresh; budget: how long it may wait for one.
    sleep = FakeSleep()
    choices = SessionChoices(api, accounts, sqlite_storage, ttl=0.0, budget=0.1, sleep=sleep)
    try:
        assert [c.value for c in await choices.suggest(1)] == [session.id]
        ct_fake.inject(Fault.hang(), path=SESSIONS_PATH)

        suggesting = asyncio.create_task(choices.suggest(1))
        await sleep.sleeping(0.1)
        assert not suggesting.done()
        sleep.release()
        assert [c.value for c in await suggesting] == [session.id]
    finally:
        await choices.close()
    await ct_fake.wait_idle()  # closing gave up the hung refresh
    assert len(ct_fake.requests_to(SESSIONS_PATH)) == 2
