"""Async client for the Chastity Tracker v2 API (games, stats, sessions).

One shared ``httpx.AsyncClient`` (HTTP/2, connection reuse), at most
``MAX_CONNECTIONS`` connections, all kept open between requests, and at most as
many requests in flight: the rest wait their turn in front of the pool. The retry rule is
the heart of this module: a game POST is sent at most once unless the
connection demonstrably never carried it (``NotSent``) or the server refused
it outright with 429. Anything after that point is ``OutcomeUnknown``.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ipaddress
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from email.utils import parsedate_to_datetime
from typing import Any, Final, TypeVar

import httpx

from bot import __version__
from bot.ctapi.errors import (
    ChastityTrackerError,
    InvalidRequest,
    MalformedResponse,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Redirected,
    ServerError,
    ServerErrorPage,
    error_for_code,
    error_for_status,
)
from bot.ctapi.histories import HistoryPage
from bot.ctapi.models import (
    RESULT_TYPES,
    Choice,
    DiceResult,
    Game,
    GameRequest,
    LinkResult,
    LuckResult,
    ParseError,
    PlayResult,
    SessionPage,
    Stats,
)
from bot.secrets import Secret

log = logging.getLogger(__name__)

GAMES_PATH: Final = "/api/v2/games.php"
STATS_PATH: Final = "/api/v2/stats.php"
SESSIONS_PATH: Final = "/api/v2/sessions.php"
HISTORIES_PATH: Final = "/api/v2/histories.php"
DEFAULT_USER_AGENT: Final = f"ChastityTrackerDiscordBot/{__version__} (discord.py)"

# Failures that happen before a byte of the request could reach the server.
# LocalProtocolError is not one of them: over HTTP/2, httpcore reports any h2
# protocol error as "local", including one raised while reading the answer to
# a request that was sent long before.
_NOT_SENT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
)
# What a bearer token may contain to be sent as a header value at all: visible
# ASCII. Anything else would fail inside the HTTP stack, or reach the server
# as a malformed request, with no way to tell whether it was sent.
_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")
# Connections to Chastity Tracker, whatever the crowd. All of them stay open between
# requests: with fewer kept alive than opened, httpcore closes an idle connection as
# soon as more than that many exist, so a burst would reconnect over and over.
# Twenty carry 100 plays a second at 200 ms each; more cost CPU for every request,
# as httpcore's pool compares each idle connection with all the others whenever a
# request comes or goes (quadratic in the connections).
MAX_CONNECTIONS: Final = 20
# Longest Retry-After the client waits out by itself; longer ones are raised.
_MAX_RETRY_AFTER: Final = 10.0
# Statuses that mean "refused" even without a v2 envelope (a web server's own
# 401 page, say): the request was not carried out.
_REFUSALS: Final = frozenset({400, 401, 403, 404, 405})

Sleep = Callable[[float], Awaitable[None]]
_T = TypeVar("_T")


class ChastityTrackerClient:
    """The bot's only way to talk to Chastity Tracker. Knows nothing of Discord."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        *,
        user_agent: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        attempts: int = 3,
        backoff: float = 0.25,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._http = httpx.AsyncClient(
            base_url=base_url,
            http2=True,
            timeout=httpx.Timeout(timeout),
            limits=httpx.Limits(
                max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS
            ),
            headers={
                "User-Agent": user_agent or DEFAULT_USER_AGENT,
                "Accept": "application/json",
            },
            transport=transport,
            follow_redirects=False,
            # One client serves every member: a cookie one answer sets must never
            # ride along on another member's request (or make an anonymous vote
            # look logged), so no cookie is ever kept.
            cookies=_no_cookies(),
            # Raised as soon as a redirect arrives: httpx would otherwise go on to
            # build the next request from the Location header, and fail on a
            # malformed one as if the answer had been lost.
            event_hooks={"response": [_refuse_redirect]},
        )
        # The site requires HTTPS (plain http gets a 301, after the token has already
        # gone out in clear). Plain http to another machine is still allowed - an
        # operator may run a proxy or a test server on a private network - but said
        # loudly once, at start.
        if transport is None and _sends_in_clear(self._http.base_url):
            log.warning(
                "CT_API_BASE_URL uses plain http to another machine: API tokens will "
                "travel unencrypted; use https:// unless this network is trusted"
            )
        self._attempts = max(1, attempts)
        self._backoff = backoff
        self._sleep = sleep
        self._slot_timeout = timeout
        # httpcore re-examines every request queued in its pool against every
        # connection each time one is taken or given back: quadratic under a crowd.
        # Requests wait for a slot here instead, so the pool never holds a queue.
        self._slots = asyncio.Semaphore(MAX_CONNECTIONS)

    def __repr__(self) -> str:
        return f"ChastityTrackerClient(base_url={str(self._http.base_url)!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ChastityTrackerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- games ---------------------------------------------------------------

    async def play(self, request: GameRequest, bearer: Secret | None) -> PlayResult:
        """Send one game action. Checked against the contract first; never resent once sent."""
        problem = request.validate()
        if problem is None and bearer is None and (request.game is not Game.LINK or request.dom):
            problem = f"a bearer token is required for {request.game.value}" + (
                " as dom" if request.dom else ""
            )
        if problem is not None:
            raise InvalidRequest(problem)
        data = await self._request(
            "POST", GAMES_PATH, bearer=bearer, json=request.body(), may_resend=False
        )
        try:
            return RESULT_TYPES[request.game].parse(data)
        except ParseError as error:
            raise MalformedResponse(200, str(error)) from None

    async def play_dice(self, bearer: Secret, session: int, *, as_dom: bool = False) -> DiceResult:
        result = await self.play(GameRequest(Game.DICE, as_dom, session), bearer)
        return _expect(result, DiceResult)

    async def play_luck(self, bearer: Secret, session: int, *, as_dom: bool = False) -> LuckResult:
        result = await self.play(GameRequest(Game.LUCK, as_dom, session), bearer)
        return _expect(result, LuckResult)

    async def play_link_as_dom(self, bearer: Secret, session: int, choice: Choice) -> LinkResult:
        result = await self.play(GameRequest(Game.LINK, True, session, choice=choice), bearer)
        return _expect(result, LinkResult)

    async def vote_link(
        self,
        link_token: Secret,
        choice: Choice,
        *,
        bearer: Secret | None = None,
        session: int | None = None,
    ) -> LinkResult:
        """A public LINK vote (dom=0): anonymous without ``bearer``, logged with it."""
        request = GameRequest(Game.LINK, False, session, link_token=link_token, choice=choice)
        return _expect(await self.play(request, bearer), LinkResult)

    # -- reads -----------------------------------------------------------------

    async def stats(self, bearer: Secret) -> Stats:
        """The token owner's stats; doubles as the token check (401 when refused)."""
        data = await self._request("GET", STATS_PATH, bearer=bearer, may_resend=True)
        return _parse(Stats.parse, data)

    async def sessions(
        self, bearer: Secret, *, active: bool | None = None, limit: int = 50, offset: int = 0
    ) -> SessionPage:
        params: dict[str, int] = {"limit": max(1, min(limit, 200)), "offset": max(0, offset)}
        if active is not None:
            params["active"] = int(active)
        data = await self._request(
            "GET", SESSIONS_PATH, bearer=bearer, params=params, may_resend=True
        )
        return _parse(SessionPage.parse, data)

    async def histories(
        self, bearer: Secret, session: int, *, limit: int = 200, cursor: str | None = None
    ) -> HistoryPage:
        """One page of a session's scheduled-end changes, newest first (owner only)."""
        params: dict[str, int | str] = {"session": session, "limit": max(1, min(limit, 200))}
        if cursor:
            params["cursor"] = cursor
        data = await self._request(
            "GET", HISTORIES_PATH, bearer=bearer, params=params, may_resend=True
        )
        return _parse(HistoryPage.parse, data)

    # -- transport ---------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        *,
        bearer: Secret | None,
        may_resend: bool,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, int | str] | None = None,
    ) -> Mapping[str, Any]:
        """One logical request with the retry rule applied.

        ``may_resend`` is true only for reads: they may be repeated after a lost
        answer or a 429 (after its Retry-After). Writes are repeated only when the
        request never left (NotSent): a 429 to a game POST reached the server, so
        it is raised with its Retry-After for the member to act on.
        """
        headers = {"Content-Type": "application/json"}
        if bearer is not None:
            headers["Authorization"] = _authorization(bearer)
        for attempt in range(1, self._attempts + 1):
            last = attempt == self._attempts
            started = time.monotonic()
            try:
                async with self._slot():
                    response = await self._http.request(
                        method, path, headers=headers, json=json, params=params
                    )
            except Redirected:
                # An answer, not a lost one: nothing was applied, and it is not retried.
                raise
            except _NOT_SENT as error:
                log.warning("%s %s not sent (attempt %d): %s", method, path, attempt, _kind(error))
                if last:
                    raise NotSent(
                        f"could not connect to Chastity Tracker ({_kind(error)})"
                    ) from None
                await self._sleep(self._delay(attempt))
                continue
            except Exception as error:
                # Anything else may have happened after the request left: a timeout, a
                # lost connection, a protocol error (over HTTP/2 also h2's own exceptions,
                # which httpx lets through while the answer's body streams), a body that
                # cannot be decoded. The outcome is unknown, so a write is not repeated.
                log.warning(
                    "%s %s lost after sending: %s",
                    method,
                    path,
                    _kind(error),
                    # httpx's own failures are expected; a traceback helps with the rest.
                    exc_info=not isinstance(error, httpx.HTTPError),
                )
                if may_resend and not last:
                    await self._sleep(self._delay(attempt))
                    continue
                raise OutcomeUnknown(
                    f"no answer from Chastity Tracker after sending ({_kind(error)})"
                ) from None
            # One line per request is detail, not news: DEBUG, so INFO stays readable.
            log.debug(
                "%s %s -> %d in %.0f ms",
                method,
                path,
                response.status_code,
                (time.monotonic() - started) * 1000,
            )
            try:
                return _decode(response)
            except RateLimited as error:
                wait = error.retry_after if error.retry_after is not None else self._delay(attempt)
                if not may_resend or last or wait > _MAX_RETRY_AFTER:
                    raise
                await self._sleep(wait)
            except ServerError:
                if not may_resend or last:
                    raise
                await self._sleep(self._delay(attempt))
        raise AssertionError("unreachable: the last attempt always returns or raises")

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """A place among the requests in flight; waiting too long counts as not sent."""
        try:
            if self._slots.locked():
                async with asyncio.timeout(self._slot_timeout):
                    await self._slots.acquire()
            else:
                await self._slots.acquire()  # free: returns at once
        except TimeoutError:
            # As httpx's own pool would say it: nothing left, so a write may be retried.
            raise httpx.PoolTimeout("no free connection slot") from None
        try:
            yield
        finally:
            self._slots.release()

    def _delay(self, attempt: int) -> float:
        # Exponential backoff with jitter so many members do not retry in step.
        return float(self._backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))


