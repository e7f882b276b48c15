"""The deployment files: they are not run here (no Docker engine, no systemd), so they
are read and held to what the bot actually is: its settings, its commands, its secrets."""

import configparser
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import SETTING_NAMES

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = re.compile(r"\$\{(?P<name>[A-Z_]+)(?::?[-?][^}]*)?\}")
SECRETS = {"DISCORD_TOKEN", "TOKEN_ENCRYPTION_KEY", "POSTGRES_PASSWORD"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment as a mapping, so each variable is named once"
    return {str(name): str(value) for name, value in env.items()}


def test_compose_runs_the_bot_beside_postgresql_with_its_data_in_a_volume(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == {"bot", "db"}
    assert services["bot"]["build"] == "."
    assert services["bot"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert services["db"]["image"].startswith("postgres:")
    db_volumes = services["db"]["volumes"]
    assert db_volumes == ["db-data:/var/lib/postgresql/data"]
    assert set(compose["volumes"]) == {"db-data"}
    assert "volumes" not in services["bot"]  # nothing of the bot's (no key) lives in a volume


def test_compose_sets_only_real_settings_and_reaches_the_database(
    compose: dict[str, Any],
) -> None:
    env = environment(compose["services"]["bot"])
    assert set(env) <= set(SETTING_NAMES)
    assert {"DISCORD_TOKEN", "TOKEN_ENCRYPTION_KEY", "DATABASE_URL"} <= set(env)
    assert env["DATABASE_URL"].startswith("postgresql+asyncpg://ct_bot:")
    assert env["DATABASE_URL"].endswith("@db:5432/ct_bot")
    db_env = environment(compose["services"]["db"])
    assert (db_env["POSTGRES_USER"], db_env["POSTGRES_DB"]) == ("ct_bot", "ct_bot")


def test_compose_holds_no_secret_inline(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for variable, value in environment(service).items():
            referenced = {match["name"] for match in REFERENCE.finditer(value)}
            if variable in SECRETS:
                assert REFERENCE.fullmatch(value), f"{name}.{variable} must come from .env"
            if variable == "DATABASE_URL":
                password = value.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]
                assert REFERENCE.fullmatch(password), "the database password comes from .env"
            assert not referenced - SECRETS - {"LOG_LEVEL"}, f"{name}.{variable}: {referenced}"
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text), "something shaped like a Fernet key"


def test_compose_healthchecks_use_the_light_check(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["bot"]["healthcheck"]["test"] == [
        "CMD",
        "python",
        "-m",
        "bot",
        "check",
        "--live",
    ]
    assert "pg_isready" in " ".join(services["db"]["healthcheck"]["test"])


def test_dockerfile_is_multi_stage_non_root_from_the_lock_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text()
    stages = re.findall(r"^FROM \S+", text, flags=re.MULTILINE)
    assert len(stages) == 2
    assert "--constraint requirements.lock" in text
    assert re.search(r"^USER 10001:10001$", text, flags=re.MULTILINE)
    assert 'CMD ["python", "-m", "bot", "check", "--live"]' in text
    assert 'ENTRYPOINT ["python", "-m", "bot"]' in text
    # Only what the image needs is copied in: no tests, no .env.
    copied = re.findall(r"^COPY (?!--from)(.+) \S+$", text, flags=re.MULTILINE)
    assert copied == ["pyproject.toml requirements.lock README.md", "bot", "cogs"]


def test_dockerfile_passes_hadolint() -> None:
    # Installed with the test extra, beside this Python.
    hadolint = Path(sys.executable).with_name("hadolint")
    result = subprocess.run(  # noqa: S603 - a fixed command line
        [str(hadolint), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_systemd_unit_is_hardened_and_writes_only_data_dir() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(ROOT / "deploy" / "ct-bot.service")
    service = unit["Service"]
    assert service["ExecStart"].endswith("python -m bot")
    assert service["Environment"] == "DATA_DIR=/var/lib/ct-bot"
    assert service["ReadWritePaths"] == "/var/lib/ct-bot"
    assert service["StateDirectory"] == "ct-bot"
    assert service["RestartPreventExitStatus"] == "2"
    for option, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "UMask": "0077",
        "CapabilityBoundingSet": "",
    }.items():
        assert service[option] == value, option
    assert service["User"] != "root"
