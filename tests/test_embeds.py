from datetime import UTC, datetime

import discord
import pytest

from bot.ctapi.models import Choice, DiceResult, LinkResult, LuckResult
from bot.embeds import Actor, format_duration, result_embed
from tests.contract_examples import DICE_EXAMPLE, LINK_EXAMPLE, LUCK_EXAMPLE

END = datetime(2026, 2, 10, tzinfo=UTC)
# Added and removed time look clearly different (bot.md); a penalty stands out from both.
ORANGE = discord.Colour(0xE67E22)
GREEN = discord.Colour(0x2ECC71)
DARK_RED = discord.Colour(0x992D22)


def fields(embed) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.name: f.value for f in embed.fields}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (45, "45 s"),
        (125, "2 min 5 s"),
        (7500, "2 h 5 min"),
        (7501, "2 h 5 min"),
        (90061, "1 d 1 h 1 min"),
        (-3600, "1 h"),
    ],
)
def test_format_duration(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


def test_dice_embed_shows_dice_ops_and_calc() -> None:
    result = DiceResult.parse({**DICE_EXAMPLE, "sum": 7})
    embed = result_embed(result, actor=Actor.OWNER)
    shown = fields(embed)
    assert "DICE" in embed.title
    assert "owner" in embed.title
    assert embed.colour == GREEN
    assert shown["Result"] == "Time removed"
    assert shown["Amount"] == "2 h"
    assert shown["Multiplier"] == "×1.11"
    unix = int(END.timestamp())
    assert f"<t:{unix}:F>" in shown["New scheduled end"]
    assert f"<t:{unix}:R>" in shown["New scheduled end"]
    assert shown["Session"] == "#123"
    assert "−1" in shown["Dice"]
    assert "+6" in shown["Dice"]
    assert shown["Calculation"] == "`+6-1+2`"
    assert shown["Sum"] == "7"


def test_dice_sum_is_not_presented_as_the_calculations_total() -> None:
    # The contract's own example: calc +6-1+2 with sum -3.
    result = DiceResult.parse({**DICE_EXAMPLE, "dicesops": ["", "s", "x"]})
    shown = fields(result_embed(result, actor=Actor.OWNER))
    assert shown["Calculation"] == "`+6-1+2`"
    assert shown["Sum"] == "-3"
    assert shown["Dice"] == "⚅ +6  ⚀ −1  ⚁ [x] 2"


def test_luck_by_dom_adds_time_in_the_added_colour() -> None:
    result = LuckResult.parse({**LUCK_EXAMPLE, "session": 5})
    embed = result_embed(result, actor=Actor.DOM)
    assert "dom" in embed.title
    assert embed.colour == ORANGE
    assert fields(embed)["Amount"] == "1 d"


def link(penalty: int | None) -> LinkResult:
    return LinkResult.parse({**LINK_EXAMPLE, "penalty": penalty})


def test_link_vote_shows_choice() -> None:
    embed = result_embed(link(None), actor=Actor.VOTER, choice=Choice.RAND, lock_name="Kitty")
    assert fields(embed)["Vote"] == "Random"
    assert "Kitty" in embed.title
    assert "Penalty" not in embed.title


@pytest.mark.parametrize(
    ("actor", "who"),
    [
        (Actor.OWNER, "by the owner"),
        (Actor.DOM, "by a dom"),
        (Actor.VOTER, "by a voter"),
        (Actor.ANONYMOUS_VOTER, "by an anonymous voter"),
    ],
)
def test_the_title_names_the_game_and_who_acted(actor: Actor, who: str) -> None:
    assert result_embed(link(None), actor=actor).title == f"LINK — {who}"


def test_penalty_is_unmistakable() -> None:
    embed = result_embed(link(1), actor=Actor.VOTER, choice=Choice.SUB)
    assert embed.title.startswith("Penalty")
    assert embed.colour == DARK_RED
    assert "maximum multiplier" in (embed.description or "")
    assert fields(embed)["Vote"] == "Remove time (the penalty made it Add time)"
    assert fields(embed)["Result"] == "Time added"
