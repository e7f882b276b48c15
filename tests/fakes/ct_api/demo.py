"""A ready-made cast for trying the bot by hand against the fake."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from tests.fakes.ct_api.models import DiceConfig, FakeSession, FakeUser, LinkConfig, LuckConfig
from tests.fakes.ct_api.server import FakeChastityTracker

# Fixed and obviously fake, so the printed instructions stay the same between runs.
WEARER_TOKEN = "demo-wearer-token-0000000000000000"
DOM_TOKEN = "demo-dom-token-000000000000000000000"
VOTER_TOKEN = "demo-voter-token-00000000000000000"
LINK_TOKEN = "demoLinkToken0000000000000000000"


@dataclass(frozen=True)
class DemoCast:
    wearer: FakeUser = field(repr=False)
    dom: FakeUser = field(repr=False)
    voter: FakeUser = field(repr=False)
    session: FakeSession = field(repr=False)
    daily_vote_session: FakeSession = field(repr=False)
    ended_session: FakeSession = field(repr=False)


def seed_demo(ct: FakeChastityTracker) -> DemoCast:
    """A wearer with two active sessions (all games on), their dom, a voter, an ended session."""
    wearer = ct.add_user("demo_wearer", WEARER_TOKEN)
    dom = ct.add_user("demo_dom", DOM_TOKEN)
    voter = ct.add_user("demo_voter", VOTER_TOKEN)
    ct.link_dom(dom, wearer)
    session = ct.add_session(
        wearer,
        dice=DiceConfig(dices=3, addunit="hour", waitint=0),
        luck=LuckConfig(addint=2, addunit="hour", subint=1, subunit="hour"),
        link=LinkConfig(addint=30, addunit="minute", subint=15, subunit="minute", token=LINK_TOKEN),
        lockedby=dom.nick,
    )
    daily_vote_session = ct.add_session(
        wearer,
        scheduled_end=ct.now + timedelta(days=30),
        luck=LuckConfig(waitint=1, waitunit="hour"),
        link=LinkConfig(waitint=1, maxmultiplier=1.50),
    )
    ended_session = ct.add_session(wearer, active=False, start=ct.now - timedelta(days=20))
    return DemoCast(wearer, dom, voter, session, daily_vote_session, ended_session)


def describe(ct: FakeChastityTracker, cast: DemoCast) -> str:
    """What to paste into the bot's environment, and what is there to play with."""
    daily = cast.daily_vote_session
    return "\n".join(
        [
            f"Fake Chastity Tracker listening on {ct.base_url}",
            "Point the bot at it:",
            f"  CT_API_BASE_URL={ct.base_url}",
            "Demo API tokens (fake, for /account connect):",
            f"  {cast.wearer.nick}: {cast.wearer.token}",
            f"  {cast.dom.nick} (dom of {cast.wearer.nick}): {cast.dom.token}",
            f"  {cast.voter.nick}: {cast.voter.token}",
            "Sessions:",
            f"  {cast.session.id}: active, DICE + LUCK + LINK, public link token"
            f" {cast.session.link.public_token if cast.session.link else '-'}",
            f"  {daily.id}: active, LUCK (1 h cooldown) + LINK (a vote a day), link token"
            f" {daily.link.public_token if daily.link else '-'}",
            f"  {cast.ended_session.id}: ended",
            "Stop with Ctrl-C.",
        ]
    )
