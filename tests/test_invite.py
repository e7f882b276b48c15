"""`python -m bot invite`: the invite URL, worked out from the token alone."""

import asyncio
import base64
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from discord.http import HTTPClient

import bot.__main__
import bot.config
from bot.config import SETTING_NAMES
from bot.invite import application_id_from_token, invite_url, required_permissions
from bot.secrets import Secret
from tests.harness.fake_discord import FakeDiscord
from tests.test_check import BOT_ID, TOKEN, fake_discord  # noqa: F401 - the fixture


def query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "discord.com", "/oauth2/authorize")
    return parse_qs(parts.query)


def test_the_url_has_exactly_the_scopes_and_permissions_the_bot_needs() -> None:
    fields = query(invite_url(BOT_ID))

    assert fields["client_id"] == [str(BOT_ID)]
    assert fields["scope"] == ["bot applications.commands"]
    # Bits as Discord documents them: VIEW_CHANNEL, SEND_MESSAGES, EMBED_LINKS,
    # SEND_MESSAGES_IN_THREADS.
    assert int(fields["permissions"][0]) == (1 << 10) | (1 << 11) | (1 << 14) | (1 << 38)
    assert discord.Permissions(int(fields["permissions"][0])) == required_permissions()
    assert set(fields) == {"client_id", "scope", "permissions"}


async def test_the_application_id_from_the_token_is_the_one_discord_reports(
    fake_discord: FakeDiscord,  # noqa: F811 - the fixture imported above
) -> None:
    http = HTTPClient(asyncio.get_running_loop())
    try:
        await http.static_login(TOKEN)
        application = await http.application_info()
    finally:
        await http.close()

    assert application_id_from_token(Secret(TOKEN)) == int(application["id"])


@pytest.mark.parametrize("token", ["not-a-token", "harness.discord.token", "LTE.x.y", "MA.x.y"])
def test_a_token_without_an_id_is_a_settings_error(token: str) -> None:
    with pytest.raises(bot.config.SettingsError) as info:
        application_id_from_token(Secret(token))
    assert info.value.variable == "DISCORD_TOKEN"
    assert token not in str(info.value)


def test_invite_command_prints_only_the_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)

    assert bot.__main__.main(["invite"]) == 0

    out, err = capsys.readouterr()
    assert out == invite_url(BOT_ID) + "\n"
    assert err == ""
    assert not (tmp_path / "data").exists()  # no database, no key, no network


def test_invite_command_with_a_token_without_an_id_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "garbage!!.x.y")

    assert bot.__main__.main(["invite"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: DISCORD_TOKEN does not look like a bot token")
    assert "garbage" not in err


def test_the_first_part_of_a_real_shaped_token_decodes_to_the_bot_id() -> None:
    first = base64.b64encode(b"80351110224678912").decode().rstrip("=")
    assert application_id_from_token(Secret(f"{first}.Gh1jKl.{'x' * 38}")) == 80351110224678912
