"""The crowd bench's figures: computed from one bot's run, printed side by side with ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any, Final

from bench.driver import Stopwatch

WINDOW = 3.0  # Discord's acknowledgement window, seconds


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * fraction
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Figures:
    """One bot's figures for one scenario. Times in milliseconds."""

    interactions: int
    first_p50_ms: float | None
    first_p95_ms: float | None
    first_p99_ms: float | None
    first_max_ms: float | None
    completion_p50_ms: float | None
    completion_p99_ms: float | None
    missed_acks: int  # first response after 3 s (Discord answered 10062) or none at all
    unanswered: int  # no first response attempt at all
    completed: int  # members who saw a final answer
    cpu_seconds: float  # the bot process, every thread, during the burst
    cpu_ms_per_interaction: float
    peak_rss_mib: float  # the bot process's peak resident set, start to stop
    ct_requests: int
    ct_connections: int  # new TCP connections to Chastity Tracker during the burst
    ct_errors: int  # Chastity Tracker answers with a 4xx or 5xx status (cooldowns, say)
    discord_requests: int  # every request the bot made to Discord during the burst
    burst_seconds: float  # first interaction sent to last one answered
    # Not the bot's: how busy the fakes were (if they saturate a core, latencies are theirs).
    driver_cpu_seconds: float = 0.0  # fake Discord and load driver
    ct_cpu_seconds: float = 0.0  # fake Chastity Tracker

    @classmethod
    def of(
        cls,
        watch: Stopwatch,
        *,
        cpu_seconds: float,
        peak_rss_kib: int,
        ct_before: dict[str, Any],
        ct_after: dict[str, Any],
        driver_cpu_seconds: float = 0.0,
    ) -> Figures:
        n = len(watch.sent)
        firsts = [
            (watch.first.get(i) or watch.late[i]) - sent
            for i, sent in watch.sent.items()
            if i in watch.first or i in watch.late
        ]
        # A first response that Discord accepted can still be late by a hair the
        # fake did not see (it checks when it handles the request): count by time too.
        missed = sum(
            1
            for i, sent in watch.sent.items()
            if i not in watch.first or watch.first[i] - sent > WINDOW
        )
        completions = [watch.done[i] - sent for i, sent in watch.sent.items() if i in watch.done]
        ends = list(watch.done.values()) + list(watch.late.values())
        start = min(watch.sent.values(), default=0.0)

        def ms(value: float | None) -> float | None:
            return None if value is None else value * 1000

        return cls(
            interactions=n,
            first_p50_ms=ms(percentile(firsts, 0.50)),
            first_p95_ms=ms(percentile(firsts, 0.95)),
            first_p99_ms=ms(percentile(firsts, 0.99)),
            first_max_ms=ms(max(firsts, default=None)),
            completion_p50_ms=ms(percentile(completions, 0.50)),
            completion_p99_ms=ms(percentile(completions, 0.99)),
            missed_acks=missed,
            unanswered=sum(1 for i in watch.sent if i not in watch.first and i not in watch.late),
            completed=len(completions),
            cpu_seconds=cpu_seconds,
            cpu_ms_per_interaction=cpu_seconds * 1000 / n if n else 0.0,
            peak_rss_mib=peak_rss_kib / 1024,
            ct_requests=ct_after["requests"] - ct_before["requests"],
            ct_connections=ct_after["connections"] - ct_before["connections"],
            ct_errors=_errors(ct_after) - _errors(ct_before),
            discord_requests=watch.requests,
            burst_seconds=(max(ends) - start) if ends else 0.0,
            driver_cpu_seconds=driver_cpu_seconds,
            ct_cpu_seconds=ct_after["cpu_seconds"] - ct_before["cpu_seconds"],
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def combined(cls, runs: Sequence[Figures]) -> Figures:
        """Several runs of one bot as one: the median of each measurement, the worst count.

        Misses and failures are the worst run's, so a bad run is never hidden.
        """
        values: dict[str, Any] = {}
        for spec in fields(cls):
            seen = [getattr(run, spec.name) for run in runs]
            if spec.name in _WORST_HIGH:
                values[spec.name] = max(seen)
            elif spec.name in _WORST_LOW:
                values[spec.name] = min(seen)
            else:
                known = [value for value in seen if value is not None]
                values[spec.name] = statistics.median(known) if known else None
        return cls(**values)


# Counts where a higher (lower) figure is worse; combined runs keep their worst.
_WORST_HIGH: Final = frozenset(
    {"missed_acks", "unanswered", "ct_requests", "ct_connections", "ct_errors",
     "discord_requests", "interactions"}
)  # fmt: skip
_WORST_LOW: Final = frozenset({"completed"})


def _errors(counts: dict[str, Any]) -> int:
    return sum(n for status, n in counts["per_status"].items() if int(status) >= 400)


# (field, label, format) in the order printed; every one gets a ratio to the baseline.
ROWS: tuple[tuple[str, str, str], ...] = (
    ("first_p50_ms", "first response p50 (ms)", "{:.1f}"),
    ("first_p95_ms", "first response p95 (ms)", "{:.1f}"),
    ("first_p99_ms", "first response p99 (ms)", "{:.1f}"),
    ("first_max_ms", "first response max (ms)", "{:.1f}"),
    ("completion_p50_ms", "completion p50 (ms)", "{:.1f}"),
    ("completion_p99_ms", "completion p99 (ms)", "{:.1f}"),
    ("missed_acks", "missed 3 s acks", "{:d}"),
    ("completed", "members answered", "{:d}"),
    ("cpu_ms_per_interaction", "CPU ms / interaction", "{:.2f}"),
    ("peak_rss_mib", "peak RSS (MiB)", "{:.1f}"),
    ("ct_requests", "CT requests", "{:d}"),
    ("ct_connections", "CT TCP connections", "{:d}"),
    ("ct_errors", "CT error answers", "{:d}"),
    ("discord_requests", "Discord requests", "{:d}"),
    ("burst_seconds", "burst wall time (s)", "{:.2f}"),
)
# Shown without a ratio: the fakes' CPU, to tell whether they were the bottleneck.
FAKE_ROWS: tuple[tuple[str, str, str], ...] = (
    ("driver_cpu_seconds", "fake Discord CPU (s)", "{:.2f}"),
    ("ct_cpu_seconds", "fake CT CPU (s)", "{:.2f}"),
)


def ratio(value: float | None, baseline: float | None) -> str:
    if value is None or baseline is None:
        return "n/a"
    if baseline == 0:
        return "1.00x" if value == 0 else "inf"
    return f"{value / baseline:.2f}x"


def ratios(project: Figures, baseline: Figures) -> dict[str, str]:
    return {name: ratio(getattr(project, name), getattr(baseline, name)) for name, _, _ in ROWS}


def _cell(value: Any, fmt: str) -> str:
    return "n/a" if value is None else fmt.format(value)


def table(title: str, figures: dict[str, Figures]) -> str:
    """A readable table: one row per figure, one column per bot, then project/baseline."""
    bots = list(figures)
    header = f"{'':<26}" + "".join(f"{bot:>12}" for bot in bots)
    compare = "project" in figures and "baseline" in figures
    if compare:
        header += f"{'ratio':>10}"
    lines = [title, header, "-" * len(header)]
    for name, label, fmt in ROWS:
        line = f"{label:<26}" + "".join(
            f"{_cell(getattr(figures[bot], name), fmt):>12}" for bot in bots
        )
        if compare:
            project, baseline = figures["project"], figures["baseline"]
            line += f"{ratio(getattr(project, name), getattr(baseline, name)):>10}"
        lines.append(line)
    for name, label, fmt in FAKE_ROWS:
        lines.append(
            f"{label:<26}"
            + "".join(f"{_cell(getattr(figures[bot], name), fmt):>12}" for bot in bots)
        )
    return "\n".join(lines)


def spread(project: Sequence[Figures], baseline: Sequence[Figures]) -> str:
    """Each round's CPU and p99 ratios, so the median's steadiness can be judged."""

    def each(name: str) -> str:
        return " ".join(
            ratio(getattr(mine, name), getattr(theirs, name))
            for mine, theirs in zip(project, baseline, strict=True)
        )

    return (
        f"{'rounds, CPU/interaction':<26}{each('cpu_ms_per_interaction')}\n"
        f"{'rounds, first p99':<26}{each('first_p99_ms')}"
    )
