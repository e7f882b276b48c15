import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VALID_KEY = "0myJHREdD_lqxomtqhSaq5D42UybehXEysDLgRFyDDo="


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DISCORD_TOKEN", "PYTHONPATH"}}
    clean.update(env)
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_missing_discord_token_exits_2_with_one_line(tmp_path: Path) -> None:
    result = run_bot({}, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "DISCORD_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_value_exits_2_naming_it(tmp_path: Path) -> None:
    result = run_bot({"DISCORD_TOKEN": "x", "CT_API_TIMEOUT": "fast"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "CT_API_TIMEOUT" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATA_DIR", "a-file-not-a-folder"),
        ("DATABASE_URL", "postgresql+asyncpg://user@host:notaport/db"),
    ],
)
def test_an_unusable_value_found_at_start_exits_2_with_one_line(
    tmp_path: Path, variable: str, value: str
) -> None:
    (tmp_path / "a-file-not-a-folder").write_text("")
    env = {"DISCORD_TOKEN": "x", "TOKEN_ENCRYPTION_KEY": VALID_KEY, variable: value}
    result = run_bot(env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {variable} ")
    assert "Traceback" not in result.stderr


def test_dotenv_is_read_and_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_TOKEN=x\nLOG_LEVEL=LOUD\n")
    assert "LOG_LEVEL" in run_bot({}, tmp_path).stderr
    result = run_bot({"LOG_LEVEL": "NOPE"}, tmp_path)
    assert "'NOPE'" in result.stderr


def test_unreachable_discord_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import aiohttp

    import bot.__main__
    import bot.app

    async def unreachable(settings: object) -> None:
        raise aiohttp.ClientConnectionError("no route")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setattr(bot.app, "run_bot", unreachable)
    monkeypatch.setattr(bot.__main__, "configure_logging", lambda *_args, **_kwargs: None)
    assert bot.__main__.main([]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: cannot reach Discord (ClientConnectionError); check the network"


def test_an_invalid_key_is_found_before_the_database_or_any_log_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "DISCORD_TOKEN": "x",
        "DATA_DIR": str(data),
        "TOKEN_ENCRYPTION_KEY": f"{VALID_KEY},not-a-fernet-key",
        "LOG_LEVEL": "DEBUG",
    }
    result = run_bot(env, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: TOKEN_ENCRYPTION_KEY key 2 of 2 is not a valid Fernet key: generate one with "
        "`python -m bot.vault generate-key` (keys are comma-separated)"
    ]
    assert result.stdout == ""
    assert not (data / "bot.db").exists()


def store_account_token(data_dir: Path, key: str) -> None:
    from datetime import UTC, datetime

    from bot.secrets import Secret
    from bot.storage import Storage
    from bot.vault import Vault

    async def store() -> None:
        storage = await Storage.open(f"sqlite+aiosqlite:///{data_dir / 'bot.db'}")
        try:
            ciphertext = Vault([Secret(key)]).encrypt(Secret("stored-member-api-token"))
            await storage.accounts.upsert(1, ciphertext, "nick", datetime.now(UTC))
        finally:
            await storage.close()

    asyncio.run(store())


def test_a_key_that_cannot_read_the_stored_tokens_stops_the_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store_account_token(data, VALID_KEY)
    other_key = "kCJq8Hk1r9ZJ0nGpDx0mRbJ3sVvT5WlqXq9f3Yx2h8E="
    env = {"DISCORD_TOKEN": "x", "DATA_DIR": str(data), "TOKEN_ENCRYPTION_KEY": other_key}
    result = run_bot(env, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        "error: TOKEN_ENCRYPTION_KEY decrypts none of the 1 stored token(s): "
        "the key in use cannot read the stored tokens: restore the right key"
    )
    assert "list the old key after the new one" in lines[0]
    assert other_key not in result.stderr
    assert VALID_KEY not in result.stderr


def test_a_replaced_key_file_stops_the_start(tmp_path: Path) -> None:
    # SQLite without TOKEN_ENCRYPTION_KEY: the generated key file was lost and a new one
    # would be generated; the tokens stored with the old one must not be met with silence.
    data = tmp_path / "data"
    store_account_token(data, VALID_KEY)
    result = run_bot({"DISCORD_TOKEN": "x", "DATA_DIR": str(data)}, tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(
        f"error: TOKEN_ENCRYPTION_KEY is unset and the key file {data / 'secret.key'} is "
        "missing, but tokens are stored: restore the key file from a backup"
    )
    assert not (data / "secret.key").exists()

    # A different key file (replaced, not restored) is a wrong key.
    (data / "secret.key").write_text("kCJq8Hk1r9ZJ0nGpDx0mRbJ3sVvT5WlqXq9f3Yx2h8E=\n")
    (data / "secret.key").chmod(0o600)
    result = run_bot({"DISCORD_TOKEN": "x", "DATA_DIR": str(data)}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: TOKEN_ENCRYPTION_KEY decrypts none of the 1 stored")
    assert "secret.key in DATA_DIR" in result.stderr
