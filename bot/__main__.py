"""Entry point: settings -> logging -> build dependencies -> run."""

from __future__ import annotations

import asyncio
import sys

from bot.config import SettingsError, load_settings
from bot.logs import configure_logging


def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)

    from bot.app import run_bot

    try:
        asyncio.run(run_bot(settings))
    except SettingsError as error:
        # Raised while opening storage or the vault (e.g. a wrong key).
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
