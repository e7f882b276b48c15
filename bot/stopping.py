"""Stopping gracefully: no new work once a stop is asked for, the work in flight let finish.

:class:`WorkGate` counts the member actions under way (plays, votes, choices,
account checks). Once :meth:`WorkGate.close` is called, a new one is refused
with :class:`Restarting`, which the member reads at once, privately; the ones
already under way may finish within the grace period (:meth:`WorkGate.drain`).

:class:`StopSignals` turns SIGTERM and SIGINT (``docker stop``, ``systemctl
stop``, Ctrl-C) into one graceful stop; a second signal while it runs ends
the process at once with status 128 + the signal's number (143 for SIGTERM,
130 for SIGINT), as a shell reports a process killed by that signal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Final

from bot.error_messages import UserError

log = logging.getLogger(__name__)

RESTARTING: Final = "The bot is restarting; try again in a moment."
STOP_SIGNALS: Final = (signal.SIGTERM, signal.SIGINT)


class Restarting(UserError):
    def __init__(self) -> None:
        super().__init__(RESTARTING)


class WorkGate:
    """Admits member actions until closed, and knows which are still under way."""

    def __init__(self) -> None:
        self._closed = False
        self._running: set[asyncio.Task[object]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def running(self) -> int:
        return len(self._running)

    def close(self) -> None:
        """Refuse every action from now on; the ones under way go on."""
        self._closed = True

    @contextlib.asynccontextmanager
    async def work(self) -> AsyncIterator[None]:
        """One member action; :class:`Restarting` once the gate is closed."""
        if self._closed:
            raise Restarting()
        task = asyncio.current_task()
        if task is None or task in self._running:
            # Outside a task, or an action run from within another: counted once.
            yield
            return
        self._running.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._running.discard(task)
            if not self._running:
                self._idle.set()

    async def drain(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for the actions under way; cancel what is left.

        Returns how many were cancelled. A cancelled play or vote is recorded in
        the ledger as unknown (it may have reached Chastity Tracker).
        """
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace)
        left = list(self._running)
        for task in left:
            task.cancel()
        if left:
            await asyncio.wait(left)
        return len(left)


class StopSignals:
    """SIGTERM / SIGINT: the first sets :attr:`requested`, a second exits at once."""

    def __init__(self) -> None:
        self.requested = asyncio.Event()
        self.signal_name: str | None = None
        self._installed: list[signal.Signals] = []

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, self._received, signum)
            self._installed.append(signum)

    def uninstall(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in self._installed:
            loop.remove_signal_handler(signum)
        self._installed.clear()

    def _received(self, signum: signal.Signals) -> None:
        if self.requested.is_set():
            status = 128 + signum.value
            log.warning(
                "%s again: stopping now, work in flight is cut (exit %d)", signum.name, status
            )
            _flush_logs()
            os._exit(status)
        self.signal_name = signum.name
        log.info("%s received: stopping (a second signal stops at once)", signum.name)
        self.requested.set()


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(Exception):
            handler.flush()
    with contextlib.suppress(Exception):
        sys.stderr.flush()
