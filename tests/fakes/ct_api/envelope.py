"""The v2 envelope every answer of the fake is wrapped in, success or error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

META = {"version": 2}


class ApiError(Exception):
    """An error answer: HTTP ``status`` with ``{"code", "message"}`` in the envelope.

    Messages never echo a bearer or link token back.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def success_body(data: Mapping[str, Any]) -> dict[str, Any]:
    return {"ok": True, "data": dict(data), "meta": META}


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}, "meta": META}


def json_response(
    body: Mapping[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        charset="utf-8",
        headers=headers,
    )


def ok(data: Mapping[str, Any]) -> web.Response:
    return json_response(success_body(data))


def error_response(error: ApiError) -> web.Response:
    return json_response(error_body(error.code, error.message), error.status, error.headers)
