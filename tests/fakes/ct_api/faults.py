"""Injected failures: the ways the real service or the network can let a client down.

``after_apply`` says whether the request's normal work (for games.php: the
play, committed with its history row) happens before the fault. With
``delay``, ``hang`` and ``drop_connection`` it models "the request reached the
server and the answer was lost"; every other fault accepts it too (a 500 after
the commit, say). Without it, nothing is applied, except that a ``delay``
without it applies after the wait, unless the client gave up first.

Two faults change only the shape of a normal answer, so the request is always
applied: ``html_content_type`` (PHP's default ``Content-Type: text/html`` on a
JSON body) and ``numbers_as_text`` (every number in ``data`` sent as a JSON
string, as PHP does with database values). ``redirect_to_https`` is what the
site answers to a request that is not HTTPS: a 301, never applied.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from aiohttp import web

from tests.fakes.ct_api.envelope import error_body, json_response

FaultKind = Literal[
    "delay",
    "hang",
    "html_500",
    "malformed_json",
    "no_envelope",
    "drop_connection",
    "rate_limited",
    "status",
    "empty_body",
    "html_content_type",
    "numbers_as_text",
    "redirect_to_https",
    "error_page",
]
_WITHOUT_ARGUMENTS: tuple[FaultKind, ...] = (
    "hang",
    "html_500",
    "malformed_json",
    "no_envelope",
    "drop_connection",
    "empty_body",
    "html_content_type",
    "numbers_as_text",
    "redirect_to_https",
)
# The real site's address: where it sends a request that did not use HTTPS.
PUBLIC_ORIGIN = "https://www.chastitytracker.org"
MOVED_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>301 Moved Permanently</title></head>\n"
    "<body><h1>Moved Permanently</h1></body></html>\n"
)

HTML_500_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head>\n"
    "<body><h1>Internal Server Error</h1><p>The server encountered an internal error "
    "and was unable to complete your request.</p></body></html>\n"
)
# A 200 whose JSON stops half-way, as when a PHP process dies mid-output.
MALFORMED_JSON = '{"ok":true,"data":{"game":"dice","operation":"ADD","seconds":36'
# A 200 with JSON that is not the v2 envelope (no ok / data / meta).
NO_ENVELOPE = {"game": "dice", "operation": "ADD", "seconds": 3600, "session": 100}

_ALWAYS_APPLIED: tuple[FaultKind, ...] = ("html_content_type", "numbers_as_text")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Fault:
    kind: FaultKind
    seconds: float = 0.0
    retry_after: int = 0
    status_code: int = 500
    after_apply: bool = False
    error_code: str | None = None
    error_message: str | None = None

    @classmethod
    def delay(cls, seconds: float, *, after_apply: bool = False) -> Fault:
        """Wait ``seconds``, then answer normally."""
        return cls("delay", seconds=seconds, after_apply=after_apply)

    @classmethod
    def hang(cls, *, after_apply: bool = False) -> Fault:
        """Never answer (until the client leaves or the fake stops)."""
        return cls("hang", after_apply=after_apply)

    @classmethod
    def drop_connection(cls, *, after_apply: bool = False) -> Fault:
        """Close the socket without sending a response."""
        return cls("drop_connection", after_apply=after_apply)

    @classmethod
    def html_500(cls, *, after_apply: bool = False) -> Fault:
        return cls("html_500", after_apply=after_apply)

    @classmethod
    def malformed_json(cls, *, after_apply: bool = False) -> Fault:
        return cls("malformed_json", after_apply=after_apply)

    @classmethod
    def no_envelope(cls, *, after_apply: bool = False) -> Fault:
        return cls("no_envelope", after_apply=after_apply)

    @classmethod
    def rate_limited(cls, retry_after: int = 30, *, after_apply: bool = False) -> Fault:
        """429 with a ``Retry-After`` header (seconds)."""
        return cls("rate_limited", retry_after=retry_after, after_apply=after_apply)

    @classmethod
    def empty_body(cls, *, after_apply: bool = False) -> Fault:
        """HTTP 200 with nothing in the body."""
        return cls("empty_body", after_apply=after_apply)

    @classmethod
    def html_content_type(cls) -> Fault:
        """The normal answer (applied), labelled ``text/html; charset=UTF-8``."""
        return cls("html_content_type", after_apply=True)

    @classmethod
    def numbers_as_text(cls) -> Fault:
        """The normal answer (applied) with every number in ``data`` as a string."""
        return cls("numbers_as_text", after_apply=True)

    @classmethod
    def error_page(cls, status: int = 502, *, after_apply: bool = False) -> Fault:
        """A proxy's HTML error page (502 Bad Gateway, 503, 504) instead of the API's answer."""
        return cls("error_page", status_code=status, after_apply=after_apply)

    @classmethod
    def redirect_to_https(cls) -> Fault:
        """301 to the https address, with an HTML page; never applied."""
        return cls("redirect_to_https")

    @classmethod
    def status(
        cls,
        code: int,
        *,
        error_code: str | None = None,
        message: str | None = None,
        after_apply: bool = False,
    ) -> Fault:
        """Answer ``code`` with an error envelope: ``error_code`` and ``message`` when
        given, else ``HTTP_<code>`` and the status phrase."""
        return cls(
            "status",
            status_code=code,
            after_apply=after_apply,
            error_code=error_code,
            error_message=message,
        )

    @classmethod
    def named(cls, name: str) -> Fault:
        """A fault that takes no argument, by name ("hang", "html_500", ...)."""
        for kind in _WITHOUT_ARGUMENTS:
            if kind == name:
                return cls(kind, after_apply=kind in _ALWAYS_APPLIED)
        raise ValueError(f"unknown fault {name!r}; faults by name: {', '.join(_WITHOUT_ARGUMENTS)}")


@dataclass
class _Pending:
    fault: Fault
    remaining: int | None


class FaultQueue:
    """Faults waiting per path, used first-in first-out, each for ``times`` requests."""

    def __init__(self) -> None:
        self._pending: dict[str, list[_Pending]] = {}

    def add(self, fault: Fault, path: str, times: int | None) -> None:
        if times is not None and times < 1:
            raise ValueError("times is a positive count, or None for every request")
        self._pending.setdefault(path, []).append(_Pending(fault, times))

    def take(self, path: str) -> Fault | None:
        queue = self._pending.get(path)
        if not queue:
            return None
        entry = queue[0]
        if entry.remaining is not None:
            entry.remaining -= 1
            if entry.remaining == 0:
                queue.pop(0)
        return entry.fault

    def clear(self) -> None:
        self._pending.clear()


async def answer_with_fault(
    fault: Fault, request: web.Request, handler: Handler, stopping: asyncio.Event
) -> web.StreamResponse:
    if fault.kind == "redirect_to_https":
        return web.Response(
            status=301,
            text=MOVED_PAGE,
            content_type="text/html",
            headers={"Location": f"{PUBLIC_ORIGIN}{request.path_qs}"},
        )
    normal = await handler(request) if fault.after_apply else None
    if fault.kind in _ALWAYS_APPLIED:
        assert normal is not None
        return _reshaped(fault.kind, normal)
    if fault.kind == "delay":
        await asyncio.sleep(fault.seconds)
        return normal if normal is not None else await handler(request)
    if fault.kind == "hang":
        await stopping.wait()
        return _drop(request)
    if fault.kind == "drop_connection":
        return _drop(request)
    if fault.kind == "html_500":
        return web.Response(status=500, text=HTML_500_PAGE, content_type="text/html")
    if fault.kind == "error_page":
        phrase = _phrase(fault.status_code)
        page = f"<html><head><title>{fault.status_code} {phrase}</title></head><body>"
        page += f"<center><h1>{fault.status_code} {phrase}</h1></center></body></html>\n"
        return web.Response(status=fault.status_code, text=page, content_type="text/html")
    if fault.kind == "malformed_json":
        return web.Response(status=200, text=MALFORMED_JSON, content_type="application/json")
    if fault.kind == "empty_body":
        return web.Response(status=200, body=b"", content_type="application/json")
    if fault.kind == "no_envelope":
        return json_response(NO_ENVELOPE)
    if fault.kind == "rate_limited":
        return json_response(
            error_body("RATE_LIMITED", "Too many requests: slow down."),
            status=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    code = fault.error_code or f"HTTP_{fault.status_code}"
    message = fault.error_message or _phrase(fault.status_code)
    return json_response(error_body(code, message), status=fault.status_code)


def _reshaped(kind: FaultKind, normal: web.StreamResponse) -> web.StreamResponse:
    if not isinstance(normal, web.Response) or normal.text is None:
        return normal
    text = normal.text
    if kind == "numbers_as_text":
        body = json.loads(text)
        if isinstance(body.get("data"), dict):
            body["data"] = _numbers_to_text(body["data"])
        text = json.dumps(body)
    return web.Response(
        status=normal.status,
        text=text,
        content_type="text/html" if kind == "html_content_type" else "application/json",
        charset="UTF-8",
    )


def _numbers_to_text(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return {key: _numbers_to_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_to_text(item) for item in value]
    return value


def _phrase(code: int) -> str:
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "Error"


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection with nothing sent; the response returned is never written."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=499)
