"""The API client against the fake Chastity Tracker over real HTTP."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.ctapi import (
    BadRequest,
    ChastityTrackerClient,
    Choice,
    Forbidden,
    InvalidRequest,
    MalformedResponse,
    NotFound,
    NotSent,
    OutcomeUnknown,
    Redirected,
    ServerError,
    Unauthorized,
)
from bot.ctapi.models import Game, GameRequest
from bot.logs import RedactingFilter
from bot.secrets import Secret
from tests.fakes.ct_api import (
    GAMES_PATH,
    DiceConfig,
    FakeChastityTracker,
    FakeSession,
    FakeUser,
    Fault,
    LinkConfig,
    LuckConfig,
)


async def instant(_: float) -> None:
    return None


@pytest.fixture
async def api(ct_fake: FakeChastityTracker) -> AsyncIterator[ChastityTrackerClient]:
    async with ChastityTrackerClient(ct_fake.base_url, 0.5, sleep=instant) as client:
        yield client


@pytest.fixture
def wearer(ct_fake: FakeChastityTracker) -> FakeUser:
    return ct_fake.add_user("wearer")


@pytest.fixture
def session(ct_fake: FakeChastityTracker, wearer: FakeUser) -> FakeSession:
    return ct_fake.add_session(
        wearer, dice=DiceConfig(dices=3), luck=LuckConfig(), link=LinkConfig(waitint=1)
    )


def bearer(user: FakeUser) -> Secret:
    return Secret(user.token)


async def test_dice_as_owner_moves_the_schedule(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    before = session.scheduled_end
    assert before is not None
    result = await api.play_dice(bearer(wearer), session.id)
    assert len(result.dice) == 3
    assert result.session == session.id
    assert result.dom is False
    assert result.scheduled_end == ct_fake.session(session.id).scheduled_end
    moved = (result.scheduled_end - before).total_seconds()
    assert abs(moved) == result.seconds
    [request] = ct_fake.requests_to(GAMES_PATH)
    assert request.json == {"game": "dice", "dom": 0, "session": session.id}
    assert request.headers["authorization"] == f"Bearer {wearer.token}"


async def test_luck_as_dom_needs_the_dom_link(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    dom = ct_fake.add_user("keyholder")
    with pytest.raises(Forbidden):
        await api.play_luck(bearer(dom), session.id, as_dom=True)
    ct_fake.link_dom(dom, wearer)
    result = await api.play_luck(bearer(dom), session.id, as_dom=True)
    assert result.dom is True


async def test_link_dom_play_and_votes(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    dom = ct_fake.add_user("keyholder")
    ct_fake.link_dom(dom, wearer)
    played = await api.play_link_as_dom(bearer(dom), session.id, Choice.SUB)
    assert played.operation.value == "SUB"
    assert session.link is not None
    link = Secret(session.link.public_token)
    anonymous = await api.vote_link(link, Choice.ADD)
    assert anonymous.session == session.id
    assert anonymous.penalty is False
    voter = ct_fake.add_user("voter")
    logged = await api.vote_link(link, Choice.RAND, bearer=bearer(voter))
    assert logged.penalty is False
    anonymous_request, logged_request = ct_fake.requests_to(GAMES_PATH)[1:]
    assert "authorization" not in anonymous_request.headers
    assert logged_request.headers["authorization"] == f"Bearer {voter.token}"


async def test_owner_vote_is_a_penalty(
    api: ChastityTrackerClient, wearer: FakeUser, session: FakeSession
) -> None:
    assert session.link is not None
    result = await api.vote_link(
        Secret(session.link.public_token), Choice.SUB, bearer=bearer(wearer)
    )
    assert result.penalty is True
    assert result.added


async def test_second_anonymous_vote_hits_the_cooldown(
    api: ChastityTrackerClient, session: FakeSession
) -> None:
    assert session.link is not None
    link = Secret(session.link.public_token)
    await api.vote_link(link, Choice.ADD)
    with pytest.raises(BadRequest) as info:
        await api.vote_link(link, Choice.ADD)
    assert info.value.is_cooldown
    assert info.value.message


async def test_typed_errors_from_the_server(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    with pytest.raises(Unauthorized):
        await api.play_dice(Secret("not-a-real-token-000000000"), session.id)
    with pytest.raises(NotFound):
        await api.play_dice(bearer(wearer), 99999)
    with pytest.raises(NotFound):
        await api.vote_link(Secret("unknown-link-token-00000"), Choice.ADD)
    ct_fake.revoke(wearer)
    with pytest.raises(Unauthorized):
        await api.stats(bearer(wearer))


async def test_stats_and_active_sessions(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    ct_fake.add_session(wearer, active=False)
    stats = await api.stats(bearer(wearer))
    assert stats.nick == "wearer"
    page = await api.sessions(bearer(wearer), active=True)
    assert [item.id for item in page.items] == [session.id]
    assert page.items[0].games is not None


@pytest.mark.parametrize("after_apply", [True, False])
async def test_timeout_sends_exactly_one_post(
    api: ChastityTrackerClient,
    ct_fake: FakeChastityTracker,
    wearer: FakeUser,
    session: FakeSession,
    after_apply: bool,
) -> None:
    ct_fake.inject(Fault.hang(after_apply=after_apply))
    with pytest.raises(OutcomeUnknown):
        await api.play_dice(bearer(wearer), session.id)
    await ct_fake.wait_idle()
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1
    assert len(ct_fake.histories(session.id)) == (2 if after_apply else 1)


async def test_dropped_connection_after_apply_is_unknown_and_not_resent(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    ct_fake.inject(Fault.drop_connection(after_apply=True))
    with pytest.raises(OutcomeUnknown):
        await api.play_luck(bearer(wearer), session.id)
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.html_500(), ServerError),
        (Fault.malformed_json(), MalformedResponse),
        (Fault.no_envelope(), MalformedResponse),
        (Fault.status(503), ServerError),
    ],
)
async def test_broken_answers_to_a_game_post(
    api: ChastityTrackerClient,
    ct_fake: FakeChastityTracker,
    wearer: FakeUser,
    session: FakeSession,
    fault: Fault,
    kind: type[Exception],
) -> None:
    ct_fake.inject(fault)
    with pytest.raises(kind):
        await api.play_dice(bearer(wearer), session.id)
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1


async def test_reads_survive_one_server_error(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser
) -> None:
    ct_fake.inject(Fault.html_500(), path="/api/v2/stats.php")
    assert (await api.stats(bearer(wearer))).nick == "wearer"
    assert len(ct_fake.requests_to("/api/v2/stats.php")) == 2


async def test_nothing_listening_is_not_sent(refused_port: int) -> None:
    async with ChastityTrackerClient(
        f"http://127.0.0.1:{refused_port}", 0.5, sleep=instant
    ) as client:
        with pytest.raises(NotSent):
            await client.play_dice(Secret("whatever-token-123456"), 1)


async def test_tokens_stay_out_of_logs_at_debug(
    api: ChastityTrackerClient,
    ct_fake: FakeChastityTracker,
    wearer: FakeUser,
    session: FakeSession,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.handler.addFilter(RedactingFilter())
    assert session.link is not None
    with caplog.at_level(logging.DEBUG):
        await api.play_dice(bearer(wearer), session.id)
        await api.vote_link(Secret(session.link.public_token), Choice.ADD, bearer=bearer(wearer))
        ct_fake.inject(Fault.hang())
        with pytest.raises(OutcomeUnknown):
            await api.play_luck(bearer(wearer), session.id)
    text = caplog.text
    assert "games.php" in text
    assert wearer.token not in text
    assert session.link.public_token not in text


# --- exactly what the contract asks, per game and mode --------------------------------


@pytest.mark.parametrize(
    ("mode", "expected_body", "sends_bearer"),
    [
        ("dice-owner", {"game": "dice", "dom": 0}, True),
        ("dice-dom", {"game": "dice", "dom": 1}, True),
        ("luck-owner", {"game": "luck", "dom": 0}, True),
        ("luck-dom", {"game": "luck", "dom": 1}, True),
        ("link-dom", {"game": "link", "dom": 1, "type": "sub"}, True),
        ("link-vote-anonymous", {"game": "link", "dom": 0, "type": "rand"}, False),
        ("link-vote-logged", {"game": "link", "dom": 0, "type": "add"}, True),
    ],
)
async def test_each_mode_sends_exactly_the_documented_request(
    api: ChastityTrackerClient,
    ct_fake: FakeChastityTracker,
    wearer: FakeUser,
    session: FakeSession,
    mode: str,
    expected_body: dict[str, Any],
    sends_bearer: bool,
) -> None:
    dom = ct_fake.add_user("keyholder")
    ct_fake.link_dom(dom, wearer)
    voter = ct_fake.add_user("voter")
    assert session.link is not None
    link = Secret(session.link.public_token)
    plays = {
        "dice-owner": lambda: api.play_dice(bearer(wearer), session.id),
        "dice-dom": lambda: api.play_dice(bearer(dom), session.id, as_dom=True),
        "luck-owner": lambda: api.play_luck(bearer(wearer), session.id),
        "luck-dom": lambda: api.play_luck(bearer(dom), session.id, as_dom=True),
        "link-dom": lambda: api.play_link_as_dom(bearer(dom), session.id, Choice.SUB),
        "link-vote-anonymous": lambda: api.vote_link(link, Choice.RAND),
        "link-vote-logged": lambda: api.vote_link(link, Choice.ADD, bearer=bearer(voter)),
    }
    result = await plays[mode]()
    [request] = ct_fake.requests_to(GAMES_PATH)
    if mode.startswith("link-vote"):
        expected_body = {**expected_body, "token": session.link.public_token}
    else:
        expected_body = {**expected_body, "session": session.id}
    assert request.method == "POST"
    assert request.json == expected_body
    assert request.headers["content-type"] == "application/json"
    player = {"dice-owner": wearer, "luck-owner": wearer, "link-vote-logged": voter}.get(mode, dom)
    if sends_bearer:
        assert request.headers["authorization"] == f"Bearer {player.token}"
    else:
        assert "authorization" not in request.headers
    assert "cookie" not in request.headers
    assert result.session == session.id
    assert result.dom is (expected_body["dom"] == 1)


async def test_reads_send_the_bearer_and_no_body(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser
) -> None:
    await api.stats(bearer(wearer))
    await api.sessions(bearer(wearer), active=False, limit=10, offset=5)
    stats, sessions = ct_fake.requests
    for request in (stats, sessions):
        assert request.method == "GET"
        assert request.headers["authorization"] == f"Bearer {wearer.token}"
        assert request.text == ""
    assert sessions.query == {"limit": "10", "offset": "5", "active": "0"}


async def test_a_public_vote_may_name_its_session(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, session: FakeSession
) -> None:
    assert session.link is not None
    result = await api.vote_link(Secret(session.link.public_token), Choice.ADD, session=session.id)
    assert result.session == session.id
    assert ct_fake.requests_to(GAMES_PATH)[0].json["session"] == session.id


async def test_a_blank_link_token_is_refused_before_sending(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker
) -> None:
    request = GameRequest(Game.LINK, False, link_token=Secret("      "), choice=Choice.ADD)
    with pytest.raises(InvalidRequest, match="link token"):
        await api.play(request, None)
    assert ct_fake.requests == []


# --- the fake's odd-but-plausible answers, end to end --------------------------------


@pytest.mark.parametrize("fault", [Fault.numbers_as_text(), Fault.html_content_type()])
async def test_every_game_survives_php_shaped_answers(
    api: ChastityTrackerClient,
    ct_fake: FakeChastityTracker,
    wearer: FakeUser,
    session: FakeSession,
    fault: Fault,
) -> None:
    assert session.link is not None
    ct_fake.inject(fault, times=None)
    dice = await api.play_dice(bearer(wearer), session.id)
    luck = await api.play_luck(bearer(wearer), session.id)
    vote = await api.vote_link(Secret(session.link.public_token), Choice.SUB)
    penalty = await api.vote_link(
        Secret(session.link.public_token), Choice.SUB, bearer=bearer(wearer)
    )
    assert len(dice.dice) == 3
    assert all(isinstance(face, int) for face in dice.dice)
    assert isinstance(luck.unit_count, int)
    assert vote.dom is False
    assert vote.penalty is False
    assert penalty.penalty is True
    assert penalty.scheduled_end == ct_fake.session(session.id).scheduled_end


async def test_a_redirect_to_https_is_raised_and_the_play_not_resent(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    ct_fake.inject(Fault.redirect_to_https())
    with pytest.raises(Redirected) as info:
        await api.play_dice(bearer(wearer), session.id)
    assert info.value.location == "https://www.chastitytracker.org"
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1
    assert [row.type for row in ct_fake.histories(session.id)] == ["START"]


async def test_an_empty_200_to_a_play_is_malformed_and_not_resent(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    ct_fake.inject(Fault.empty_body(after_apply=True))
    with pytest.raises(MalformedResponse, match="empty"):
        await api.play_luck(bearer(wearer), session.id)
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1
    assert len(ct_fake.histories(session.id)) == 2


async def test_an_error_envelope_under_http_200_is_a_refusal(
    api: ChastityTrackerClient, ct_fake: FakeChastityTracker, wearer: FakeUser, session: FakeSession
) -> None:
    ct_fake.inject(Fault.status(200))
    with pytest.raises(BadRequest):
        await api.play_luck(bearer(wearer), session.id)
    assert len(ct_fake.requests_to(GAMES_PATH)) == 1
    assert [row.type for row in ct_fake.histories(session.id)] == ["START"]
