"""Turns an unexpected error log into a failed test.

discord.py swallows exceptions raised in commands, views and tasks and only
logs them ("Ignoring exception in ..."); asyncio logs a failed task nobody
awaited. Without this guard such a test would pass while the bot is broken.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WATCHED_LOGGERS = ("discord", "bot", "cogs", "asyncio")


class LogGuard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._expected: list[re.Pattern[str]] = []
        self.allow_all = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        for loop, event in self._waiters:
            loop.call_soon_threadsafe(event.set)

    async def wait_for(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate()`` holds, re-checked after every log record."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await waiter[1].wait()
                    waiter[1].clear()
        except TimeoutError:
            raise AssertionError(f"no such log within {timeout} s: {self.messages()}") from None
        finally:
            self._waiters.remove(waiter)

    def saw(self, text: str, level: int = logging.WARNING) -> bool:
        return any(text in message for message in self.messages(level))

    def expect_error(self, pattern: str) -> None:
        """Allow error logs whose message matches ``pattern`` (a regex) in this test."""
        self._expected.append(re.compile(pattern))

    @staticmethod
    def _is_error(record: logging.LogRecord) -> bool:
        watched = any(
            record.name == name or record.name.startswith(f"{name}.") for name in WATCHED_LOGGERS
        )
        ignoring = record.getMessage().startswith("Ignoring exception")
        return (watched and record.levelno >= logging.ERROR) or ignoring

    @property
    def errors(self) -> list[logging.LogRecord]:
        return [record for record in self.records if self._is_error(record)]

    def unexpected(self) -> list[logging.LogRecord]:
        if self.allow_all:
            return []
        return [
            record
            for record in self.errors
            if not any(p.search(record.getMessage()) for p in self._expected)
        ]

    def report(self) -> str:
        lines = []
        for record in self.unexpected():
            lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(lines)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]


@contextmanager
def guard_logs() -> Iterator[LogGuard]:
    guard = LogGuard()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(guard)
    if previous > logging.WARNING:
        root.setLevel(logging.WARNING)  # warnings and errors must reach the guard
    try:
        yield guard
    finally:
        root.removeHandler(guard)
        root.setLevel(previous)
