"""GET stats.php, sessions.php and histories.php: the read-only v2 endpoints.

Query parameters are validated strictly (a malformed ``limit``, ``offset``,
``active`` ... is a 400, a ``limit`` above 200 too) so that a client that gets
them wrong finds out here rather than against the real service. A session that
is not the token user's answers 404 on sessions.php?id= and histories.php,
exactly as an unknown id does: both endpoints only look among the user's own.

The ``games`` object of an active session (its shape is not documented) is
``{"DICE"|"LUCK"|"LINK": {config keys..., "used", "lastuse"}}`` for each
enabled game.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from tests.fakes.ct_api.envelope import ApiError
from tests.fakes.ct_api.models import (
    GAMES,
    FakeSession,
    FakeUser,
    HistoryRow,
    format_utc,
    format_utc_millis,
)
from tests.fakes.ct_api.state import FakeState, history_sort_key

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
INVALID_PARAMETER = "VALIDATION_ERROR"
SESSION_NOT_FOUND = "SESSION_NOT_FOUND"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _invalid(message: str) -> ApiError:
    return ApiError(400, INVALID_PARAMETER, message)


def _int_param(query: Mapping[str, str], name: str, default: int, lowest: int, highest: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"\d+", raw) or not lowest <= int(raw) <= highest:
        raise _invalid(f"Parameter '{name}' must be an integer from {lowest} to {highest}.")
    return int(raw)


def _flag_param(query: Mapping[str, str], name: str) -> bool | None:
    raw = query.get(name)
    if raw is None:
        return None
    if raw not in ("0", "1"):
        raise _invalid(f"Parameter '{name}' must be 0 or 1.")
    return raw == "1"


def human_duration(seconds: float) -> str:
    """The site's readable length of time: "17 days 3 hours 12 minutes"."""
    minutes = max(int(seconds), 0) // 60
    days, rest = divmod(minutes, 1440)
    hours, minutes = divmod(rest, 60)
    return f"{days} days {hours} hours {minutes} minutes"


