"""What the lock, vote, panel and poll tests share: a lock on the fake, registered here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from bot.secrets import Secret
from bot.storage import Lock
from tests.fakes.ct_api import (
    GAMES_PATH,
    FakeChastityTracker,
    FakeSession,
    FakeUser,
    LinkConfig,
    RecordedRequest,
)
from tests.harness import FakeMember, FakeMessage, Harness


@dataclass(frozen=True)
class Wearer:
    """A Chastity Tracker user with an active session whose LINK game is public."""

    user: FakeUser
    session: FakeSession

    @property
    def token(self) -> str:
        assert self.session.link is not None
        return self.session.link.public_token


def wearer(ct_fake: FakeChastityTracker, nick: str = "wearer", *, waitint: int = 1) -> Wearer:
    user = ct_fake.add_user(nick)
    session = ct_fake.add_session(user, link=LinkConfig(waitint=waitint))
    return Wearer(user, session)


async def connect(harness: Harness, member: FakeMember, user: FakeUser) -> None:
    """Store ``user``'s token for ``member`` as /account connect would."""
    await harness.storage.accounts.upsert(
        member.id, harness.vault.encrypt(Secret(user.token)), user.nick, harness.clock.now()
    )


async def register(
    harness: Harness,
    name: str,
    token: str,
    *,
    owner: FakeMember | None = None,
    allow_anonymous: bool = True,
) -> Lock:
    """``/locks add`` as the admin; returns the stored lock."""
    options: dict[str, Any] = {"name": name, "token": token, "allow_anonymous": allow_anonymous}
    if owner is not None:
        options["owner"] = owner
    answer = await (await harness.run("locks add", options, by=harness.admin)).wait_for_message()
    assert answer.text().startswith("Registered"), answer.text()
    lock = await harness.storage.locks.get_by_name(harness.guild.id, name)
    assert lock is not None
    return lock


def game_posts(ct_fake: FakeChastityTracker) -> list[RecordedRequest]:
    return ct_fake.requests_to(GAMES_PATH)


def vote_body(token: str, choice: str) -> dict[str, Any]:
    """The exact JSON body of a public LINK vote."""
    return {"game": "link", "dom": 0, "token": token, "type": choice}


def latest(harness: Harness, message: FakeMessage) -> FakeMessage:
    """The message as members see it now."""
    return harness.fake.messages[message.id]


async def vote_outside_the_bot(ct_fake: FakeChastityTracker, token: str, choice: str) -> None:
    """An anonymous vote from the bot's address that the bot does not know of (another
    program on the same machine, or a vote before the bot remembered its own)."""
    async with httpx.AsyncClient(base_url=ct_fake.base_url) as client:
        answer = await client.post(GAMES_PATH, json=vote_body(token, choice))
    assert answer.status_code == 200, answer.text
