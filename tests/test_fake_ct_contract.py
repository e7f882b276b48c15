"""The fake Chastity Tracker keeps every rule of games-api-v2.md, checked with plain httpx.

One test (or one parametrised test) per rule, so a failure names the rule broken.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.ct_api import (
    GAMES_PATH,
    CooldownWording,
    DiceConfig,
    FakeChastityTracker,
    FakeSession,
    FakeUser,
    Fault,
    LinkConfig,
    LuckConfig,
)
from tests.fakes.ct_api.games import GamesEndpoint
from tests.fixtures.ct import shared_ssl_context

LINK_KEYS = {
    "game",
    "operation",
    "multiplier",
    "time",
    "unit",
    "int",
    "seconds",
    "dom",
    "scheduledend_utc",
    "session",
    "penalty",
}
DICE_KEYS = {
    "game",
    "operation",
    "time",
    "sum",
    "dices",
    "dicesops",
    "calc",
    "multiplier",
    "seconds",
    "dom",
    "scheduledend_utc",
    "session",
}
LUCK_KEYS = {
    "game",
    "operation",
    "time",
    "int",
    "multiplier",
    "seconds",
    "dom",
    "scheduledend_utc",
    "session",
}
UTC_TEXT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")


@dataclass
class World:
    ct: FakeChastityTracker
    http: httpx.AsyncClient
    owner: FakeUser
    dom: FakeUser
    stranger: FakeUser
    session: FakeSession

    @property
    def link_token(self) -> str:
        assert self.session.link is not None
        return self.session.link.public_token

    def own(self, game: str, **extra: Any) -> dict[str, Any]:
        """A body for ``game`` played on the world's session with dom=0."""
        return {"game": game, "dom": 0, "session": self.session.id, **extra}

    def vote(self, vote_type: str = "add", **extra: Any) -> dict[str, Any]:
        return {"game": "link", "dom": 0, "token": self.link_token, "type": vote_type, **extra}

    async def play(
        self, body: object, token: str | None = None, *, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        return await self.http.post(GAMES_PATH, json=body, headers=sent)


@pytest.fixture
def world(ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient) -> World:
    owner = ct_fake.add_user("wearer")
    dom = ct_fake.add_user("keyholder")
    stranger = ct_fake.add_user("stranger")
    ct_fake.link_dom(dom, owner)
    session = ct_fake.add_session(owner, dice=DiceConfig(), luck=LuckConfig(), link=LinkConfig())
    return World(ct_fake, ct_http, owner, dom, stranger, session)


@asynccontextmanager
async def client_from(ct: FakeChastityTracker, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose connections come from ``address`` (another loopback address)."""
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=shared_ssl_context())
    async with httpx.AsyncClient(base_url=ct.base_url, transport=transport, timeout=5) as client:
        yield client


def data_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert body["meta"] == {"version": 2}
    assert "error" not in body
    data: dict[str, Any] = body["data"]
    return data


def error_of(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["ok"] is False
    assert body["meta"] == {"version": 2}
    assert "data" not in body
    error: dict[str, str] = body["error"]
    assert set(error) == {"code", "message"}
    assert error["code"]
    assert error["message"]
    return error


def parse_utc(text: str) -> datetime:
    assert UTC_TEXT.fullmatch(text), text
    return datetime.strptime(text + "+0000", "%Y-%m-%d %H:%M:%S%z")


def expected_seconds(time: int, multiplier: float) -> int:
    hundredths = round(multiplier * 100)
    return (time * hundredths + 50) // 100


# --- 1. Authentication ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"game": "dice", "dom": 0, "session": 100}, id="dice-dom0"),
        pytest.param({"game": "dice", "dom": 1, "session": 100}, id="dice-dom1"),
        pytest.param({"game": "luck", "dom": 0, "session": 100}, id="luck-dom0"),
        pytest.param({"game": "luck", "dom": 1, "session": 100}, id="luck-dom1"),
        pytest.param({"game": "link", "dom": 1, "session": 100, "type": "add"}, id="link-dom1"),
    ],
)
async def test_bearer_is_required_for_dice_luck_and_link_dom1(
    world: World, body: dict[str, Any]
) -> None:
    error = error_of(await world.play(body), 401)
    assert error["code"] == "UNAUTHORIZED"
    assert world.ct.histories(world.session.id)[0].type == "START"


async def test_public_link_vote_needs_no_bearer(world: World) -> None:
    data = data_of(await world.play(world.vote("add")))
    assert data["game"] == "link"
    assert data["dom"] == 0
    assert data["penalty"] is None


@pytest.mark.parametrize(
    "body_name", ["dice-dom0", "dice-dom1", "luck-dom0", "luck-dom1", "link-dom1", "link-dom0"]
)
async def test_invalid_bearer_is_401_in_every_game_and_mode(world: World, body_name: str) -> None:
    bodies = {
        "dice-dom0": world.own("dice"),
        "dice-dom1": world.own("dice", dom=1),
        "luck-dom0": world.own("luck"),
        "luck-dom1": world.own("luck", dom=1),
        "link-dom1": world.own("link", dom=1, type="add"),
        # A present but wrong bearer on a public vote is refused, not treated as anonymous.
        "link-dom0": world.vote("add"),
    }
    error_of(await world.play(bodies[body_name], token="not-a-real-token-000000000000"), 401)
    assert world.ct.votes == []


async def test_revoked_token_is_401(world: World) -> None:
    data_of(await world.play(world.own("luck"), world.owner.token))
    world.ct.revoke(world.owner)
    error_of(await world.play(world.own("luck"), world.owner.token), 401)


async def test_regenerated_token_replaces_the_old_one(world: World) -> None:
    old = world.owner.token
    new = world.ct.regenerate_token(world.owner)
    error_of(await world.play(world.own("luck"), old), 401)
    data_of(await world.play(world.own("luck"), new))


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "", "Token abc"], ids=repr)
async def test_authorization_header_that_is_not_a_bearer_is_401(world: World, header: str) -> None:
    error_of(await world.play(world.vote("add"), headers={"Authorization": header}), 401)


async def test_bearer_scheme_is_case_insensitive(world: World) -> None:
    headers = {"Authorization": f"bearer {world.owner.token}"}
    data_of(await world.play(world.own("dice"), headers=headers))


async def test_error_messages_never_echo_tokens(world: World) -> None:
    bad_bearer = "secret-bearer-value-1234567890"
    bad_link = "secret-link-value-1234567890"
    responses = [
        await world.play(world.own("dice"), bad_bearer),
        await world.play({"game": "link", "dom": 0, "token": bad_link, "type": "add"}),
        await world.play({"game": "link", "dom": 0, "token": world.link_token, "type": "x"}),
    ]
    for response in responses:
        assert response.status_code >= 400
        assert bad_bearer not in response.text
        assert bad_link not in response.text
        assert world.link_token not in response.text


# --- 2. Envelope and status codes -------------------------------------------------


async def test_success_uses_the_v2_envelope(world: World) -> None:
    response = await world.play(world.own("dice"), world.owner.token)
    assert response.headers["content-type"].startswith("application/json")
    assert set(response.json()) == {"ok", "data", "meta"}
    data_of(response)


async def test_error_uses_the_v2_envelope(world: World) -> None:
    response = await world.play(world.own("dice"))
    assert set(response.json()) == {"ok", "error", "meta"}
    error_of(response, 401)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_games_answers_405_to_anything_but_post(world: World, method: str) -> None:
    response = await world.http.request(method, GAMES_PATH)
    error = error_of(response, 405)
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("path", ["/", "/api/v2/game.php", "/api/v1/games.php", "/api/v2/"])
async def test_unknown_paths_are_404_in_the_envelope(world: World, path: str) -> None:
    error = error_of(await world.http.post(path, json=world.own("dice")), 404)
    assert error["code"] == "NOT_FOUND"


async def test_server_failure_is_500_in_the_envelope(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object) -> dict[str, Any]:
        raise RuntimeError("database went away")

    monkeypatch.setattr(GamesEndpoint, "play", broken)
    error = error_of(await world.play(world.own("dice"), world.owner.token), 500)
    assert error["code"] == "INTERNAL_ERROR"
    assert "database" not in error["message"]


async def test_injected_500_is_answered_in_the_envelope(world: World) -> None:
    world.ct.inject(Fault.status(500))
    assert error_of(await world.play(world.own("dice"), world.owner.token), 500)["code"]
    assert [row.type for row in world.ct.histories(world.session.id)] == ["START"]


# --- 4. Request body: required fields and allowed values --------------------------


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"[1, 2]", b'"dice"', b"42", b"null", b'{"game": "dice",', b"\xff\xfe"],
    ids=repr,
)
async def test_body_that_is_not_a_json_object_is_400(world: World, raw: bytes) -> None:
    response = await world.http.post(
        GAMES_PATH,
        content=raw,
        headers={
            "Authorization": f"Bearer {world.owner.token}",
            "Content-Type": "application/json",
        },
    )
    assert error_of(response, 400)["code"] == "INVALID_JSON"


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/jsonp", "json"],
    ids=repr,
)
async def test_body_not_sent_as_application_json_is_400(
    world: World, content_type: str | None
) -> None:
    headers = {"Authorization": f"Bearer {world.owner.token}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    raw = b'{"game": "dice", "dom": 0, "session": %d}' % world.session.id
    response = await world.http.post(GAMES_PATH, content=raw, headers=headers)
    assert error_of(response, 400)["code"] == "INVALID_CONTENT_TYPE"
    assert [row.type for row in world.ct.histories(world.session.id)] == ["START"]


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON"], ids=repr
)
async def test_application_json_with_a_charset_or_other_case_is_accepted(
    world: World, content_type: str
) -> None:
    raw = b'{"game": "dice", "dom": 0, "session": %d}' % world.session.id
    headers = {"Authorization": f"Bearer {world.owner.token}", "Content-Type": content_type}
    data_of(await world.http.post(GAMES_PATH, content=raw, headers=headers))


async def test_non_standard_json_constants_are_400(world: World) -> None:
    raw = b'{"game": "dice", "dom": 0, "session": NaN}'
    response = await world.http.post(
        GAMES_PATH,
        content=raw,
        headers={
            "Authorization": f"Bearer {world.owner.token}",
            "Content-Type": "application/json",
        },
    )
    assert error_of(response, 400)["code"] == "INVALID_JSON"


async def test_game_is_required(world: World) -> None:
    error = error_of(await world.play({"dom": 0, "session": world.session.id}), 400)
    assert "game" in error["message"]


@pytest.mark.parametrize("game", ["DICE", "Dice", "coin", "", 1, None, ["dice"]], ids=repr)
async def test_game_must_be_dice_luck_or_link(world: World, game: object) -> None:
    body = {"game": game, "dom": 0, "session": world.session.id}
    error = error_of(await world.play(body, world.owner.token), 400)
    assert error["code"] == "VALIDATION_ERROR"
    assert "game" in error["message"]


async def test_dom_is_required(world: World) -> None:
    body = {"game": "dice", "session": world.session.id}
    error = error_of(await world.play(body, world.owner.token), 400)
    assert "dom" in error["message"]


@pytest.mark.parametrize("dom", ["0", "1", 2, -1, True, False, 1.0, 0.0], ids=repr)
async def test_dom_must_be_the_integer_0_or_1(world: World, dom: object) -> None:
    body = {"game": "dice", "dom": dom, "session": world.session.id}
    error = error_of(await world.play(body, world.owner.token), 400)
    assert "dom" in error["message"]


@pytest.mark.parametrize(
    ("game", "dom", "extra"),
    [
        ("dice", 0, {}),
        ("dice", 1, {}),
        ("luck", 0, {}),
        ("luck", 1, {}),
        ("link", 1, {"type": "add"}),
    ],
)
async def test_session_is_required_for_dice_luck_and_link_dom1(
    world: World, game: str, dom: int, extra: dict[str, str]
) -> None:
    token = world.owner.token if dom == 0 else world.dom.token
    error = error_of(await world.play({"game": game, "dom": dom, **extra}, token), 400)
    assert "session" in error["message"]


@pytest.mark.parametrize("session", [0, -1, "100", 100.0, True, [100]], ids=repr)
async def test_session_must_be_a_positive_integer(world: World, session: object) -> None:
    body = {"game": "dice", "dom": 0, "session": session}
    error = error_of(await world.play(body, world.owner.token), 400)
    assert "session" in error["message"]


async def test_session_given_on_a_public_vote_is_validated_too(world: World) -> None:
    error = error_of(await world.play(world.vote("add", session="abc")), 400)
    assert "session" in error["message"]


async def test_token_is_required_for_a_public_vote(world: World) -> None:
    body = {"game": "link", "dom": 0, "session": world.session.id, "type": "add"}
    error = error_of(await world.play(body), 400)
    assert "token" in error["message"]


@pytest.mark.parametrize("token", ["", "   ", 12345, ["x"]], ids=repr)
async def test_link_token_must_be_a_non_empty_string(world: World, token: object) -> None:
    body = {"game": "link", "dom": 0, "token": token, "type": "add"}
    error = error_of(await world.play(body), 400)
    assert "token" in error["message"]


@pytest.mark.parametrize("dom", [0, 1])
async def test_type_is_required_for_link_in_both_modes(world: World, dom: int) -> None:
    body: dict[str, Any] = {"game": "link", "dom": dom}
    if dom == 0:
        body["token"] = world.link_token
    else:
        body["session"] = world.session.id
    error = error_of(await world.play(body, None if dom == 0 else world.dom.token), 400)
    assert "type" in error["message"]


@pytest.mark.parametrize("vote_type", ["ADD", "random", "plus", "", 1, None], ids=repr)
async def test_type_must_be_add_sub_or_rand(world: World, vote_type: object) -> None:
    body = {"game": "link", "dom": 0, "token": world.link_token, "type": vote_type}
    error = error_of(await world.play(body), 400)
    assert "type" in error["message"]


async def test_fields_a_mode_does_not_use_are_ignored(world: World) -> None:
    body = world.own("dice", token="whatever", type="nonsense", extra=[1, 2])
    assert data_of(await world.play(body, world.owner.token))["game"] == "dice"


# --- Permission rules -------------------------------------------------------------


@pytest.mark.parametrize("game", ["dice", "luck"])
async def test_dom0_play_needs_the_session_owner(world: World, game: str) -> None:
    for player in (world.stranger, world.dom):
        error = error_of(await world.play(world.own(game), player.token), 403)
        assert error["code"] == "FORBIDDEN"
    data_of(await world.play(world.own(game), world.owner.token))


@pytest.mark.parametrize("game", ["dice", "luck", "link"])
async def test_dom1_play_needs_an_active_dom_link_to_the_owner(world: World, game: str) -> None:
    body = world.own(game, dom=1, type="add")
    for player in (world.stranger, world.owner):
        assert error_of(await world.play(body, player.token), 403)["code"] == "FORBIDDEN"
    assert data_of(await world.play(body, world.dom.token))["dom"] == 1


async def test_dom_link_is_directional(world: World) -> None:
    # The wearer is not the dom of their own dom.
    session = world.ct.add_session(world.dom, luck=LuckConfig())
    body = {"game": "luck", "dom": 1, "session": session.id}
    error_of(await world.play(body, world.owner.token), 403)


async def test_unlinked_dom_loses_permission(world: World) -> None:
    data_of(await world.play(world.own("luck", dom=1), world.dom.token))
    world.ct.unlink_dom(world.dom, world.owner)
    error_of(await world.play(world.own("luck", dom=1), world.dom.token), 403)


async def test_public_vote_by_a_logged_stranger_is_allowed(world: World) -> None:
    data = data_of(await world.play(world.vote("sub"), world.stranger.token))
    assert data["penalty"] is None
    assert world.ct.votes[0].user == world.stranger.id


# --- Not found and session resolution ---------------------------------------------


@pytest.mark.parametrize(("game", "dom"), [("dice", 0), ("luck", 0), ("dice", 1), ("link", 1)])
async def test_unknown_session_is_404(world: World, game: str, dom: int) -> None:
    body = {"game": game, "dom": dom, "session": 999, "type": "add"}
    error = error_of(
        await world.play(body, world.owner.token if dom == 0 else world.dom.token), 404
    )
    assert error["code"] == "SESSION_NOT_FOUND"


async def test_unknown_link_token_is_404(world: World) -> None:
    body = {"game": "link", "dom": 0, "token": "NoSuchLinkToken00000000000000000", "type": "add"}
    assert error_of(await world.play(body), 404)["code"] == "LINK_NOT_FOUND"


async def test_public_vote_resolves_the_session_from_the_token(world: World) -> None:
    other = world.ct.add_session(world.stranger, link=LinkConfig())
    assert other.link is not None
    body = {"game": "link", "dom": 0, "token": other.link.public_token, "type": "add"}
    assert data_of(await world.play(body))["session"] == other.id
    assert world.ct.histories(other.id)[0].source == "LINK"
    assert world.ct.histories(world.session.id)[0].type == "START"


async def test_public_vote_with_the_matching_session_is_accepted(world: World) -> None:
    data = data_of(await world.play(world.vote("add", session=world.session.id)))
    assert data["session"] == world.session.id


async def test_public_vote_naming_another_session_is_404(world: World) -> None:
    other = world.ct.add_session(world.owner, link=LinkConfig())
    error = error_of(await world.play(world.vote("add", session=other.id)), 404)
    assert error["code"] == "LINK_NOT_FOUND"
    assert world.ct.votes == []


# --- Session and game state -------------------------------------------------------


@pytest.mark.parametrize("game", ["dice", "luck", "link"])
async def test_game_not_enabled_on_the_session_is_400(world: World, game: str) -> None:
    bare = world.ct.add_session(world.owner)
    body = {"game": game, "dom": 1, "session": bare.id, "type": "add"}
    error = error_of(await world.play(body, world.dom.token), 400)
    assert error["code"] == "GAME_DISABLED"
    assert game.upper() in error["message"]


async def test_disabled_link_game_refuses_public_votes(world: World) -> None:
    session = world.ct.add_session(world.owner, link=LinkConfig(enabled=False))
    assert session.link is not None
    body = {"game": "link", "dom": 0, "token": session.link.public_token, "type": "add"}
    assert error_of(await world.play(body), 400)["code"] == "GAME_DISABLED"


async def test_inactive_session_is_400(world: World) -> None:
    world.ct.end_session(world.session)
    error = error_of(await world.play(world.own("dice"), world.owner.token), 400)
    assert error["code"] == "SESSION_INACTIVE"
    assert error_of(await world.play(world.vote("add")), 400)["code"] == "SESSION_INACTIVE"


async def test_session_without_scheduled_end_is_400(world: World) -> None:
    session = world.ct.add_session(world.owner, scheduled_end=None, luck=LuckConfig())
    body = {"game": "luck", "dom": 0, "session": session.id}
    assert error_of(await world.play(body, world.owner.token), 400)["code"] == "NO_SCHEDULED_END"


# --- Penalty ----------------------------------------------------------------------


async def test_owner_vote_is_a_penalty_forced_to_add_at_max_multiplier(world: World) -> None:
    link = LinkConfig(addint=2, addunit="hour", subint=5, subunit="minute", maxmultiplier=1.75)
    session = world.ct.add_session(world.owner, link=link)
    body = {"game": "link", "dom": 0, "token": link.public_token, "type": "sub"}
    data = data_of(await world.play(body, world.owner.token))
    assert data["penalty"] == 1
    assert data["operation"] == "ADD"
    assert data["multiplier"] == 1.75
    assert data["time"] == 7200
    assert data["unit"] == "hour"
    assert data["seconds"] == 12600
    assert data["session"] == session.id


async def test_penalty_history_source_is_penalty(world: World) -> None:
    data = data_of(await world.play(world.vote("rand"), world.owner.token))
    row = world.ct.histories(world.session.id)[0]
    assert (row.source, row.type, row.unit, row.dom) == ("PENALTY", "ADD", data["seconds"], 0)


async def test_penalty_records_no_voter_and_leaves_link_counters(world: World) -> None:
    data_of(await world.play(world.vote("add"), world.owner.token))
    assert world.ct.votes == []
    counters = world.ct.game_counters(world.session.id, "link")
    assert (counters.used, counters.lastuse) == (0, None)


async def test_penalty_is_not_limited_by_the_vote_cooldown(world: World) -> None:
    for _ in range(2):
        assert data_of(await world.play(world.vote("add"), world.owner.token))["penalty"] == 1
    assert [row.source for row in world.ct.histories(world.session.id)[:2]] == ["PENALTY"] * 2


async def test_dom_play_on_link_is_never_a_penalty(world: World) -> None:
    data = data_of(await world.play(world.own("link", dom=1, type="sub"), world.dom.token))
    assert data["penalty"] is None
    assert data["operation"] == "SUB"


# --- LINK vote cooldown -----------------------------------------------------------


async def test_waitint_0_allows_one_vote_ever(world: World) -> None:
    data_of(await world.play(world.vote("add")))
    error = error_of(await world.play(world.vote("add")), 400)
    assert error["code"] == "COOLDOWN"
    world.ct.advance(timedelta(days=60))
    assert error_of(await world.play(world.vote("sub")), 400)["code"] == "COOLDOWN"


async def test_waitint_1_allows_another_vote_after_24_hours(world: World) -> None:
    session = world.ct.add_session(world.owner, link=LinkConfig(waitint=1))
    assert session.link is not None
    body = {"game": "link", "dom": 0, "token": session.link.public_token, "type": "add"}
    data_of(await world.play(body, world.stranger.token))
    world.ct.advance(timedelta(hours=23, minutes=59))
    error = error_of(await world.play(body, world.stranger.token), 400)
    assert error["code"] == "COOLDOWN"
    assert "1 min" in error["message"]
    world.ct.advance(timedelta(minutes=1))
    data_of(await world.play(body, world.stranger.token))
    assert len(world.ct.votes) == 2


async def test_refused_vote_changes_nothing(world: World) -> None:
    data_of(await world.play(world.vote("add")))
    end = world.session.scheduled_end
    rows = len(world.ct.histories(world.session.id))
    error_of(await world.play(world.vote("add")), 400)
    assert world.session.scheduled_end == end
    assert len(world.ct.histories(world.session.id)) == rows
    assert len(world.ct.votes) == 1
    assert world.ct.game_counters(world.session.id, "link").used == 1


async def test_dom_link_plays_have_no_vote_cooldown(world: World) -> None:
    for _ in range(3):
        data_of(await world.play(world.own("link", dom=1, type="add"), world.dom.token))
    assert world.ct.votes == []


# --- Vote uniqueness --------------------------------------------------------------


async def test_anonymous_votes_are_unique_per_address(world: World) -> None:
    data_of(await world.play(world.vote("add")))
    error_of(await world.play(world.vote("add")), 400)
    async with client_from(world.ct, "127.0.0.2") as second:
        data_of(await second.post(GAMES_PATH, json=world.vote("add")))
        error_of(await second.post(GAMES_PATH, json=world.vote("add")), 400)
    assert [(vote.user, vote.ip) for vote in world.ct.votes] == [
        (None, "127.0.0.1"),
        (None, "127.0.0.2"),
    ]


async def test_forwarded_for_header_does_not_make_a_new_anonymous_voter(world: World) -> None:
    data_of(await world.play(world.vote("add")))
    spoof = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
    error_of(await world.play(world.vote("add"), headers=spoof), 400)


async def test_logged_vote_uniqueness_ignores_the_address(world: World) -> None:
    data_of(await world.play(world.vote("add"), world.stranger.token))
    async with client_from(world.ct, "127.0.0.2") as second:
        headers = {"Authorization": f"Bearer {world.stranger.token}"}
        response = await second.post(GAMES_PATH, json=world.vote("add"), headers=headers)
    assert error_of(response, 400)["code"] == "COOLDOWN"


async def test_logged_and_anonymous_votes_from_one_address_are_separate(world: World) -> None:
    data_of(await world.play(world.vote("add")))
    data_of(await world.play(world.vote("add"), world.stranger.token))
    data_of(await world.play(world.vote("add"), world.dom.token))
    assert [vote.user for vote in world.ct.votes] == [None, world.stranger.id, world.dom.id]


async def test_votes_are_counted_per_link(world: World) -> None:
    other_link = LinkConfig()
    other = world.ct.add_session(world.owner, link=other_link)
    data_of(await world.play(world.vote("add")))
    body = {"game": "link", "dom": 0, "token": other_link.public_token, "type": "add"}
    assert data_of(await world.play(body))["session"] == other.id
    assert error_of(await world.play(body), 400)["code"] == "COOLDOWN"


async def test_votes_record_voter_choice_and_outcome(world: World) -> None:
    data = data_of(await world.play(world.vote("rand"), world.stranger.token))
    [vote] = world.ct.votes
    assert vote.session == world.session.id
    assert vote.token == world.link_token
    assert vote.type == "rand"
    assert vote.operation == data["operation"]
    assert vote.happened <= world.ct.now


# --- LINK type --------------------------------------------------------------------


@pytest.mark.parametrize(("vote_type", "operation"), [("add", "ADD"), ("sub", "SUB")])
async def test_add_and_sub_are_obeyed(world: World, vote_type: str, operation: str) -> None:
    link = LinkConfig(addint=3, addunit="hour", subint=20, subunit="minute")
    session = world.ct.add_session(world.owner, link=link)
    body = {"game": "link", "dom": 1, "session": session.id, "type": vote_type}
    data = data_of(await world.play(body, world.dom.token))
    assert data["operation"] == operation
    assert (data["int"], data["unit"], data["time"]) == (
        (3, "hour", 10800) if vote_type == "add" else (20, "minute", 1200)
    )


async def test_rand_resolves_to_add_or_sub_at_random(world: World) -> None:
    body = world.own("link", dom=1, type="rand")
    seen = {data_of(await world.play(body, world.dom.token))["operation"] for _ in range(24)}
    assert seen == {"ADD", "SUB"}


# --- Histories and counters ------------------------------------------------------


@pytest.mark.parametrize(
    ("game", "dom", "source"),
    [
        ("dice", 0, "DICE"),
        ("dice", 1, "DICE"),
        ("luck", 0, "LUCK"),
        ("luck", 1, "LUCK"),
        ("link", 1, "LINK"),
        ("link", 0, "LINK"),
    ],
)
async def test_every_play_inserts_one_history_row(
    world: World, game: str, dom: int, source: str
) -> None:
    before = world.ct.histories(world.session.id)
    body = (
        world.vote("rand") if (game, dom) == ("link", 0) else world.own(game, dom=dom, type="rand")
    )
    token = world.dom.token if dom == 1 else (world.owner.token if game != "link" else None)
    data = data_of(await world.play(body, token))
    rows = world.ct.histories(world.session.id)
    assert len(rows) == len(before) + 1
    row = rows[0]
    assert row.session == world.session.id
    assert row.type == data["operation"]
    assert row.unit == data["seconds"]
    assert row.source == source
    assert row.dom == dom
    assert row.schedule is not None
    assert row.schedule.strftime("%Y-%m-%d %H:%M:%S") == data["scheduledend_utc"]
    assert abs(row.happened - world.ct.now) < timedelta(seconds=5)


async def test_new_session_has_a_start_history_row(world: World) -> None:
    [row] = world.ct.histories(world.session.id)
    assert (row.type, row.unit, row.source, row.dom) == ("START", None, None, 0)
    assert row.schedule == world.session.scheduled_end


@pytest.mark.parametrize("game", ["dice", "luck", "link"])
async def test_each_play_updates_games_used_and_lastuse(world: World, game: str) -> None:
    assert world.ct.game_counters(world.session.id, game).used == 0
    body = world.own(game, dom=1, type="add")
    for count in (1, 2):
        data_of(await world.play(body, world.dom.token))
        counters = world.ct.game_counters(world.session.id, game)
        assert counters.used == count
        assert counters.lastuse is not None
        assert abs(counters.lastuse - world.ct.now) < timedelta(seconds=5)
    others = {"dice", "luck", "link"} - {game}
    assert all(world.ct.game_counters(world.session.id, o).used == 0 for o in others)


async def test_public_vote_records_voter_and_updates_link_counters(world: World) -> None:
    world.ct.advance(timedelta(hours=1))
    data_of(await world.play(world.vote("add")))
    counters = world.ct.game_counters(world.session.id, "LINK")
    assert counters.used == 1
    assert counters.lastuse == world.ct.votes[0].happened


async def test_refused_play_leaves_no_trace(world: World) -> None:
    error_of(await world.play(world.own("dice"), world.stranger.token), 403)
    assert [row.type for row in world.ct.histories(world.session.id)] == ["START"]
    assert world.ct.game_counters(world.session.id, "dice").used == 0


# --- DICE / LUCK play cooldown (waitint + waitunit) ------------------------------


async def test_dice_cooldown_refuses_plays_until_it_has_passed(world: World) -> None:
    session = world.ct.add_session(world.owner, dice=DiceConfig(waitint=2, waitunit="minute"))
    body = {"game": "dice", "dom": 0, "session": session.id}
    data_of(await world.play(body, world.owner.token))
    world.ct.advance(timedelta(seconds=119))
    error = error_of(await world.play(body, world.owner.token), 400)
    assert error["code"] == "COOLDOWN"
    world.ct.advance(timedelta(seconds=1))
    data_of(await world.play(body, world.owner.token))


async def test_luck_cooldown_is_shared_by_owner_and_dom(world: World) -> None:
    session = world.ct.add_session(world.owner, luck=LuckConfig(waitint=1, waitunit="day"))
    body = {"game": "luck", "dom": 0, "session": session.id}
    data_of(await world.play(body, world.owner.token))
    error = error_of(await world.play({**body, "dom": 1}, world.dom.token), 400)
    assert error["code"] == "COOLDOWN"
    world.ct.advance(timedelta(days=1))
    data_of(await world.play({**body, "dom": 1}, world.dom.token))


async def test_cooldown_wording_can_be_chosen_and_still_refuses_the_same_way(
    world: World,
) -> None:
    # The contract names no code or text for a cooldown: tests can pick others.
    world.ct.cooldown_wording = CooldownWording(
        code="VALIDATION_ERROR", message="{game}: wait {wait} before the next one."
    )
    session = world.ct.add_session(world.owner, dice=DiceConfig(waitint=2, waitunit="minute"))
    body = {"game": "dice", "dom": 0, "session": session.id}
    data_of(await world.play(body, world.owner.token))
    played = len(world.ct.histories(session.id))
    world.ct.advance(timedelta(seconds=60))
    error = error_of(await world.play(body, world.owner.token), 400)
    assert error == {"code": "VALIDATION_ERROR", "message": "DICE: wait 1 min before the next one."}
    assert len(world.ct.histories(session.id)) == played
    world.ct.cooldown_wording = CooldownWording(code="E_VOTE", message="Vote limit reached.")
    data_of(await world.play(world.vote("add")))
    vote = error_of(await world.play(world.vote("add")), 400)
    assert vote == {"code": "E_VOTE", "message": "Vote limit reached."}
    assert len(world.ct.votes) == 1


async def test_waitint_0_means_no_play_cooldown(world: World) -> None:
    for _ in range(3):
        data_of(await world.play(world.own("dice"), world.owner.token))
        data_of(await world.play(world.own("luck"), world.owner.token))


# --- Response fields per game -----------------------------------------------------


async def test_link_response_has_exactly_the_documented_fields(world: World) -> None:
    data = data_of(await world.play(world.vote("add")))
    assert set(data) == LINK_KEYS
    assert data["game"] == "link"
    assert isinstance(data["multiplier"], float)
    assert UTC_TEXT.fullmatch(data["scheduledend_utc"])


async def test_dice_response_has_exactly_the_documented_fields(world: World) -> None:
    data = data_of(await world.play(world.own("dice"), world.owner.token))
    assert set(data) == DICE_KEYS
    assert data["game"] == "dice"


async def test_luck_response_has_exactly_the_documented_fields(world: World) -> None:
    data = data_of(await world.play(world.own("luck", dom=1), world.dom.token))
    assert set(data) == LUCK_KEYS
    assert (data["game"], data["dom"], data["session"]) == ("luck", 1, world.session.id)


async def test_scheduled_end_moves_by_seconds_in_the_direction_of_the_operation(
    world: World,
) -> None:
    for _ in range(12):
        before = world.session.scheduled_end
        assert before is not None
        data = data_of(await world.play(world.own("luck"), world.owner.token))
        sign = 1 if data["operation"] == "ADD" else -1
        moved = parse_utc(data["scheduledend_utc"]) - before
        assert moved == timedelta(seconds=sign * data["seconds"])
        assert world.session.scheduled_end == parse_utc(data["scheduledend_utc"])


async def test_multiplier_is_two_decimals_within_the_configured_range(world: World) -> None:
    session = world.ct.add_session(
        world.owner, luck=LuckConfig(minmultiplier=1.25, maxmultiplier=1.30)
    )
    body = {"game": "luck", "dom": 0, "session": session.id}
    seen = set()
    for _ in range(20):
        multiplier = data_of(await world.play(body, world.owner.token))["multiplier"]
        assert 1.25 <= multiplier <= 1.30
        assert round(multiplier, 2) == multiplier
        seen.add(multiplier)
    assert len(seen) > 1


async def test_luck_amount_follows_the_configuration(world: World) -> None:
    luck = LuckConfig(addint=3, addunit="day", subint=10, subunit="minute")
    session = world.ct.add_session(world.owner, luck=luck)
    body = {"game": "luck", "dom": 0, "session": session.id}
    seen = set()
    for _ in range(16):
        data = data_of(await world.play(body, world.owner.token))
        expected = (3, 3 * 86400) if data["operation"] == "ADD" else (10, 600)
        assert (data["int"], data["time"]) == expected
        assert data["seconds"] == expected_seconds(data["time"], data["multiplier"])
        seen.add(data["operation"])
    assert seen == {"ADD", "SUB"}


async def test_dice_results_are_internally_consistent(world: World) -> None:
    session = world.ct.add_session(
        world.owner, dice=DiceConfig(dices=3, addunit="minute", maxmultiplier=3.0)
    )
    body = {"game": "dice", "dom": 0, "session": session.id}
    operations: set[str] = set()
    signs: set[str] = set()
    for _ in range(20):
        data = data_of(await world.play(body, world.owner.token))
        dices, ops = data["dices"], data["dicesops"]
        assert len(dices) == len(ops) == 3
        assert all(isinstance(face, int) and 1 <= face <= 6 for face in dices)
        assert ops[0] == ""
        assert set(ops) <= {"", "s"}
        signed = [-face if op == "s" else face for face, op in zip(dices, ops, strict=True)]
        assert data["calc"] == "".join(f"{value:+d}" for value in signed)
        assert data["sum"] == sum(signed)
        assert data["time"] == abs(data["sum"]) * 60
        assert data["seconds"] == expected_seconds(data["time"], data["multiplier"])
        operations.add(data["operation"])
        signs.update("s" if op == "s" else "+" for op in ops[1:])
    assert operations == {"ADD", "SUB"}
    assert signs == {"s", "+"}


async def test_single_die_is_always_added(world: World) -> None:
    session = world.ct.add_session(world.owner, dice=DiceConfig(dices=1))
    body = {"game": "dice", "dom": 0, "session": session.id}
    for _ in range(5):
        data = data_of(await world.play(body, world.owner.token))
        assert data["dicesops"] == [""]
        assert data["sum"] == data["dices"][0] > 0


# --- The request log -------------------------------------------------------------


async def test_the_request_log_keeps_what_was_answered(world: World) -> None:
    played = await world.play(world.own("dice"), world.owner.token)
    refused = await world.play(world.own("dice"), "not-a-token")

    first, second = world.ct.requests_to(GAMES_PATH)
    assert first.response is not None
    assert first.response.status == 200
    assert first.response.json == played.json()
    assert first.response.data == data_of(played)
    assert second.response is not None
    assert second.response.status == 401
    assert second.response.json == refused.json()


async def test_a_dropped_connection_records_no_answer(world: World) -> None:
    world.ct.inject(Fault.drop_connection())

    with pytest.raises(httpx.TransportError):
        await world.play(world.own("dice"), world.owner.token)

    [request] = world.ct.requests_to(GAMES_PATH)
    assert request.response is None
