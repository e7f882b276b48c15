"""A member's recent plays and votes through the bot, as the ledger recorded them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from bot.storage import LedgerEntry, Storage

HISTORY_LIMIT: Final = 50


@dataclass(frozen=True, slots=True)
class MemberHistory:
    entries: list[LedgerEntry]
    lock_names: dict[int, str]  # the names of the locks still registered


class HistoryService:
    def __init__(self, storage: Storage) -> None:
        self._storage = storage

    async def recent(self, member_id: int, limit: int = HISTORY_LIMIT) -> MemberHistory:
        entries = await self._storage.ledger.recent(member_id, limit=limit)
        lock_names: dict[int, str] = {}
        for lock_id in {entry.lock_id for entry in entries if entry.lock_id is not None}:
            lock = await self._storage.locks.get(lock_id)
            if lock is not None:
                lock_names[lock_id] = lock.name
        return MemberHistory(entries, lock_names)
