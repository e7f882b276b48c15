"""Entry point: settings -> logging -> build dependencies -> run.

    python -m bot                 start the bot
    python -m bot check [--live]  check the deployment without starting (see bot/check.py)
    python -m bot invite          print the URL that adds the bot to a server

Every setting is checked before anything else happens (no database opened, no
log line written): a bad one is a single line on stderr and exit status 2.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Final

import aiohttp

from bot.config import Settings, SettingsError, load_settings, prepare_data_dir
from bot.logs import configure_logging

USAGE: Final = """usage: python -m bot [check [--live] | invite]

  (nothing)      start the bot
  check          check settings, database, key, Chastity Tracker and Discord; one line each
  check --live   only settings and database (for a container healthcheck)
  invite         print the URL that adds the bot to a server"""


def one_line(error: SettingsError) -> str:
    # A database driver's reason can span several lines; the promise is one line.
    return "error: " + " ".join(str(error).split())


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args == []:
        return start()
    if args in (["check"], ["check", "--live"]):
        return check(live="--live" in args)
    if args == ["invite"]:
        return invite()
    print(USAGE, file=sys.stderr)
    return 2


def start() -> int:
    try:
        settings = load_settings()
        prepare_data_dir(settings)
    except SettingsError as error:
        print(one_line(error), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, log_format=settings.log_format)

    import discord

    from bot.app import run_bot

    # The bot has no voice features; discord.py's warnings about voice libraries are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False

    try:
        asyncio.run(run_bot(settings))
    except SettingsError as error:
        # Found while opening storage or the vault (the database, a key that cannot
        # read the stored tokens).
        print(one_line(error), file=sys.stderr)
        return 2
    except aiohttp.ClientConnectionError as error:
        # Discord (or the network) is unreachable: one clear line, not a traceback.
        logging.getLogger("bot").debug("start failed", exc_info=True)
        print(
            f"error: cannot reach Discord ({type(error).__name__}); check the network",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        pass
    return 0


def check(*, live: bool) -> int:
    """Exit 0 when every check passes, 2 when the settings fail (as at start), else 1."""
    from bot.check import Result, run_checks

    try:
        settings = load_settings()
    except SettingsError as error:
        print(Result("settings", False, str(error)).line())
        return 2
    _quiet_logging(settings)
    results = asyncio.run(run_checks(settings, live=live))
    for result in results:
        print(result.line())
    return 0 if all(result.ok for result in results) else 1


def invite() -> int:
    from bot.invite import application_id_from_token, invite_url

    try:
        settings = load_settings()
        application_id = application_id_from_token(settings.discord_token)
    except SettingsError as error:
        print(one_line(error), file=sys.stderr)
        return 2
    print(invite_url(application_id))
    return 0


def _quiet_logging(settings: Settings) -> None:
    # The check's answer is its printed lines; only warnings from the libraries it
    # uses go to stderr, through the same redactor as the bot's logs.
    configure_logging("WARNING", log_format=settings.log_format)


if __name__ == "__main__":
    sys.exit(main())
