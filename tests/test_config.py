from pathlib import Path

import pytest

from bot.config import SETTING_NAMES, SettingsError, load_settings


def test_defaults_follow_the_spec() -> None:
    settings = load_settings({"DISCORD_TOKEN": "abc"})
    assert settings.ct_api_base_url == "https://www.chastitytracker.org"
    assert settings.ct_api_timeout == 10.0
    assert settings.data_dir == Path("./data")
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert settings.dev_guild_id is None
    assert settings.log_level == "INFO"
    assert settings.shard_ids is None


def test_missing_discord_token_names_the_variable() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({})
    assert info.value.variable == "DISCORD_TOKEN"
    assert "DISCORD_TOKEN" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CT_API_TIMEOUT", "soon"),
        ("CT_API_TIMEOUT", "-1"),
        ("CT_API_BASE_URL", "ftp://example.org"),
        ("DEV_GUILD_ID", "guild"),
        ("LOG_LEVEL", "LOUD"),
        ("CT_API_TIMEOUT", "nan"),
        ("CT_API_TIMEOUT", "inf"),
        ("SHARD_COUNT", "0"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_URL", "postgresql://u@h/db"),  # the driver must be named
        ("DATABASE_URL", "postgresql+asyncpg://u@h:notaport/db"),
        ("DATABASE_URL", "sqlite+aiosqlite://somehost/bot.db"),
        ("FLOOD_BURST", "0"),
        ("FLOOD_INTERVAL", "often"),
    ],
)
def test_invalid_values_are_refused(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "abc", name: value})
    assert info.value.variable == name


def test_postgres_without_key_refuses() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "abc", "DATABASE_URL": "postgresql+asyncpg://u@h/db"})
    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"


def test_shards_are_parsed() -> None:
    settings = load_settings({"DISCORD_TOKEN": "abc", "SHARD_COUNT": "4", "SHARD_IDS": "0, 2"})
    assert settings.shard_count == 4
    assert settings.shard_ids == (0, 2)


def test_token_never_shown_in_settings_repr() -> None:
    settings = load_settings({"DISCORD_TOKEN": "very-secret-discord-token"})
    assert "very-secret-discord-token" not in repr(settings)
    assert settings.discord_token.reveal() == "very-secret-discord-token"


def test_env_example_documents_every_variable_and_is_valid() -> None:
    from dotenv import dotenv_values

    root = Path(__file__).resolve().parent.parent
    values = dotenv_values(root / ".env.example")
    assert set(values) == set(SETTING_NAMES)
    filled = {k: v for k, v in values.items() if v} | {"DISCORD_TOKEN": "x"}
    settings = load_settings(filled)
    assert settings.ct_api_timeout == 10.0
    assert settings.flood_burst == 5


@pytest.mark.parametrize(
    ("shards", "problem"),
    [
        ({"SHARD_IDS": "0,1"}, "without SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "outside SHARD_COUNT"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "first"}, "not a list of numbers"),
    ],
)
def test_shard_ids_must_fit_the_shard_count(shards: dict[str, str], problem: str) -> None:
    with pytest.raises(SettingsError, match=problem) as info:
        load_settings({"DISCORD_TOKEN": "abc", **shards})
    assert info.value.variable == "SHARD_IDS"


def test_data_dir_holds_the_default_database_and_values_are_trimmed() -> None:
    settings = load_settings(
        {"DISCORD_TOKEN": " abc ", "DATA_DIR": "/srv/bot", "LOG_LEVEL": " debug "}
    )
    assert settings.discord_token.reveal() == "abc"
    assert settings.database_url == "sqlite+aiosqlite:////srv/bot/bot.db"
    assert settings.uses_sqlite
    assert settings.log_level == "DEBUG"


def test_a_blank_discord_token_is_missing() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "   "})
    assert info.value.variable == "DISCORD_TOKEN"


NEW_KEY = "0myJHREdD_lqxomtqhSaq5D42UybehXEysDLgRFyDDo="
OLD_KEY = "kCJq8Hk1r9ZJ0nGpDx0mRbJ3sVvT5WlqXq9f3Yx2h8E="


def test_several_encryption_keys_for_rotation() -> None:
    settings = load_settings(
        {"DISCORD_TOKEN": "abc", "TOKEN_ENCRYPTION_KEY": f"{NEW_KEY}, {OLD_KEY}"}
    )
    assert [key.reveal() for key in settings.token_encryption_keys] == [NEW_KEY, OLD_KEY]


@pytest.mark.parametrize(
    ("value", "position"),
    [
        ("not-a-key", "key 1 of 1"),
        (f"{NEW_KEY},{NEW_KEY[:-2]}", "key 2 of 2"),
        (f"{NEW_KEY}, {OLD_KEY}, tooshort", "key 3 of 3"),
    ],
)
def test_each_encryption_key_is_checked_without_showing_it(value: str, position: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "abc", "TOKEN_ENCRYPTION_KEY": value})
    assert info.value.variable == "TOKEN_ENCRYPTION_KEY"
    assert position in str(info.value)
    for part in value.split(","):
        assert part.strip() not in str(info.value)


def test_log_format_is_text_by_default_or_json() -> None:
    assert load_settings({"DISCORD_TOKEN": "abc"}).log_format == "text"
    assert load_settings({"DISCORD_TOKEN": "abc", "LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "abc", "LOG_FORMAT": "xml"})
    assert info.value.variable == "LOG_FORMAT"


def test_readme_configuration_table_names_every_variable() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    for name in SETTING_NAMES:
        assert f"`{name}`" in table, name


def test_stop_grace_defaults_to_20_seconds_and_must_be_positive() -> None:
    assert load_settings({"DISCORD_TOKEN": "abc"}).stop_grace == 20.0
    assert load_settings({"DISCORD_TOKEN": "abc", "STOP_GRACE": "5.5"}).stop_grace == 5.5
    with pytest.raises(SettingsError) as info:
        load_settings({"DISCORD_TOKEN": "abc", "STOP_GRACE": "0"})
    assert info.value.variable == "STOP_GRACE"
