"""Logging set up once, with secrets kept out of every line at every level.

discord.py logs raw gateway payloads at DEBUG, and those carry what members
type into modals and options (API tokens). So its chatty loggers never go
below INFO, the database drivers' statement and parameter logging is held
back the same way, and every record passes a redactor that masks known
secrets and anything shaped like a bearer header.

Two formats: readable text (the default) and, with ``LOG_FORMAT=json``, one
JSON object per line for log collectors.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from bot.secrets import scrub

# Loggers whose DEBUG output includes raw payloads or request bodies.
PAYLOAD_LOGGERS: Final = (
    "discord.gateway",
    "discord.http",
    "discord.state",
    "discord.client",
    "discord.webhook",
    "discord.app_commands",
    "httpx",
    "httpcore",
    "hpack",
    "h2",
)
# The database layers: SQLAlchemy logs every statement with its parameters at
# INFO (and result rows at DEBUG), aiosqlite and asyncpg each call at DEBUG.
# Parameters carry encrypted tokens and member ids; none of it belongs in a log.
DATABASE_LOGGERS: Final = {
    "sqlalchemy.engine": logging.WARNING,
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
}
# httpx says "HTTP Request: POST ... 200 OK" at INFO for every request. The API
# client logs each request itself at DEBUG (one line per request is detail, not
# news), so httpx speaks only when something goes wrong.
PER_REQUEST_LOGGERS: Final = {"httpx": logging.WARNING}
redact = scrub

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_RECORD_FIELDS: Final = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


class RedactingFilter(logging.Filter):
    """Masks secrets in the final message text and any traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A broken log call elsewhere must not make the logging call raise.
            message = f"{record.msg!s} (unformattable arguments: {record.args!r})"
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = redact(message)
        record.args = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then any ``extra=`` fields.

    Runs after :class:`RedactingFilter`, which has already masked the message and
    the traceback; the extra fields are masked here, as they are written.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name, value in vars(record).items():
            if name not in _RECORD_FIELDS and name not in entry and not name.startswith("_"):
                entry[name] = _plain(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            entry["exception"] = redact(record.exc_text)
        if record.stack_info:
            entry["stack"] = redact(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


def _plain(value: object) -> Any:
    """``value`` as JSON-ready data with every string masked."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {redact(str(key)): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(item) for item in value]
    return redact(str(value))


TEXT_FORMAT: Final = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"


def configure_logging(
    level: str, stream: TextIO | None = None, *, log_format: str = "text"
) -> logging.Handler:
    """Install the one root handler; returns it (tests attach to the same filter)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(numeric)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    for name, floor in (DATABASE_LOGGERS | PER_REQUEST_LOGGERS).items():
        logging.getLogger(name).setLevel(max(numeric, floor))
    return handler
