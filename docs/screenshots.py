"""Render the bot's main messages as PNGs for the README (a documentation tool, not a test).

The messages are the bot's real payloads: the production bot runs against the
test harness (fake Discord, fake Chastity Tracker), and what it sends is drawn
as HTML resembling Discord's dark theme, then photographed by headless Chromium
(``apt-get install chromium``).

    .venv/bin/python -m docs.screenshots            # writes docs/screenshots/*.png
"""

from __future__ import annotations

import asyncio
import html
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "screenshots"
WIDTH = 620
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
BACKGROUND = (0x31, 0x33, 0x38)
BUTTON_COLOURS = {1: "#5865f2", 2: "#4e5058", 3: "#248046", 4: "#da373c"}
NAMES: dict[int, str] = {}
NOW: list[datetime] = []  # the harness clock's time, for "in 3 days" / "5 min ago"

CSS = """
body { margin: 0; background: #313338; font-family: 'DejaVu Sans', sans-serif;
       color: #dbdee1; font-size: 15px; line-height: 1.35; }
.msg { display: flex; padding: 12px 16px 10px 16px; width: WIDTH_PX; }
.avatar { width: 40px; height: 40px; border-radius: 50%; background: #5865f2; flex: none;
          margin-right: 14px; color: white; text-align: center; line-height: 40px; }
.head { font-weight: 600; color: #f2f3f5; }
.bot { background: #5865f2; color: white; font-size: 10px; padding: 1px 4px; border-radius: 3px;
       margin-left: 4px; vertical-align: 2px; }
.only { font-size: 12px; color: #949ba4; margin-top: 4px; }
.content { white-space: pre-wrap; margin-top: 2px; }
.embed { background: #2b2d31; border-left: 4px solid; border-radius: 4px;
         padding: 8px 14px 12px 12px; margin-top: 6px; max-width: 520px; }
.author { font-size: 13px; font-weight: 600; margin-bottom: 4px; color: #f2f3f5; }
.author img { display: none; }
.title { font-weight: 700; color: #f2f3f5; margin-bottom: 4px; }
.desc { white-space: pre-wrap; font-size: 14px; }
.fields { display: flex; flex-wrap: wrap; margin-top: 6px; }
.field { margin-top: 6px; min-width: 30%; margin-right: 12px; font-size: 14px; }
.field.block { width: 100%; }
.fname { font-weight: 600; color: #f2f3f5; }
.fvalue { white-space: pre-wrap; }
.footer { font-size: 12px; color: #b5bac1; margin-top: 8px; }
.ts, .mention { background: #3c3f45; border-radius: 3px; padding: 0 2px; }
.mention { background: rgba(88,101,242,.3); color: #c9cdfb; }
code { background: #1e1f22; border-radius: 3px; padding: 0 3px; font-size: 13px; }
.row { margin-top: 8px; display: flex; gap: 8px; }
.button { color: white; border-radius: 3px; padding: 4px 14px; font-size: 14px; }
.button.off { opacity: .5; }
.select { background: #1e1f22; border-radius: 4px; padding: 8px 10px;
          width: 400px; color: #949ba4; }
""".replace("WIDTH_PX", f"{WIDTH}px")


def _timestamp(match: re.Match[str]) -> str:
    moment = datetime.fromtimestamp(int(match[1]), UTC)
    style = match[2] or "f"
    if style == "R":
        return f'<span class="ts">{_relative(moment)}</span>'
    if style == "F":
        return f'<span class="ts">{moment:%A, %d %B %Y %H:%M}</span>'
    return f'<span class="ts">{moment:%d %B %Y %H:%M}</span>'


def _relative(moment: datetime) -> str:
    seconds = (moment - (NOW[0] if NOW else datetime.now(UTC))).total_seconds()
    amount, unit = abs(seconds), "seconds"
    for size, name in ((86400, "days"), (3600, "hours"), (60, "minutes")):
        if amount >= size:
            amount, unit = amount / size, name
            break
    text = f"{round(amount)} {unit}"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def markdown(text: str) -> str:
    """The little Discord markdown the bot uses, as HTML."""
    out = html.escape(text, quote=False)
    out = re.sub(r"&lt;t:(\d+)(?::([FRfDt]))?&gt;", _timestamp, out)
    out = re.sub(r"&lt;/([\w ]+):\d+&gt;", r'<span class="mention">/\1</span>', out)
    out = re.sub(
        r"&lt;@!?(\d+)&gt;",
        lambda m: f'<span class="mention">@{html.escape(NAMES.get(int(m[1]), "member"))}</span>',
        out,
    )
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    out = re.sub(r"^-# (.*)$", r'<span class="footer">\1</span>', out, flags=re.M)
    return out.replace("\\_", "_").replace("\\*", "*")


