"""Stored tokens the vault cannot read: encrypted under another key (a changed or lost
TOKEN_ENCRYPTION_KEY, or a replaced secret.key).

The member or admin is told plainly what to do, nothing is sent to Chastity
Tracker, and the log says which member or lock, never the token or its ciphertext.
"""

from __future__ import annotations

from cryptography.fernet import Fernet

from bot.secrets import Secret
from bot.storage import Lock
from bot.vault import Vault
from tests.fakes.ct_api import FakeChastityTracker, FakeUser
from tests.games_support import add_session
from tests.harness import FakeMember, FakeMessage, Harness, InteractionResult, LogGuard
from tests.voting_support import register, wearer

FOREIGN = Vault([Secret(Fernet.generate_key().decode())])


async def connect_under_a_foreign_key(
    harness: Harness, member: FakeMember, user: FakeUser
) -> bytes:
    """Store ``user``'s token for ``member``, encrypted with a key the bot does not have."""
    ciphertext = FOREIGN.encrypt(Secret(user.token))
    await harness.storage.accounts.upsert(member.id, ciphertext, user.nick, harness.clock.now())
    return ciphertext


async def register_under_a_foreign_key(harness: Harness, name: str, token: str) -> Lock:
    """A lock registered as ``/locks add`` would, but with a key the bot does not have."""
    return await harness.storage.locks.add(
        harness.guild.id,
        name,
        FOREIGN.encrypt(Secret(token)),
        None,
        True,
        harness.admin.id,
        harness.clock.now(),
    )


async def private_text(result: InteractionResult) -> str:
    message = await result.wait_for_message()
    assert message.ephemeral
    assert [m.id for m in result.visible_messages if not m.ephemeral] == []
    return message.text()


def assert_no_secret_logged(log_guard: LogGuard, *secrets: str | bytes) -> None:
    logged = "\n".join(log_guard.messages(level=0))
    for secret in secrets:
        text = secret.decode() if isinstance(secret, bytes) else secret
        assert text not in logged


def errors_naming(log_guard: LogGuard, what: str) -> list[str]:
    return [r.getMessage() for r in log_guard.errors if what in r.getMessage()]


# -- a connected member ---------------------------------------------------------------


