"""What the bot answered to one interaction, read from the fake Discord."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.harness.fake_discord import (
    AUTOCOMPLETE_RESULT,
    CHANNEL_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    MODAL,
    UPDATE_MESSAGE,
    DiscordError,
    Event,
    FakeDiscord,
    FakeInteraction,
)
from tests.harness.models import EPHEMERAL, FakeMessage

DEFAULT_TIMEOUT = 5.0


@dataclass(frozen=True)
class Response:
    """The first response (acknowledgement) to an interaction, as the bot sent it."""

    type: int
    data: dict[str, Any]

    @property
    def ephemeral(self) -> bool:
        return bool(self.data.get("flags", 0) & EPHEMERAL)

    @property
    def content(self) -> str:
        return self.data.get("content") or ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self.data.get("components") or [])

    @property
    def is_message(self) -> bool:
        return self.type == CHANNEL_MESSAGE

    @property
    def is_deferred(self) -> bool:
        return self.type in (DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE)

    @property
    def is_update(self) -> bool:
        return self.type == UPDATE_MESSAGE

    @property
    def modal(self) -> dict[str, Any] | None:
        return self.data if self.type == MODAL else None

    @property
    def choices(self) -> list[dict[str, Any]] | None:
        return list(self.data.get("choices", [])) if self.type == AUTOCOMPLETE_RESULT else None


class InteractionResult:
    """Everything the bot did in answer to one interaction, kept up to date."""

    def __init__(self, fake: FakeDiscord, interaction: FakeInteraction) -> None:
        self._fake = fake
        self.interaction = interaction

    def __repr__(self) -> str:
        return f"<InteractionResult {self.interaction.id} response={self.response!r}>"

    @property
    def id(self) -> int:
        return self.interaction.id

    @property
    def events(self) -> list[Event]:
        return [e for e in self._fake.events if e.interaction_id == self.interaction.id]

    @property
    def response(self) -> Response | None:
        body = self.interaction.response
        if body is None:
            return None
        return Response(type=body["type"], data=dict(body.get("data") or {}))

    @property
    def original(self) -> FakeMessage | None:
        """The original response message, in its latest version (None without one)."""
        if self.interaction.original_id is None:
            return None
        return self._fake.messages.get(self.interaction.original_id)

    @property
    def followups(self) -> list[FakeMessage]:
        """Messages sent as followups, latest version, in order (a followup that
        replaced a "thinking..." message is the original message)."""
        return [self._fake.messages[i] for i in self.interaction.followup_ids]

    @property
    def edits(self) -> list[Event]:
        return [e for e in self.events if e.kind == "edit"]

    @property
    def rejections(self) -> list[DiscordError]:
        """Errors the fake Discord answered to the bot for this interaction."""
        return [e.error for e in self.events if e.kind == "rejected" and e.error is not None]

    @property
    def visible_messages(self) -> list[FakeMessage]:
        """Messages of this interaction the member can see now (not deleted, not thinking)."""
        ids = dict.fromkeys([self.interaction.original_id, *self.interaction.followup_ids])
        messages = [self._fake.messages.get(i) for i in ids if i is not None]
        return [m for m in messages if m is not None and not m.deleted and not m.loading]

    async def wait_for(
        self,
        predicate: Callable[[InteractionResult], bool],
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate(self)`` holds (re-checked after every request the bot makes)."""
        try:
            await self._fake.wait_for(lambda: predicate(self), timeout)
        except TimeoutError:
            raise AssertionError(
                f"condition not met within {timeout} s; the bot did: "
                f"{[(e.kind, e.body) for e in self.events]}"
            ) from None

    async def wait_for_response(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> Response:
        """The first response; by default waits as long as Discord would, and a little more."""
        wait = timeout if timeout is not None else self._fake.response_window + 1.0
        await self.wait_for(lambda r: r.response is not None or bool(r.rejections), timeout=wait)
        if self.response is None:
            raise AssertionError(f"Discord refused the first response: {self.rejections}")
        return self.response

    async def wait_for_followup(
        self,
        index: int = 0,
        *,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109
    ) -> FakeMessage:
        """The ``index``-th followup (0 = first), once the bot has sent it."""
        await self.wait_for(lambda r: len(r.followups) > index, timeout=timeout)
        return self.followups[index]

    async def wait_for_message(self, *, timeout: float = DEFAULT_TIMEOUT) -> FakeMessage:  # noqa: ASYNC109
        """The latest message of this interaction the member sees, once there is one.

        Works the same whether the bot answered at once or deferred and followed up.
        """
        await self.wait_for(lambda r: bool(r.visible_messages), timeout=timeout)
        return self.visible_messages[-1]
