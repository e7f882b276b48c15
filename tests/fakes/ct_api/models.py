"""The fake's data: users, sessions, game configurations and what plays leave behind.

Times are timezone-aware UTC datetimes. Amounts of time are whole seconds.
Multipliers are kept as whole hundredths (``137`` for 1.37) so that the
arithmetic the contract describes ("a random two-decimal multiplier") is exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Final, Literal

Game = Literal["dice", "luck", "link"]
GAMES: Final[tuple[Game, ...]] = ("dice", "luck", "link")
HistoryType = Literal["START", "ADD", "SUB"]
HistorySource = Literal["DICE", "LUCK", "LINK", "PENALTY"]

UNIT_SECONDS: Final[dict[str, int]] = {"minute": 60, "hour": 3600, "day": 86400}

VOTE_WINDOW_SECONDS: Final = 24 * 3600
"""LINK waitint=1: a voter may vote again 24 hours after their previous vote."""


def unit_seconds(unit: str) -> int:
    try:
        return UNIT_SECONDS[unit]
    except KeyError:
        raise ValueError(f"unknown time unit {unit!r}; use one of {sorted(UNIT_SECONDS)}") from None


def hundredths(value: float) -> int:
    """A two-decimal multiplier as whole hundredths (1.37 -> 137)."""
    return round(value * 100)


def require_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")
    return moment.astimezone(UTC)


def format_utc(moment: datetime) -> str:
    """The API's datetime text: ``YYYY-MM-DD HH:MM:SS`` in UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def format_utc_millis(moment: datetime) -> str:
    """Histories' ``happened``: UTC with millisecond precision (``datetime(3)``)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%S.") + f"{utc.microsecond // 1000:03d}"


def _config_of(config: Any) -> dict[str, Any]:
    """A game config as the API shows it: every field but the fake's own switches."""
    return {f.name: getattr(config, f.name) for f in fields(config) if f.name not in _NOT_CONFIG}


_NOT_CONFIG: Final = frozenset({"enabled", "token"})


def _check_multipliers(minimum: float, maximum: float) -> None:
    if not 0 < hundredths(minimum) <= hundredths(maximum):
        raise ValueError("multipliers need 0 < minmultiplier <= maxmultiplier")


@dataclass
class DiceConfig:
    """DICE: roll ``dices`` dice; the total, in ``addunit`` units, times the multiplier.

    ``waitint``/``waitunit`` is the cooldown between two plays on the session
    (0 means none).
    """

    dices: int = 2
    addunit: str = "hour"
    waitint: int = 0
    waitunit: str = "hour"
    minmultiplier: float = 1.00
    maxmultiplier: float = 2.00
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.dices < 1:
            raise ValueError("DICE needs at least one die")
        unit_seconds(self.addunit)
        unit_seconds(self.waitunit)
        _check_multipliers(self.minmultiplier, self.maxmultiplier)

    @property
    def cooldown_seconds(self) -> int:
        return self.waitint * unit_seconds(self.waitunit)

    def as_config(self) -> dict[str, Any]:
        return _config_of(self)


@dataclass
class LuckConfig:
    """LUCK: add ``addint`` ``addunit`` or remove ``subint`` ``subunit``, times the multiplier."""

    addint: int = 1
    addunit: str = "hour"
    subint: int = 1
    subunit: str = "hour"
    waitint: int = 0
    waitunit: str = "hour"
    minmultiplier: float = 1.00
    maxmultiplier: float = 2.00
    enabled: bool = True

    def __post_init__(self) -> None:
        for unit in (self.addunit, self.subunit, self.waitunit):
            unit_seconds(unit)
        _check_multipliers(self.minmultiplier, self.maxmultiplier)

    @property
    def cooldown_seconds(self) -> int:
        return self.waitint * unit_seconds(self.waitunit)

    def as_config(self) -> dict[str, Any]:
        return _config_of(self)


