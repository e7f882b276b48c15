"""How much the log redactor costs per log line as the number of known secrets grows.

Every record passes ``RedactingFilter``, which masks every secret the process
has seen (one per connected member and registered lock). Prints the cost of a
filtered log line relative to an unfiltered one, for several secret counts,
all measured in one run.

    .venv/bin/python -m bench.redaction
"""

from __future__ import annotations

import logging
import secrets
import timeit

from bot import secrets as secret_registry
from bot.logs import RedactingFilter
from bot.secrets import Secret

LINE = "POST /api/v2/games.php -> 200 in 183 ms for member 123456789012345678 (session 4242)"
COUNTS = (0, 100, 1_000, 10_000)
ROUNDS = 2_000


def record() -> logging.LogRecord:
    return logging.LogRecord("bot.bench", logging.INFO, __file__, 1, LINE, None, None)


def cost(run: object) -> float:
    return min(timeit.repeat(run, number=ROUNDS, repeat=5)) / ROUNDS  # type: ignore[arg-type]


def main() -> None:
    redactor = RedactingFilter()
    baseline = cost(lambda: record().getMessage())
    print(f"unfiltered log record: {baseline * 1e6:.2f} µs")
    print(f"{'known secrets':>14} {'µs per line':>12} {'x unfiltered':>13}")
    kept = []
    for count in COUNTS:
        while len(secret_registry.known_secret_values()) < count:
            kept.append(Secret(secrets.token_urlsafe(30)))
        filtered = cost(lambda: redactor.filter(record()))
        print(f"{count:>14} {filtered * 1e6:>12.2f} {filtered / baseline:>13.1f}")


if __name__ == "__main__":
    main()