async def test_dice_with_an_unreadable_account_token_asks_to_reconnect_and_sends_nothing(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    log_guard.expect_error(rf"stored token of member {harness.member.id} cannot be decrypted")
    user = ct_fake.add_user("wearer")
    session = add_session(ct_fake, user)
    ciphertext = await connect_under_a_foreign_key(harness, harness.member, user)

    text = await private_text(await harness.run("dice", {"session": session.id}))

    assert "can no longer be read" in text
    assert "`/account connect`" in text
    assert ct_fake.requests == []
    assert errors_naming(log_guard, str(harness.member.id))
    assert_no_secret_logged(log_guard, user.token, ciphertext)
    assert user.token not in str(harness.fake.requests)


async def test_account_status_with_an_unreadable_token_asks_to_reconnect(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    log_guard.expect_error(rf"stored token of member {harness.member.id} cannot be decrypted")
    user = ct_fake.add_user("wearer")
    ciphertext = await connect_under_a_foreign_key(harness, harness.member, user)

    text = await private_text(await harness.run("account status"))

    assert "can no longer be read" in text
    assert "`/account connect`" in text
    assert ct_fake.requests == []
    assert errors_naming(log_guard, str(harness.member.id))
    assert_no_secret_logged(log_guard, user.token, ciphertext)


async def test_reconnecting_replaces_the_unreadable_token(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    log_guard.expect_error("cannot be decrypted")
    user = ct_fake.add_user("wearer")
    session = add_session(ct_fake, user)
    await connect_under_a_foreign_key(harness, harness.member, user)
    await private_text(await harness.run("dice", {"session": session.id}))

    connect = await harness.run("account connect")
    done = await harness.submit_modal(connect, {"account:connect:token": user.token})
    assert "Connected as **wearer**" in (await done.wait_for_message()).text()

    played = await harness.run("dice", {"session": session.id})
    assert (
        (await played.wait_for_message()).embeds[0]["title"].startswith("🎲 member rolled DICE: ")
    )


# -- a registered lock ----------------------------------------------------------------


async def test_link_vote_on_an_unreadable_lock_says_to_register_it_again(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    lock_owner = wearer(ct_fake)
    lock = await register_under_a_foreign_key(harness, "cage", lock_owner.token)
    log_guard.expect_error(rf"the token of lock {lock.id} cannot be decrypted")

    text = await private_text(
        await harness.run("link vote", {"choice": "add", "lock": "cage", "anonymous": True})
    )

    assert "lock's token can no longer be read" in text
    assert "`/locks add`" in text
    assert ct_fake.requests == []
    assert errors_naming(log_guard, f"lock {lock.id}")
    assert_no_secret_logged(log_guard, lock_owner.token, lock.token_ciphertext)


async def test_a_panel_click_on_an_unreadable_lock_says_so_and_sends_nothing(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    lock_owner = wearer(ct_fake)
    lock = await register_under_a_foreign_key(harness, "cage", lock_owner.token)
    log_guard.expect_error(rf"the token of lock {lock.id} cannot be decrypted")
    posted = await harness.run(
        "locks panel", {"name": "cage", "channel": harness.other_channel}, by=harness.admin
    )
    assert "posted in" in (await posted.wait_for_message()).text()
    (panel,) = harness.channel_messages(harness.other_channel)

    text = await private_text(await harness.click(panel, label="Add time"))

    assert "lock's token can no longer be read" in text
    assert ct_fake.requests == []
    assert errors_naming(log_guard, f"lock {lock.id}")
    assert_no_secret_logged(log_guard, lock_owner.token, lock.token_ciphertext)
    panel_now: FakeMessage = harness.fake.messages[panel.id]
    assert len(panel_now.buttons()) == 4  # the panel itself is left as it was


async def test_locks_list_marks_an_unreadable_lock_and_shows_the_others(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    readable = wearer(ct_fake, "first")
    await register(harness, "belt", readable.token)
    lost = wearer(ct_fake, "second")
    lock = await register_under_a_foreign_key(harness, "cage", lost.token)
    log_guard.expect_error(rf"the token of lock {lock.id} cannot be decrypted")
    await register(harness, "plug", wearer(ct_fake, "third").token)

    answer = await (await harness.run("locks list", by=harness.admin)).wait_for_message()

    assert answer.ephemeral
    assert answer.embed is not None
    fields = {field["name"]: field["value"] for field in answer.embed["fields"]}
    assert list(fields) == ["belt", "cage", "plug"]
    assert f"`{Secret(readable.token).masked()}`" in fields["belt"]
    assert "cannot be read" in fields["cage"]
    assert "`/locks remove`" in fields["cage"]
    assert "`/locks add`" in fields["cage"]
    assert "cannot be read" not in fields["plug"]
    assert errors_naming(log_guard, f"lock {lock.id}")
    assert_no_secret_logged(log_guard, lost.token, lock.token_ciphertext)
    assert lost.token not in str(harness.fake.requests)


async def test_removing_and_adding_the_lock_again_makes_it_usable(
    harness: Harness, ct_fake: FakeChastityTracker, log_guard: LogGuard
) -> None:
    log_guard.expect_error("cannot be decrypted")
    lock_owner = wearer(ct_fake)
    await register_under_a_foreign_key(harness, "cage", lock_owner.token)
    await private_text(await harness.run("link vote", {"choice": "add", "lock": "cage"}))

    removed = await harness.run("locks remove", {"name": "cage"}, by=harness.admin)
    assert "Removed **cage**" in (await removed.wait_for_message()).text()
    await register(harness, "cage", lock_owner.token)

    voted = await harness.run("link vote", {"choice": "add", "lock": "cage"})
    title = (await voted.wait_for_message()).embeds[0]["title"]
    assert title.startswith("🔗 Anonymous LINK vote on cage: ")
    assert len(ct_fake.votes) == 1
