"""Turns an unexpected error log into a failed test.

discord.py swallows exceptions raised in commands, views and tasks and only
logs them ("Ignoring exception in ..."); asyncio logs a failed task nobody
awaited. Without this guard such a test would pass while the bot is broken.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager

WATCHED_LOGGERS = ("discord", "bot", "cogs", "asyncio")


class LogGuard(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self._expected: list[re.Pattern[str]] = []
        self.allow_all = False

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

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
