"""The /history embed: a member's recent plays and votes through the bot, one line each."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

import discord

from bot.ctapi import Choice
from bot.embeds.format import discord_time, escape_name, fit, format_duration, format_multiplier
from bot.embeds.style import NEUTRAL_COLOUR, choice_sign, effect_of_result, style_of
from bot.error_messages import summarize_error
from bot.storage import LedgerEntry

HISTORY_COLOUR: Final = NEUTRAL_COLOUR
CHECK_ON_CHASTITY_TRACKER: Final = (
    "⚠️ may or may not have happened: check the session's history on Chastity Tracker "
    "before trying it again."
)
PER_PAGE: Final = 10
_MAX_MESSAGE: Final = 80
_MAX_DESCRIPTION: Final = 4096
_CHECK: Final = "check Chastity Tracker"


def _detail(entry: LedgerEntry) -> Mapping[str, Any]:
    if not entry.detail_json:
        return {}
    try:
        detail = json.loads(entry.detail_json)
    except ValueError:
        return {}
    return detail if isinstance(detail, dict) else {}


def _what(entry: LedgerEntry) -> str:
    game = entry.game.upper()
    if entry.game == "link" and not entry.dom:
        what = f"{game} vote" if entry.logged else f"{game} anonymous vote"
    else:
        what = f"{game} as dom" if entry.dom else game
    if entry.choice is not None:
        what += f" {choice_sign(Choice(entry.choice))}"
    return what


def _where(entry: LedgerEntry, lock_names: Mapping[int, str]) -> str:
    if entry.lock_id is not None:
        name = lock_names.get(entry.lock_id)
        return f"**{escape_name(name)}**" if name else "a removed lock"
    if entry.session is not None:
        return f"#{entry.session}"
    return "a shared link"


def _ok_parts(detail: Mapping[str, Any]) -> tuple[str, str | None]:
    """(amount with its direction, multiplier), e.g. ("➕ 2 h 5 min", "×1.25")."""
    added = str(detail.get("operation", "")).upper() == "ADD"
    penalty = detail.get("penalty") is True
    style = style_of(effect_of_result(added=added, penalty=penalty))
    seconds = detail.get("seconds")
    amount = format_duration(seconds) if isinstance(seconds, int) else style.words.lower()
    lead = f"{style.sign} Penalty {amount}" if penalty else f"{style.sign} {amount}"
    multiplier = detail.get("multiplier")
    return lead, format_multiplier(multiplier) if isinstance(multiplier, int | float) else None


def _failure_summary(detail: Mapping[str, Any]) -> str:
    message = detail.get("message")
    if isinstance(message, str) and message:
        return f"“{discord.utils.escape_markdown(fit(message, _MAX_MESSAGE))}”"
    words = summarize_error(str(detail.get("error", "")))
    status = detail.get("status")
    return f"{words} (HTTP {status})" if isinstance(status, int) else words


def describe_entry(entry: LedgerEntry, lock_names: Mapping[int, str]) -> str:
    """One line, amount and direction first, then what, where and when:
    "➕ 2 h 5 min · DICE · #101 · ×1.25 · <t:R>"."""
    detail = _detail(entry)
    what, where = _what(entry), _where(entry, lock_names)
    parts: list[str]
    match entry.status:
        case "ok":
            lead, multiplier = _ok_parts(detail)
            parts = [lead, what, where, *([multiplier] if multiplier else [])]
        case "refused":
            parts = ["❌ refused", what, where, _failure_summary(detail)]
        case "error":
            icon = "🔌" if detail.get("error") == "NotSent" else "❌"
            parts = [f"{icon} failed", what, where, _failure_summary(detail)]
        case "unknown":
            parts = [f"⚠️ outcome unknown, {_CHECK}", what, where]
        case "pending":
            parts = [f"⚠️ no answer recorded, {_CHECK}", what, where]
    parts.append(discord_time(entry.created_at, "R"))
    return " · ".join(parts)


def _empty_embed() -> discord.Embed:
    return discord.Embed(
        title="Your recent plays and votes",
        description=(
            "You have not played or voted through this bot yet. Try `/dice`, `/luck`, "
            "`/link play` or `/link vote`."
        ),
        colour=HISTORY_COLOUR,
    )


def history_pages(
    entries: Sequence[LedgerEntry], lock_names: Mapping[int, str], *, per_page: int = PER_PAGE
) -> list[discord.Embed]:
    """The member's entries, newest first, ``per_page`` lines a page (and never more than
    Discord's description limit)."""
    if not entries:
        return [_empty_embed()]
    pages: list[list[str]] = [[]]
    for entry in entries:
        line = describe_entry(entry, lock_names)
        page = pages[-1]
        if (
            len(page) >= per_page
            or sum(len(kept) + 1 for kept in page) + len(line) > _MAX_DESCRIPTION
        ):
            pages.append([])
        pages[-1].append(line)
    embeds = []
    for number, page in enumerate(pages, start=1):
        embed = discord.Embed(
            title="Your recent plays and votes", description="\n".join(page), colour=HISTORY_COLOUR
        )
        footer = f"Page {number} of {len(pages)} · newest first" if len(pages) > 1 else ""
        embed.set_footer(text=footer or None)
        embeds.append(embed)
    if any(entry.status in ("unknown", "pending") for entry in entries):
        for embed in embeds:
            text = embed.footer.text
            embed.set_footer(
                text=f"{text} · {CHECK_ON_CHASTITY_TRACKER}" if text else CHECK_ON_CHASTITY_TRACKER
            )
    return embeds


def history_embed(entries: Sequence[LedgerEntry], lock_names: Mapping[int, str]) -> discord.Embed:
    """The first page of :func:`history_pages`."""
    return history_pages(entries, lock_names)[0]
