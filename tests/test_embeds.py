"""Result embeds: one shape for every play and vote, one colour and sign per effect."""

from datetime import UTC, datetime

import discord
import pytest

from bot.ctapi.models import Choice, DiceResult, LinkResult, LuckResult
from bot.embeds import Actor, Member, format_duration, result_embed
from bot.embeds.format import format_multiplier
from tests.contract_examples import DICE_EXAMPLE, LINK_EXAMPLE, LUCK_EXAMPLE

END = datetime(2026, 2, 10, tzinfo=UTC)
UNIX = int(END.timestamp())
# One colour per effect, the same everywhere; written out here as Discord's palette.
RED = discord.Colour(0xED4245)  # time added
GREEN = discord.Colour(0x57F287)  # time removed
DARK_RED = discord.Colour(0x992D22)  # penalty
ALICE = Member("alice", "https://cdn.discordapp.com/embed/avatars/1.png")


def lines(embed: discord.Embed) -> list[str]:
    return (embed.description or "").splitlines()


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


@pytest.mark.parametrize(
    ("multiplier", "text"), [(1.0, "×1"), (1.25, "×1.25"), (1.1, "×1.1"), (2, "×2")]
)
def test_the_multiplier_is_always_shown_without_trailing_zeros(
    multiplier: float, text: str
) -> None:
    assert format_multiplier(multiplier) == text


def test_a_dice_roll_is_titled_by_the_member_and_the_signed_amount() -> None:
    result = DiceResult.parse({**DICE_EXAMPLE, "operation": "ADD", "seconds": 7500, "sum": 7})

    embed = result_embed(result, actor=Actor.OWNER, member=ALICE)

    assert embed.title == "🎲 alice rolled DICE: +2 h 5 min"
    assert embed.author.name == "alice"
    assert embed.author.icon_url == ALICE.avatar_url
    assert embed.colour == RED
    assert embed.fields == []
    [what, detail] = lines(embed)
    assert what == f"➕ **Time added** · new end <t:{UNIX}:F> (<t:{UNIX}:R>)"
    assert detail == "⚅ ⚀ ⚁ · +6-1+2 = 7 · ×1.11 · session #123"


def test_a_sum_that_is_not_the_calculations_total_is_not_shown_as_its_result() -> None:
    # The contract's own example: calc +6-1+2 with sum -3; an unknown operation code shows.
    result = DiceResult.parse({**DICE_EXAMPLE, "dicesops": ["", "s", "x"]})

    embed = result_embed(result, actor=Actor.OWNER, member=ALICE)

    assert embed.title == "🎲 alice rolled DICE: −2 h"
    assert embed.colour == GREEN
    assert lines(embed)[0].startswith("➖ **Time removed** · new end ")
    assert lines(embed)[1] == "⚅ ⚀ ⚁[x] · +6-1+2 · sum -3 · ×1.11 · session #123"


def test_a_doms_play_names_the_wearer_when_known() -> None:
    result = LuckResult.parse({**LUCK_EXAMPLE, "session": 5})

    known = result_embed(result, actor=Actor.DOM, member=ALICE, wearer_id=42)
    unknown = result_embed(result, actor=Actor.DOM, member=ALICE)

    assert known.title == "🍀 alice played LUCK as dom: +1 d"
    assert known.colour == RED
    assert lines(known)[1] == "×1.22 · on <@42>'s session #5"
    assert lines(unknown)[1] == "×1.22 · session #5"


def link(penalty: int | None, **changes: object) -> LinkResult:
    return LinkResult.parse({**LINK_EXAMPLE, "penalty": penalty, **changes})


def test_a_vote_shows_the_choice_with_its_sign() -> None:
    embed = result_embed(
        link(None), actor=Actor.VOTER, member=ALICE, choice=Choice.RAND, lock_name="Kitty"
    )

    assert embed.title == "🔗 alice voted LINK on Kitty: +1 h"
    assert lines(embed)[1] == "chose 🎲 Random · ×1.37 · session #123"
    assert "Penalty" not in embed.title


@pytest.mark.parametrize(
    ("actor", "title"),
    [
        (Actor.OWNER, "🔗 alice played LINK: +1 h"),
        (Actor.DOM, "🔗 alice played LINK as dom: +1 h"),
        (Actor.VOTER, "🔗 alice voted LINK: +1 h"),
        (Actor.ANONYMOUS_VOTER, "🔗 Anonymous LINK vote: +1 h"),
        (Actor.POLL, "📊 Community poll voted LINK: +1 h"),
    ],
)
def test_the_title_names_the_game_and_who_acted(actor: Actor, title: str) -> None:
    embed = result_embed(link(None), actor=actor, member=ALICE)

    assert embed.title == title
    # An anonymous vote never names or shows the voter.
    shown = actor not in (Actor.ANONYMOUS_VOTER, Actor.POLL)
    assert (embed.author.name == "alice") is shown


def test_without_the_members_name_the_title_still_names_the_actor() -> None:
    assert result_embed(link(None), actor=Actor.DOM).title == "🔗 A dom played LINK as dom: +1 h"


def test_penalty_is_unmistakable() -> None:
    embed = result_embed(link(1), actor=Actor.VOTER, member=ALICE, choice=Choice.SUB)

    assert embed.title == "⚠️ Penalty: alice voted LINK: +1 h"
    assert embed.colour == DARK_RED
    [what, detail, reason] = lines(embed)
    assert what.startswith("➕ **Time added**")
    assert detail.startswith("chose ➖ Remove time (the penalty made it Add time) · ")
    assert reason.startswith("⚠️ **Penalty.**")
    assert "maximum multiplier" in reason


def test_the_longest_names_stay_within_discords_limits() -> None:
    member = Member("m" * 32, "https://cdn.discordapp.com/embed/avatars/0.png")
    result = DiceResult.parse({**DICE_EXAMPLE, "dices": [6] * 40, "dicesops": [""] * 40})

    for embed in (
        result_embed(result, actor=Actor.DOM, member=member, wearer_id=2**63),
        result_embed(
            link(1), actor=Actor.VOTER, member=member, choice=Choice.SUB, lock_name="l" * 32
        ),
    ):
        assert embed.title is not None
        assert len(embed.title) <= 256
        assert len(embed.description or "") <= 4096
        assert len(embed) <= 6000
