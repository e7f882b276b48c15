"""histories.php answers: every change to a session's scheduled end (owner only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self

from bot.ctapi.models import ParseError, _Fields, parse_utc


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    type: str  # START | ADD | SUB
    seconds: int | None  # the amount changed (histories call it `unit`); None on START
    source: str | None  # DICE | LINK | LUCK | MANUAL | PENALTY | DOM, None on START
    dom: bool
    schedule: datetime | None  # the scheduled end after the change
    happened: datetime

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        happened = parse_utc(fields.text("happened"))
        if happened is None:
            raise ParseError("field 'happened' is empty")
        return cls(
            type=(fields.text("type") or "").upper(),
            seconds=fields.integer("unit", required=False),
            source=fields.text("source", required=False),
            dom=bool(fields.flag("dom")),
            schedule=parse_utc(fields.text("schedule", required=False)),
            happened=happened,
        )


@dataclass(frozen=True, slots=True)
class HistoryPage:
    items: tuple[HistoryEntry, ...]
    cursor_next: str | None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        items = fields.raw("items", True)
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ParseError("field 'items' is not a list of objects")
        return cls(
            items=tuple(HistoryEntry.parse(item) for item in items),
            cursor_next=fields.text("cursor_next", required=False) or None,
        )
