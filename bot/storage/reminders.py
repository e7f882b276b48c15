"""Cooldown reminders: one pending per member and subject, deleted when it fires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from bot.storage.database import AnyRow, Database
from bot.storage.schema import reminders

SUBJECT_MAX_LENGTH = 64
LABEL_MAX_LENGTH = 100


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    user_id: int
    subject: str  # what the member waits for: "dice:<session>", "lock:<id>" ...
    label: str  # the same, for people: "DICE on session #12"
    due_at: datetime
    created_at: datetime


def _reminder(row: AnyRow) -> Reminder:
    return Reminder(
        id=row.id,
        user_id=row.user_id,
        subject=row.subject,
        label=row.label,
        due_at=row.due_at,
        created_at=row.created_at,
    )


_COLUMNS = (
    reminders.c.id,
    reminders.c.user_id,
    reminders.c.subject,
    reminders.c.label,
    reminders.c.due_at,
    reminders.c.created_at,
)


class ReminderRepository:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def set(
        self, user_id: int, subject: str, label: str, due_at: datetime, now: datetime
    ) -> Reminder:
        """The member's one reminder for ``subject``, created or moved to ``due_at``."""
        values = {
            "user_id": user_id,
            "subject": subject[:SUBJECT_MAX_LENGTH],
            "label": label[:LABEL_MAX_LENGTH],
            "due_at": due_at,
            "created_at": now,
        }
        statement = self._db.upsert(
            reminders,
            values,
            key=["user_id", "subject"],
            update=["label", "due_at", "created_at"],
        ).returning(*_COLUMNS)
        async with self._db.write() as conn:
            row = (await conn.execute(statement)).one()
        return _reminder(row)

    async def get(self, user_id: int, subject: str) -> Reminder | None:
        query = select(*_COLUMNS).where(
            reminders.c.user_id == user_id, reminders.c.subject == subject
        )
        async with self._db.read() as conn:
            row = (await conn.execute(query)).one_or_none()
        return None if row is None else _reminder(row)

    async def due(self, now: datetime, limit: int = 100) -> list[Reminder]:
        query = (
            select(*_COLUMNS)
            .where(reminders.c.due_at <= now)
            .order_by(reminders.c.due_at, reminders.c.id)
            .limit(limit)
        )
        async with self._db.read() as conn:
            return [_reminder(row) for row in (await conn.execute(query)).all()]

    async def next_due(self) -> datetime | None:
        query = select(reminders.c.due_at).order_by(reminders.c.due_at).limit(1)
        async with self._db.read() as conn:
            due: datetime | None = await conn.scalar(query)
        return due

    async def claim(self, reminder: Reminder) -> bool:
        """Delete the reminder as it fires; False if it was already claimed or moved.

        Deleting before the message is sent makes it fire at most once, even
        with two schedulers (a restart overlapping the old process).
        """
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(reminders).where(
                    reminders.c.id == reminder.id, reminders.c.due_at == reminder.due_at
                )
            )
        return result.rowcount == 1

    async def cancel(self, user_id: int, subject: str) -> bool:
        async with self._db.write() as conn:
            result = await conn.execute(
                delete(reminders).where(
                    reminders.c.user_id == user_id, reminders.c.subject == subject
                )
            )
        return result.rowcount > 0
