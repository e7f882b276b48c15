"""The rows a lock's timeline is drawn from: its accepted votes and its closed polls."""

from datetime import UTC, datetime, timedelta

from bot.ctapi.models import Choice
from bot.storage import Lock, Storage
from bot.storage.ledger import Outcome

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
GUILD = 900_000_000_000_000_001
ADMIN = 700_000_000_000_000_009
VOTER = 700_000_000_000_000_001


async def add_lock(storage: Storage, name: str) -> Lock:
    return await storage.locks.add(GUILD, name, name.encode(), None, True, ADMIN, NOW)


async def vote(
    storage: Storage,
    lock: Lock,
    minutes_ago: int,
    outcome: Outcome | None = "ok",
    *,
    game: str = "link",
    dom: bool = False,
    choice: Choice | None = Choice.ADD,
    answered_later: bool = False,
) -> datetime:
    """A vote sent ``minutes_ago``; when its answer came (None: still pending)."""
    sent = NOW - timedelta(minutes=minutes_ago)
    entry = await storage.ledger.start(VOTER, GUILD, game, dom, 5, lock.id, choice, True, sent)
    if outcome is None:
        return sent
    answered = sent + timedelta(seconds=30) if answered_later else sent
    await storage.ledger.finish(entry, outcome, f'{{"minutes_ago": {minutes_ago}}}', answered)
    return answered


async def test_vote_rows_are_the_accepted_public_votes_since_oldest_first(
    storage: Storage,
) -> None:
    cage, belt = await add_lock(storage, "cage"), await add_lock(storage, "belt")
    await vote(storage, cage, 90)  # before the period
    first = await vote(storage, cage, 50, answered_later=True)
    await vote(storage, cage, 40, "refused")
    await vote(storage, cage, 35, None)  # no answer yet
    await vote(storage, cage, 30, dom=True)
    await vote(storage, cage, 25, game="dice")
    await vote(storage, belt, 20)
    second = await vote(storage, cage, 10, choice=None)

    rows = await storage.lock_history.vote_rows(cage.id, since=NOW - timedelta(hours=1))

    # When the answer came, which is when the lock moved.
    assert rows == [
        (first, "add", '{"minutes_ago": 50}'),
        (second, None, '{"minutes_ago": 10}'),
    ]
    assert all(at.tzinfo == UTC for at, _, _ in rows)


async def test_latest_entry_changes_with_every_accepted_vote(storage: Storage) -> None:
    cage = await add_lock(storage, "cage")
    assert await storage.lock_history.latest_entry(cage.id) == 0

    await vote(storage, cage, 20)
    before = await storage.lock_history.latest_entry(cage.id)
    await vote(storage, cage, 15, "refused")
    assert await storage.lock_history.latest_entry(cage.id) == before
    await vote(storage, cage, 10)
    assert await storage.lock_history.latest_entry(cage.id) > before


async def test_poll_rows_are_the_polls_closed_since_whose_vote_went_through(
    storage: Storage,
) -> None:
    cage = await add_lock(storage, "cage")

    async def poll(closed_minutes_ago: int, outcome: str) -> datetime:
        closed_at = NOW - timedelta(minutes=closed_minutes_ago)
        created = await storage.polls.create(GUILD, 1, cage.id, ADMIN, closed_at, closed_at)
        await storage.polls.begin_close(created.id, closed_at, lambda _: Choice.SUB)
        await storage.polls.finish_close(
            created.id, outcome, f'{{"m": {closed_minutes_ago}}}', closed_at
        )
        return closed_at

    await poll(90, "ok")  # before the period
    first = await poll(50, "ok")
    await poll(40, "refused")
    second = await poll(10, "ok")
    await storage.polls.create(GUILD, 1, cage.id, ADMIN, NOW, NOW)  # still open

    rows = await storage.lock_history.poll_rows(cage.id, since=NOW - timedelta(hours=1))

    assert rows == [(first, '{"m": 50}'), (second, '{"m": 10}')]
