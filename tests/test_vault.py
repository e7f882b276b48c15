import asyncio
import logging
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import Settings, SettingsError, load_settings
from bot.secrets import Secret
from bot.storage import Storage
from bot.vault import (
    KEY_FILE_NAME,
    Vault,
    VaultError,
    check_stored_tokens,
    ensure_key_reads_stored_tokens,
    forget_unreadable,
    main,
    reencrypt_all,
)

NOW = datetime(2026, 1, 2, tzinfo=UTC)
TOKEN = "ct-bearer-0123456789abcdef-TOKEN"
LOCK_TOKEN = "link-token-fedcba9876543210"


def new_key() -> str:
    return Fernet.generate_key().decode()


def sqlite_settings(data_dir: Path, *keys: str) -> Settings:
    env = {"DISCORD_TOKEN": "discord", "DATA_DIR": str(data_dir)}
    if keys:
        env["TOKEN_ENCRYPTION_KEY"] = ",".join(keys)
    return load_settings(env)


def test_round_trip() -> None:
    vault = Vault([Secret(new_key())])

    blob = vault.encrypt(Secret(TOKEN))

    assert TOKEN.encode() not in blob
    assert vault.decrypt(blob).reveal() == TOKEN


def test_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = new_key(), new_key()
    old_blob = Vault([Secret(old)]).encrypt(Secret(TOKEN))

    rotated_vault = Vault([Secret(new), Secret(old)])

    assert rotated_vault.decrypt(old_blob).reveal() == TOKEN
    assert not rotated_vault.is_current(old_blob)
    new_blob = rotated_vault.rotate(old_blob)
    assert rotated_vault.is_current(new_blob)
    assert Vault([Secret(new)]).decrypt(new_blob).reveal() == TOKEN
    with pytest.raises(VaultError):
        Vault([Secret(old)]).decrypt(new_blob)


def test_wrong_key_is_a_clear_error_without_secrets() -> None:
    key = new_key()
    blob = Vault([Secret(key)]).encrypt(Secret(TOKEN))
    other = new_key()

    with pytest.raises(VaultError) as info:
        Vault([Secret(other)]).decrypt(blob)

    message = str(info.value)
    assert "cannot be decrypted with any configured key" in message
    assert "TOKEN_ENCRYPTION_KEY" in message
    for secret in (TOKEN, key, other, blob.decode()):
        assert secret not in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
    with pytest.raises(VaultError):
        Vault([Secret(other)]).rotate(blob)


def test_repr_hides_keys() -> None:
    key, second = new_key(), new_key()
    vault = Vault([Secret(key), Secret(second)])

    for text in (repr(vault), str(vault), f"{vault}"):
        assert key not in text
        assert second not in text
    assert repr(vault) == "Vault(keys=2)"


def test_invalid_key_names_the_variable_in_one_line() -> None:
    bad = "not-a-fernet-key-at-all"
    with pytest.raises(SettingsError) as info:
        Vault.from_settings(sqlite_settings(Path("unused"), new_key(), bad))

    message = str(info.value)
    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"
    assert "key 2 of 2" in message
    assert bad not in message
    assert "\n" not in message


def test_postgres_without_key_is_refused() -> None:
    settings = Settings(
        discord_token=Secret("discord"),
        database_url="postgresql+asyncpg://bot@127.0.0.1/ct",
    )
    with pytest.raises(SettingsError) as info:
        Vault.from_settings(settings)
    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"


def test_sqlite_without_key_generates_a_private_key_file_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = sqlite_settings(data_dir)

    first = Vault.from_settings(settings)
    key_file = data_dir / KEY_FILE_NAME
    blob = first.encrypt(Secret(TOKEN))
    second = Vault.from_settings(settings)

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert second.decrypt(blob).reveal() == TOKEN
    Fernet(key_file.read_text().strip())  # a valid key
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]  # no temporary left


def test_key_file_is_private_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        Vault.from_settings(sqlite_settings(tmp_path))
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / KEY_FILE_NAME).stat().st_mode) == 0o600


async def test_vaults_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)

    vaults = await asyncio.gather(
        *(asyncio.to_thread(Vault.from_settings, settings) for _ in range(8))
    )

    blob = vaults[0].encrypt(Secret(TOKEN))
    assert all(vault.decrypt(blob).reveal() == TOKEN for vault in vaults)


