"""`python -m bot check`: each check against the fake Discord and fake Chastity Tracker."""

import asyncio
import base64
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from bot.check import Result, run_checks
from bot.config import SETTING_NAMES, Settings, load_settings
from bot.secrets import Secret
from bot.storage import Storage
from bot.storage.migrations import discover
from bot.vault import KEY_FILE_NAME, Vault
from tests.fakes.ct_api import FakeChastityTracker
from tests.harness.clock import TestClock
from tests.harness.fake_discord import FakeDiscord
from tests.harness.models import FakeUser, Snowflakes

ROOT = Path(__file__).resolve().parent.parent
BOT_ID = 1234567890123456789
TOKEN = base64.b64encode(str(BOT_ID).encode()).decode().rstrip("=") + ".GxYzAb.check-test-secret"
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    clock = TestClock()
    fake = FakeDiscord(
        clock,
        token=TOKEN,
        bot_user=FakeUser(BOT_ID, "Chastity Tracker", bot=True),
        application_id=BOT_ID,
        guilds=[],
        snowflakes=Snowflakes(clock),
    )
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


def settings_for(tmp_path: Path, ct: FakeChastityTracker, **env: str) -> Settings:
    values = {
        "DISCORD_TOKEN": TOKEN,
        "CT_API_BASE_URL": ct.base_url,
        "CT_API_TIMEOUT": "5",
        "DATA_DIR": str(tmp_path / "data"),
    }
    return load_settings(values | env)


def by_name(results: list[Result]) -> dict[str, Result]:
    return {result.name: result for result in results}


async def store_token(settings: Settings, key: str) -> None:
    storage = await Storage.open(settings.database_url)
    try:
        ciphertext = Vault([Secret(key)]).encrypt(Secret("stored-member-api-token"))
        await storage.accounts.upsert(1, ciphertext, "nick", NOW)
    finally:
        await storage.close()


