"""Typed requests and results of the Chastity Tracker v2 API.

Parsing is strict about the fields the contract documents and keeps any
extra fields in ``extra`` so a newer API does not break the bot.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from typing import Any, Self

from bot.secrets import Secret


class Game(StrEnum):
    DICE = "dice"
    LUCK = "luck"
    LINK = "link"


class Choice(StrEnum):
    """The LINK vote `type`."""

    ADD = "add"
    SUB = "sub"
    RAND = "rand"

    @property
    def label(self) -> str:
        return {"add": "Add time", "sub": "Remove time", "rand": "Random"}[self.value]


class Operation(StrEnum):
    ADD = "ADD"
    SUB = "SUB"


class ParseError(ValueError):
    """A documented field is missing or has the wrong type."""


@dataclass(frozen=True, slots=True)
class GameRequest:
    """One POST /api/v2/games.php body. :meth:`validate` applies the contract's rules."""

    game: Game
    dom: bool
    session: int | None = None
    link_token: Secret | None = None
    choice: Choice | None = None

    def validate(self) -> str | None:
        """The first broken rule, or None when the request may be sent."""
        if self.session is not None and (
            isinstance(self.session, bool) or not isinstance(self.session, int) or self.session < 1
        ):
            return "session must be a whole number >= 1"
        needs_session = self.game is not Game.LINK or self.dom
        if needs_session and self.session is None:
            return f"session is required for {self.game.value}" + (
                " as dom" if self.game is Game.LINK else ""
            )
        if self.game is Game.LINK:
            if self.choice is None:
                return "type (add, sub or rand) is required for link"
            if not self.dom and not (self.link_token and self.link_token.reveal().strip()):
                return "a public link token is required for a link vote"
        elif self.choice is not None:
            return f"type is only for link, not {self.game.value}"
        return None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"game": self.game.value, "dom": 1 if self.dom else 0}
        if self.session is not None:
            body["session"] = self.session
        if self.link_token:
            body["token"] = self.link_token.reveal()
        if self.choice is not None:
            body["type"] = self.choice.value
        return body


# The shapes the API's UTC timestamps come in: "2026-02-10 00:00:00" (documented),
# with or without seconds or a fraction, a "T" instead of the space, and an optional
# zone: " UTC" (stats' current_lock_start), "Z", "GMT" or an offset.
_TIMESTAMP = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?)?"
    r"\s*(?P<zone>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?",
    re.IGNORECASE,
)
# MySQL's "zero date", which PHP passes through for a date that was never set.
_ZERO_DATE = "0000-00-00"


