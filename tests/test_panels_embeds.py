"""Voting embeds: the summary a panel stores, and what panels and polls show."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ctapi import Choice, Game, LinkResult, Operation
from bot.embeds.voting import (
    LockLine,
    ResultSummary,
    lock_list_embed,
    panel_embed,
    poll_embed,
    tally_text,
)

END = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
AT = datetime(2026, 2, 3, 9, 30, tzinfo=UTC)


def link_result(*, penalty: bool = False, operation: Operation = Operation.ADD) -> LinkResult:
    return LinkResult(
        game=Game.LINK,
        operation=operation,
        seconds=4500,
        multiplier=1.25,
        dom=False,
        scheduled_end=END,
        session=100,
        time=3600,
        penalty=penalty,
    )


def test_a_summary_survives_storage_and_tells_what_happened() -> None:
    summary = ResultSummary.of(link_result(operation=Operation.SUB), Choice.SUB, AT)

    again = ResultSummary.from_json(summary.to_json())

    assert again == summary
    assert summary.describe() == (
        f"➖ **−1 h 15 min** · ×1.25 · chose ➖ Remove time · <t:{int(AT.timestamp())}:R>"
    )
    penalty = ResultSummary.of(link_result(penalty=True), Choice.SUB, AT).describe()
    assert penalty.startswith("⚠️ **Penalty +1 h 15 min** · ×1.25 · ")
    assert "chose ➖ Remove time (the penalty made it Add time)" in penalty


def test_an_unreadable_summary_is_none() -> None:
    assert ResultSummary.from_json(None) is None
    assert ResultSummary.from_json("{not json") is None
    assert ResultSummary.from_json('{"added": true}') is None


def test_panel_embed_shows_the_latest_result_and_the_new_scheduled_end() -> None:
    latest = ResultSummary.of(link_result(), Choice.ADD, AT)

    embed = panel_embed(lock_name="cage", wearer_id=42, allow_anonymous=False, latest=latest)

    fields = {field.name: field.value for field in embed.fields}
    assert fields["Wearer"] == "<@42>"
    assert fields["Anonymous votes"] == "not allowed"
    assert fields["Latest vote"] == (
        f"➕ **+1 h 15 min** · ×1.25 · chose ➕ Add time · <t:{int(AT.timestamp())}:R>"
    )
    assert fields["Scheduled end"] == f"<t:{int(END.timestamp())}:F> (<t:{int(END.timestamp())}:R>)"
    assert embed.footer.text is not None
    assert "/account connect" in embed.footer.text


def test_a_panel_says_the_end_is_unknown_until_the_first_vote_and_keeps_its_colour() -> None:
    before = panel_embed(lock_name="cage", wearer_id=None, allow_anonymous=True, latest=None)
    added = ResultSummary.of(link_result(), Choice.ADD, AT)
    removed = ResultSummary.of(link_result(operation=Operation.SUB), Choice.SUB, AT)

    fields = {field.name: field.value for field in before.fields}
    assert fields["Scheduled end"] == "unknown until the first vote"
    assert next(iter(fields)) == "Scheduled end"
    assert before.description == "Click a button to vote: ➕ Add time · ➖ Remove time · 🎲 Random."
    # A panel is about the lock, not a result: its colour never follows the latest vote.
    colours = {
        panel_embed(lock_name="cage", wearer_id=None, allow_anonymous=True, latest=latest).colour
        for latest in (None, added, removed)
    }
    assert len(colours) == 1
    # Plain words about anonymous votes: no "cooldown window".
    assert before.footer.text is not None
    assert "anonymous" in before.footer.text
    assert "cooldown" not in before.footer.text


def test_poll_embed_open_and_closed() -> None:
    tally = {Choice.ADD: 2, Choice.SUB: 1, Choice.RAND: 0}

    open_embed = poll_embed(lock_name="cage", ends_at=END, tally=tally, started_by=9)
    closed = poll_embed(lock_name=None, ends_at=END, tally=tally, closed=True, outcome="Done.")

    assert [f.name for f in open_embed.fields] == ["Ends", "Tally (3 members)"]
    assert (open_embed.description or "").startswith("Started by <@9>. ")
    assert closed.title == "📊 Community poll on a removed lock (closed)"
    assert (closed.description or "").endswith("Done.")
    assert [f.name for f in closed.fields] == ["Final tally (3 members)"]


def test_the_tally_has_bars_shares_and_the_leader() -> None:
    assert tally_text({Choice.ADD: 3, Choice.SUB: 1, Choice.RAND: 0}).splitlines() == [
        "➕ Add `▰▰▰▰▰▰▱▱` 3 · 75% ◀ leads",
        "➖ Remove `▰▰▱▱▱▱▱▱` 1 · 25%",
        "🎲 Random `▱▱▱▱▱▱▱▱` 0 · 0%",
    ]
    # A tie goes to Random, and the marker says so.
    tie = tally_text({Choice.ADD: 1, Choice.SUB: 1, Choice.RAND: 0}).splitlines()
    assert tie[2].endswith("◀ tie: Random")
    assert not any("◀" in line for line in tally_text({}).splitlines())


def test_lock_list_never_holds_more_than_the_masked_token() -> None:
    embed = lock_list_embed("Server", [LockLine("cage", "***abcd", None, True)])

    assert embed.fields[0].value.startswith("Token `***abcd`")
    assert "not set" in embed.fields[0].value