@dataclass
class LinkConfig:
    """LINK: public votes through a shared ``token``, and dom plays.

    ``waitint`` is the vote cooldown: 0 = one vote ever per voter, 1 = again
    after 24 hours. ``token`` is generated when the session is added if left
    as None.
    """

    addint: int = 1
    addunit: str = "hour"
    subint: int = 1
    subunit: str = "hour"
    waitint: int = 0
    minmultiplier: float = 1.00
    maxmultiplier: float = 2.00
    enabled: bool = True
    token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.waitint not in (0, 1):
            raise ValueError("LINK waitint is 0 (vote once ever) or 1 (again after 24 h)")
        unit_seconds(self.addunit)
        unit_seconds(self.subunit)
        _check_multipliers(self.minmultiplier, self.maxmultiplier)

    @property
    def public_token(self) -> str:
        if self.token is None:
            raise RuntimeError("the LINK token is assigned when the session is added")
        return self.token

    def as_config(self) -> dict[str, Any]:
        return _config_of(self)


@dataclass(eq=False)
class FakeUser:
    """An account. ``token`` is its bearer token (fake, but kept out of repr all the same)."""

    id: int
    nick: str
    token: str = field(repr=False)
    revoked: bool = False
    profile_url: str | None = None
    since_date: datetime | None = None
    last_full: str | None = None
    last_ruined: str | None = None
    last_ted: str | None = None
    last_milking: str | None = None


@dataclass(eq=False)
class FakeSession:
    """A lock session. ``scheduled_end`` moves with every game play."""

    id: int
    owner: FakeUser
    active: bool
    start: datetime
    end: datetime | None
    scheduled_end: datetime | None
    inserted: datetime
    dice: DiceConfig | None = None
    luck: LuckConfig | None = None
    link: LinkConfig | None = None
    public: bool = True
    notes: str | None = None
    lockedby: str | None = None

    def config(self, game: Game) -> DiceConfig | LuckConfig | LinkConfig | None:
        if game == "dice":
            return self.dice
        if game == "luck":
            return self.luck
        return self.link


@dataclass(frozen=True)
class HistoryRow:
    """One change of a session's scheduled end; ``unit`` is the number of seconds."""

    session: int
    type: HistoryType
    unit: int | None
    source: HistorySource | None
    dom: int
    schedule: datetime | None
    happened: datetime
    sequence: int = field(compare=False)

    def as_item(self) -> dict[str, Any]:
        return {
            "session": self.session,
            "type": self.type,
            "unit": self.unit,
            "source": self.source,
            "dom": self.dom,
            "schedule": None if self.schedule is None else format_utc(self.schedule),
            "happened": format_utc_millis(self.happened),
        }


@dataclass(frozen=True)
class Vote:
    """A recorded LINK dom=0 voter. ``user`` is None for an anonymous vote."""

    token: str = field(repr=False)
    session: int
    user: int | None
    ip: str
    type: Literal["add", "sub", "rand"]
    operation: Literal["ADD", "SUB"]
    happened: datetime


@dataclass
class GameCounters:
    """``games.used`` / ``games.lastuse`` of one game on one session."""

    used: int = 0
    lastuse: datetime | None = None


@dataclass(frozen=True)
class RecordedResponse:
    """What the fake wrote back to a request, injected faults included."""

    status: int
    text: str

    @property
    def json(self) -> Any:
        """The parsed body, or None when it is empty or not valid JSON."""
        try:
            return json.loads(self.text) if self.text else None
        except ValueError:
            return None

    @property
    def data(self) -> Any:
        """``data`` of a success envelope; fails loudly on anything else."""
        body = self.json
        if not (isinstance(body, dict) and body.get("ok") is True):
            raise AssertionError(f"not a success envelope: {self.status} {self.text[:200]!r}")
        return body["data"]


class _AnswerSlot:
    """Where the answer lands once the request (recorded on arrival) has been handled."""

    def __init__(self) -> None:
        self.response: RecordedResponse | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """A request as it reached the fake, before any injected fault.

    ``headers`` has lower-case names. ``json`` is the parsed body, or None when
    the body is empty or not valid JSON; ``text`` is always the raw body.
    ``response`` is what the fake answered, once it has (None before that, and
    when the connection was dropped or hung up with nothing written).
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str] = field(repr=False)
    json: Any
    text: str
    remote: str
    time: datetime
    _answer: _AnswerSlot = field(default_factory=_AnswerSlot, init=False, repr=False, compare=False)

    @property
    def response(self) -> RecordedResponse | None:
        return self._answer.response

    def answered(self, response: RecordedResponse) -> None:
        """Record what the fake answered (the server calls this once it has)."""
        self._answer.response = response

    @property
    def bearer(self) -> str | None:
        """The bearer token sent, if the Authorization header had one."""
        scheme, _, value = self.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return value.strip() or None
