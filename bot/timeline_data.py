"""What a lock's timeline shows, built from its records: in the drawing process.

The bot reads the lock's rows (``bot.timeline``) and ships them here as they
are, plain tuples in a :class:`TimelineSource`; reading each vote's recorded
answer, matching the wearer's history against the votes and sorting take
milliseconds per chart, which the bot's event loop would otherwise spend while
members wait. :func:`draw` turns a source into steps and markers and draws them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final, TypeAlias

from bot.timeline_chart import Chart, Marker, MarkerKind, Step, TimelineData, render
from bot.vote_results import vote_move

if TYPE_CHECKING:
    from bot.storage.lock_history import PollRow, VoteRow

HistoryRow: TypeAlias = tuple[datetime, datetime | None, str | None]
"""A row of the wearer's session history: when, the scheduled end after it, its source."""

SAME_CHANGE: Final = timedelta(seconds=5)
"""A history row this close to a recorded vote, with the same scheduled end, is that vote."""

_KINDS: Final[dict[str | None, MarkerKind]] = {"add": "add", "sub": "sub", "rand": "rand"}


@dataclass(frozen=True, slots=True)
class TimelineSource:
    """Everything a chart is made of, as read; it crosses to the drawing process."""

    lock_name: str
    days: int
    now: datetime
    votes: tuple[VoteRow, ...]  # oldest first
    polls: tuple[PollRow, ...]
    history: tuple[HistoryRow, ...] | None  # None: not shared, or not readable


def draw(source: TimelineSource) -> Chart | None:
    """The chart; None when nothing in the period moved the scheduled end."""
    data = timeline_data(source)
    return render(data) if data.steps else None


def timeline_data(source: TimelineSource) -> TimelineData:
    """Steps of the scheduled end and the community's markers, oldest first."""
    steps, markers = _from_votes(source.votes)
    markers += _from_polls(source.polls)
    if source.history:
        extra, extra_markers = _from_history(source.history, steps)
        steps += extra
        markers += extra_markers
    steps.sort(key=lambda step: step.at)
    markers.sort(key=lambda marker: marker.at)
    return TimelineData(
        lock_name=source.lock_name,
        days=source.days,
        now=source.now,
        steps=tuple(steps),
        markers=tuple(markers),
        with_history=source.history is not None,
    )


def _from_votes(votes: tuple[VoteRow, ...]) -> tuple[list[Step], list[Marker]]:
    steps: list[Step] = []
    markers: list[Marker] = []
    for at, choice, detail_json in votes:
        move = vote_move(detail_json)
        if move is None:
            continue
        steps.append(Step(at, move.scheduled_end))
        # A vote recorded without its choice is shown with the random ones.
        kind: MarkerKind = "penalty" if move.penalty else _KINDS.get(choice, "rand")
        markers.append(Marker(at, move.scheduled_end, kind))
    return steps, markers


def _from_polls(polls: tuple[PollRow, ...]) -> list[Marker]:
    markers: list[Marker] = []
    for closed_at, result_json in polls:
        move = vote_move(result_json)
        if move is not None:
            markers.append(Marker(closed_at, move.scheduled_end, "poll"))
    return markers


def _from_history(
    history: tuple[HistoryRow, ...], known: list[Step]
) -> tuple[list[Step], list[Marker]]:
    """Steps for the changes the ledger does not have (and penalties as markers)."""
    recorded: dict[datetime, list[datetime]] = {}
    for step in known:
        recorded.setdefault(step.scheduled_end, []).append(step.at)
    steps: list[Step] = []
    markers: list[Marker] = []
    for happened, schedule, source in history:
        if schedule is None:
            continue
        if any(abs(at - happened) <= SAME_CHANGE for at in recorded.get(schedule, ())):
            continue
        steps.append(Step(happened, schedule))
        if source == "PENALTY":
            markers.append(Marker(happened, schedule, "penalty"))
    return steps, markers
