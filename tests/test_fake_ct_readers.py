"""The fake's stats, sessions and histories endpoints, as api-other-endpoints.md describes them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.ct_api import (
    HISTORIES_PATH,
    SESSIONS_PATH,
    STATS_PATH,
    DiceConfig,
    FakeChastityTracker,
    FakeUser,
    LinkConfig,
    LuckConfig,
)
from tests.fakes.ct_api.models import format_utc

STATS_KEYS = {
    "nick",
    "profile_url",
    "locked",
    "current_lock_start",
    "scheduled_end",
    "current_lock_time",
    "total_locked_since",
    "since_date",
    "link_game",
    "last_full",
    "last_ruined",
    "last_ted",
    "last_milking",
}
SESSION_ITEM_KEYS = {
    "id",
    "start",
    "end",
    "scheduledend",
    "active",
    "lockedby",
    "notes",
    "public",
    "timezonestart",
    "timezoneend",
    "inserted",
    "has_history",
    "has_games_changes",
}
HISTORY_ITEM_KEYS = {"session", "type", "unit", "source", "dom", "schedule", "happened"}


def bearer(user: FakeUser) -> dict[str, str]:
    return {"Authorization": f"Bearer {user.token}"}


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert body["meta"] == {"version": 2}
    data: dict[str, Any] = body["data"]
    return data


def error_code(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False
    assert body["meta"] == {"version": 2}
    code: str = body["error"]["code"]
    assert body["error"]["message"]
    return code


async def play_luck(http: httpx.AsyncClient, user: FakeUser, session_id: int) -> dict[str, Any]:
    body = {"game": "luck", "dom": 0, "session": session_id}
    return data_of(await http.post("/api/v2/games.php", json=body, headers=bearer(user)))


# --- stats -----------------------------------------------------------------------


async def test_stats_returns_the_token_owner_profile(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    ct_fake.add_user("someone_else")
    session = ct_fake.add_session(user, link=LinkConfig())
    data = data_of(await ct_http.get(STATS_PATH, headers=bearer(user)))
    assert set(data) == STATS_KEYS
    assert data["nick"] == "wearer"
    assert data["locked"] is True
    assert session.scheduled_end is not None
    assert data["scheduled_end"] == format_utc(session.scheduled_end)
    assert data["current_lock_start"] == format_utc(session.start) + " UTC"
    assert data["current_lock_time"] == "0 days 0 hours 0 minutes"
    assert session.link is not None
    assert data["link_game"].endswith(session.link.public_token)


async def test_stats_of_an_unlocked_user(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("free")
    data = data_of(await ct_http.get(STATS_PATH, headers=bearer(user)))
    assert data["locked"] is False
    assert data["scheduled_end"] is None
    assert data["current_lock_start"] is None
    assert data["link_game"] is None


async def test_stats_lock_time_follows_the_clock(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    ct_fake.add_session(user, public=False)
    ct_fake.advance(timedelta(days=2, hours=3, minutes=4, seconds=30))
    data = data_of(await ct_http.get(STATS_PATH, headers=bearer(user)))
    assert data["current_lock_time"] == "2 days 3 hours 4 minutes"
    assert data["current_lock_start"] is None  # the lock is not public


async def test_stats_needs_a_valid_bearer(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    assert error_code(await ct_http.get(STATS_PATH), 401) == "UNAUTHORIZED"
    wrong = {"Authorization": "Bearer wrong-token-000000000000000000"}
    assert error_code(await ct_http.get(STATS_PATH, headers=wrong), 401) == "UNAUTHORIZED"
    ct_fake.revoke(user)
    assert error_code(await ct_http.get(STATS_PATH, headers=bearer(user)), 401) == "UNAUTHORIZED"


@pytest.mark.parametrize("path", [STATS_PATH, SESSIONS_PATH, HISTORIES_PATH])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
async def test_read_endpoints_answer_405_to_other_methods(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient, path: str, method: str
) -> None:
    user = ct_fake.add_user("wearer")
    response = await ct_http.request(method, path, headers=bearer(user))
    assert error_code(response, 405) == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "GET"


# --- sessions --------------------------------------------------------------------


async def test_sessions_lists_only_the_users_sessions_newest_first(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    other = ct_fake.add_user("other")
    old = ct_fake.add_session(user, active=False, start=ct_fake.now - timedelta(days=30))
    ct_fake.add_session(other)
    new = ct_fake.add_session(user, dice=DiceConfig())
    data = data_of(await ct_http.get(SESSIONS_PATH, headers=bearer(user)))
    assert (data["count"], data["total"], data["limit"], data["offset"]) == (2, 2, 50, 0)
    assert [item["id"] for item in data["items"]] == [new.id, old.id]
    assert set(data["items"][0]) == SESSION_ITEM_KEYS | {"games"}  # active
    assert set(data["items"][1]) == SESSION_ITEM_KEYS


async def test_sessions_games_object_only_for_active_sessions(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    ended = ct_fake.add_session(user, active=False, dice=DiceConfig())
    live = ct_fake.add_session(user, dice=DiceConfig(dices=4), luck=LuckConfig(enabled=False))
    data = data_of(await ct_http.get(SESSIONS_PATH, headers=bearer(user)))
    items = {item["id"]: item for item in data["items"]}
    assert "games" not in items[ended.id]
    assert items[ended.id]["active"] == 0
    games = items[live.id]["games"]
    assert set(games) == {"DICE"}
    assert games["DICE"]["dices"] == 4
    assert games["DICE"]["used"] == 0


async def test_sessions_active_filter(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    ended = ct_fake.add_session(user, active=False)
    live = ct_fake.add_session(user)
    for flag, expected in (("1", [live.id]), ("0", [ended.id])):
        params = {"active": flag}
        data = data_of(await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user)))
        assert [item["id"] for item in data["items"]] == expected
        assert data["total"] == 1


async def test_sessions_pagination_with_limit_and_offset(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    ids = [ct_fake.add_session(user, start=ct_fake.now + timedelta(minutes=i)).id for i in range(5)]
    params = {"limit": "2", "offset": "2"}
    data = data_of(await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user)))
    assert (data["count"], data["total"], data["limit"], data["offset"]) == (2, 5, 2, 2)
    assert [item["id"] for item in data["items"]] == list(reversed(ids))[2:4]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "201"},
        {"limit": "0"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"active": "yes"},
        {"from": "2026-13-01"},
    ],
    ids=repr,
)
async def test_sessions_rejects_malformed_parameters(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    user = ct_fake.add_user("wearer")
    response = await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user))
    assert error_code(response, 400) == "VALIDATION_ERROR"


async def test_sessions_limit_of_200_is_accepted(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    params = {"limit": "200"}
    data = data_of(await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user)))
    assert data["limit"] == 200


async def test_session_details_by_id(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    session = ct_fake.add_session(user, luck=LuckConfig(), lockedby="Keyholder")
    await play_luck(ct_http, user, session.id)
    params = {"id": str(session.id)}
    item = data_of(await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user)))
    assert item["id"] == session.id
    assert item["lockedby"] == "Keyholder"
    assert session.scheduled_end is not None
    assert item["scheduledend"] == format_utc(session.scheduled_end)
    assert item["games"]["LUCK"]["used"] == 1
    assert item["has_history"] == 1


async def test_session_details_of_someone_elses_session_is_404(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    other = ct_fake.add_user("other")
    theirs = ct_fake.add_session(other)
    for session_id in (theirs.id, 9999):
        params = {"id": str(session_id)}
        response = await ct_http.get(SESSIONS_PATH, params=params, headers=bearer(user))
        assert error_code(response, 404) == "SESSION_NOT_FOUND"


async def test_sessions_needs_a_bearer(ct_http: httpx.AsyncClient) -> None:
    assert error_code(await ct_http.get(SESSIONS_PATH), 401) == "UNAUTHORIZED"


# --- histories -------------------------------------------------------------------


async def test_histories_newest_first_with_documented_items(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    session = ct_fake.add_session(user, luck=LuckConfig())
    plays = []
    for _ in range(3):
        ct_fake.advance(timedelta(minutes=1))
        plays.append(await play_luck(ct_http, user, session.id))
    params = {"session": str(session.id)}
    data = data_of(await ct_http.get(HISTORIES_PATH, params=params, headers=bearer(user)))
    assert data["count"] == 4
    assert data["cursor_next"] is None
    items = data["items"]
    assert all(set(item) == HISTORY_ITEM_KEYS for item in items)
    assert [item["type"] for item in items] == [p["operation"] for p in reversed(plays)] + ["START"]
    assert [item["unit"] for item in items[:3]] == [p["seconds"] for p in reversed(plays)]
    assert [item["schedule"] for item in items[:3]] == [
        p["scheduledend_utc"] for p in reversed(plays)
    ]
    assert items[-1]["source"] is None
    happened = [item["happened"] for item in items]
    assert happened == sorted(happened, reverse=True)
    assert all(len(stamp) == len("2026-02-03 09:30:07.123") for stamp in happened)


async def test_histories_cursor_pages_through_every_row_once(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    user = ct_fake.add_user("wearer")
    session = ct_fake.add_session(user, luck=LuckConfig())
    for _ in range(6):
        await play_luck(ct_http, user, session.id)
    seen: list[dict[str, Any]] = []
    params = {"session": str(session.id), "limit": "3"}
    while True:
        data = data_of(await ct_http.get(HISTORIES_PATH, params=params, headers=bearer(user)))
        assert data["count"] <= 3
        seen.extend(data["items"])
        if data["cursor_next"] is None:
            break
        params["cursor"] = data["cursor_next"]
    expected = [row.as_item() for row in ct_fake.histories(session.id)]
    assert seen == expected
    assert len(seen) == 7


async def test_histories_of_someone_elses_session_is_404(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    owner = ct_fake.add_user("wearer")
    dom = ct_fake.add_user("dom")
    ct_fake.link_dom(dom, owner)
    session = ct_fake.add_session(owner)
    params = {"session": str(session.id)}
    response = await ct_http.get(HISTORIES_PATH, params=params, headers=bearer(dom))
    assert error_code(response, 404) == "SESSION_NOT_FOUND"


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"session": "abc"},
        {"session": "100", "limit": "500"},
        {"session": "100", "cursor": "%%%"},
        {"session": "100", "type": "add"},
    ],
    ids=repr,
)
async def test_histories_rejects_malformed_parameters(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient, query: dict[str, str]
) -> None:
    user = ct_fake.add_user("wearer")
    assert ct_fake.add_session(user).id == 100
    response = await ct_http.get(HISTORIES_PATH, params=query, headers=bearer(user))
    assert error_code(response, 400) == "VALIDATION_ERROR"


async def test_histories_needs_a_bearer(
    ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient
) -> None:
    session = ct_fake.add_session(ct_fake.add_user("wearer"))
    response = await ct_http.get(HISTORIES_PATH, params={"session": str(session.id)})
    assert error_code(response, 401) == "UNAUTHORIZED"
