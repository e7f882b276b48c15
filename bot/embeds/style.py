"""The one colour and sign per effect, shared by results, panels, polls, history and buttons.

Colour is never the only cue: every place that colours an effect also shows its
sign (➕ ➖ 🎲 ⚠️) and, where there is room, its words.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import discord

from bot.ctapi.models import Choice


class Effect(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    RANDOM = "random"
    PENALTY = "penalty"


@dataclass(frozen=True, slots=True)
class EffectStyle:
    colour: discord.Colour
    sign: str
    words: str  # what happened, e.g. "Time added"
    button: discord.ButtonStyle


STYLES: Final[dict[Effect, EffectStyle]] = {
    Effect.ADD: EffectStyle(
        discord.Colour(0xED4245), "➕", "Time added", discord.ButtonStyle.danger
    ),
    Effect.REMOVE: EffectStyle(
        discord.Colour(0x57F287), "➖", "Time removed", discord.ButtonStyle.success
    ),
    Effect.RANDOM: EffectStyle(
        discord.Colour(0x5865F2), "🎲", "Random", discord.ButtonStyle.primary
    ),
    Effect.PENALTY: EffectStyle(
        discord.Colour(0x992D22), "⚠️", "Penalty", discord.ButtonStyle.danger
    ),
}

# Messages about a lock rather than an effect (panels, polls, help, history): one
# neutral colour that never changes with the latest vote, so they never look like results.
NEUTRAL_COLOUR: Final = discord.Colour(0x4F545C)
CLOSED_COLOUR: Final = discord.Colour(0x2B2D31)

_OF_CHOICE: Final = {Choice.ADD: Effect.ADD, Choice.SUB: Effect.REMOVE, Choice.RAND: Effect.RANDOM}


def effect_of_choice(choice: Choice) -> Effect:
    return _OF_CHOICE[choice]


def effect_of_result(*, added: bool, penalty: bool = False) -> Effect:
    if penalty:
        return Effect.PENALTY
    return Effect.ADD if added else Effect.REMOVE


def style_of(effect: Effect) -> EffectStyle:
    return STYLES[effect]


def choice_sign(choice: Choice) -> str:
    return STYLES[effect_of_choice(choice)].sign


def choice_text(choice: Choice) -> str:
    """ "➕ Add time": a vote choice with its sign."""
    return f"{choice_sign(choice)} {choice.label}"


def choice_button_style(choice: Choice) -> discord.ButtonStyle:
    return STYLES[effect_of_choice(choice)].button
