"""What the games, session-choice and history tests share: a wearer, a dom, connected accounts."""

from __future__ import annotations

from dataclasses import dataclass

from bot.secrets import Secret
from tests.fakes.ct_api import (
    GAMES_PATH,
    DiceConfig,
    FakeChastityTracker,
    FakeSession,
    FakeUser,
    LinkConfig,
    LuckConfig,
    RecordedRequest,
)
from tests.harness import FakeMember, Harness


@dataclass(frozen=True)
class Players:
    """On Chastity Tracker: ``wearer`` owns ``session`` and ``dom`` is their dom.

    On Discord: ``harness.member`` is the wearer, ``dom_member`` the dom; both connected.
    """

    wearer: FakeUser
    dom: FakeUser
    session: FakeSession
    dom_member: FakeMember


def add_session(ct_fake: FakeChastityTracker, owner: FakeUser, **options: object) -> FakeSession:
    """An active session with DICE, LUCK and LINK enabled and no cooldowns."""
    games: dict[str, object] = {"dice": DiceConfig(), "luck": LuckConfig(), "link": LinkConfig()}
    return ct_fake.add_session(owner, **(games | options))  # type: ignore[arg-type]


async def connect(harness: Harness, member: FakeMember, user: FakeUser) -> None:
    """Store ``user``'s token for ``member`` as /account connect would."""
    await harness.storage.accounts.upsert(
        member.id, harness.vault.encrypt(Secret(user.token)), user.nick, harness.clock.now()
    )


async def players(harness: Harness, ct_fake: FakeChastityTracker) -> Players:
    wearer = ct_fake.add_user("wearer")
    dom = ct_fake.add_user("keyholder")
    ct_fake.link_dom(dom, wearer)
    session = add_session(ct_fake, wearer)
    dom_member = harness.new_member("keyholder")
    await connect(harness, harness.member, wearer)
    await connect(harness, dom_member, dom)
    return Players(wearer, dom, session, dom_member)


def game_posts(ct_fake: FakeChastityTracker) -> list[RecordedRequest]:
    return ct_fake.requests_to(GAMES_PATH)
