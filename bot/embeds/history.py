"""The /history embed: a member's recent plays and votes through the bot, one line each."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import discord

from bot.ctapi import Choice
from bot.embeds.format import discord_time, escape_name, format_duration
from bot.error_messages import summarize_error
from bot.storage import LedgerEntry

HISTORY_COLOUR: Final = discord.Colour.blurple()
CHECK_ON_CHASTITY_TRACKER: Final = (
    "An action marked unknown or pending may or may not have happened: check the "
    "session's history on Chastity Tracker before trying it again."
)
_MAX_MESSAGE: Final = 120
_MAX_DESCRIPTION: Final = 4096


def _detail(entry: LedgerEntry) -> Mapping[str, Any]:
    if not entry.detail_json:
        return {}
    try:
        detail = json.loads(entry.detail_json)
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _choice_label(value: Choice | None) -> str:
    return f" ({Choice(value).label})" if value is not None else ""


def _what(entry: LedgerEntry) -> str:
    game = f"**{entry.game.upper()}**"
    if entry.game == "link" and not entry.dom:
        role = "vote" if entry.logged else "anonymous vote"
    else:
        role = "as dom" if entry.dom else "as owner"
    return f"{game} {role}{_choice_label(entry.choice)}"


def _where(entry: LedgerEntry, lock_names: Mapping[int, str]) -> str:
    if entry.lock_id is not None:
        name = lock_names.get(entry.lock_id)
        return f"lock **{escape_name(name)}**" if name else "a removed lock"
    if entry.session is not None:
        return f"session #{entry.session}"
    return "a shared link"


def _ok_summary(detail: Mapping[str, Any]) -> str:
    added = str(detail.get("operation", "")).upper() == "ADD"
    text = "time added" if added else "time removed"
    seconds = detail.get("seconds")
    if isinstance(seconds, int):
        text += f" {format_duration(seconds)}"
    multiplier = detail.get("multiplier")
    if isinstance(multiplier, int | float):
        text += f" (×{multiplier:.2f})"
    if detail.get("penalty") is True:
        text = f"penalty: {text}"
    return text


def _failure_summary(detail: Mapping[str, Any]) -> str:
    message = detail.get("message")
    if isinstance(message, str) and message:
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 1] + "…"
        return f"“{discord.utils.escape_markdown(message)}”"
    words = summarize_error(str(detail.get("error", "")))
    status = detail.get("status")
    return f"{words} (HTTP {status})" if isinstance(status, int) else words


def _outcome(entry: LedgerEntry) -> str:
    detail = _detail(entry)
    match entry.status:
        case "ok":
            return f"✅ {_ok_summary(detail)}"
        case "refused":
            return f"⛔ refused: {_failure_summary(detail)}"
        case "error":
            return f"⚠️ failed: {_failure_summary(detail)}"
        case "unknown":
            return "❔ outcome unknown: check Chastity Tracker's history"
        case "pending":
            return "⏳ pending, no answer recorded: check Chastity Tracker's history"


def describe_entry(entry: LedgerEntry, lock_names: Mapping[int, str]) -> str:
    """One line: when, what, where, and how it ended."""
    when = discord_time(entry.created_at, "f")
    return f"{when} · {_what(entry)} on {_where(entry, lock_names)} — {_outcome(entry)}"


def history_embed(entries: Sequence[LedgerEntry], lock_names: Mapping[int, str]) -> discord.Embed:
    embed = discord.Embed(title="Your recent plays and votes", colour=HISTORY_COLOUR)
    if not entries:
        embed.description = (
            "You have not played or voted through this bot yet. Try `/dice`, `/luck`, "
            "`/link play` or `/link vote`."
        )
        return embed
    lines: list[str] = []
    for entry in entries:
        line = describe_entry(entry, lock_names)
        if sum(len(kept) + 1 for kept in lines) + len(line) > _MAX_DESCRIPTION:
            break  # Discord's limit; the oldest entries are the ones left out
        lines.append(line)
    embed.description = "\n".join(lines)
    if any(entry.status in ("unknown", "pending") for entry in entries):
        embed.set_footer(text=CHECK_ON_CHASTITY_TRACKER)
    return embed