def test_configured_key_wins_over_the_key_file(tmp_path: Path) -> None:
    Vault.from_settings(sqlite_settings(tmp_path))
    configured = new_key()

    blob = Vault.from_settings(sqlite_settings(tmp_path, configured)).encrypt(Secret(TOKEN))

    assert Vault([Secret(configured)]).decrypt(blob).reveal() == TOKEN


def test_unusable_key_file_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).mkdir()  # unreadable as a file, whoever runs the test

    with pytest.raises(SettingsError) as info:
        Vault.from_settings(sqlite_settings(tmp_path))

    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"
    assert KEY_FILE_NAME in str(info.value)
    assert "\n" not in str(info.value)


def test_corrupt_key_file_is_a_settings_error(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("garbage\n")

    with pytest.raises(SettingsError, match="does not hold a valid key") as info:
        Vault.from_settings(sqlite_settings(tmp_path))
    assert "garbage" not in str(info.value)


def test_readable_key_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key_file = tmp_path / KEY_FILE_NAME
    key_file.write_text(new_key())
    key_file.chmod(0o644)

    with caplog.at_level(logging.WARNING, logger="bot.vault"):
        Vault.from_settings(sqlite_settings(tmp_path))

    assert "can be read by other users" in caplog.text


async def test_no_file_under_data_dir_holds_a_token_in_clear(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path)
    vault = Vault.from_settings(settings)
    storage = await Storage.open(settings.database_url)
    try:
        await storage.accounts.upsert(1, vault.encrypt(Secret(TOKEN)), "Kitten", NOW)
        await storage.locks.add(9, "Cage", vault.encrypt(Secret(LOCK_TOKEN)), None, True, 1, NOW)
        assert {"bot.db", "bot.db-wal", KEY_FILE_NAME} <= file_names(tmp_path)  # WAL too
        assert_no_file_contains(tmp_path, TOKEN, LOCK_TOKEN)
    finally:
        await storage.close()
    assert_no_file_contains(tmp_path, TOKEN, LOCK_TOKEN)


def file_names(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir()}


def assert_no_file_contains(folder: Path, *secrets: str) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in secrets:
                assert secret.encode() not in content, f"{secret!r} found in {path.name}"
                assert secret.encode("utf-16-le") not in content


async def test_reencrypt_moves_every_token_to_the_first_key(storage: Storage) -> None:
    old, new = new_key(), new_key()
    old_vault = Vault([Secret(old)])
    await storage.accounts.upsert(1, old_vault.encrypt(Secret(TOKEN)), "a", NOW)
    await storage.accounts.upsert(2, old_vault.encrypt(Secret(TOKEN + "2")), "b", NOW)
    await storage.locks.add(9, "Cage", old_vault.encrypt(Secret(LOCK_TOKEN)), None, True, 1, NOW)
    lost = Vault([Secret(new_key())]).encrypt(Secret("lost"))
    await storage.accounts.upsert(3, lost, "c", NOW)

    report = await reencrypt_all(storage, Vault([Secret(new), Secret(old)]))

    assert (report.accounts, report.locks, report.unreadable) == (2, 1, 1)
    new_only = Vault([Secret(new)])
    account = await storage.accounts.get(2)
    lock = await storage.locks.get_by_name(9, "Cage")
    assert account is not None
    assert lock is not None
    assert new_only.decrypt(account.token_ciphertext).reveal() == TOKEN + "2"
    assert new_only.decrypt(lock.token_ciphertext).reveal() == LOCK_TOKEN
    lost_account = await storage.accounts.get(3)
    assert lost_account is not None
    assert lost_account.token_ciphertext == lost  # left alone, not destroyed
    # Running it again finds nothing left to do.
    again = await reencrypt_all(storage, Vault([Secret(new), Secret(old)]))
    assert (again.accounts, again.locks) == (0, 0)


def test_generate_key_command_prints_a_fresh_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["generate-key"]) == 0
    first = capsys.readouterr().out.strip()
    main(["generate-key"])
    second = capsys.readouterr().out.strip()

    Fernet(first)
    assert first != second