def embed_html(embed: dict[str, Any]) -> str:
    colour = f"#{embed.get('color', 0x4F545C):06x}"
    parts = [f'<div class="embed" style="border-color:{colour}">']
    if "author" in embed:
        parts.append(f'<div class="author">{html.escape(embed["author"]["name"])}</div>')
    if "title" in embed:
        parts.append(f'<div class="title">{markdown(embed["title"])}</div>')
    if "description" in embed:
        parts.append(f'<div class="desc">{markdown(embed["description"])}</div>')
    if embed.get("fields"):
        parts.append('<div class="fields">')
        for field in embed["fields"]:
            block = "" if field.get("inline") else " block"
            parts.append(
                f'<div class="field{block}"><div class="fname">{markdown(field["name"])}</div>'
                f'<div class="fvalue">{markdown(field["value"])}</div></div>'
            )
        parts.append("</div>")
    if "footer" in embed:
        parts.append(f'<div class="footer">{html.escape(embed["footer"]["text"])}</div>')
    parts.append("</div>")
    return "".join(parts)


def components_html(rows: list[dict[str, Any]]) -> str:
    parts = []
    for row in rows:
        parts.append('<div class="row">')
        for item in row.get("components", []):
            if item["type"] == 2:
                emoji = (item.get("emoji") or {}).get("name", "")
                off = " off" if item.get("disabled") else ""
                colour = BUTTON_COLOURS.get(item.get("style", 2), "#4e5058")
                label = html.escape(f"{emoji} {item.get('label', '')}".strip())
                parts.append(
                    f'<span class="button{off}" style="background:{colour}">{label}</span>'
                )
            elif item["type"] == 3:
                parts.append(
                    f'<div class="select">{html.escape(item.get("placeholder", ""))} ▾</div>'
                )
        parts.append("</div>")
    return "".join(parts)


def message_html(message: Any) -> str:
    only = '<div class="only">👁 Only you can see this</div>' if message.ephemeral else ""
    content = f'<div class="content">{markdown(message.content)}</div>' if message.content else ""
    embeds = "".join(embed_html(embed) for embed in message.embeds)
    return (
        '<div class="msg"><div class="avatar">CT</div><div>'
        '<div class="head">Chastity Tracker<span class="bot">APP</span></div>'
        f"{content}{embeds}{components_html(message.components)}{only}</div></div>"
    )


# -- PNG: crop the empty background below the message (no imaging library needed) --------


