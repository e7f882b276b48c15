"""Logging set up once, with secrets kept out of every line at every level.

discord.py logs raw gateway payloads at DEBUG, and those carry what members
type into modals and options (API tokens). So its chatty loggers never go
below INFO, and every record passes a redactor that masks known secrets and
anything shaped like a bearer header.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, TextIO

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
redact = scrub


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


def configure_logging(level: str, stream: TextIO | None = None) -> logging.Handler:
    """Install the one root handler; returns it (tests attach to the same filter)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-8s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level)
    root.setLevel(numeric)
    for name in PAYLOAD_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    return handler
