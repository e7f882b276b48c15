"""Everything the fake server knows: accounts, dom links, sessions, histories, votes."""

from __future__ import annotations

import random
import string
from collections.abc import Callable
from datetime import datetime

from tests.fakes.ct_api.models import (
    DiceConfig,
    FakeSession,
    FakeUser,
    Game,
    GameCounters,
    HistoryRow,
    HistorySource,
    HistoryType,
    LinkConfig,
    LuckConfig,
    Vote,
    require_utc,
)

_TOKEN_ALPHABET = string.ascii_letters + string.digits
BEARER_TOKEN_LENGTH = 40
LINK_TOKEN_LENGTH = 32
FIRST_SESSION_ID = 100


class FakeState:
    """The fake's database. Plain methods, no I/O: the HTTP layer and tests share it."""

    def __init__(self, *, seed: int, clock: Callable[[], datetime]) -> None:
        # Tokens draw from their own generator so that adding a user never
        # changes the outcome of later game plays (and the reverse).
        self._token_rng = random.Random(f"{seed}-tokens")
        self._clock = clock
        self.users: list[FakeUser] = []
        self.sessions: dict[int, FakeSession] = {}
        self.dom_links: set[tuple[int, int]] = set()
        self.histories: list[HistoryRow] = []
        self.votes: list[Vote] = []
        self.counters: dict[tuple[int, Game], GameCounters] = {}
        self._history_sequence = 0

    # --- builders -----------------------------------------------------------

    def new_token(self, length: int) -> str:
        return "".join(self._token_rng.choice(_TOKEN_ALPHABET) for _ in range(length))

    def add_user(self, nick: str, token: str | None = None) -> FakeUser:
        if token is None:
            token = self.new_token(BEARER_TOKEN_LENGTH)
        if any(user.token == token for user in self.users):
            raise ValueError("bearer tokens are unique")
        user = FakeUser(id=len(self.users) + 1, nick=nick, token=token)
        self.users.append(user)
        return user

    def add_session(
        self,
        owner: FakeUser,
        *,
        active: bool,
        scheduled_end: datetime | None,
        start: datetime | None,
        dice: DiceConfig | None,
        luck: LuckConfig | None,
        link: LinkConfig | None,
        public: bool,
        notes: str | None,
        lockedby: str | None,
    ) -> FakeSession:
        now = self._clock()
        start = now if start is None else require_utc(start, "start")
        if scheduled_end is not None:
            scheduled_end = require_utc(scheduled_end, "scheduled_end").replace(microsecond=0)
        if link is not None and link.token is None:
            link.token = self.new_token(LINK_TOKEN_LENGTH)
        if link is not None and self.find_link(link.public_token) is not None:
            raise ValueError("LINK tokens are unique")
        session = FakeSession(
            id=max(self.sessions, default=FIRST_SESSION_ID - 1) + 1,
            owner=owner,
            active=active,
            start=start.replace(microsecond=0),
            end=None if active else now.replace(microsecond=0),
            scheduled_end=scheduled_end,
            inserted=now.replace(microsecond=0),
            dice=dice,
            luck=luck,
            link=link,
            public=public,
            notes=notes,
            lockedby=lockedby,
        )
        self.sessions[session.id] = session
        self.add_history(
            session=session.id,
            type="START",
            unit=None,
            source=None,
            dom=0,
            schedule=scheduled_end,
            happened=start,
        )
        return session

    def end_session(self, session: FakeSession) -> None:
        session.active = False
        session.end = self._clock().replace(microsecond=0)

    def link_dom(self, dom: FakeUser, owner: FakeUser) -> None:
        self.dom_links.add((dom.id, owner.id))

    def unlink_dom(self, dom: FakeUser, owner: FakeUser) -> None:
        self.dom_links.discard((dom.id, owner.id))

    def revoke(self, user: FakeUser) -> None:
        user.revoked = True

    def regenerate_token(self, user: FakeUser) -> str:
        """A new bearer token for ``user``; the old one stops working."""
        user.token = self.new_token(BEARER_TOKEN_LENGTH)
        user.revoked = False
        return user.token

    # --- look-ups -----------------------------------------------------------

    def authenticate(self, token: str) -> FakeUser | None:
        for user in self.users:
            if not user.revoked and user.token == token:
                return user
        return None

    def find_link(self, token: str) -> FakeSession | None:
        for session in self.sessions.values():
            if session.link is not None and session.link.token == token:
                return session
        return None

    def is_dom_of(self, dom: FakeUser, owner: FakeUser) -> bool:
        return (dom.id, owner.id) in self.dom_links

    def counters_of(self, session_id: int, game: Game) -> GameCounters:
        return self.counters.setdefault((session_id, game), GameCounters())

    def history_of(self, session_id: int) -> list[HistoryRow]:
        """The session's rows in the API's order: happened DESC, schedule DESC, source ASC."""
        rows = [row for row in self.histories if row.session == session_id]
        return sorted(rows, key=history_sort_key)

    # --- writes made by plays ---------------------------------------------

    def add_history(
        self,
        *,
        session: int,
        type: HistoryType,
        unit: int | None,
        source: HistorySource | None,
        dom: int,
        schedule: datetime | None,
        happened: datetime,
    ) -> HistoryRow:
        self._history_sequence += 1
        row = HistoryRow(
            session=session,
            type=type,
            unit=unit,
            source=source,
            dom=dom,
            schedule=schedule,
            # The API stores datetime(3): keep what it would keep, so the sort matches.
            happened=happened.replace(microsecond=happened.microsecond // 1000 * 1000),
            sequence=self._history_sequence,
        )
        self.histories.append(row)
        return row


def history_sort_key(row: HistoryRow) -> tuple[float, float, str, int]:
    """Sort key for happened DESC, schedule DESC, source ASC (then newest insert first)."""
    schedule = row.schedule.timestamp() if row.schedule is not None else float("-inf")
    return (-row.happened.timestamp(), -schedule, row.source or "", -row.sequence)
