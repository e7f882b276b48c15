"""FakeChastityTracker: a real HTTP server on 127.0.0.1 that keeps the games contract.

Every answer, errors and unknown paths included, is the v2 envelope with the
matching status. Requests are recorded as they arrive, before any injected
fault, in ``requests``.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import random
import socket
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Final

from aiohttp import web

from tests.fakes.ct_api.auth import required_user
from tests.fakes.ct_api.clock import FakeClock
from tests.fakes.ct_api.envelope import ApiError, error_body, error_response, json_response, ok
from tests.fakes.ct_api.faults import Fault, FaultQueue, Handler, answer_with_fault
from tests.fakes.ct_api.games import (
    CooldownWording,
    GamesEndpoint,
    parse_json_object,
    require_json_content_type,
)
from tests.fakes.ct_api.models import (
    GAMES,
    DiceConfig,
    FakeSession,
    FakeUser,
    GameCounters,
    HistoryRow,
    LinkConfig,
    LuckConfig,
    RecordedRequest,
    RecordedResponse,
    Vote,
)
from tests.fakes.ct_api.readers import ReadEndpoints
from tests.fakes.ct_api.state import FakeState

GAMES_PATH: Final = "/api/v2/games.php"
STATS_PATH: Final = "/api/v2/stats.php"
SESSIONS_PATH: Final = "/api/v2/sessions.php"
HISTORIES_PATH: Final = "/api/v2/histories.php"
LOOPBACK: Final = "127.0.0.1"
LISTEN_BACKLOG: Final = 4096  # connections waiting to be accepted
DEFAULT_SCHEDULE: Final = timedelta(days=7)

_log = logging.getLogger(__name__)


class _Default(enum.Enum):
    SCHEDULE = enum.auto()


class FakeChastityTracker:
    """The Chastity Tracker API v2, in-process, for tests and local runs.

    Build state with ``add_user`` / ``add_session`` / ``link_dom`` ..., point a
    client at ``base_url``, then read what happened with ``histories``,
    ``votes``, ``game_counters`` and ``requests``. ``seed`` fixes every random
    draw (tokens, dice, multipliers, rand); the clock follows real time unless
    ``now`` freezes it, and ``advance`` moves it on either way.
    """

    def __init__(self, *, seed: int = 0, now: datetime | None = None, port: int = 0) -> None:
        self._clock = FakeClock(now)
        self.state = FakeState(seed=seed, clock=self._clock.now)
        self._games = GamesEndpoint(self.state, random.Random(f"{seed}-games"), self._clock.now)
        self._readers = ReadEndpoints(self.state, self._clock.now, lambda: self.base_url)
        self._faults = FaultQueue()
        self._requested_port = port
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._arrived = asyncio.Condition()
        self.requests: list[RecordedRequest] = []

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("already started")
        app = web.Application(middlewares=[self._record, self._inject_faults, self._envelope])
        app.router.add_route("*", GAMES_PATH, self._handle_games)
        app.router.add_route("*", STATS_PATH, self._handle_stats)
        app.router.add_route("*", SESSIONS_PATH, self._handle_sessions)
        app.router.add_route("*", HISTORIES_PATH, self._handle_histories)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # Cancelling a handler when its client hangs up makes a client timeout
        # during an injected delay/hang mean "not applied", as it would be.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((LOOPBACK, self._requested_port))
            # As a real web server would: a burst of new connections is not dropped.
            site = web.SockSite(runner, sock, backlog=LISTEN_BACKLOG)
            await site.start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._runner = runner
        self._stopping.clear()

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeChastityTracker:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def wait_for_requests(
        self, count: int = 1, *, path: str | None = None
    ) -> list[RecordedRequest]:
        """Wait until ``count`` requests (to ``path``, if given) have arrived; return them."""

        def matching() -> list[RecordedRequest]:
            return [r for r in self.requests if path is None or r.path == path]

        async with self._arrived:
            await self._arrived.wait_for(lambda: len(matching()) >= count)
        return matching()

    async def wait_idle(self) -> None:
        """Return once no request is being handled (a hung one counts until its client leaves)."""
        await self._idle.wait()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake is not started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    # --- clock ------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self._clock.now()

    def advance(self, delta: timedelta) -> None:
        self._clock.advance(delta)

    # --- state builders ---------------------------------------------------------

    def add_user(self, nick: str, token: str | None = None) -> FakeUser:
        return self.state.add_user(nick, token)

    def add_session(
        self,
        owner: FakeUser,
        *,
        active: bool = True,
        scheduled_end: datetime | _Default | None = _Default.SCHEDULE,
        start: datetime | None = None,
        dice: DiceConfig | None = None,
        luck: LuckConfig | None = None,
        link: LinkConfig | None = None,
        public: bool = True,
        notes: str | None = None,
        lockedby: str | None = None,
    ) -> FakeSession:
        """A session with ids from 100 up; scheduled end defaults to a week from now."""
        if scheduled_end is _Default.SCHEDULE:
            scheduled_end = self.now + DEFAULT_SCHEDULE
        return self.state.add_session(
            owner,
            active=active,
            scheduled_end=scheduled_end,
            start=start,
            dice=dice,
            luck=luck,
            link=link,
            public=public,
            notes=notes,
            lockedby=lockedby,
        )

    def end_session(self, session: FakeSession) -> None:
        self.state.end_session(session)

    def link_dom(self, dom: FakeUser, owner: FakeUser) -> None:
        """``dom`` becomes the active dom of ``owner``."""
        self.state.link_dom(dom, owner)

    def unlink_dom(self, dom: FakeUser, owner: FakeUser) -> None:
        self.state.unlink_dom(dom, owner)

    def revoke(self, user: FakeUser) -> None:
        """The user's bearer token stops working."""
        self.state.revoke(user)

    def regenerate_token(self, user: FakeUser) -> str:
        return self.state.regenerate_token(user)

    # --- state accessors --------------------------------------------------------

    def session(self, session_id: int) -> FakeSession:
        return self.state.sessions[session_id]

    def histories(self, session_id: int) -> list[HistoryRow]:
        """The session's history rows, newest first (the API's order), START row included."""
        return self.state.history_of(session_id)

    @property
    def votes(self) -> list[Vote]:
        return list(self.state.votes)

    def game_counters(self, session_id: int, game: str) -> GameCounters:
        """A copy of ``used`` / ``lastuse`` for ``game`` (dice, luck or link, any case)."""
        name = game.lower()
        for known in GAMES:
            if known == name:
                counters = self.state.counters_of(session_id, known)
                return GameCounters(used=counters.used, lastuse=counters.lastuse)
        raise ValueError(f"unknown game {game!r}")

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    @property
    def cooldown_wording(self) -> CooldownWording:
        """The code and text of a cooldown refusal (default: 400 ``COOLDOWN``)."""
        return self._games.cooldown_wording

    @cooldown_wording.setter
    def cooldown_wording(self, wording: CooldownWording) -> None:
        self._games.cooldown_wording = wording

    # --- faults -----------------------------------------------------------------

    def inject(self, fault: Fault | str, *, path: str = GAMES_PATH, times: int | None = 1) -> None:
        """The next ``times`` requests to ``path`` get ``fault`` (None: every one until cleared)."""
        chosen = Fault.named(fault) if isinstance(fault, str) else fault
        self._faults.add(chosen, path, times)

    def clear_faults(self) -> None:
        self._faults.clear()

    # --- HTTP -------------------------------------------------------------------

    @web.middleware
    async def _record(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        raw = await request.read()
        text = raw.decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(text) if text else None
        except ValueError:
            body = None
        recorded = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query.items()),
            headers={name.lower(): value for name, value in request.headers.items()},
            json=body,
            text=text,
            remote=request.remote or "",
            time=self.now,
        )
        self.requests.append(recorded)
        async with self._arrived:
            self._arrived.notify_all()
        self._in_flight += 1
        self._idle.clear()
        try:
            response = await handler(request)
            _record_answer(recorded, request, response)
            return response
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    @web.middleware
    async def _inject_faults(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        fault = self._faults.take(request.path)
        if fault is None:
            return await handler(request)
        return await answer_with_fault(fault, request, handler, self._stopping)

    @web.middleware
    async def _envelope(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as error:
            return error_response(error)
        except web.HTTPException as error:
            return json_response(
                error_body(f"HTTP_{error.status}", error.reason), status=error.status
            )
        except Exception:
            _log.exception("fake Chastity Tracker failed on %s %s", request.method, request.path)
            return json_response(error_body("INTERNAL_ERROR", "Internal server error."), status=500)

    @staticmethod
    def _allow(request: web.Request, method: str) -> None:
        if request.method != method:
            raise ApiError(
                405,
                "METHOD_NOT_ALLOWED",
                f"Method {request.method} is not allowed here; use {method}.",
                headers={"Allow": method},
            )

    async def _handle_games(self, request: web.Request) -> web.StreamResponse:
        self._allow(request, "POST")
        require_json_content_type(request.headers.get("Content-Type"))
        body = parse_json_object(await request.read())
        data = self._games.play(body, request.headers.get("Authorization"), request.remote or "")
        return ok(data)

    async def _handle_stats(self, request: web.Request) -> web.StreamResponse:
        self._allow(request, "GET")
        user = required_user(self.state, request.headers.get("Authorization"))
        return ok(self._readers.stats(user))

    async def _handle_sessions(self, request: web.Request) -> web.StreamResponse:
        self._allow(request, "GET")
        user = required_user(self.state, request.headers.get("Authorization"))
        return ok(self._readers.sessions(user, dict(request.query.items())))

    async def _handle_histories(self, request: web.Request) -> web.StreamResponse:
        self._allow(request, "GET")
        user = required_user(self.state, request.headers.get("Authorization"))
        return ok(self._readers.histories(user, dict(request.query.items())))

    async def _handle_unknown(self, request: web.Request) -> web.StreamResponse:
        raise ApiError(404, "NOT_FOUND", f"No endpoint at {request.path}.")


def _record_answer(
    recorded: RecordedRequest, request: web.Request, response: web.StreamResponse
) -> None:
    # A dropped connection returns a placeholder response that is never written.
    if request.transport is None or request.transport.is_closing():
        return
    if isinstance(response, web.Response) and isinstance(response.body, bytes):
        recorded.answered(
            RecordedResponse(response.status, response.body.decode("utf-8", errors="replace"))
        )


__all__ = ["GAMES_PATH", "HISTORIES_PATH", "SESSIONS_PATH", "STATS_PATH", "FakeChastityTracker"]
