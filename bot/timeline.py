"""A lock's timeline chart: what the votes through the bot did to its scheduled end.

The data comes from the bot's own records: every accepted vote's answer in the
ledger carries the lock's new scheduled end, and closed polls keep the result
of the vote they cast. When the lock's wearer shares the lock
(``bot.sharing``), their session's history (histories.php) adds every other
change: their own games, a dom's actions, penalties.

The event loop only reads: the rows go as they are to one drawing process
(:class:`TimelineService` starts it with the first chart), which reads the
votes' answers, builds the steps and markers (``bot.timeline_data``) and draws
them (``bot.timeline_chart``), one chart at a time: members' clicks keep being
answered while a chart is made. A chart is kept per lock and period until the
next vote on the lock (or for :data:`CHART_MAX_AGE`, so the "now" line never
lags far), and members asking for the same chart at once share one drawing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from bot.ctapi import ChastityTrackerError
from bot.error_messages import UserError
from bot.secrets import Secret
from bot.storage import Lock
from bot.timeline_data import HistoryRow, TimelineSource, draw

if TYPE_CHECKING:
    from bot.ctapi import ChastityTrackerClient
    from bot.sharing import SharingService
    from bot.storage import Storage
    from bot.storage.lock_history import VoteRow
    from bot.timeline_chart import Chart

log = logging.getLogger(__name__)

DEFAULT_DAYS: Final = 7
MAX_DAYS: Final = 90
CHART_MAX_AGE: Final = 600.0
"""Seconds a drawn chart is reused when no vote came since (its "now" line ages)."""
HISTORY_PAGES: Final = 5
"""At most this many pages (of 200) of the wearer's history are read for one chart."""


class NothingToDraw(UserError):
    def __init__(self, lock_name: str, days: int) -> None:
        super().__init__(
            f"Nothing to draw for **{lock_name}**: no vote through the bot in the last "
            f"{days} days. Vote with `/link vote` or a panel, then ask again."
        )


@dataclass(frozen=True, slots=True)
class _Kept:
    version: tuple[int, bool]
    made_at: datetime
    chart: Chart


class TimelineService:
    def __init__(
        self,
        *,
        storage: Storage,
        api: ChastityTrackerClient,
        sharing: SharingService,
        clock: Callable[[], datetime],
        max_age: float = CHART_MAX_AGE,
    ) -> None:
        self._storage = storage
        self._api = api
        self._sharing = sharing
        self._clock = clock
        self._max_age = timedelta(seconds=max_age)
        self._kept: dict[tuple[int, int], _Kept] = {}
        self._drawing: dict[tuple[int, int], asyncio.Task[Chart]] = {}
        self._executor: ProcessPoolExecutor | None = None
        self.renders = 0  # charts drawn (not taken from the cache), for tests and the bench

    async def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            # Off the event loop: stopping the drawing process waits for a chart in progress.
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    def _drawer(self) -> ProcessPoolExecutor:
        """The drawing process, started with the first chart."""
        if self._executor is None:
            # Spawned, not forked: a fork of a process running an event loop and
            # threads may inherit a held lock.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                max_workers=1, mp_context=context, initializer=_yield_the_cpu
            )
        return self._executor

    async def chart(self, lock: Lock, days: int = DEFAULT_DAYS) -> Chart:
        """The lock's chart over the last ``days`` days; :class:`NothingToDraw` if empty."""
        days = max(1, min(days, MAX_DAYS))
        key = (lock.id, days)
        bearer = await self._sharing.wearer_bearer(lock)
        version = (await self._storage.lock_history.latest_entry(lock.id), bearer is not None)
        kept = self._kept.get(key)
        if (
            kept is not None
            and kept.version == version
            and self._clock() - kept.made_at < self._max_age
        ):
            return kept.chart
        task = self._drawing.get(key)
        if task is None:
            task = asyncio.create_task(self._draw(lock, days, bearer, version))
            self._drawing[key] = task
            task.add_done_callback(lambda _: self._drawing.pop(key, None))
        # Shielded: one member giving up does not cancel the drawing others wait for.
        return await asyncio.shield(task)

    async def _draw(
        self, lock: Lock, days: int, bearer: Secret | None, version: tuple[int, bool]
    ) -> Chart:
        source = await self._source(lock, days, bearer)
        if not source.votes and not source.history:
            raise NothingToDraw(lock.name, days)  # known without starting the drawing process
        chart = await asyncio.get_running_loop().run_in_executor(self._drawer(), draw, source)
        if chart is None:
            raise NothingToDraw(lock.name, days)
        self.renders += 1
        self._kept[(lock.id, days)] = _Kept(version, self._clock(), chart)
        return chart

    async def _source(self, lock: Lock, days: int, bearer: Secret | None) -> TimelineSource:
        """What the chart is made of, as read: the lock's rows, and the wearer's if shared."""
        now = self._clock()
        since = now - timedelta(days=days)
        votes = await self._storage.lock_history.vote_rows(lock.id, since=since)
        polls = await self._storage.lock_history.poll_rows(lock.id, since=since)
        history = None
        if bearer is not None:
            history = await self._history(bearer, votes, since)
        return TimelineSource(
            lock_name=lock.name,
            days=days,
            now=now,
            votes=tuple(votes),
            polls=tuple(polls),
            history=history,
        )

    async def _history(
        self, bearer: Secret, votes: list[VoteRow], since: datetime
    ) -> tuple[HistoryRow, ...] | None:
        """The wearer's history of the lock's session since ``since`` (None if unavailable)."""
        session = _session_of(votes)
        if session is None:
            return None
        rows: list[HistoryRow] = []
        cursor: str | None = None
        try:
            for _ in range(HISTORY_PAGES):
                page = await self._api.histories(bearer, session, cursor=cursor)
                rows.extend(
                    (row.happened, row.schedule, row.source)
                    for row in page.items
                    if row.happened >= since
                )
                # Newest first: once a page reaches back past `since`, the rest is older.
                if not page.cursor_next or any(row.happened < since for row in page.items):
                    break
                cursor = page.cursor_next
        except ChastityTrackerError as error:
            log.info("Could not read the shared history of session %d: %s", session, error)
            return None
        return tuple(rows)


def _yield_the_cpu() -> None:
    """In the drawing process: the lowest priority, so members' answers come first.

    On Linux also SCHED_IDLE: next to a busy bot on the same CPU, a process at
    nice 19 still takes about 1.5% of it, in turns of up to 4 ms; an idle-class
    one about a third of that. Elsewhere, the lowest nice value.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.nice(19)
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


def _session_of(votes: list[VoteRow]) -> int | None:
    """The lock's session, as the newest recorded vote's answer names it."""
    for _, _, detail_json in reversed(votes):
        try:
            session = json.loads(detail_json or "").get("session")
        except (ValueError, AttributeError):
            continue
        if isinstance(session, int) and session > 0:
            return session
    return None