class ReadEndpoints:
    def __init__(
        self, state: FakeState, clock: Callable[[], datetime], base_url: Callable[[], str]
    ) -> None:
        self._state = state
        self._clock = clock
        self._base_url = base_url

    # --- stats ----------------------------------------------------------------

    def stats(self, user: FakeUser) -> dict[str, Any]:
        now = self._clock()
        sessions = [s for s in self._state.sessions.values() if s.owner is user]
        current = max(
            (s for s in sessions if s.active), key=lambda s: (s.start, s.id), default=None
        )
        since = user.since_date or min((s.start for s in sessions), default=None)
        locked_total = sum(
            ((s.end or now) - s.start).total_seconds()
            for s in sessions
            if since is None or s.start >= since
        )
        link_game = None
        if current is not None and current.link is not None and current.link.enabled:
            link_game = f"{self._base_url()}/games/link.php?token={current.link.public_token}"
        return {
            "nick": user.nick,
            "profile_url": user.profile_url,
            "locked": current is not None,
            "current_lock_start": (
                format_utc(current.start) + " UTC"
                if current is not None and current.public
                else None
            ),
            "scheduled_end": (
                format_utc(current.scheduled_end)
                if current is not None and current.scheduled_end is not None
                else None
            ),
            "current_lock_time": (
                human_duration((now - current.start).total_seconds())
                if current is not None
                else None
            ),
            "total_locked_since": human_duration(locked_total) if sessions else None,
            "since_date": format_utc(since) if since is not None else None,
            "link_game": link_game,
            "last_full": user.last_full,
            "last_ruined": user.last_ruined,
            "last_ted": user.last_ted,
            "last_milking": user.last_milking,
        }

    # --- sessions -------------------------------------------------------------

    def sessions(self, user: FakeUser, query: Mapping[str, str]) -> dict[str, Any]:
        if "id" in query:
            session_id = _int_param(query, "id", 0, 1, 2**63 - 1)
            session = self._state.sessions.get(session_id)
            if session is None or session.owner is not user:
                raise ApiError(404, SESSION_NOT_FOUND, f"Session {session_id} was not found.")
            return self._session_item(session)
        limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int_param(query, "offset", 0, 0, 2**31 - 1)
        active = _flag_param(query, "active")
        public = _flag_param(query, "public")
        start_from = self._date_param(query, "from")
        start_to = self._date_param(query, "to")
        matches = [
            s
            for s in self._state.sessions.values()
            if s.owner is user
            and (active is None or s.active == active)
            and (public is None or s.public == public)
            and (start_from is None or s.start.date().isoformat() >= start_from)
            and (start_to is None or s.start.date().isoformat() <= start_to)
        ]
        matches.sort(key=lambda s: (s.start, s.id), reverse=True)
        page = matches[offset : offset + limit]
        return {
            "count": len(page),
            "total": len(matches),
            "limit": limit,
            "offset": offset,
            "items": [self._session_item(s) for s in page],
        }

    @staticmethod
    def _date_param(query: Mapping[str, str], name: str) -> str | None:
        raw = query.get(name)
        if raw is None:
            return None
        try:
            valid = bool(_DATE.fullmatch(raw)) and bool(datetime.strptime(raw, "%Y-%m-%d"))
        except ValueError:
            valid = False
        if not valid:
            raise _invalid(f"Parameter '{name}' must be a date YYYY-MM-DD.")
        return raw

    def _session_item(self, session: FakeSession) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": session.id,
            "start": format_utc(session.start),
            "end": format_utc(session.end) if session.end is not None else None,
            "scheduledend": (
                format_utc(session.scheduled_end) if session.scheduled_end is not None else None
            ),
            "active": int(session.active),
            "lockedby": session.lockedby,
            "notes": session.notes,
            "public": int(session.public),
            "timezonestart": "+00:00",
            "timezoneend": "+00:00",
            "inserted": format_utc(session.inserted),
            "has_history": int(any(row.session == session.id for row in self._state.histories)),
            "has_games_changes": 0,
        }
        if session.active:
            item["games"] = self._games_object(session)
        return item

    def _games_object(self, session: FakeSession) -> dict[str, Any]:
        games: dict[str, Any] = {}
        for game in GAMES:
            config = session.config(game)
            if config is None or not config.enabled:
                continue
            counters = self._state.counters_of(session.id, game)
            games[game.upper()] = {
                **config.as_config(),
                "used": counters.used,
                "lastuse": format_utc(counters.lastuse) if counters.lastuse else None,
            }
        return games

    # --- histories ------------------------------------------------------------

    def histories(self, user: FakeUser, query: Mapping[str, str]) -> dict[str, Any]:
        if "session" not in query:
            raise _invalid("Parameter 'session' is required.")
        session_id = _int_param(query, "session", 0, 1, 2**63 - 1)
        session = self._state.sessions.get(session_id)
        if session is None or session.owner is not user:
            raise ApiError(404, SESSION_NOT_FOUND, f"Session {session_id} was not found.")
        limit = _int_param(query, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        rows = self._filtered(self._state.history_of(session_id), query)
        cursor = query.get("cursor")
        if cursor:
            after = _decode_cursor(cursor)
            rows = [row for row in rows if history_sort_key(row) > after]
        page = rows[:limit]
        more = len(rows) > limit
        return {
            "count": len(page),
            "limit": limit,
            "cursor_next": _encode_cursor(page[-1]) if more and page else None,
            "has_games_changes": 0,
            "items": [row.as_item() for row in page],
        }

    @staticmethod
    def _filtered(rows: list[HistoryRow], query: Mapping[str, str]) -> list[HistoryRow]:
        kind = query.get("type")
        if kind is not None and kind not in ("START", "ADD", "SUB"):
            raise _invalid("Parameter 'type' must be START, ADD or SUB.")
        source = query.get("source")
        sources = ("DICE", "LINK", "LUCK", "MANUAL", "PENALTY", "DOM")
        if source is not None and source not in sources:
            raise _invalid(f"Parameter 'source' must be one of: {', '.join(sources)}.")
        dom = _flag_param(query, "dom")
        return [
            row
            for row in rows
            if (kind is None or row.type == kind)
            and (source is None or row.source == source)
            and (dom is None or row.dom == int(dom))
        ]


def _encode_cursor(row: HistoryRow) -> str:
    key = {
        "happened": format_utc_millis(row.happened),
        "schedule": None if row.schedule is None else format_utc(row.schedule),
        "source": row.source,
        # The real key has no tie-breaker; the fake adds its insert order so
        # that rows with equal keys are neither repeated nor skipped.
        "seq": row.sequence,
    }
    return base64.b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str) -> tuple[float, float, str, int]:
    try:
        key = json.loads(base64.b64decode(cursor, validate=True))
        happened = datetime.strptime(key["happened"] + "000", "%Y-%m-%d %H:%M:%S.%f")
        schedule = key["schedule"]
        return (
            -happened.replace(tzinfo=UTC).timestamp(),
            -datetime.strptime(schedule, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp()
            if schedule is not None
            else float("inf"),
            key["source"] or "",
            -int(key["seq"]),
        )
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise _invalid("Parameter 'cursor' is not a valid cursor.") from None
