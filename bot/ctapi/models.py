"""Typed requests and results of the Chastity Tracker v2 API.

Parsing is strict about the fields the contract documents and keeps any
extra fields in ``extra`` so a newer API does not break the bot.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
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
            if not self.dom and not self.link_token:
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


def parse_utc(value: object) -> datetime | None:
    """Parse the API's UTC timestamps ("2026-02-10 00:00:00", optional " UTC" or fraction)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a timestamp string, got {type(value).__name__}")
    text = value.strip().removesuffix("UTC").strip().replace("T", " ")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ParseError(f"not a timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


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
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ParseError(f"field {name!r} is not a number")
        try:
            number = float(value)
        except ValueError:
            raise ParseError(f"field {name!r} is not a number") from None
        if number != int(number):
            raise ParseError(f"field {name!r} is not a whole number")
        return int(number)

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        assert value is not None
        return value

    def number(self, name: str, *, required: bool = True) -> float | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if isinstance(value, bool):
            raise ParseError(f"field {name!r} is not a number")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ParseError(f"field {name!r} is not a number") from None

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.raw(name, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ParseError(f"field {name!r} is not text")
        return value

    def flag(self, name: str) -> bool | None:
        value = self.raw(name, False)
        if value is None:
            return None
        if isinstance(value, bool):
            return value
        if value in (0, 1, "0", "1"):
            return bool(int(value))
        raise ParseError(f"field {name!r} is not a boolean")

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
        assert scheduled_end is not None
        seconds = fields.required_integer("seconds")
        return {
            "game": expected,
            "operation": Operation(operation),
            "seconds": abs(seconds),
            "multiplier": fields.number("multiplier"),
            "dom": bool(fields.required_integer("dom")),
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
        if not isinstance(dice, list) or not all(isinstance(d, int) for d in dice):
            raise ParseError("field 'dices' is not a list of numbers")
        if not isinstance(ops, list) or not all(isinstance(o, str) for o in ops):
            raise ParseError("field 'dicesops' is not a list of text")
        return cls(
            **common,
            dice=tuple(dice),
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
            unit=fields.text("unit", required=False),
            unit_count=fields.integer("int", required=False),
            penalty=fields.integer("penalty", required=False) == 1,
            extra=fields.extra(),
        )


@dataclass(frozen=True, slots=True)
class Stats:
    """v2 stats of the token's owner (used to check a token and show the lock)."""

    nick: str
    locked: bool
    scheduled_end: datetime | None
    current_lock_start: datetime | None
    current_lock_time: str | None
    # Not in the repr: `link_game` is the member's LINK URL, which carries their public
    # link token.
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        nick = fields.text("nick")
        assert nick is not None
        return cls(
            nick=nick,
            locked=bool(fields.flag("locked")),
            scheduled_end=parse_utc(fields.text("scheduled_end", required=False)),
            current_lock_start=parse_utc(fields.text("current_lock_start", required=False)),
            current_lock_time=fields.text("current_lock_time", required=False),
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
    games: Mapping[str, Any] | None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        games = fields.raw("games", False)
        return cls(
            id=fields.required_integer("id"),
            active=bool(fields.flag("active")),
            start=fields.text("start", required=False),
            scheduled_end=fields.text("scheduledend", required=False),
            locked_by=fields.text("lockedby", required=False),
            games=games if isinstance(games, Mapping) else None,
            extra=fields.extra(),
        )


@dataclass(frozen=True, slots=True)
class SessionPage:
    total: int
    limit: int
    offset: int
    items: tuple[SessionInfo, ...]

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        fields = _Fields(data, set())
        items = fields.raw("items", True)
        if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
            raise ParseError("field 'items' is not a list of objects")
        parsed = tuple(SessionInfo.parse(item) for item in items)
        return cls(
            total=fields.integer("total", required=False) or len(parsed),
            limit=fields.integer("limit", required=False) or len(parsed),
            offset=fields.integer("offset", required=False) or 0,
            items=parsed,
        )


PlayResult = DiceResult | LuckResult | LinkResult
RESULT_TYPES: dict[Game, type[DiceResult] | type[LuckResult] | type[LinkResult]] = {
    Game.DICE: DiceResult,
    Game.LUCK: LuckResult,
    Game.LINK: LinkResult,
}
