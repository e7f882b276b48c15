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
    monkeypatch.setattr(bot.__main__, "configure_logging", lambda level: None)
    assert bot.__main__.main() == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: cannot reach Discord (ClientConnectionError); check the network"
