"""Coalesced message edits: a burst of changes becomes a few edits, and the last one lands.

Discord rate-limits message edits per channel, so a panel clicked by twenty
members must not be edited twenty times. Per key (a panel or a poll), the
first request edits at once; requests within ``interval`` of the last edit
are merged into one more edit when the interval is over. Each edit renders the
state current when it runs, so the final state always reaches the message.
Edits of one key never overlap. Time is the injectable ``monotonic`` and the
wait for the interval the injectable ``sleep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from bot.timing import Sleep

log = logging.getLogger(__name__)

Edit = Callable[[], Awaitable[None]]
CLOSE_TIMEOUT = 5.0
"""Seconds a closing coalescer gives the edits still waiting for their turn."""


@dataclass(slots=True)
class _Key:
    edit: Edit
    dirty: bool = False
    last: float = float("-inf")
    task: asyncio.Task[None] | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class EditCoalescer:
    def __init__(
        self,
        interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._keys: dict[Hashable, _Key] = {}
        self._closed = False

    def request(self, key: Hashable, edit: Edit) -> None:
        """Ask for ``edit`` to run soon; merged with other requests for ``key``."""
        if self._closed:
            return
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key(edit)
        state.edit = edit
        state.dirty = True
        if state.task is None or state.task.done():
            state.task = asyncio.create_task(self._run(state), name=f"coalesced-edit-{key}")

    async def now(self, key: Hashable, edit: Edit) -> None:
        """Run ``edit`` at once (after any edit of ``key`` in progress), e.g. a final state."""
        state = self._keys.get(key)
        if state is None:
            state = self._keys[key] = _Key(edit)
        async with state.lock:
            state.last = self._monotonic()
            await edit()

    async def flush(self) -> None:
        """Wait until every requested edit has run."""
        while tasks := [s.task for s in self._keys.values() if s.task and not s.task.done()]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def close(self) -> None:
        """Stop: an edit still waiting for its turn runs once now, then requests are ignored.

        Nothing redraws panels at the next start, so a dropped edit would leave the
        message showing an older state until the next vote.
        """
        self._closed = True
        tasks = [s.task for s in self._keys.values() if s.task and not s.task.done()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        waiting = [state for state in self._keys.values() if state.dirty]
        self._keys.clear()
        if waiting:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await asyncio.gather(*(self._edit(state) for state in waiting))

    async def _run(self, state: _Key) -> None:
        while state.dirty:
            wait = state.last + self.interval - self._monotonic()
            if wait > 0:
                await self._sleep(wait)
            await self._edit(state)

    async def _edit(self, state: _Key) -> None:
        async with state.lock:
            state.dirty = False
            state.last = self._monotonic()
            try:
                await state.edit()
            except Exception:
                log.exception("A coalesced message edit failed")
