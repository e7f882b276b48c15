"""The play ledger's wrapper: recorded before sending, finished however the send ends."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.ctapi import (
    BadRequest,
    Choice,
    DiceResult,
    Game,
    LinkResult,
    LuckResult,
    MalformedResponse,
    NotSent,
    Operation,
    OutcomeUnknown,
    PlayResult,
    ServerError,
)
from bot.plays import Attempt, recorded, result_detail
from bot.storage import Storage
from bot.storage.ledger import LedgerEntry
from tests.contract_examples import DICE_EXAMPLE, LINK_EXAMPLE, LUCK_EXAMPLE

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
MEMBER = 41
ATTEMPT = Attempt(user_id=MEMBER, guild_id=7, game=Game.DICE, dom=False, session=5)
RESULT = DiceResult(
    game=Game.DICE,
    operation=Operation.ADD,
    seconds=60,
    multiplier=1.5,
    dom=False,
    scheduled_end=NOW,
    session=5,
    time=40,
    dice=(3,),
    dice_ops=("",),
    calc="+3",
)


def clock() -> datetime:
    return NOW


async def only_entry(storage: Storage) -> LedgerEntry:
    [entry] = await storage.ledger.recent(MEMBER)
    return entry


async def test_the_entry_is_pending_while_the_request_is_on_its_way(
    sqlite_storage: Storage,
) -> None:
    seen: list[str] = []

    async def send() -> DiceResult:
        seen.append((await only_entry(sqlite_storage)).status)
        return RESULT

    assert await recorded(sqlite_storage, clock, ATTEMPT, send) is RESULT
    assert seen == ["pending"]
    entry = await only_entry(sqlite_storage)
    assert entry.status == "ok"
    assert entry.detail_json is not None
    assert json.loads(entry.detail_json)["seconds"] == 60


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (BadRequest(400, "COOLDOWN", "wait"), "refused"),
        (ServerError(500, None, None), "error"),
        (NotSent("refused"), "error"),
        (OutcomeUnknown("timeout"), "unknown"),
        (MalformedResponse(200, "no envelope"), "unknown"),
    ],
)
async def test_api_errors_are_recorded_and_passed_on(
    sqlite_storage: Storage, error: Exception, status: str
) -> None:
    async def send() -> DiceResult:
        raise error

    with pytest.raises(type(error)):
        await recorded(sqlite_storage, clock, ATTEMPT, send)
    assert (await only_entry(sqlite_storage)).status == status


async def test_anything_else_from_the_send_is_recorded_as_unknown(
    sqlite_storage: Storage,
) -> None:
    async def send() -> DiceResult:
        raise RuntimeError("a bug after the request left")

    with pytest.raises(RuntimeError):
        await recorded(sqlite_storage, clock, ATTEMPT, send)
    entry = await only_entry(sqlite_storage)
    assert entry.status == "unknown"
    assert entry.detail_json is not None
    assert json.loads(entry.detail_json) == {"error": "RuntimeError"}


async def test_a_cancelled_play_is_recorded_as_unknown(sqlite_storage: Storage) -> None:
    sending = asyncio.Event()

    async def send() -> DiceResult:
        sending.set()
        await asyncio.Event().wait()  # the answer never comes
        raise AssertionError("unreachable")

    play = asyncio.create_task(recorded(sqlite_storage, clock, ATTEMPT, send))
    await sending.wait()
    play.cancel()
    with pytest.raises(asyncio.CancelledError):
        await play
    assert (await only_entry(sqlite_storage)).status == "unknown"


async def test_a_ledger_that_cannot_finish_does_not_hide_the_result(
    sqlite_storage: Storage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken_finish(*args: object) -> bool:
        raise OSError("disk full")

    monkeypatch.setattr(sqlite_storage.ledger, "finish", broken_finish)

    async def send() -> DiceResult:
        return RESULT

    assert await recorded(sqlite_storage, clock, ATTEMPT, send) is RESULT
    assert (await only_entry(sqlite_storage)).status == "pending"
    assert "Could not record the outcome (ok)" in caplog.text

    async def refused() -> DiceResult:
        raise BadRequest(400, "COOLDOWN", "wait")

    with pytest.raises(BadRequest):
        await recorded(sqlite_storage, clock, ATTEMPT, refused)


async def test_the_attempt_is_recorded_as_given(sqlite_storage: Storage) -> None:
    attempt = Attempt(
        user_id=MEMBER,
        guild_id=None,
        game=Game.LINK,
        dom=False,
        lock_id=None,
        choice=Choice.RAND,
        logged=False,
    )

    async def send() -> DiceResult:
        raise NotSent("refused")

    with pytest.raises(NotSent):
        await recorded(sqlite_storage, clock, attempt, send)
    entry = await only_entry(sqlite_storage)
    assert (entry.game, entry.dom, entry.choice, entry.logged, entry.guild_id) == (
        "link",
        False,
        "rand",
        False,
        None,
    )
    assert entry.created_at == NOW


@pytest.mark.parametrize(
    ("result_type", "example"),
    [(DiceResult, DICE_EXAMPLE), (LuckResult, LUCK_EXAMPLE), (LinkResult, LINK_EXAMPLE)],
)
def test_the_ledger_keeps_the_whole_result_as_plain_json(
    result_type: type[PlayResult], example: dict[str, Any]
) -> None:
    data = example | {"later_field": {"nested": [1, {"deep": "2"}]}}
    result = result_type.parse(data)
    detail = json.loads(result_detail(result))
    assert detail["extra"] == {"later_field": {"nested": [1, {"deep": "2"}]}}
    assert detail["scheduled_end"] == str(result.scheduled_end)
    assert detail["operation"] == result.operation.value
    # Every field of the result, written as dataclasses.asdict would give it.
    assert detail == json.loads(json.dumps(dataclasses.asdict(result), default=str))
