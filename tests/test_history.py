"""/history: the member's own recent plays and votes, privately, with how each one ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.embeds.history import describe_entry, history_embed
from bot.storage import LedgerEntry
from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.games_support import players
from tests.harness import FakeMember, FakeMessage, Harness
from tests.harness.fake_discord import DEFERRED_CHANNEL_MESSAGE

WHEN = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
CHECK_ON_CHASTITY_TRACKER = (
    "An action marked unknown or pending may or may not have happened: check the "
    "session's history on Chastity Tracker before trying it again."
)


def entry(**fields: object) -> LedgerEntry:
    values: dict[str, object] = {
        "id": 1,
        "user_id": 7,
        "guild_id": None,
        "game": "dice",
        "dom": False,
        "session": 100,
        "lock_id": None,
        "choice": None,
        "logged": True,
        "status": "ok",
        "detail_json": None,
        "created_at": WHEN,
        "finished_at": WHEN,
    } | fields
    return LedgerEntry(**values)  # type: ignore[arg-type]


def lines(message: FakeMessage) -> list[str]:
    assert message.embed is not None
    return str(message.embed.get("description", "")).splitlines()


async def history(harness: Harness, by: FakeMember | None = None) -> FakeMessage:
    result = await harness.run("history", by=by)
    assert result.response is not None
    # Reading the ledger is database work: acknowledged (privately) first.
    assert result.response.type == DEFERRED_CHANNEL_MESSAGE
    assert result.response.ephemeral
    message = await result.wait_for_message()
    assert message.ephemeral
    return message


async def test_empty_history_says_how_to_start(harness: Harness) -> None:
    message = await history(harness)

    assert message.embed is not None
    assert "not played or voted through this bot yet" in message.embed["description"]


async def test_history_lists_plays_newest_first_with_their_outcomes(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness()
    world = await players(harness, ct_fake)
    await (await harness.run("dice", {"session": world.session.id})).wait_for_message()
    await (await harness.run("luck", {"session": 999})).wait_for_message()
    # Played, but the answer is lost: the outcome is unknown (no short timeout to wait out).
    ct_fake.inject(Fault.drop_connection(after_apply=True))
    await (await harness.run("luck", {"session": world.session.id})).wait_for_message()
    await (
        await harness.run(
            "link play", {"session": world.session.id, "choice": "sub"}, by=world.dom_member
        )
    ).wait_for_message()

    message = await history(harness)

    [unknown, refused, played] = lines(message)
    assert f"**LUCK** as owner on session #{world.session.id}" in unknown
    assert "outcome unknown" in unknown
    assert "**LUCK** as owner on session #999" in refused
    assert "refused: “Session 999 was not found.”" in refused
    assert f"**DICE** as owner on session #{world.session.id} — ✅ time " in played
    [dice] = [row for row in ct_fake.histories(world.session.id) if row.source == "DICE"]
    verb = "added" if dice.type == "ADD" else "removed"
    assert f"✅ time {verb} " in played
    assert played.startswith("<t:")
    assert message.embed is not None
    assert message.embed["footer"]["text"] == CHECK_ON_CHASTITY_TRACKER

    # The dom's history is their own.
    [link] = lines(await history(harness, by=world.dom_member))
    assert "**LINK** as dom (Remove time)" in link
    assert "✅ time removed" in link


def test_votes_name_the_lock_and_whether_they_were_anonymous() -> None:
    logged = entry(
        game="link", session=None, lock_id=3, choice="add", detail_json=_ok(penalty=True)
    )
    anonymous = entry(game="link", session=None, lock_id=3, choice="rand", logged=False)
    removed = entry(game="link", session=None, lock_id=4, choice="sub", status="pending")
    by_token = entry(
        game="link",
        session=None,
        choice="sub",
        status="error",
        detail_json=json.dumps({"error": "ServerError", "status": 502}),
    )

    names = {3: "cage_*one*"}
    assert "**LINK** vote (Add time) on lock **cage\\_\\*one\\***" in describe_entry(logged, names)
    assert "penalty: time added 2 h 5 min (×1.50)" in describe_entry(logged, names)
    assert "**LINK** anonymous vote (Random)" in describe_entry(anonymous, names)
    assert "on a removed lock — ⏳ pending" in describe_entry(removed, names)
    assert "on a shared link — ⚠️ failed: Chastity Tracker failed (HTTP 502)" in describe_entry(
        by_token, names
    )


def test_footer_only_when_something_needs_checking() -> None:
    assert history_embed([entry(detail_json=_ok())], {}).footer.text is None
    assert history_embed([entry(status="unknown")], {}).footer.text == CHECK_ON_CHASTITY_TRACKER


def test_unreadable_detail_still_gives_a_line() -> None:
    text = describe_entry(entry(status="refused", detail_json="not json"), {})
    assert text.endswith("— ⛔ refused: it failed")


def test_a_play_that_never_left_says_nothing_was_sent() -> None:
    text = describe_entry(entry(status="error", detail_json=json.dumps({"error": "NotSent"})), {})
    assert text.endswith(
        "**DICE** as owner on session #100 — ⚠️ failed: "
        "Chastity Tracker could not be reached; nothing was sent"
    )


def _ok(*, penalty: bool = False) -> str:
    return json.dumps({"operation": "ADD", "seconds": 7500, "multiplier": 1.5, "penalty": penalty})


def test_a_long_history_stays_within_discords_limit() -> None:
    long_refusal = json.dumps({"error": "BadRequest", "status": 400, "message": "x" * 500})
    entries = [entry(id=i, status="refused", detail_json=long_refusal) for i in range(40)]

    description = history_embed(entries, {}).description

    assert description is not None
    assert 3000 < len(description) <= 4096
