"""Injected faults, request recording, seeding and the clock of the fake."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fakes.ct_api import (
    GAMES_PATH,
    STATS_PATH,
    DiceConfig,
    FakeChastityTracker,
    FakeSession,
    FakeUser,
    Fault,
    LuckConfig,
)
from tests.fixtures.ct import shared_ssl_context


@dataclass
class Play:
    ct: FakeChastityTracker
    http: httpx.AsyncClient
    owner: FakeUser
    session: FakeSession

    @property
    def body(self) -> dict[str, Any]:
        return {"game": "luck", "dom": 0, "session": self.session.id}

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.owner.token}"}

    async def send(self, *, client_timeout: float = 5.0) -> httpx.Response:
        return await self.http.post(
            GAMES_PATH, json=self.body, headers=self.headers, timeout=client_timeout
        )

    def plays_applied(self) -> int:
        return sum(1 for row in self.ct.histories(self.session.id) if row.type != "START")


@pytest.fixture
def play(ct_fake: FakeChastityTracker, ct_http: httpx.AsyncClient) -> Play:
    owner = ct_fake.add_user("wearer")
    session = ct_fake.add_session(owner, luck=LuckConfig())
    return Play(ct_fake, ct_http, owner, session)


def assert_normal_play(response: httpx.Response) -> None:
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["data"]["game"] == "luck"


# --- each fault kind ---------------------------------------------------------------


async def test_delay_answers_normally_after_the_wait(play: Play) -> None:
    play.ct.inject(Fault.delay(0.3))
    started = time.monotonic()
    response = await play.send()
    assert time.monotonic() - started >= 0.3
    assert_normal_play(response)
    assert play.plays_applied() == 1


async def test_delay_applied_first_is_committed_though_the_client_gave_up(play: Play) -> None:
    play.ct.inject(Fault.delay(5, after_apply=True))
    with pytest.raises(httpx.ReadTimeout):
        await play.send(client_timeout=0.2)
    assert play.plays_applied() == 1


async def test_delay_not_applied_first_is_dropped_when_the_client_gives_up(play: Play) -> None:
    play.ct.inject(Fault.delay(0.5))
    with pytest.raises(httpx.ReadTimeout):
        await play.send(client_timeout=0.1)
    async with asyncio.timeout(2):
        await play.ct.wait_idle()
    assert play.plays_applied() == 0


@pytest.mark.parametrize(("after_apply", "applied"), [(False, 0), (True, 1)])
async def test_hang_never_answers(play: Play, after_apply: bool, applied: int) -> None:
    play.ct.inject(Fault.hang(after_apply=after_apply))
    with pytest.raises(httpx.ReadTimeout):
        await play.send(client_timeout=0.2)
    async with asyncio.timeout(2):
        await play.ct.wait_idle()
    assert play.plays_applied() == applied


@pytest.mark.parametrize(("after_apply", "applied"), [(False, 0), (True, 1)])
async def test_drop_connection_closes_without_an_answer(
    play: Play, after_apply: bool, applied: int
) -> None:
    play.ct.inject(Fault.drop_connection(after_apply=after_apply))
    with pytest.raises(httpx.RemoteProtocolError):
        await play.send()
    assert play.plays_applied() == applied


async def test_html_500_is_an_html_page(play: Play) -> None:
    play.ct.inject("html_500")
    response = await play.send()
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "<html>" in response.text
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert play.plays_applied() == 0


async def test_html_500_after_apply_models_a_crash_after_commit(play: Play) -> None:
    play.ct.inject(Fault.html_500(after_apply=True))
    assert (await play.send()).status_code == 500
    assert play.plays_applied() == 1


async def test_malformed_json_is_a_200_that_does_not_parse(play: Play) -> None:
    play.ct.inject(Fault.malformed_json())
    response = await play.send()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_no_envelope_is_json_without_ok_or_data(play: Play) -> None:
    play.ct.inject(Fault.no_envelope())
    response = await play.send()
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, dict)
    assert not {"ok", "data", "meta", "error"} & set(body)


async def test_rate_limited_is_429_with_retry_after(play: Play) -> None:
    play.ct.inject(Fault.rate_limited(retry_after=17))
    response = await play.send()
    assert response.status_code == 429
    assert response.headers["retry-after"] == "17"
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == "RATE_LIMITED"
    assert play.plays_applied() == 0


@pytest.mark.parametrize("code", [500, 502, 503])
async def test_status_answers_that_code_in_the_error_envelope(play: Play, code: int) -> None:
    play.ct.inject(Fault.status(code))
    response = await play.send()
    assert response.status_code == code
    body = response.json()
    assert body == {
        "ok": False,
        "error": {"code": f"HTTP_{code}", "message": body["error"]["message"]},
        "meta": {"version": 2},
    }
    assert play.plays_applied() == 0


async def test_status_can_carry_its_own_code_and_message(play: Play) -> None:
    play.ct.inject(Fault.status(400, error_code="BAD_REQUEST", message="Try again later."))
    response = await play.send()
    assert response.status_code == 400
    assert response.json()["error"] == {"code": "BAD_REQUEST", "message": "Try again later."}
    assert play.plays_applied() == 0


# --- scheduling of faults ----------------------------------------------------------


async def test_empty_body_is_a_200_with_nothing_in_it(play: Play) -> None:
    play.ct.inject(Fault.empty_body(after_apply=True))
    response = await play.send()
    assert (response.status_code, response.content) == (200, b"")
    assert play.plays_applied() == 1
    play.ct.inject("empty_body")
    assert (await play.send()).content == b""
    assert play.plays_applied() == 1


async def test_html_content_type_is_the_normal_answer_labelled_html(play: Play) -> None:
    play.ct.inject("html_content_type")
    response = await play.send()
    assert response.headers["content-type"].startswith("text/html")
    assert_normal_play(response)
    assert play.plays_applied() == 1


async def test_numbers_as_text_turns_every_number_in_data_into_a_string(play: Play) -> None:
    dice = play.ct.add_session(play.owner, dice=DiceConfig(dices=2))
    play.ct.inject(Fault.numbers_as_text())
    body = {"game": "dice", "dom": 0, "session": dice.id}
    response = await play.http.post(GAMES_PATH, json=body, headers=play.headers)
    payload = response.json()
    assert (payload["ok"], payload["meta"]) == (True, {"version": 2})
    data = payload["data"]
    assert data["session"] == str(dice.id)
    assert data["dom"] == "0"
    assert [isinstance(face, str) and face.isdigit() for face in data["dices"]] == [True, True]
    assert isinstance(data["multiplier"], str)
    assert float(data["multiplier"]) >= 1.0
    assert int(data["seconds"]) > 0
    assert data["scheduledend_utc"] == play.ct.histories(dice.id)[0].schedule.strftime(
        "%Y-%m-%d %H:%M:%S"
    )


async def test_redirect_to_https_is_a_301_that_applies_nothing(play: Play) -> None:
    play.ct.inject("redirect_to_https")
    response = await play.send()
    assert response.status_code == 301
    assert response.headers["location"] == "https://www.chastitytracker.org/api/v2/games.php"
    assert response.headers["content-type"].startswith("text/html")
    assert play.plays_applied() == 0


async def test_fault_lasts_for_times_requests_then_service_resumes(play: Play) -> None:
    play.ct.inject(Fault.status(503), times=2)
    assert [(await play.send()).status_code for _ in range(3)] == [503, 503, 200]


async def test_faults_queue_in_order(play: Play) -> None:
    play.ct.inject(Fault.status(502))
    play.ct.inject(Fault.rate_limited(5))
    assert [(await play.send()).status_code for _ in range(3)] == [502, 429, 200]


async def test_fault_without_a_count_lasts_until_cleared(play: Play) -> None:
    play.ct.inject("html_500", times=None)
    assert [(await play.send()).status_code for _ in range(3)] == [500, 500, 500]
    play.ct.clear_faults()
    assert_normal_play(await play.send())


async def test_fault_applies_only_to_its_path(play: Play) -> None:
    play.ct.inject(Fault.status(503), path=STATS_PATH)
    assert_normal_play(await play.send())
    stats = await play.http.get(STATS_PATH, headers=play.headers)
    assert stats.status_code == 503
    assert (await play.http.get(STATS_PATH, headers=play.headers)).status_code == 200


def test_unknown_fault_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.named("explode")
    with pytest.raises(ValueError, match="unknown fault"):
        Fault.named("delay")  # needs seconds: use Fault.delay


async def test_times_must_be_positive(play: Play) -> None:
    with pytest.raises(ValueError, match="times"):
        play.ct.inject("hang", times=0)


# --- request recording --------------------------------------------------------------


async def test_requests_are_recorded_as_they_arrive_even_when_faulted(play: Play) -> None:
    play.ct.inject("drop_connection")
    with pytest.raises(httpx.RemoteProtocolError):
        await play.send()
    [recorded] = play.ct.requests
    assert recorded.method == "POST"
    assert recorded.path == GAMES_PATH
    assert recorded.json == play.body
    assert json.loads(recorded.text) == play.body
    assert recorded.headers["authorization"] == f"Bearer {play.owner.token}"
    assert recorded.headers["content-type"] == "application/json"
    assert recorded.bearer == play.owner.token
    assert recorded.remote == "127.0.0.1"
    assert abs(recorded.time - play.ct.now) < timedelta(seconds=5)


async def test_recorded_requests_keep_query_and_raw_text(play: Play) -> None:
    await play.http.get(STATS_PATH, params={"a": "1"})
    await play.http.post(GAMES_PATH, content=b"not json at all")
    stats, games = play.ct.requests
    assert stats.query == {"a": "1"}
    assert stats.bearer is None
    assert (games.json, games.text) == (None, "not json at all")
    assert play.ct.requests_to(GAMES_PATH) == [games]


async def test_recorded_request_repr_hides_the_bearer(play: Play) -> None:
    await play.send()
    assert play.owner.token not in repr(play.ct.requests[0])
    assert play.owner.token not in repr(play.owner)


async def test_requests_from_a_second_loopback_address_are_told_apart(play: Play) -> None:
    transport = httpx.AsyncHTTPTransport(local_address="127.0.0.2", verify=shared_ssl_context())
    async with httpx.AsyncClient(base_url=play.ct.base_url, transport=transport) as second:
        await second.get(STATS_PATH)
    assert play.ct.requests[-1].remote == "127.0.0.2"


# --- seeding, clock, lifecycle -----------------------------------------------------


async def test_same_seed_gives_the_same_tokens_and_outcomes() -> None:
    outcomes = []
    for _ in range(2):
        async with FakeChastityTracker(seed=7) as ct:
            owner = ct.add_user("wearer")
            session = ct.add_session(owner, dice=DiceConfig(dices=4))
            headers = {"Authorization": f"Bearer {owner.token}"}
            body = {"game": "dice", "dom": 0, "session": session.id}
            async with httpx.AsyncClient(base_url=ct.base_url, verify=shared_ssl_context()) as http:
                rolls = [
                    (await http.post(GAMES_PATH, json=body, headers=headers)).json()["data"]
                    for _ in range(3)
                ]
            outcomes.append(
                (owner.token, [(r["dices"], r["dicesops"], r["multiplier"]) for r in rolls])
            )
    assert outcomes[0] == outcomes[1]
    assert len(outcomes[0][0]) >= 24


async def test_other_seed_gives_other_tokens() -> None:
    tokens = []
    for seed in (1, 2):
        async with FakeChastityTracker(seed=seed) as ct:
            tokens.append(ct.add_user("wearer").token)
    assert tokens[0] != tokens[1]


def test_frozen_clock_moves_only_with_advance() -> None:
    start = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
    ct = FakeChastityTracker(now=start)
    assert ct.now == start
    ct.advance(timedelta(hours=25))
    assert ct.now == start + timedelta(hours=25)
    with pytest.raises(ValueError, match="forward"):
        ct.advance(timedelta(seconds=-1))


def test_default_scheduled_end_is_a_week_ahead_and_ids_start_at_100() -> None:
    start = datetime(2026, 2, 14, 12, 0, tzinfo=UTC)
    ct = FakeChastityTracker(now=start)
    owner = ct.add_user("wearer")
    first, second = ct.add_session(owner), ct.add_session(owner)
    assert (first.id, second.id) == (100, 101)
    assert first.scheduled_end == start + timedelta(days=7)
    assert ct.session(101) is second


def test_builders_refuse_inconsistent_configuration() -> None:
    ct = FakeChastityTracker()
    owner = ct.add_user("wearer", token="fixed-token-0000000000000000")
    with pytest.raises(ValueError, match="unique"):
        ct.add_user("twin", token="fixed-token-0000000000000000")
    with pytest.raises(ValueError, match="unit"):
        LuckConfig(addunit="fortnight")
    with pytest.raises(ValueError, match="multiplier"):
        DiceConfig(minmultiplier=2.0, maxmultiplier=1.5)
    with pytest.raises(ValueError, match="timezone"):
        ct.add_session(owner, scheduled_end=datetime(2026, 3, 1))


async def test_stop_ends_a_hung_request_promptly(play: Play) -> None:
    play.ct.inject("hang")
    pending = asyncio.create_task(play.send(client_timeout=10))
    async with asyncio.timeout(2):
        await play.ct.wait_for_requests(1, path=GAMES_PATH)
        await play.ct.stop()
        with pytest.raises(httpx.RemoteProtocolError):
            await pending


async def test_base_url_is_loopback_on_a_free_port(ct_fake: FakeChastityTracker) -> None:
    assert ct_fake.base_url == f"http://127.0.0.1:{ct_fake.port}"
    assert ct_fake.port > 0
    with pytest.raises(RuntimeError, match="not started"):
        _ = FakeChastityTracker().base_url
