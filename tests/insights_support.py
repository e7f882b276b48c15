"""What the timeline, stats and sharing tests share: a lock with logged votes on it."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from bot.storage import Lock
from tests.fakes.ct_api import FakeChastityTracker
from tests.harness import FakeMember, FakeMessage, Harness
from tests.voting_support import Wearer, connect, register, wearer

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class VotedLock:
    lock: Lock
    wearer: Wearer
    wearer_member: FakeMember
    voters: list[FakeMember]


async def logged_vote(harness: Harness, member: FakeMember, choice: str, lock: str) -> None:
    result = await harness.run("link vote", {"choice": choice, "lock": lock}, by=member)
    answer = await result.wait_for_message()
    assert answer.embeds, answer.text()


async def voted_lock(
    harness: Harness, ct_fake: FakeChastityTracker, choices: list[str], name: str = "cage"
) -> VotedLock:
    """A lock whose wearer is a member, and one connected member voting each choice."""
    worn = wearer(ct_fake)
    wearer_member = harness.new_member("wearer")
    lock = await register(harness, name, worn.token, owner=wearer_member)
    voters = []
    for index, choice in enumerate(choices):
        member = harness.new_member(f"voter{index}")
        await connect(harness, member, ct_fake.add_user(f"voter{index}"))
        await logged_vote(harness, member, choice, name)
        voters.append(member)
    return VotedLock(lock, worn, wearer_member, voters)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk, checking the signature first."""
    assert data[:8] == PNG_SIGNATURE, data[:8]
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR"
    assert length == 13
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def chart_bytes(harness: Harness, message: FakeMessage) -> bytes:
    return harness.fake.uploaded(message, "timeline.png")
