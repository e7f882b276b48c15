"""Voting embeds: the summary a panel stores, and what panels and polls show."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.ctapi import Choice, Game, LinkResult, Operation
from bot.embeds.voting import LockLine, ResultSummary, lock_list_embed, panel_embed, poll_embed

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
    assert summary.describe().startswith("Time removed: **1 h 15 min** (×1.25), vote Remove time")
    penalty = ResultSummary.of(link_result(penalty=True), Choice.SUB, AT).describe()
    assert penalty.startswith("Penalty: time added: **1 h 15 min** (×1.25), ")
    assert "vote Remove time (the penalty made it Add time)" in penalty


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
    assert fields["Latest result"] == (
        f"Time added: **1 h 15 min** (×1.25), vote Add time, <t:{int(AT.timestamp())}:R>"
    )
    assert fields["Scheduled end"] == f"<t:{int(END.timestamp())}:F> (<t:{int(END.timestamp())}:R>)"
    assert "connect your" in (embed.description or "")


def test_poll_embed_open_and_closed() -> None:
    tally = {"add": 2, "sub": 1, "rand": 0}

    open_embed = poll_embed(lock_name="cage", ends_at=END, tally=tally)
    closed = poll_embed(lock_name=None, ends_at=END, tally=tally, closed=True, outcome="Done.")

    assert [f.name for f in open_embed.fields] == ["Ends", "Tally (3 members)"]
    assert closed.title == "Community poll on a removed lock (closed)"
    assert closed.description == "Done."


def test_lock_list_never_holds_more_than_the_masked_token() -> None:
    embed = lock_list_embed("Server", [LockLine("cage", "***abcd", None, True)])

    assert embed.fields[0].value.startswith("Token `***abcd`")
    assert "not set" in embed.fields[0].value
