"""/account connect | disconnect | status, end to end."""

from __future__ import annotations

import gc
import json
import re
from pathlib import Path

import pytest

from bot.secrets import Secret
from bot.views.connect import ConnectForm
from tests.fakes.ct_api import STATS_PATH, FakeChastityTracker, FakeUser, Fault
from tests.harness import Harness
from tests.harness.fake_discord import MODAL

TOKEN_FIELD = "account:connect:token"


async def connect(harness: Harness, token: str) -> str:
    opened = await harness.run("account connect")
    assert opened.response is not None
    assert opened.response.type == MODAL
    submitted = await harness.submit_modal(opened, {TOKEN_FIELD: token})
    message = await submitted.wait_for_message()
    assert message.ephemeral
    return message.text()


def assert_not_stored_in_clear(data_dir: Path, token: str) -> None:
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name == "bot.db" for path in files)
    for path in files:
        assert token.encode() not in path.read_bytes(), path


def everything_sent_to_discord(harness: Harness) -> str:
    return json.dumps([event.body for event in harness.fake.events], default=str)


async def test_connect_checks_and_stores_the_token_encrypted(
    harness: Harness, ct_fake: FakeChastityTracker, tmp_path: Path
) -> None:
    wearer = ct_fake.add_user("wearer")

    text = await connect(harness, wearer.token)

    assert text.startswith("✅ Connected as **wearer**.")
    assert text.endswith("Next: try `/dice`.")
    [check] = ct_fake.requests_to(STATS_PATH)
    assert check.headers["authorization"] == f"Bearer {wearer.token}"
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.nick == "wearer"
    assert wearer.token.encode() not in account.token_ciphertext
    assert harness.vault.decrypt(account.token_ciphertext) == Secret(wearer.token)
    assert wearer.token not in everything_sent_to_discord(harness)
    assert_not_stored_in_clear(tmp_path, wearer.token)


async def test_refused_token_stores_nothing(harness: Harness) -> None:
    text = await connect(harness, "this-token-does-not-exist-123")

    assert "refused" in text
    assert "nothing was stored" in text
    assert await harness.storage.accounts.get(harness.member.id) is None


@pytest.mark.parametrize("status", [401, 403])
async def test_a_token_refused_with_401_or_403_is_not_stored(
    harness: Harness, ct_fake: FakeChastityTracker, status: int
) -> None:
    wearer = ct_fake.add_user("wearer")
    ct_fake.inject(Fault.status(status), path=STATS_PATH)

    text = await connect(harness, wearer.token)

    assert "refused" in text
    assert "nothing was stored" in text
    assert await harness.storage.accounts.get(harness.member.id) is None


@pytest.mark.parametrize("fault", [Fault.html_500(), Fault.drop_connection()], ids=str)
async def test_unreachable_chastity_tracker_stores_nothing(
    harness: Harness, ct_fake: FakeChastityTracker, fault: Fault
) -> None:
    wearer = ct_fake.add_user("wearer")
    ct_fake.inject(fault, path=STATS_PATH, times=None)

    text = await connect(harness, wearer.token)

    assert "could not be reached" in text
    assert "nothing was stored" in text
    assert await harness.storage.accounts.get(harness.member.id) is None


async def test_connecting_again_replaces_the_token(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    first = ct_fake.add_user("first")
    second = ct_fake.add_user("second")
    await connect(harness, first.token)
    await connect(harness, second.token)
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.nick == "second"
    assert harness.vault.decrypt(account.token_ciphertext) == Secret(second.token)


async def test_disconnect_deletes_or_says_there_was_none(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await connect(harness, ct_fake.add_user("wearer").token)

    first = await (await harness.run("account disconnect")).wait_for_message()
    second = await (await harness.run("account disconnect")).wait_for_message()

    assert first.ephemeral
    assert "deleted" in first.text()
    assert await harness.storage.accounts.get(harness.member.id) is None
    assert "no connected" in second.text()


async def status_embed(harness: Harness) -> dict[str, str]:
    result = await harness.run("account status")
    message = await result.wait_for_message()
    assert message.ephemeral
    embed = message.embed
    assert embed is not None
    return {field["name"]: field["value"] for field in embed.get("fields", [])}


async def test_status_shows_who_since_and_the_lock(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    wearer = ct_fake.add_user("wearer")
    session = ct_fake.add_session(wearer)
    await connect(harness, wearer.token)

    fields = await status_embed(harness)

    assert fields["Connected as"] == "wearer"
    assert "<t:" in fields["Since"]
    assert session.scheduled_end is not None
    unix = int(session.scheduled_end.timestamp())
    assert "Locked" in fields["Current lock"]
    assert f"<t:{unix}:F>" in fields["Current lock"]
    # The bot's own duration format, not the API's "3 days 0 hours 0 minutes".
    locked_for = fields["Current lock"].splitlines()[-1]
    assert re.fullmatch(r"Locked for (\d+ (d|h|min|s) ?)+", locked_for), locked_for
    assert "days" not in fields["Current lock"]
    # The session ids /dice and /luck take.
    assert fields["Active sessions"] == f"#{session.id}"


async def test_status_when_not_connected(harness: Harness) -> None:
    answer = await (await harness.run("account status")).wait_for_message()
    assert answer.ephemeral
    assert "not connected" in answer.text()


async def test_revoked_token_marks_the_account_for_reconnect(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    wearer: FakeUser = ct_fake.add_user("wearer")
    await connect(harness, wearer.token)
    ct_fake.revoke(wearer)

    fields = await status_embed(harness)

    assert "refused" in fields["Current lock"]
    assert "/account connect" in fields["Current lock"]
    account = await harness.storage.accounts.get(harness.member.id)
    assert account is not None
    assert account.needs_reconnect
    # The next look needs no API call: the member is told straight away.
    before = len(ct_fake.requests_to(STATS_PATH))
    fields = await status_embed(harness)
    assert "refused" in fields["Current lock"]
    assert len(ct_fake.requests_to(STATS_PATH)) == before


async def test_account_commands_work_in_direct_messages(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    answer = await (await harness.run("account status", dm=True)).wait_for_message()
    assert "not connected" in answer.text()


async def test_something_that_cannot_be_a_token_is_refused_without_asking(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    wearer = ct_fake.add_user("wearer")

    text = await connect(harness, f"Bearer {wearer.token}")

    assert "not an API token" in text
    assert "nothing was stored" in text
    assert ct_fake.requests == []
    assert await harness.storage.accounts.get(harness.member.id) is None


async def test_a_refused_token_is_not_kept_in_memory(harness: Harness) -> None:
    refused = "refused-token-kept-nowhere-123"

    text = await connect(harness, refused)

    assert "refused" in text
    gc.collect()
    # By name: the bot loads the cog module on its own, so its class is not this module's.
    forms = [obj for obj in gc.get_objects() if type(obj).__name__ == ConnectForm.__name__]
    assert [form for form in forms if form.token.value == refused] == []
