"""A fake Discord and a driver that runs the production bot against it.

See tests/README.md for how to write an end-to-end test.
"""

from tests.harness.clock import TestClock
from tests.harness.fake_discord import DiscordError, FakeDiscord
from tests.harness.harness import Harness, Prepare, World
from tests.harness.logguard import LogGuard
from tests.harness.models import FakeChannel, FakeGuild, FakeMember, FakeMessage, FakeUser
from tests.harness.payloads import OptionError
from tests.harness.result import InteractionResult, Response

__all__ = [
    "DiscordError",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeMember",
    "FakeMessage",
    "FakeUser",
    "Harness",
    "InteractionResult",
    "LogGuard",
    "OptionError",
    "Prepare",
    "Response",
    "TestClock",
    "World",
]