async def _refuse_redirect(response: httpx.Response) -> None:
    if 300 <= response.status_code < 400:
        log.warning(
            "%s %s -> %d (redirect not followed)",
            response.request.method,
            response.request.url.path,
            response.status_code,
        )
        raise Redirected(response.status_code, _origin(response.headers.get("Location")))


def _decode(response: httpx.Response) -> Mapping[str, Any]:
    """The envelope's ``data``, or the matching typed error."""
    status = response.status_code
    if 300 <= status < 400:
        raise Redirected(status, _origin(response.headers.get("Location")))
    try:
        payload = response.json()
    except ValueError:
        # Not JSON at all: an empty body, an HTML error page, a cut-off answer.
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("ok"), bool):
        if payload["ok"]:
            data = payload.get("data")
            if not 200 <= status < 300 or not isinstance(data, dict):
                raise MalformedResponse(status, "a success envelope without data")
            return data
        code, message = _error_fields(payload.get("error"))
        if status == 429:
            raise RateLimited(status, code, message, _retry_after(response))
        if status < 400:
            raise error_for_code(status, code, message)
        raise error_for_status(status, code, message)
    if status == 429:
        raise RateLimited(status, None, None, _retry_after(response))
    if status >= 500:
        raise ServerErrorPage(status, None, "Chastity Tracker answered with an error page")
    if status in _REFUSALS:
        # v1 endpoints answer {"error": "..."}; keep that text when it is there.
        message = payload.get("error") if isinstance(payload, dict) else None
        raise error_for_status(status, None, message if isinstance(message, str) else None)
    if payload is None:
        reason = "an empty answer" if not response.content.strip() else "the answer is not JSON"
        raise MalformedResponse(status, reason)
    raise MalformedResponse(status, "the answer has no v2 envelope")