def parse_utc(value: object) -> datetime | None:
    """Parse one of the API's UTC timestamps into an aware datetime (None for none).

    A timestamp without a zone is UTC, as the contract says of every timestamp
    the games endpoint returns.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a timestamp string, got {type(value).__name__}")
    text = value.strip()
    if not text or text.startswith(_ZERO_DATE):
        return None
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ParseError(f"not a timestamp: {value!r}")
    try:
        day = date.fromisoformat(match["date"])
        moment = datetime(
            day.year,
            day.month,
            day.day,
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            # Beyond microseconds the digits are dropped, not rounded.
            int((match["fraction"] or "0")[:6].ljust(6, "0")),
            tzinfo=_zone(match["zone"]),
        )
    except ValueError:
        raise ParseError(f"not a timestamp: {value!r}") from None
    return moment.astimezone(UTC)


def _zone(text: str | None) -> timezone:
    if text is None or text.upper() in ("Z", "UTC", "GMT"):
        return UTC
    digits = text[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-offset if text[0] == "-" else offset)


def parse_date(value: object) -> date | None:
    """A "YYYY-MM-DD" date (stats' ``last_*``); None when absent, zero or not a date.

    Lenient on purpose: these dates are for display only, and a strange one
    must not make the whole answer unusable.
    """
    if not isinstance(value, str) or value.startswith(_ZERO_DATE):
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None


def whole_number(value: object, what: str) -> int:
    """An integer that may arrive as a JSON number or as text ("3600", "3600.0")."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ParseError(f"{what} is not a number")
    if isinstance(value, int):
        return value
    try:
        number = float(value)
    except ValueError:
        raise ParseError(f"{what} is not a number") from None
    if not math.isfinite(number) or number != int(number):
        raise ParseError(f"{what} is not a whole number")
    return int(number)


class _Fields:
    """Typed access to a JSON object, raising ParseError with the field's name."""

    def __init__(self, data: Mapping[str, Any], known: set[str]) -> None:
        self.data = data
        self.known = known

    def raw(self, name: str, required: bool) -> Any:
        self.known.add(name)
        if name not in self.data or self.data[name] is None:
            if required:
                raise ParseError(f"missing field {name!r}")
            return None
        return self.data[name]

    def integer(self, name: str, *, required: bool = True) -> int | None:
        value = self.raw(name, required)
        if value is None:
            return None
        return whole_number(value, f"field {name!r}")

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        assert value is not None
        return value

    def number(self, name: str, *, required: bool = True) -> float | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ParseError(f"field {name!r} is not a number")
        try:
            number = float(value)
        except ValueError:
            raise ParseError(f"field {name!r} is not a number") from None
        if not math.isfinite(number):
            raise ParseError(f"field {name!r} is not a finite number")
        return number

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ParseError(f"field {name!r} is not text")
        return value

    def label(self, name: str) -> str | None:
        """Optional text that may arrive as a number (kept as its text)."""
        value = self.raw(name, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ParseError(f"field {name!r} is not text")
        return str(value)

    def flag(self, name: str, *, required: bool = False) -> bool | None:
        """A 0/1 flag as PHP may send it: 0/1, "0"/"1", true/false or "true"/"false"."""
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            value = value.strip().lower()
        if value in (0, 1, "0", "1"):
            return bool(int(value))
        if value in ("true", "false"):
            return bool(value == "true")
        raise ParseError(f"field {name!r} is not 0 or 1")

    def required_flag(self, name: str) -> bool:
        value = self.flag(name, required=True)
        assert value is not None
        return value

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k not in self.known}


@dataclass(frozen=True, slots=True)
class GameResult:
    """Fields common to DICE, LUCK and LINK results."""

    game: Game
    operation: Operation
    seconds: int
    multiplier: float
    dom: bool
    scheduled_end: datetime
    session: int
    time: int | None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def added(self) -> bool:
        return self.operation is Operation.ADD

    @classmethod
    def _common(cls, fields: _Fields, expected: Game) -> dict[str, Any]:
        game = fields.text("game")
        if game is None or game.lower() != expected.value:
            raise ParseError(f"expected a {expected.value} result, got game={game!r}")
        operation = (fields.text("operation") or "").upper()
        if operation not in Operation.__members__:
            raise ParseError(f"unknown operation {operation!r}")
        scheduled_end = parse_utc(fields.text("scheduledend_utc"))
        if scheduled_end is None:
            raise ParseError("field 'scheduledend_utc' holds no date")
        seconds = fields.required_integer("seconds")
        return {
            "game": expected,
            "operation": Operation(operation),
            "seconds": abs(seconds),
            "multiplier": fields.number("multiplier"),
            "dom": fields.required_flag("dom"),
            "scheduled_end": scheduled_end,
            "session": fields.required_integer("session"),
            "time": fields.integer("time", required=False),
        }


@dataclass(frozen=True, slots=True)
class DiceResult(GameResult):
    dice: tuple[int, ...] = ()
    dice_ops: tuple[str, ...] = ()
    calc: str = ""
    sum: int | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        common = cls._common(fields, Game.DICE)
        dice = fields.raw("dices", True)
        ops = fields.raw("dicesops", False) or []
        if not isinstance(dice, list):
            raise ParseError("field 'dices' is not a list of numbers")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise ParseError("field 'dicesops' is not a list of text")
        return cls(
            **common,
            dice=tuple(whole_number(face, "a die in 'dices'") for face in dice),
            dice_ops=tuple(ops),
            calc=fields.text("calc", required=False) or "",
            sum=fields.integer("sum", required=False),
            extra=fields.extra(),
        )


@dataclass(frozen=True, slots=True)
class LuckResult(GameResult):
    # The API's `int`: how many configured units made up the base amount.
    unit_count: int | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        common = cls._common(fields, Game.LUCK)
        return cls(**common, unit_count=fields.integer("int", required=False), extra=fields.extra())


@dataclass(frozen=True, slots=True)
class LinkResult(GameResult):
    unit: str | None = None
    unit_count: int | None = None
    penalty: bool = False

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        common = cls._common(fields, Game.LINK)
        return cls(
            **common,
            unit=fields.label("unit"),
            unit_count=fields.integer("int", required=False),
            # null when there was none; PHP may also send 0, "1" or true.
            penalty=bool(fields.flag("penalty")),
            extra=fields.extra(),
        )


@dataclass(frozen=True, slots=True)
class Stats:
    """v2 stats of the token's owner (used to check a token and show the lock).

    Every documented key is read; the docs say several are present only when
    the user's visibility allows it, so each may be absent or null.
    """

    nick: str
    locked: bool
    scheduled_end: datetime | None
    current_lock_start: datetime | None
    current_lock_time: str | None
    total_locked_since: str | None = None
    # No zone is given for since_date, so it stays text.
    since_date: str | None = None
    profile_url: str | None = None
    # Not in the repr: the member's LINK URL carries their public link token.
    link_game: str | None = field(default=None, repr=False)
    last_full: date | None = None
    last_ruined: date | None = None
    last_ted: date | None = None
    last_milking: date | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        nick = fields.label("nick")
        if nick is None:
            raise ParseError("missing field 'nick'")
        return cls(
            nick=nick,
            locked=bool(fields.flag("locked")),
            scheduled_end=parse_utc(fields.text("scheduled_end", required=False)),
            current_lock_start=parse_utc(fields.text("current_lock_start", required=False)),
            current_lock_time=fields.text("current_lock_time", required=False),
            total_locked_since=fields.text("total_locked_since", required=False),
            since_date=fields.text("since_date", required=False),
            profile_url=fields.text("profile_url", required=False),
            link_game=fields.text("link_game", required=False),
            last_full=parse_date(fields.raw("last_full", False)),
            last_ruined=parse_date(fields.raw("last_ruined", False)),
            last_ted=parse_date(fields.raw("last_ted", False)),
            last_milking=parse_date(fields.raw("last_milking", False)),
            extra=fields.extra(),
        )


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One item of v2 sessions. Session times carry no documented zone; kept as text."""

    id: int
    active: bool
    start: str | None
    scheduled_end: str | None
    locked_by: str | None
    # Present only for an active session (the docs say so); its shape is not documented.
    games: Mapping[str, Any] | None
    end: str | None = None
    public: bool | None = None
    notes: str | None = None
    timezone_start: str | None = None
    timezone_end: str | None = None
    inserted: str | None = None
    has_history: bool | None = None
    has_games_changes: bool | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        return cls(
            id=fields.required_integer("id"),
            active=bool(fields.flag("active")),
            start=fields.text("start", required=False),
            scheduled_end=fields.text("scheduledend", required=False),
            locked_by=fields.label("lockedby"),
            games=_games_object(fields.raw("games", False)),
            end=fields.text("end", required=False),
            public=fields.flag("public"),
            notes=fields.label("notes"),
            timezone_start=fields.text("timezonestart", required=False),
            timezone_end=fields.text("timezoneend", required=False),
            inserted=fields.text("inserted", required=False),
            has_history=fields.flag("has_history"),
            has_games_changes=fields.flag("has_games_changes"),
            extra=fields.extra(),
        )


def _games_object(value: object) -> Mapping[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return value
    # PHP encodes an empty associative array as [].
    if value == []:
        return {}
    raise ParseError("field 'games' is not an object")


@dataclass(frozen=True, slots=True)
class SessionPage:
    total: int
    limit: int
    offset: int
    items: tuple[SessionInfo, ...]
    count: int = 0

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        items = fields.raw("items", True)
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ParseError("field 'items' is not a list of objects")
        parsed = tuple(SessionInfo.parse(item) for item in items)
        total = fields.integer("total", required=False)
        limit = fields.integer("limit", required=False)
        offset = fields.integer("offset", required=False)
        count = fields.integer("count", required=False)
        return cls(
            total=len(parsed) if total is None else total,
            limit=len(parsed) if limit is None else limit,
            offset=0 if offset is None else offset,
            items=parsed,
            count=len(parsed) if count is None else count,
        )


PlayResult = DiceResult | LuckResult | LinkResult
RESULT_TYPES: dict[Game, type[DiceResult] | type[LuckResult] | type[LinkResult]] = {
    Game.DICE: DiceResult,
    Game.LUCK: LuckResult,
    Game.LINK: LinkResult,
}
