"""The SQLite files hold encrypted tokens and member ids: readable by the bot's user only."""

import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.secrets import Secret
from bot.storage import Storage
from bot.vault import Vault

KEY = "0myJHREdD_lqxomtqhSaq5D42UybehXEysDLgRFyDDo="


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
async def test_database_wal_and_shm_files_are_created_private(tmp_path: Path) -> None:
    path = tmp_path / "new-folder" / "bot.db"
    storage = await Storage.open(f"sqlite+aiosqlite:///{path}")
    try:
        ciphertext = Vault([Secret(KEY)]).encrypt(Secret("a-member-api-token"))
        await storage.accounts.upsert(1, ciphertext, "nick", datetime.now(UTC))
        files = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.iterdir()}
    finally:
        await storage.close()
    assert {"bot.db", "bot.db-wal", "bot.db-shm"} <= set(files)
    assert files == dict.fromkeys(files, 0o600)


async def test_an_existing_database_readable_by_others_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.db"
    path.touch()
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="bot.storage.database"):
        storage = await Storage.open(f"sqlite+aiosqlite:///{path}")
        await storage.close()
    assert f"{path} can be read by other users; restrict it with chmod 600" in caplog.text
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # the admin's file is not changed
