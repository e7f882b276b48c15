"""Entry point: settings -> logging -> build dependencies -> run."""

from __future__ import annotations

import asyncio
import logging
import sys

import aiohttp

from bot.config import SettingsError, load_settings
from bot.logs import configure_logging


def one_line(error: SettingsError) -> str:
    # A database driver's reason can span several lines; the promise is one line.
    return "error: " + " ".join(str(error).split())


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(one_line(error), file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    import discord

    from bot.app import run_bot

    # The bot has no voice features; discord.py's warnings about voice libraries are noise.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False

    try:
        asyncio.run(run_bot(settings))
    except SettingsError as error:
        # Raised while opening storage or the vault (e.g. a wrong key).
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


if __name__ == "__main__":
    sys.exit(main())
