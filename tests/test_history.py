"""/history: the member's own recent plays and votes, privately, with how each one ended."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from bot.embeds import format_duration
from bot.embeds.history import PER_PAGE, describe_entry, history_embed, history_pages
from bot.storage import LedgerEntry
from tests.fakes.ct_api import FakeChastityTracker, Fault
from tests.fixtures.discord import HarnessFactory
from tests.games_support import players
from tests.harness import FakeMember, FakeMessage, Harness
from tests.harness.fake_discord import DEFERRED_CHANNEL_MESSAGE

WHEN = datetime(2026, 2, 10, 12, 0, tzinfo=UTC)
AGO = f"<t:{int(WHEN.timestamp())}:R>"
CHECK_ON_CHASTITY_TRACKER = (
    "⚠️ may or may not have happened: check the session's history on Chastity Tracker "
    "before trying it again."
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
    assert unknown.startswith(
        f"⚠️ outcome unknown, check Chastity Tracker · LUCK · #{world.session.id} · <t:"
    )
    assert refused.startswith("❌ refused · LUCK · #999 · “Session 999 was not found.” · <t:")
    [dice] = [row for row in ct_fake.histories(world.session.id) if row.source == "DICE"]
    sign = "➕" if dice.type == "ADD" else "➖"
    # Amount and direction first, then the game, the session, the multiplier, when.
    assert played.startswith(f"{sign} {format_duration(dice.unit or 0)} · DICE · ")
    assert f" · #{world.session.id} · ×" in played
    assert played.endswith(":R>")
    assert "✅" not in message.text()
    assert message.embed is not None
    assert message.embed["footer"]["text"] == CHECK_ON_CHASTITY_TRACKER

    # The dom's history is their own.
    [link] = lines(await history(harness, by=world.dom_member))
    assert link.startswith("➖ ")
    assert " · LINK as dom ➖ · " in link


def test_votes_name_the_lock_and_whether_they_were_anonymous() -> None:
    logged = entry(
        game="link", session=None, lock_id=3, choice="add", detail_json=_ok(penalty=True)
    )
    anonymous = entry(
        game="link", session=None, lock_id=3, choice="rand", logged=False, detail_json=_ok()
    )
    removed = entry(game="link", session=None, lock_id=4, choice="sub", status="pending")
    by_token = entry(
        game="link",
        session=None,
        choice="sub",
        status="error",
        detail_json=json.dumps({"error": "ServerError", "status": 502}),
    )

    names = {3: "cage_*one*"}
    assert describe_entry(logged, names) == (
        f"⚠️ Penalty 2 h 5 min · LINK vote ➕ · **cage\\_\\*one\\*** · ×1.5 · {AGO}"
    )
    assert describe_entry(anonymous, names).startswith("➕ 2 h 5 min · LINK anonymous vote 🎲 · ")
    assert describe_entry(removed, names) == (
        f"⚠️ no answer recorded, check Chastity Tracker · LINK vote ➖ · a removed lock · {AGO}"
    )
    assert describe_entry(by_token, names) == (
        f"❌ failed · LINK vote ➖ · a shared link · Chastity Tracker failed (HTTP 502) · {AGO}"
    )


def test_footer_only_when_something_needs_checking() -> None:
    assert history_embed([entry(detail_json=_ok())], {}).footer.text is None
    assert history_embed([entry(status="unknown")], {}).footer.text == CHECK_ON_CHASTITY_TRACKER


def test_unreadable_detail_still_gives_a_line() -> None:
    text = describe_entry(entry(status="refused", detail_json="not json"), {})
    assert text == f"❌ refused · DICE · #100 · it failed · {AGO}"


def test_a_play_that_never_left_says_nothing_was_sent() -> None:
    text = describe_entry(entry(status="error", detail_json=json.dumps({"error": "NotSent"})), {})
    assert text == (
        f"🔌 failed · DICE · #100 · Chastity Tracker could not be reached; nothing was sent · {AGO}"
    )


def _ok(*, penalty: bool = False) -> str:
    return json.dumps({"operation": "ADD", "seconds": 7500, "multiplier": 1.5, "penalty": penalty})


def test_a_long_history_is_paged_within_discords_limit() -> None:
    long_refusal = json.dumps({"error": "BadRequest", "status": 400, "message": "x" * 500})
    entries = [entry(id=i, status="refused", detail_json=long_refusal) for i in range(40)]

    pages = history_pages(entries, {}, per_page=10)

    assert [len((page.description or "").splitlines()) for page in pages] == [10, 10, 10, 10]
    assert [page.footer.text for page in pages] == [
        f"Page {n} of 4 · newest first" for n in range(1, 5)
    ]
    for page in pages:
        assert len(page.description or "") <= 4096
        assert len(page) <= 6000
    # However many lines fit a page, the description limit holds.
    [crammed, *rest] = history_pages(entries * 3, {}, per_page=1000)
    assert 3000 < len(crammed.description or "") <= 4096
    assert rest


async def test_more_entries_than_a_page_are_paged_with_buttons(
    make_harness: HarnessFactory, ct_fake: FakeChastityTracker
) -> None:
    harness = await make_harness(flood_burst=100)
    await players(harness, ct_fake)
    for _ in range(PER_PAGE + 2):
        await (await harness.run("luck", {"session": 999})).wait_for_message()

    message = await history(harness)

    assert len(lines(message)) == PER_PAGE
    assert message.embed is not None
    assert message.embed["footer"]["text"] == "Page 1 of 2 · newest first"
    [newer, older] = message.buttons()
    assert newer["disabled"] is True
    # Keyed per member and per opening, never a fixed custom_id.
    assert str(harness.member.id) in older["custom_id"]
    again = await history(harness)
    assert again.buttons()[1]["custom_id"] != older["custom_id"]

    click = await harness.click(message, label=older["label"])
    assert click.response is not None
    assert len(click.response.embeds[0]["description"].splitlines()) == 2
