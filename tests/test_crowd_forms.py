"""Forms and dialogs that many members have open at once stay each member's own."""

from __future__ import annotations

import asyncio

import pytest

from bot.secrets import Secret
from tests.fakes.ct_api import FakeChastityTracker, FakeUser
from tests.harness import FakeMember, Harness, InteractionResult
from tests.harness.fake_discord import MODAL
from tests.voting_support import connect, game_posts, latest, register, wearer

TOKEN_FIELD = "account:connect:token"


async def open_form(harness: Harness, member: FakeMember) -> InteractionResult:
    opened = await harness.run("account connect", by=member)
    assert opened.response is not None
    assert opened.response.type == MODAL
    return opened


async def submit(harness: Harness, opened: InteractionResult, user: FakeUser) -> str:
    submitted = await harness.submit_modal(opened, {TOKEN_FIELD: user.token})
    return (await submitted.wait_for_message()).text()


async def assert_connected_as(harness: Harness, member: FakeMember, user: FakeUser) -> None:
    account = await harness.storage.accounts.get(member.id)
    assert account is not None, member.user.name
    assert account.nick == user.nick
    assert harness.vault.decrypt(account.token_ciphertext) == Secret(user.token)


@pytest.mark.parametrize("order", ["opened", "reversed", "interleaved"])
async def test_members_with_the_form_open_at_once_are_all_connected(
    harness: Harness, ct_fake: FakeChastityTracker, order: str
) -> None:
    members = [harness.new_member(f"member{i}") for i in range(4)]
    users = [ct_fake.add_user(f"nick{i}") for i in range(4)]
    forms = [await open_form(harness, member) for member in members]
    indexes = list(range(4))
    if order == "reversed":
        indexes.reverse()
    elif order == "interleaved":
        indexes = [2, 0, 3, 1]

    for i in indexes:
        text = await submit(harness, forms[i], users[i])
        assert f"Connected as **nick{i}**" in text

    for member, user in zip(members, users, strict=True):
        await assert_connected_as(harness, member, user)


async def test_twenty_members_submitting_together_are_all_connected(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    members = [harness.new_member(f"member{i}") for i in range(20)]
    users = [ct_fake.add_user(f"nick{i}") for i in range(20)]
    forms = [await open_form(harness, member) for member in members]

    texts = await asyncio.gather(
        *(submit(harness, form, user) for form, user in zip(forms, users, strict=True))
    )

    assert [text.split(".")[0] for text in texts] == [
        f"✅ Connected as **nick{i}**" for i in range(20)
    ]
    for member, user in zip(members, users, strict=True):
        await assert_connected_as(harness, member, user)


async def test_each_opening_of_the_form_has_its_own_id(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    first = await open_form(harness, harness.member)
    second = await open_form(harness, harness.member)
    other = await open_form(harness, harness.new_member("other"))

    ids = [form.response.modal["custom_id"] for form in (first, second, other) if form.response]
    assert len(ids) == 3
    assert len(set(ids)) == 3

    # The member's older form still works after a newer one was opened.
    user = ct_fake.add_user("wearer")
    assert "Connected as **wearer**" in await submit(harness, first, user)
    await assert_connected_as(harness, harness.member, user)


async def test_penalty_dialogs_open_at_once_each_send_their_own_vote(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    members = [harness.new_member(f"wearer{i}") for i in range(3)]
    locks = [wearer(ct_fake, f"wearer{i}") for i in range(3)]
    for i, (member, lock) in enumerate(zip(members, locks, strict=True)):
        await connect(harness, member, lock.user)
        await register(harness, f"cage{i}", lock.token, owner=member)
    dialogs = [
        await (
            await harness.run("link vote", {"choice": "sub", "lock": f"cage{i}"}, by=member)
        ).wait_for_message()
        for i, member in enumerate(members)
    ]
    assert game_posts(ct_fake) == []
    confirm_ids = {dialog.buttons()[0]["custom_id"] for dialog in dialogs}
    assert len(confirm_ids) == 3

    for i in (2, 0, 1):
        clicked = await harness.click(dialogs[i], label="Vote anyway (penalty)", by=members[i])
        await clicked.wait_for(lambda _r, d=dialogs[i]: bool(latest(harness, d).embeds))

    sent = game_posts(ct_fake)
    assert len(sent) == 3
    by_token = {request.headers["authorization"] for request in sent}
    assert by_token == {f"Bearer {lock.user.token}" for lock in locks}
    for lock in locks:
        assert ct_fake.histories(lock.session.id)[0].source == "PENALTY"
