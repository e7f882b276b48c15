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
from collections.abc import Callable, Sequence

from bot.logs import RedactingFilter
from bot.secrets import Secret

LINE = "POST /api/v2/games.php -> 200 in 183 ms for member 123456789012345678 (session 4242)"
COUNTS = (0, 100, 1_000, 10_000)
ROUNDS = 2_000


def record() -> logging.LogRecord:
    return logging.LogRecord("bot.bench", logging.INFO, __file__, 1, LINE, None, None)


def cost(run: Callable[[], object], rounds: int) -> float:
    return min(timeit.repeat(run, number=rounds, repeat=5)) / rounds


def main(counts: Sequence[int] = COUNTS, rounds: int = ROUNDS) -> None:
    redactor = RedactingFilter()
    baseline = cost(lambda: record().getMessage(), rounds)
    print(f"unfiltered log record: {baseline * 1e6:.2f} µs")
    print(f"{'known secrets':>14} {'µs per line':>12} {'x unfiltered':>13} {'x no secrets':>13}")
    made: list[Secret] = []
    first: float | None = None
    for count in counts:
        # Each Secret registers itself with the redactor, as a member's token would.
        made.extend(Secret(secrets.token_urlsafe(30)) for _ in range(count - len(made)))
        filtered = cost(lambda: redactor.filter(record()), rounds)
        first = first or filtered
        print(
            f"{count:>14} {filtered * 1e6:>12.2f} {filtered / baseline:>13.1f}"
            f" {filtered / first:>13.1f}"
        )


if __name__ == "__main__":
    main()
