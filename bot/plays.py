"""The play ledger: every play and vote is recorded before it is sent.

The entry is written before the request and finished before any Discord reply,
so a failed Discord message never loses what happened on Chastity Tracker.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from bot.ctapi import (
    APIError,
    ChastityTrackerError,
    Choice,
    Game,
    InvalidRequest,
    MalformedResponse,
    OutcomeUnknown,
    PlayResult,
    ServerError,
    ServerErrorPage,
)
from bot.error_messages import shorten
from bot.storage import Storage
from bot.storage.ledger import Outcome

log = logging.getLogger(__name__)

_R = TypeVar("_R", bound=PlayResult)


@dataclass(frozen=True, slots=True)
class Attempt:
    user_id: int
    guild_id: int | None
    game: Game
    dom: bool
    session: int | None = None
    lock_id: int | None = None
    choice: Choice | None = None
    logged: bool = True


def outcome_of(error: ChastityTrackerError) -> Outcome:
    """refused: the API said no; unknown: it may have happened; error: it failed.

    A 5xx error page (not the API's envelope) is unknown: a proxy's 502 or 504
    can come after the game was applied.
    """
    if isinstance(error, OutcomeUnknown | MalformedResponse | ServerErrorPage):
        return "unknown"
    if isinstance(error, ServerError):
        return "error"
    if isinstance(error, APIError | InvalidRequest):
        return "refused"
    return "error"


def result_detail(result: PlayResult) -> str:
    """The whole result as JSON: what ``dataclasses.asdict`` gives, without its deep copy."""
    data: dict[str, Any] = {
        field.name: getattr(result, field.name) for field in dataclasses.fields(result)
    }
    return json.dumps(data, default=_plain, sort_keys=True)


def _plain(value: object) -> object:
    # The result's ``extra`` is a read-only mapping; datetimes are written as str() does.
    return dict(value) if isinstance(value, Mapping) else str(value)


def error_detail(error: BaseException) -> str:
    detail: dict[str, Any] = {"error": type(error).__name__}
    if isinstance(error, APIError):
        # The API's own words, cut: they are shown to members (in /history).
        detail.update(status=error.status, code=error.code, message=shorten(error.message))
    return json.dumps(detail, sort_keys=True)


async def recorded(
    storage: Storage,
    clock: Callable[[], datetime],
    attempt: Attempt,
    send: Callable[[], Awaitable[_R]],
) -> _R:
    """Record ``attempt``, run ``send``, record its outcome; the result or error passes on.

    Whatever ``send`` raises besides a Chastity Tracker error (a cancellation, a
    bug) may come after the request arrived, so it is recorded as unknown.
    """
    entry_id = await storage.ledger.start(
        attempt.user_id,
        attempt.guild_id,
        attempt.game.value,
        attempt.dom,
        attempt.session,
        attempt.lock_id,
        attempt.choice,
        attempt.logged,
        clock(),
    )
    try:
        result = await send()
    except ChastityTrackerError as error:
        _log_outcome(attempt, entry_id, outcome_of(error), type(error).__name__)
        await _finish(storage, clock, entry_id, outcome_of(error), error_detail(error))
        raise
    except BaseException as error:
        _log_outcome(attempt, entry_id, "unknown", type(error).__name__)
        await _finish(storage, clock, entry_id, "unknown", error_detail(error))
        raise
    _log_outcome(attempt, entry_id, "ok", None)
    await _finish(storage, clock, entry_id, "ok", result_detail(result))
    return result


def _log_outcome(attempt: Attempt, entry_id: int, outcome: Outcome, error: str | None) -> None:
    """One INFO line per play or vote; the JSON log format carries the fields as keys.

    Ids and names only: never a token (the lock is named by its id).
    """
    kind = "vote" if attempt.game is Game.LINK and attempt.lock_id is not None else "play"
    fields: dict[str, Any] = {
        "event": kind,
        "member_id": attempt.user_id,
        "guild_id": attempt.guild_id,
        "game": attempt.game.value,
        "outcome": outcome,
        "ledger_id": entry_id,
        "dom": attempt.dom,
        "logged": attempt.logged,
    }
    if attempt.session is not None:
        fields["session"] = attempt.session
    if attempt.lock_id is not None:
        fields["lock_id"] = attempt.lock_id
    if attempt.choice is not None:
        fields["choice"] = attempt.choice.value
    if error is not None:
        fields["error"] = error
    log.info(
        "%s %s by member %s in guild %s: %s",
        attempt.game.value,
        kind,
        attempt.user_id,
        attempt.guild_id,
        outcome,
        extra=fields,
    )


async def _finish(
    storage: Storage,
    clock: Callable[[], datetime],
    entry_id: int,
    outcome: Outcome,
    detail: str,
) -> None:
    """Record the outcome, shielded from cancellation; a storage failure is only logged.

    The play already happened (or not) on Chastity Tracker: failing to record it
    must not hide its result or error from the member. The entry then stays
    pending, which /history shows as "check Chastity Tracker".
    """
    try:
        await asyncio.shield(storage.ledger.finish(entry_id, outcome, detail, clock()))
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("Could not record the outcome (%s) of ledger entry %d", outcome, entry_id)