def _error_fields(error: object) -> tuple[str | None, str | None]:
    if not isinstance(error, dict):
        # Some APIs put the message itself in "error".
        return None, error if isinstance(error, str) else None
    code = error.get("code")
    message = error.get("message")
    return (
        str(code) if isinstance(code, str | int) and not isinstance(code, bool) else None,
        message if isinstance(message, str) else None,
    )


def _origin(location: str | None) -> str | None:
    """Where a redirect points, as scheme://host only: its path is of no use here."""
    if not location:
        return None
    try:
        url = httpx.URL(location)
    except httpx.InvalidURL:
        return None
    if not url.scheme or not url.host:
        return None
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}"


def _sends_in_clear(base_url: httpx.URL) -> bool:
    """True when requests would cross a network unencrypted (http to another machine)."""
    if base_url.scheme != "http":
        return False
    host = base_url.host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


def _no_cookies() -> http.cookiejar.CookieJar:
    return http.cookiejar.CookieJar(policy=http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _authorization(bearer: Secret) -> str:
    token = bearer.reveal()
    if not _HEADER_SAFE.fullmatch(token):
        raise InvalidRequest("the API token contains characters that cannot be sent")
    return f"Bearer {token}"


def _kind(error: Exception) -> str:
    # The class name only: httpx messages can echo request details.
    return type(error).__name__


def _parse(parser: Callable[[Mapping[str, Any]], _T], data: Mapping[str, Any]) -> _T:
    try:
        return parser(data)
    except ParseError as error:
        raise MalformedResponse(200, str(error)) from None


def _expect(result: PlayResult, kind: type[_T]) -> _T:
    if not isinstance(result, kind):
        raise ChastityTrackerError(f"expected {kind.__name__}, got {type(result).__name__}")
    return result