async def test_a_fresh_deployment_passes_every_check_and_creates_nothing(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(tmp_path, ct_fake)

    results = await run_checks(settings)

    assert [(r.name, r.ok) for r in results] == [
        ("settings", True),
        ("database", True),
        ("key", True),
        ("Chastity Tracker", True),
        ("Discord", True),
    ]
    checks = by_name(results)
    created = f"no database file yet; created at start with {len(discover())} migration(s)"
    assert created in checks["database"].detail
    assert "no stored tokens" in checks["key"].detail
    assert "logged in as Chastity Tracker" in checks["Discord"].detail
    # A check creates neither the database nor a key.
    assert not (tmp_path / "data").exists()
    # Chastity Tracker was asked once, with a GET that cannot play anything, without a token.
    [request] = ct_fake.requests
    assert (request.method, request.path) == ("GET", "/api/v2/games.php")
    assert "authorization" not in request.headers
    assert request.text == ""
    # Discord was asked who the token belongs to, and nothing else.
    assert [(r.method, r.path) for r in fake_discord.requests] == [("GET", "/users/@me")]


async def test_a_migrated_database_with_tokens_the_key_reads(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    key = Fernet.generate_key().decode()
    settings = settings_for(tmp_path, ct_fake, TOKEN_ENCRYPTION_KEY=key)
    await store_token(settings, key)

    checks = by_name(await run_checks(settings))

    assert checks["database"].ok
    assert f"schema up to date (version {len(discover())})" in checks["database"].detail
    assert checks["key"].ok
    assert "decrypts 1 stored token(s)" in checks["key"].detail


async def test_a_wrong_key_fails_the_key_check(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    stored_with = Fernet.generate_key().decode()
    settings = settings_for(tmp_path, ct_fake, TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode())
    await store_token(settings, stored_with)

    checks = by_name(await run_checks(settings))

    assert not checks["key"].ok
    assert "decrypts none of the 1 stored token(s)" in checks["key"].detail
    assert "list the old key after the new one" in checks["key"].detail


async def test_stored_tokens_without_any_key_fail_the_key_check(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(tmp_path, ct_fake)
    await store_token(settings, Fernet.generate_key().decode())

    checks = by_name(await run_checks(settings))

    assert not checks["key"].ok
    assert f"{settings.data_dir / KEY_FILE_NAME} is missing" in checks["key"].detail
    assert not (settings.data_dir / KEY_FILE_NAME).exists()


async def test_pending_migrations_are_reported_not_applied(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(tmp_path, ct_fake)
    settings.data_dir.mkdir()
    (settings.data_dir / "bot.db").touch(mode=0o600)  # an empty database: schema version 0

    checks = by_name(await run_checks(settings))

    assert checks["database"].ok
    assert (
        f"{len(discover())} pending migration(s), applied at the next start"
        in checks["database"].detail
    )
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    assert tables == []


async def test_a_schema_newer_than_the_bot_fails(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(tmp_path, ct_fake)
    await store_token(settings, Fernet.generate_key().decode())
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql(
                "INSERT INTO schema_version (version, name, applied_at) "
                "VALUES (99, 'v0099_future', '2030-01-01 00:00:00')"
            )
    finally:
        await engine.dispose()

    checks = by_name(await run_checks(settings))

    assert not checks["database"].ok
    assert (
        f"schema version 99, newer than this bot knows ({len(discover())})"
        in checks["database"].detail
    )


async def test_an_unreachable_database_fails(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(
        tmp_path,
        ct_fake,
        DATABASE_URL=f"postgresql+asyncpg://bot:db-password-123@127.0.0.1:{closed_port()}/bot",
        TOKEN_ENCRYPTION_KEY=Fernet.generate_key().decode(),
    )

    results = await run_checks(settings)
    checks = by_name(results)

    assert not checks["database"].ok
    assert checks["database"].detail.startswith("cannot be used:")
    assert "db-password-123" not in " ".join(r.line() for r in results)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_an_unreachable_chastity_tracker_fails(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    settings = settings_for(tmp_path, ct_fake, CT_API_BASE_URL=f"http://127.0.0.1:{closed_port()}")

    checks = by_name(await run_checks(settings))

    assert not checks["Chastity Tracker"].ok
    assert "cannot reach" in checks["Chastity Tracker"].detail
    assert checks["Discord"].ok


@pytest.mark.parametrize(
    ("fault", "says"),
    [
        ("html_500", "answered 500: the site has a problem"),
        ("redirect_to_https", "redirects (301) to https://"),
        ("no_envelope", "without the API's JSON envelope"),
    ],
)
async def test_a_chastity_tracker_that_does_not_answer_as_the_api_fails(
    tmp_path: Path,
    ct_fake: FakeChastityTracker,
    fake_discord: FakeDiscord,
    fault: str,
    says: str,
) -> None:
    ct_fake.inject(fault)

    checks = by_name(await run_checks(settings_for(tmp_path, ct_fake)))

    assert not checks["Chastity Tracker"].ok
    assert says in checks["Chastity Tracker"].detail


async def test_a_refused_discord_token_fails(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    wrong = TOKEN.replace("check-test-secret", "revoked-secret")
    settings = settings_for(tmp_path, ct_fake, DISCORD_TOKEN=wrong)

    results = await run_checks(settings)
    checks = by_name(results)

    assert not checks["Discord"].ok
    assert "the token was refused (401)" in checks["Discord"].detail
    assert all(wrong not in result.line() for result in results)


async def test_live_checks_only_settings_and_database(
    tmp_path: Path, ct_fake: FakeChastityTracker, fake_discord: FakeDiscord
) -> None:
    results = await run_checks(settings_for(tmp_path, ct_fake), live=True)

    assert [result.name for result in results] == ["settings", "database"]
    assert ct_fake.requests == []
    assert fake_discord.requests == []


# -- the command line ---------------------------------------------------------------------


def run_check(env: dict[str, str], cwd: Path, *, live: bool) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {*SETTING_NAMES, "PYTHONPATH"}}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    command = [sys.executable, "-m", "bot", "check", *(["--live"] if live else [])]
    return subprocess.run(  # noqa: S603 - a fixed command line, no outside input
        command,
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_check_live_command_prints_one_line_per_check(tmp_path: Path) -> None:
    settings = load_settings({"DISCORD_TOKEN": TOKEN, "DATA_DIR": str(tmp_path)})
    asyncio.run(store_token(settings, Fernet.generate_key().decode()))

    result = run_check({"DISCORD_TOKEN": TOKEN, "DATA_DIR": str(tmp_path)}, tmp_path, live=True)

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["ok   settings", "ok   database"]
    assert result.stderr == ""


def test_check_command_fails_on_a_failing_check(tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    env = {"DISCORD_TOKEN": TOKEN, "DATA_DIR": str(tmp_path / "not-a-folder" / "data")}

    result = run_check(env, tmp_path, live=True)

    assert result.returncode == 1
    assert result.stdout.splitlines()[1].startswith("FAIL database: cannot be used:")


def test_check_command_with_bad_settings_exits_2(tmp_path: Path) -> None:
    result = run_check(
        {"DISCORD_TOKEN": TOKEN, "TOKEN_ENCRYPTION_KEY": "nope"}, tmp_path, live=False
    )

    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        "FAIL settings: TOKEN_ENCRYPTION_KEY key 1 of 1 is not a valid Fernet key: generate "
        "one with `python -m bot.vault generate-key` (keys are comma-separated)"
    ]
    assert TOKEN not in result.stdout + result.stderr


def test_an_unknown_subcommand_shows_usage(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chek"],
        cwd=tmp_path,
        env=clean | {"PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("usage: python -m bot [check [--live] | invite]")
