"""A wrapper that keeps secrets (bearer tokens, lock tokens, keys) out of text.

``str()``, ``repr()`` and f-strings of a :class:`Secret` show a mask; only
:meth:`Secret.reveal` gives the value, at the one place it is sent or encrypted.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn

_MASK: Final = "***"
# Every secret value this process has wrapped, so the log redactor can mask it
# wherever it turns up (including third-party log lines such as discord.py's).
_KNOWN: set[str] = set()
_MIN_REDACT_LEN: Final = 6
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[^\s\"',}]+")


def known_secret_values() -> frozenset[str]:
    return frozenset(_KNOWN)


def scrub(text: str) -> str:
    """``text`` with every known secret value and bearer header masked."""
    text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
    for value in known_secret_values():
        if value in text:
            text = text.replace(value, _MASK)
    return text


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value: str = value
        if len(value) >= _MIN_REDACT_LEN:
            _KNOWN.add(value)

    def reveal(self) -> str:
        return self._value

    def masked(self, visible: int = 4) -> str:
        """A hint a member can recognise: the last few characters, never the whole."""
        if len(self._value) <= visible * 2:
            return _MASK
        return f"{_MASK}{self._value[-visible:]}"

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return f"Secret({_MASK})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")
