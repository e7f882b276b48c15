"""POST /api/v2/games.php: validation, permissions, cooldowns and the three games.

Checks run in this order, and the first failure answers:

0. ``Content-Type: application/json`` (a charset parameter is fine), as every
   request in the contract sends it (400 INVALID_CONTENT_TYPE). The real
   service may be laxer; a client that leaves the header out finds out here;
1. body is a JSON object (400 INVALID_JSON);
2. ``game`` in dice|luck|link and ``dom`` the integer 0 or 1 (400 VALIDATION_ERROR);
3. Authorization: a present header must be a valid bearer (401), and one is
   required except for a LINK dom=0 vote (401);
4. ``session`` (positive integer; required for DICE, LUCK and LINK dom=1),
   ``token`` (non-empty string; required for LINK dom=0), ``type`` (add|sub|rand;
   required for LINK) (400 VALIDATION_ERROR). Fields a mode does not use are ignored;
5. the session, or for LINK dom=0 the link token, exists (404). A LINK dom=0
   vote that also names a ``session`` other than the token's is a 404 too:
   there is no such link on that session;
6. permission: DICE/LUCK dom=0 by the owner only; dom=1 by a user with an
   active dom link to the owner (403);
7. the session is active, the game is enabled, the session has a scheduled
   end (400);
8. cooldowns (400, code COOLDOWN unless ``cooldown_wording`` says otherwise:
   the contract names no code): DICE/LUCK ``waitint``/``waitunit`` since the
   session's last play of that game; LINK dom=0 votes per voter (``waitint`` 0:
   once ever, 1: again after 24 h). Logged voters are keyed by (token, session,
   user) whatever their address; anonymous ones by (token, session, ip).

A successful play moves the scheduled end, inserts one histories row (source
DICE, LUCK or LINK; PENALTY for a penalty) and, except for a penalty, updates
the game's ``used``/``lastuse`` (LINK dom=1 plays included). A LINK dom=0 vote
also records its voter, except a penalty. Penalty: a LINK dom=0 request whose
bearer is the session owner; type forced to add, multiplier forced to
``maxmultiplier``, ``penalty: 1``; with no voter row kept it is never held back
by the vote cooldown. A refused request changes nothing.

Amounts: ``time`` is the amount before the multiplier (DICE: |sum| x addunit;
LUCK/LINK: int x unit), ``seconds`` = time x multiplier rounded half up, and
the scheduled end moves by ``seconds``. The multiplier is a random two-decimal
value between min and max multiplier, inclusive.

Integers are JSON integers only: ``"1"``, ``1.0`` and ``true`` are refused, as
a strict PHP backend comparing with ``===`` would.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from tests.fakes.ct_api.auth import UNAUTHORIZED, bearer_user
from tests.fakes.ct_api.envelope import ApiError
from tests.fakes.ct_api.models import (
    GAMES,
    VOTE_WINDOW_SECONDS,
    DiceConfig,
    FakeSession,
    FakeUser,
    Game,
    HistorySource,
    LinkConfig,
    LuckConfig,
    Vote,
    format_utc,
    hundredths,
    unit_seconds,
)
from tests.fakes.ct_api.state import FakeState

Operation = Literal["ADD", "SUB"]
VoteType = Literal["add", "sub", "rand"]
VOTE_TYPES: tuple[VoteType, ...] = ("add", "sub", "rand")

INVALID_CONTENT_TYPE = "INVALID_CONTENT_TYPE"
INVALID_JSON = "INVALID_JSON"
VALIDATION_ERROR = "VALIDATION_ERROR"
FORBIDDEN = "FORBIDDEN"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
LINK_NOT_FOUND = "LINK_NOT_FOUND"
SESSION_INACTIVE = "SESSION_INACTIVE"
GAME_DISABLED = "GAME_DISABLED"
NO_SCHEDULED_END = "NO_SCHEDULED_END"
COOLDOWN = "COOLDOWN"


@dataclass(frozen=True)
class CooldownWording:
    """How a cooldown refusal is worded. The contract documents only "400 Bad Request -
    Validation error (missing fields, cooldown, etc.)": the real code and text are unknown.

    ``message`` replaces every default text; ``{game}`` (DICE, LUCK, LINK) and ``{wait}``
    (the time left, "23 h 59 min"; "" for a vote allowed once ever) are filled in.
    """

    code: str = COOLDOWN
    message: str | None = None

    def refusal(self, default: str, *, game: Game, wait: str = "") -> ApiError:
        text = default if self.message is None else self.message
        return ApiError(400, self.code, text.format(game=game.upper(), wait=wait))


def require_json_content_type(content_type: str | None) -> None:
    """400 unless the request says its body is ``application/json``."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        raise ApiError(
            400,
            INVALID_CONTENT_TYPE,
            "The request must be sent with Content-Type: application/json.",
        )


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 400."""
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, INVALID_JSON, "The request body is not valid JSON.") from None
    if not isinstance(value, dict):
        raise ApiError(400, INVALID_JSON, "The request body must be a JSON object.")
    return value


def _reject_constant(name: str) -> float:
    # NaN and Infinity are not JSON; PHP's json_decode refuses them too.
    raise ValueError(name)


def _is_int(value: object) -> bool:
    return type(value) is int


def _invalid(message: str) -> ApiError:
    return ApiError(400, VALIDATION_ERROR, message)


@dataclass(frozen=True)
class PlayRequest:
    game: Game
    dom: int
    session: int | None
    token: str | None
    type: VoteType | None

    @property
    def is_public_vote(self) -> bool:
        return self.game == "link" and self.dom == 0


def read_mode(body: dict[str, Any]) -> tuple[Game, int]:
    game = body.get("game")
    if game is None:
        raise _invalid("Field 'game' is required (dice, luck or link).")
    if game not in GAMES:
        raise _invalid("Field 'game' must be one of: dice, luck, link.")
    dom = body.get("dom")
    if dom is None:
        raise _invalid("Field 'dom' is required (0 or 1).")
    if not _is_int(dom) or dom not in (0, 1):
        raise _invalid("Field 'dom' must be the integer 0 or 1.")
    return game, dom


def read_fields(body: dict[str, Any], game: Game, dom: int) -> PlayRequest:
    public_vote = game == "link" and dom == 0
    session = body.get("session")
    if session is None and not public_vote:
        raise _invalid("Field 'session' is required.")
    if session is not None and (not _is_int(session) or session < 1):
        raise _invalid("Field 'session' must be a positive integer.")
    token: str | None = None
    if public_vote:
        raw_token = body.get("token")
        if raw_token is None:
            raise _invalid("Field 'token' is required for a public LINK vote (dom=0).")
        if not isinstance(raw_token, str) or not raw_token.strip():
            raise _invalid("Field 'token' must be a non-empty string.")
        token = raw_token
    vote_type: VoteType | None = None
    if game == "link":
        raw_type = body.get("type")
        if raw_type is None:
            raise _invalid("Field 'type' is required for LINK (add, sub or rand).")
        if raw_type not in VOTE_TYPES:
            raise _invalid("Field 'type' must be one of: add, sub, rand.")
        vote_type = raw_type
    return PlayRequest(game=game, dom=dom, session=session, token=token, type=vote_type)


@dataclass(frozen=True)
class Outcome:
    operation: Operation
    time: int
    multiplier: int
    """Whole hundredths."""

    @property
    def seconds(self) -> int:
        return (self.time * self.multiplier + 50) // 100

    @property
    def multiplier_value(self) -> float:
        return self.multiplier / 100


def describe_wait(seconds: float) -> str:
    """A short human duration for cooldown messages ("23 h 59 min")."""
    seconds = max(math.ceil(seconds), 1)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else ""]
    parts.append(f"{minutes} min" if minutes else "")
    if not (days or hours or minutes):
        parts.append(f"{secs} s")
    return " ".join(part for part in parts if part)


class GamesEndpoint:
    """Plays one request against the state. Never awaits, so each play is atomic."""

    def __init__(self, state: FakeState, rng: random.Random, clock: Callable[[], datetime]) -> None:
        self._state = state
        self._rng = rng
        self._clock = clock
        self.cooldown_wording = CooldownWording()

    def play(self, body: dict[str, Any], authorization: str | None, ip: str) -> dict[str, Any]:
        game, dom = read_mode(body)
        user = bearer_user(self._state, authorization)
        if user is None and not (game == "link" and dom == 0):
            raise ApiError(401, UNAUTHORIZED, f"A bearer token is required for {game.upper()}.")
        request = read_fields(body, game, dom)
        session = self._resolve_session(request)
        self._check_permission(request, session, user)
        config = self._check_playable(request.game, session)
        now = self._clock()
        if isinstance(config, DiceConfig):
            return self._play_dice(request, session, config, now)
        if isinstance(config, LuckConfig):
            return self._play_luck(request, session, config, now)
        return self._play_link(request, session, config, user=user, ip=ip, now=now)

    # --- checks -------------------------------------------------------------

    def _resolve_session(self, request: PlayRequest) -> FakeSession:
        if request.is_public_vote:
            assert request.token is not None
            session = self._state.find_link(request.token)
            if session is None:
                raise ApiError(404, LINK_NOT_FOUND, "No LINK game was found for that token.")
            if request.session is not None and request.session != session.id:
                raise ApiError(
                    404,
                    LINK_NOT_FOUND,
                    f"No LINK game with that token on session {request.session}.",
                )
            return session
        assert request.session is not None
        found = self._state.sessions.get(request.session)
        if found is None:
            raise ApiError(404, SESSION_NOT_FOUND, f"Session {request.session} was not found.")
        return found

    def _check_permission(
        self, request: PlayRequest, session: FakeSession, user: FakeUser | None
    ) -> None:
        if request.is_public_vote:
            return
        assert user is not None
        if request.dom == 0 and user is not session.owner:
            raise ApiError(
                403,
                FORBIDDEN,
                f"Only the session owner can play {request.game.upper()} with dom=0.",
            )
        if request.dom == 1 and not self._state.is_dom_of(user, session.owner):
            raise ApiError(
                403, FORBIDDEN, "Permission denied: you are not the dom of this session's owner."
            )

    def _check_playable(
        self, game: Game, session: FakeSession
    ) -> DiceConfig | LuckConfig | LinkConfig:
        if not session.active:
            raise ApiError(400, SESSION_INACTIVE, f"Session {session.id} is not active.")
        config = session.config(game)
        if config is None or not config.enabled:
            raise ApiError(
                400,
                GAME_DISABLED,
                f"The {game.upper()} game is not enabled on session {session.id}.",
            )
        if session.scheduled_end is None:
            raise ApiError(
                400, NO_SCHEDULED_END, f"Session {session.id} has no scheduled end to change."
            )
        return config

    def _check_play_cooldown(
        self, game: Game, session: FakeSession, cooldown: int, now: datetime
    ) -> None:
        lastuse = self._state.counters_of(session.id, game).lastuse
        if cooldown <= 0 or lastuse is None:
            return
        ready = lastuse + timedelta(seconds=cooldown)
        if now < ready:
            wait = describe_wait((ready - now).total_seconds())
            raise self.cooldown_wording.refusal(
                "{game} was played recently: you can play again in {wait}.", game=game, wait=wait
            )

    def _check_vote_cooldown(
        self, link: LinkConfig, session: FakeSession, user: FakeUser | None, ip: str, now: datetime
    ) -> None:
        previous = self._last_vote(link.public_token, session.id, user, ip)
        if previous is None:
            return
        if link.waitint == 0:
            raise self.cooldown_wording.refusal("You have already voted on this lock.", game="link")
        ready = previous.happened + timedelta(seconds=VOTE_WINDOW_SECONDS)
        if now < ready:
            wait = describe_wait((ready - now).total_seconds())
            raise self.cooldown_wording.refusal(
                "You have already voted: you can vote again in {wait}.", game="link", wait=wait
            )

    def _last_vote(
        self, token: str, session_id: int, user: FakeUser | None, ip: str
    ) -> Vote | None:
        def same_voter(vote: Vote) -> bool:
            if vote.token != token or vote.session != session_id:
                return False
            if user is not None:
                return vote.user == user.id
            return vote.user is None and vote.ip == ip

        votes = [vote for vote in self._state.votes if same_voter(vote)]
        return max(votes, key=lambda vote: vote.happened, default=None)

    # --- games --------------------------------------------------------------

    def _multiplier(self, minimum: float, maximum: float) -> int:
        return self._rng.randint(hundredths(minimum), hundredths(maximum))

    def _random_operation(self) -> Operation:
        return self._rng.choice(("ADD", "SUB"))

    def _apply(
        self,
        session: FakeSession,
        outcome: Outcome,
        *,
        dom: int,
        source: HistorySource,
        now: datetime,
    ) -> None:
        assert session.scheduled_end is not None
        signed = outcome.seconds if outcome.operation == "ADD" else -outcome.seconds
        session.scheduled_end += timedelta(seconds=signed)
        self._state.add_history(
            session=session.id,
            type=outcome.operation,
            unit=outcome.seconds,
            source=source,
            dom=dom,
            schedule=session.scheduled_end,
            happened=now,
        )

    def _count_use(self, session: FakeSession, game: Game, now: datetime) -> None:
        counters = self._state.counters_of(session.id, game)
        counters.used += 1
        counters.lastuse = now

    def _common(
        self, request: PlayRequest, session: FakeSession, outcome: Outcome
    ) -> dict[str, Any]:
        assert session.scheduled_end is not None
        return {
            "multiplier": outcome.multiplier_value,
            "seconds": outcome.seconds,
            "dom": request.dom,
            "scheduledend_utc": format_utc(session.scheduled_end),
            "session": session.id,
        }

    def _play_dice(
        self, request: PlayRequest, session: FakeSession, config: DiceConfig, now: datetime
    ) -> dict[str, Any]:
        self._check_play_cooldown("dice", session, config.cooldown_seconds, now)
        faces = [self._rng.randint(1, 6) for _ in range(config.dices)]
        # The first die is always added; each further one is added or subtracted.
        ops = ["", *(self._rng.choice(("", "s")) for _ in faces[1:])]
        total = sum(-face if op == "s" else face for face, op in zip(faces, ops, strict=True))
        calc = "".join(
            f"{'-' if op == 's' else '+'}{face}" for face, op in zip(faces, ops, strict=True)
        )
        outcome = Outcome(
            operation=self._random_operation(),
            time=abs(total) * unit_seconds(config.addunit),
            multiplier=self._multiplier(config.minmultiplier, config.maxmultiplier),
        )
        self._apply(session, outcome, dom=request.dom, source="DICE", now=now)
        self._count_use(session, "dice", now)
        common = self._common(request, session, outcome)
        return {
            "game": "dice",
            "operation": outcome.operation,
            "time": outcome.time,
            "sum": total,
            "dices": faces,
            "dicesops": ops,
            "calc": calc,
            "multiplier": common["multiplier"],
            "seconds": common["seconds"],
            "dom": common["dom"],
            "scheduledend_utc": common["scheduledend_utc"],
            "session": common["session"],
        }

    def _play_luck(
        self, request: PlayRequest, session: FakeSession, config: LuckConfig, now: datetime
    ) -> dict[str, Any]:
        self._check_play_cooldown("luck", session, config.cooldown_seconds, now)
        operation = self._random_operation()
        amount, unit = (
            (config.addint, config.addunit)
            if operation == "ADD"
            else (config.subint, config.subunit)
        )
        outcome = Outcome(
            operation=operation,
            time=amount * unit_seconds(unit),
            multiplier=self._multiplier(config.minmultiplier, config.maxmultiplier),
        )
        self._apply(session, outcome, dom=request.dom, source="LUCK", now=now)
        self._count_use(session, "luck", now)
        common = self._common(request, session, outcome)
        return {
            "game": "luck",
            "operation": outcome.operation,
            "time": outcome.time,
            "int": amount,
            "multiplier": common["multiplier"],
            "seconds": common["seconds"],
            "dom": common["dom"],
            "scheduledend_utc": common["scheduledend_utc"],
            "session": common["session"],
        }

    def _play_link(
        self,
        request: PlayRequest,
        session: FakeSession,
        config: LinkConfig,
        *,
        user: FakeUser | None,
        ip: str,
        now: datetime,
    ) -> dict[str, Any]:
        assert request.type is not None
        penalty = request.is_public_vote and user is session.owner
        if request.is_public_vote and not penalty:
            self._check_vote_cooldown(config, session, user, ip, now)
        operation: Operation
        if penalty or request.type == "add":
            operation = "ADD"
        elif request.type == "sub":
            operation = "SUB"
        else:
            operation = self._random_operation()
        amount, unit = (
            (config.addint, config.addunit)
            if operation == "ADD"
            else (config.subint, config.subunit)
        )
        multiplier = (
            hundredths(config.maxmultiplier)
            if penalty
            else self._multiplier(config.minmultiplier, config.maxmultiplier)
        )
        outcome = Outcome(
            operation=operation, time=amount * unit_seconds(unit), multiplier=multiplier
        )
        self._apply(
            session, outcome, dom=request.dom, source="PENALTY" if penalty else "LINK", now=now
        )
        # A penalty is not a vote: no voter row, and the LINK counters stay as they were.
        if not penalty:
            self._count_use(session, "link", now)
        if request.is_public_vote and not penalty:
            self._state.votes.append(
                Vote(
                    token=config.public_token,
                    session=session.id,
                    user=None if user is None else user.id,
                    ip=ip,
                    type=request.type,
                    operation=operation,
                    happened=now,
                )
            )
        common = self._common(request, session, outcome)
        return {
            "game": "link",
            "operation": outcome.operation,
            "multiplier": common["multiplier"],
            "time": outcome.time,
            "unit": unit,
            "int": amount,
            "seconds": common["seconds"],
            "dom": common["dom"],
            "scheduledend_utc": common["scheduledend_utc"],
            "session": common["session"],
            "penalty": 1 if penalty else None,
        }
