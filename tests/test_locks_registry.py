"""/locks add | remove | list: admins only, tokens encrypted and masked, guilds isolated."""

from __future__ import annotations

import discord

from bot.secrets import Secret
from tests.fakes.ct_api import FakeChastityTracker
from tests.harness import Harness
from tests.voting_support import register, wearer

SHARE_URL = "https://www.chastitytracker.org/link.php?token={token}"


async def test_admin_registers_a_lock_with_the_token_encrypted_and_masked(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock_owner = harness.new_member("wearer")
    token = wearer(ct_fake).token

    result = await harness.run(
        "locks add",
        {"name": "Cage", "token": token, "owner": lock_owner, "allow_anonymous": False},
        by=harness.admin,
    )

    answer = await result.wait_for_message()
    assert answer.ephemeral
    assert "Registered **Cage**" in answer.text()
    assert f"***{token[-4:]}" in answer.text()
    assert token not in answer.text()
    lock = await harness.storage.locks.get_by_name(harness.guild.id, "cage")
    assert lock is not None
    assert (lock.wearer_id, lock.allow_anonymous, lock.created_by) == (
        lock_owner.id,
        False,
        harness.admin.id,
    )
    assert token.encode() not in lock.token_ciphertext
    assert harness.vault.decrypt(lock.token_ciphertext) == Secret(token)
    assert harness.channel_messages() == []


async def test_a_share_url_is_stored_as_its_token(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    token = wearer(ct_fake).token

    lock = await register(harness, "cage", SHARE_URL.format(token=token))

    assert harness.vault.decrypt(lock.token_ciphertext).reveal() == token
    assert lock.allow_anonymous  # the default


async def test_a_plain_member_is_refused_even_when_discord_lets_the_command_through(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    token = wearer(ct_fake).token
    # Discord shows /locks only to Manage Server by default, but server admins can
    # change that: the bot checks the member's permissions itself.
    for command, options in (
        ("locks add", {"name": "cage", "token": token}),
        ("locks list", {}),
        ("locks remove", {"name": "cage"}),
        ("locks panel", {"name": "cage"}),
        ("locks poll", {"name": "cage", "minutes": 10}),
    ):
        result = await harness.run(command, options, by=harness.member)
        answer = await result.wait_for_message()
        assert answer.ephemeral
        assert "Manage Server permission" in answer.text(), command

    assert await harness.storage.locks.list(harness.guild.id) == []
    assert harness.channel_messages() == []


async def test_manage_server_alone_is_enough(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    manager = harness.new_member(
        "manager", permissions=discord.Permissions(manage_guild=True, send_messages=True)
    )
    result = await harness.run(
        "locks add", {"name": "cage", "token": wearer(ct_fake).token}, by=manager
    )
    assert (await result.wait_for_message()).text().startswith("Registered")


async def test_locks_commands_default_to_manage_server_and_servers_only(
    harness: Harness,
) -> None:
    (locks,) = [c for c in harness.fake.command_schema() if c["name"] == "locks"]
    assert int(locks["default_member_permissions"]) == discord.Permissions(manage_guild=True).value
    assert locks.get("contexts") == [0] or locks.get("dm_permission") is False


async def test_names_are_unique_per_server_ignoring_case(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "Cage", wearer(ct_fake, "one").token)

    result = await harness.run(
        "locks add", {"name": "CAGE", "token": wearer(ct_fake, "two").token}, by=harness.admin
    )

    answer = await result.wait_for_message()
    assert "already has a lock named **CAGE**" in answer.text()
    assert [lock.name for lock in await harness.storage.locks.list(harness.guild.id)] == ["Cage"]


async def test_the_same_token_is_not_registered_twice(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    token = wearer(ct_fake).token
    await register(harness, "cage", token)

    result = await harness.run(
        "locks add", {"name": "other", "token": SHARE_URL.format(token=token)}, by=harness.admin
    )

    assert "already registered here as **cage**" in (await result.wait_for_message()).text()


async def test_a_token_that_is_not_one_is_refused_without_echoing_it(harness: Harness) -> None:
    result = await harness.run(
        "locks add", {"name": "cage", "token": "my secret password"}, by=harness.admin
    )

    answer = await result.wait_for_message()
    assert "does not look like a public LINK token" in answer.text()
    assert "my secret password" not in answer.text()
    assert await harness.storage.locks.list(harness.guild.id) == []


async def test_list_shows_masked_tokens_owner_and_anonymous_rule(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    lock_owner = harness.new_member("wearer")
    first, second = wearer(ct_fake, "one").token, wearer(ct_fake, "two").token
    await register(harness, "beta", first, owner=lock_owner, allow_anonymous=False)
    await register(harness, "Alpha", second)

    answer = await (await harness.run("locks list", by=harness.admin)).wait_for_message()

    assert answer.ephemeral
    fields = answer.embeds[0]["fields"]
    assert [f["name"] for f in fields] == ["Alpha", "beta"]
    assert f"***{second[-4:]}" in fields[0]["value"]
    assert "allowed" in fields[0]["value"]
    assert f"<@{lock_owner.id}>" in fields[1]["value"]
    assert "not allowed" in fields[1]["value"]
    for token in (first, second):
        assert token not in answer.text()
        assert token not in str(harness.fake.requests)


async def test_servers_do_not_see_each_others_locks(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    other_guild = harness.snowflake()
    await harness.storage.locks.add(
        other_guild,
        "cage",
        harness.vault.encrypt(Secret(wearer(ct_fake, "elsewhere").token)),
        None,
        True,
        harness.admin.id,
        harness.clock.now(),
    )

    listed = await (await harness.run("locks list", by=harness.admin)).wait_for_message()
    choices = await harness.autocomplete(
        "locks remove", {"name": "ca"}, focused="name", by=harness.admin
    )
    removed = await (
        await harness.run("locks remove", {"name": "cage"}, by=harness.admin)
    ).wait_for_message()

    assert "No lock yet" in listed.text()
    assert choices == []
    assert "No lock named **cage**" in removed.text()
    assert await harness.storage.locks.get_by_name(other_guild, "cage") is not None
    # The same name is free here.
    await register(harness, "cage", wearer(ct_fake, "here").token)


async def test_name_autocompletes_for_admins_only(
    harness: Harness, ct_fake: FakeChastityTracker
) -> None:
    await register(harness, "cage", wearer(ct_fake, "one").token)
    await register(harness, "Castle", wearer(ct_fake, "two").token)
    await register(harness, "belt", wearer(ct_fake, "three").token)

    choices = await harness.autocomplete(
        "locks panel", {"name": "CA"}, focused="name", by=harness.admin
    )
    hidden = await harness.autocomplete(
        "locks panel", {"name": "ca"}, focused="name", by=harness.member
    )

    assert [c["value"] for c in choices] == ["cage", "Castle"]
    assert hidden == []


async def test_remove_deletes_the_lock(harness: Harness, ct_fake: FakeChastityTracker) -> None:
    await register(harness, "cage", wearer(ct_fake).token)

    answer = await (
        await harness.run("locks remove", {"name": "CAGE"}, by=harness.admin)
    ).wait_for_message()

    assert answer.ephemeral
    assert "Removed **cage**" in answer.text()
    assert await harness.storage.locks.list(harness.guild.id) == []