def _png_rows(data: bytes) -> tuple[int, int, int, list[bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width = 8, b"", 0
    height = colour_type = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8, "8-bit PNGs only"
            assert colour_type in (2, 6), "RGB(A) PNGs only"
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    channels = 4 if colour_type == 6 else 3
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            corner = previous[x - channels] if x >= channels else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[x] = (line[x] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def crop_png(path: Path, margin: int = 6) -> None:
    """Cut the rows of plain background under the last drawn pixel; write RGB, compressed."""
    width, _, channels, rows = _png_rows(path.read_bytes())
    background = bytes(BACKGROUND) * width
    rgb_rows = [
        b"".join(row[i : i + 3] for i in range(0, len(row), channels)) if channels == 4 else row
        for row in rows
    ]
    last = max((y for y, row in enumerate(rgb_rows) if row != background), default=0)
    kept = rgb_rows[: min(len(rgb_rows), last + 1 + margin)]
    raw = b"".join(b"\x00" + row for row in kept)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, len(kept), 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def shoot(name: str, messages: list[Any], chromium: str) -> Path:
    page = f"<html><head><meta charset='utf-8'><style>{CSS}</style></head><body>"
    page += "".join(message_html(message) for message in messages) + "</body></html>"
    OUT.mkdir(exist_ok=True)
    target = OUT / f"{name}.png"
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / f"{name}.html"
        source.write_text(page)
        subprocess.run(  # noqa: S603 - our own file and the chromium found on PATH
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={scratch}/profile",
                f"--window-size={WIDTH + 60},1400",
                f"--screenshot={target}",
                source.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    crop_png(target)
    return target


# -- the scenes ------------------------------------------------------------------------


async def scenes() -> dict[str, list[Any]]:
    """Drive the real bot through the harness; the messages it sent, by scene."""
    import dataclasses

    from bot.config import Settings
    from bot.ctapi import ChastityTrackerClient
    from bot.secrets import Secret
    from bot.storage import Storage
    from bot.vault import Vault
    from tests.fakes.ct_api import FakeChastityTracker, Fault
    from tests.fixtures.discord import HARNESS_DISCORD_TOKEN
    from tests.games_support import add_session, players
    from tests.harness import Harness, TestClock, World
    from tests.harness.models import Snowflakes
    from tests.voting_support import register, wearer

    shots: dict[str, list[Any]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        async with FakeChastityTracker(seed=7) as ct:
            url = f"sqlite+aiosqlite:///{scratch}/bot.db"
            storage = await Storage.open(url)
            settings = dataclasses.replace(
                Settings(
                    discord_token=Secret(HARNESS_DISCORD_TOKEN),
                    ct_api_base_url=ct.base_url,
                    ct_api_timeout=5.0,
                    data_dir=Path(scratch),
                    database_url=url,
                ),
                flood_burst=100,
            )
            clock = TestClock()
            NOW[:] = [clock.now()]
            snowflake = Snowflakes(clock)
            world = World.build(snowflake)
            api = ChastityTrackerClient(settings.ct_api_base_url, settings.ct_api_timeout)
            harness = await Harness.start(
                settings=settings,
                api=api,
                storage=storage,
                vault=Vault.from_settings(settings),
                clock=clock,
                snowflake=snowflake,
                world=world,
                prepare=None,
            )
            try:
                await _play(
                    harness, ct, shots, players=players, add_session=add_session, fault=Fault
                )
                await _vote(harness, ct, shots, register=register, wearer=wearer)
            finally:
                await harness.close()
                await api.aclose()
                await storage.close()
    return shots


async def _play(
    harness: Any,
    ct: Any,
    shots: dict[str, list[Any]],
    *,
    players: Any,
    add_session: Any,
    fault: Any,
) -> None:
    people = await players(harness, ct)
    NAMES[harness.member.id] = harness.member.user.name
    dice = await (await harness.run("dice", {"session": people.session.id})).wait_for_message()
    luck = await (
        await harness.run(
            "luck", {"session": people.session.id, "as_dom": True}, by=people.dom_member
        )
    ).wait_for_message()
    shots["results"] = [dice, luck]
    add_session(ct, people.wearer, lockedby="keyholder")
    shots["which-session"] = [await (await harness.run("dice")).wait_for_message()]
    ct.inject(fault.drop_connection(after_apply=True))
    lost = await (await harness.run("luck", {"session": people.session.id})).wait_for_message()
    refused = await (await harness.run("luck", {"session": 999})).wait_for_message()
    shots["errors"] = [lost, refused]
    for _ in range(11):
        await (await harness.run("dice", {"session": people.session.id})).wait_for_message()
    shots["history"] = [await (await harness.run("history")).wait_for_message()]
    shots["help"] = [(await harness.run("help")).original]


async def _vote(
    harness: Any,
    ct: Any,
    shots: dict[str, list[Any]],
    *,
    register: Callable[..., Awaitable[Any]],
    wearer: Any,
) -> None:
    lock = wearer(ct, "cage-wearer", waitint=0)
    owner = harness.new_member("cage-wearer")
    NAMES[owner.id] = "cage-wearer"
    NAMES[harness.admin.id] = harness.admin.user.name
    await register(harness, "cage", lock.token, owner=owner)
    await (await harness.run("locks panel", {"name": "cage"}, by=harness.admin)).wait_for_message()
    panel = harness.channel_messages()[-1]
    NAMES[harness.member.id] = harness.member.user.name
    await (await harness.click(panel, label="Add time")).wait_for_message()
    await harness.fake.wait_for(lambda: bool(harness.fake.messages[panel.id].history), timeout=15)
    shots["panel"] = [harness.fake.messages[panel.id]]
    NOW[:] = [harness.clock.now()]

    await (
        await harness.run("locks poll", {"name": "cage", "minutes": 5}, by=harness.admin)
    ).wait_for_message()
    poll = harness.channel_messages()[-1]
    for n, label in enumerate(("Add time", "Add time", "Add time", "Remove time")):
        member = harness.new_member(f"voter{n}")
        await (await harness.click(poll, label=label, by=member)).wait_for_message()
    await harness.bot.polls.redraw(int(poll.buttons()[0]["custom_id"].split(":")[1]))
    shots["poll"] = [harness.fake.messages[poll.id]]
    harness.clock.advance(5 * 60 + 1)
    NOW[:] = [harness.clock.now()]
    await harness.bot.polls.run_due()
    shots["poll-closed"] = [harness.fake.messages[poll.id], harness.channel_messages()[-1]]


def main() -> int:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("chromium is needed: apt-get install chromium", file=sys.stderr)
        return 1
    for name, messages in asyncio.run(scenes()).items():
        path = shoot(name, messages, chromium)
        print(
            f"{path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}: "
            f"{path.stat().st_size // 1024} KiB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