def test_unknown_command_shows_usage(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dance"]) == 2
    assert "generate-key" in capsys.readouterr().err


def test_reencrypt_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = new_key(), new_key()

    async def store_with_old_key() -> None:
        storage = await Storage.open(sqlite_settings(tmp_path, old).database_url)
        try:
            await storage.accounts.upsert(1, Vault([Secret(old)]).encrypt(Secret(TOKEN)), "a", NOW)
        finally:
            await storage.close()

    asyncio.run(store_with_old_key())
    env = {"DISCORD_TOKEN": "d", "DATA_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEY": f"{new},{old}"}

    assert main(["reencrypt"], env) == 0

    out = capsys.readouterr().out
    assert "re-encrypted 1 account token(s) and 0 lock token(s)" in out
    assert old not in out
    assert new not in out


def test_reencrypt_command_reports_bad_settings(capsys: pytest.CaptureFixture[str]) -> None:
    env = {"DISCORD_TOKEN": "d", "TOKEN_ENCRYPTION_KEY": "bad-key"}
    assert main(["reencrypt"], env) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: TOKEN_ENCRYPTION_KEY")
    assert "bad-key" not in err


async def test_a_key_that_reads_no_stored_token_is_refused_in_one_line(storage: Storage) -> None:
    right, wrong = new_key(), new_key()
    await storage.accounts.upsert(1, Vault([Secret(right)]).encrypt(Secret(TOKEN)), "a", NOW)

    with pytest.raises(SettingsError) as info:
        await ensure_key_reads_stored_tokens(storage, Vault([Secret(wrong)]))

    message = str(info.value)
    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"
    assert "decrypts none of the 1 stored token(s)" in message
    assert "restore the right key" in message
    assert "list the old key after the new one" in message
    assert "\n" not in message
    assert right not in message
    assert wrong not in message
    # The old key listed after a new one reads them again.
    await ensure_key_reads_stored_tokens(storage, Vault([Secret(wrong), Secret(right)]))


async def test_a_lock_token_alone_is_enough_to_tell_a_wrong_key(storage: Storage) -> None:
    right = new_key()
    ciphertext = Vault([Secret(right)]).encrypt(Secret(LOCK_TOKEN))
    await storage.locks.add(9, "Cage", ciphertext, None, True, 1, NOW)

    with pytest.raises(SettingsError):
        await ensure_key_reads_stored_tokens(storage, Vault([Secret(new_key())]))
    await ensure_key_reads_stored_tokens(storage, Vault([Secret(right)]))


async def test_no_stored_tokens_or_a_few_leftovers_are_not_a_wrong_key(storage: Storage) -> None:
    key = new_key()
    vault = Vault([Secret(key)])
    await ensure_key_reads_stored_tokens(storage, vault)  # nothing stored yet

    lost = Vault([Secret(new_key())])
    await storage.accounts.upsert(1, lost.encrypt(Secret(TOKEN)), "lost", NOW)
    await storage.accounts.upsert(2, vault.encrypt(Secret(TOKEN + "2")), "kept", NOW)
    await ensure_key_reads_stored_tokens(storage, vault)

    counted = await check_stored_tokens(storage, vault, count_all=True)
    assert (counted.readable, counted.unreadable, counted.key_is_wrong) == (1, 1, False)


async def test_forget_unreadable_deletes_only_what_no_key_reads(storage: Storage) -> None:
    key = new_key()
    vault = Vault([Secret(key)])
    lost = Vault([Secret(new_key())])
    await storage.accounts.upsert(1, lost.encrypt(Secret(TOKEN)), "lost", NOW)
    await storage.accounts.upsert(2, vault.encrypt(Secret(TOKEN + "2")), "kept", NOW)
    await storage.locks.add(9, "Gone", lost.encrypt(Secret(LOCK_TOKEN)), None, True, 1, NOW)
    await storage.locks.add(9, "Kept", vault.encrypt(Secret(LOCK_TOKEN + "2")), None, True, 1, NOW)

    report = await forget_unreadable(storage, vault)

    assert (report.accounts, report.locks) == (1, 1)
    assert await storage.accounts.get(1) is None
    assert await storage.accounts.get(2) is not None
    assert [lock.name for lock in await storage.locks.list(9)] == ["Kept"]
    after = await check_stored_tokens(storage, vault, count_all=True)
    assert (after.readable, after.unreadable) == (2, 0)


def test_forget_unreadable_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key = new_key()

    async def store_with_a_lost_key() -> None:
        storage = await Storage.open(sqlite_settings(tmp_path, key).database_url)
        try:
            lost = Vault([Secret(new_key())])
            await storage.accounts.upsert(1, lost.encrypt(Secret(TOKEN)), "a", NOW)
        finally:
            await storage.close()

    asyncio.run(store_with_a_lost_key())
    env = {"DISCORD_TOKEN": "d", "DATA_DIR": str(tmp_path), "TOKEN_ENCRYPTION_KEY": key}

    assert main(["forget-unreadable"], env) == 0

    assert "deleted 1 account(s) and 0 lock(s)" in capsys.readouterr().out
