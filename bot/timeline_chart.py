"""Drawing a lock's timeline: the scheduled end over time as a step line, as a PNG.

Pure and synchronous: it runs in the drawing process (``bot.timeline``), never
on the bot's event loop nor in a thread of the bot's process. matplotlib is
imported here, in that process, on the first chart, so the bot's start-up and
memory never pay for it. Only the object-oriented API is used (a ``Figure``
with its own Agg canvas, no pyplot): pyplot keeps global state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, NamedTuple

MarkerKind = Literal["add", "sub", "rand", "penalty", "poll"]

WIDTH_INCHES: Final = 9.0
HEIGHT_INCHES: Final = 4.5
DPI: Final = 100  # 900 x 450 pixels: readable inline in Discord, small to upload

_MARKERS: Final[dict[MarkerKind, tuple[str, str, str]]] = {
    # kind: (matplotlib marker, colour, legend label)
    "add": ("^", "#d64545", "vote: add time"),
    "sub": ("v", "#2f9e44", "vote: remove time"),
    "rand": ("o", "#3b6fd6", "vote: random"),
    "penalty": ("X", "#8b1e1e", "penalty"),
    "poll": ("*", "#e0a100", "poll closed"),
}


@dataclass(frozen=True, slots=True)
class Step:
    """The lock's scheduled end became ``scheduled_end`` at ``at``."""

    at: datetime
    scheduled_end: datetime


class Marker(NamedTuple):
    """A named tuple, not a dataclass: a chart's hundreds of markers come back from the
    drawing process with it, and the bot's process unpickles tuples several times faster."""

    at: datetime
    scheduled_end: datetime
    kind: MarkerKind


@dataclass(frozen=True, slots=True)
class TimelineData:
    lock_name: str
    days: int
    now: datetime
    steps: tuple[Step, ...]  # oldest first
    markers: tuple[Marker, ...]
    with_history: bool  # the wearer's own session history is included


@dataclass(frozen=True, slots=True)
class Chart:
    png: bytes
    points: tuple[tuple[datetime, datetime], ...]  # the step line's vertices as plotted
    markers: tuple[Marker, ...]
    width: int
    height: int


def plotted_points(data: TimelineData) -> tuple[tuple[datetime, datetime], ...]:
    """Every step, then the last scheduled end carried on to now."""
    points = [(step.at, step.scheduled_end) for step in data.steps]
    if points and points[-1][0] < data.now:
        points.append((data.now, points[-1][1]))
    return tuple(points)


def render(data: TimelineData) -> Chart:
    """The chart as a PNG, with the points and markers it plotted."""
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    points = plotted_points(data)
    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    # Fixed margins, with room for the short date labels of both axes: the
    # "constrained" layout engine measures every label first, a third of the drawing.
    figure.subplots_adjust(left=0.1, right=0.98, bottom=0.12, top=0.91)
    canvas = FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    if points:
        axes.step(
            mdates.date2num([at for at, _ in points]),
            mdates.date2num([end for _, end in points]),
            where="post",
            color="#444444",
            linewidth=1.8,
            label="scheduled end",
        )
    for kind, (shape, colour, label) in _MARKERS.items():
        chosen = [marker for marker in data.markers if marker.kind == kind]
        if chosen:
            axes.scatter(
                mdates.date2num([marker.at for marker in chosen]),
                mdates.date2num([marker.scheduled_end for marker in chosen]),
                marker=shape,
                color=colour,
                s=70 if kind != "poll" else 150,
                zorder=3,
                label=label,
            )
    axes.axvline(
        float(mdates.date2num(data.now)), color="#888888", linestyle="--", linewidth=1, label="now"
    )
    for axis in (axes.xaxis, axes.yaxis):
        locator = mdates.AutoDateLocator()
        axis.set_major_locator(locator)
        axis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    source = (
        "votes through the bot and the wearer's history"
        if data.with_history
        else ("votes through the bot")
    )
    axes.set_title(f"{data.lock_name}: scheduled end, last {data.days} d ({source})")
    axes.set_xlabel("when (UTC)")
    axes.set_ylabel("scheduled end (UTC)")
    axes.grid(visible=True, alpha=0.3)
    axes.legend(loc="upper left", fontsize="small", framealpha=0.8)
    buffer = io.BytesIO()
    canvas.print_png(buffer)
    width, height = canvas.get_width_height()
    return Chart(
        png=buffer.getvalue(),
        points=points,
        markers=data.markers,
        width=int(width),
        height=int(height),
    )
