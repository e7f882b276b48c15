"""A wrapper that keeps secrets (bearer tokens, lock tokens, keys) out of text.

``str()``, ``repr()`` and f-strings of a :class:`Secret` show a mask; only
:meth:`Secret.reveal` gives the value, at the one place it is sent or encrypted.
"""

from __future__ import annotations

import re
from typing import Final, NoReturn

_MASK: Final = "***"
_MIN_REDACT_LEN: Final = 6
_BEARER: Final = re.compile(r"(?i)(bearer\s+)[^\s\"',}]+")
# Discord interaction tokens sit in REST paths (discord.py logs such URLs when
# rate limited); each lets anyone post as the bot for 15 minutes.
_INTERACTION_TOKEN: Final = re.compile(r"(/(?:webhooks|interactions)/\d+/)[\w.\-]+")
# Where a secret ends inside text: whitespace, quotes, brackets, commas.
_DELIMITERS: Final = " \t\r\n\"'`,()[]{}<>"
_WORDS: Final = re.compile(r"[^\s\"'`,()\[\]{}<>]+")


class _Registry:
    """Every secret value this process has wrapped, so the log redactor can mask it
    wherever it turns up (including third-party log lines such as discord.py's).

    Lookup is by hashing, not by searching every secret in every line: a log line
    costs the same with ten thousand connected members as with ten.
    """

    def __init__(self) -> None:
        self.values: set[str] = set()
        self.lengths: set[int] = set()
        # Secrets that contain a delimiter cannot be found word by word; searched directly.
        self.odd: set[str] = set()

    def add(self, value: str) -> None:
        if len(value) < _MIN_REDACT_LEN or value in self.values:
            return
        self.values.add(value)
        self.lengths.add(len(value))
        if any(char in _DELIMITERS for char in value):
            self.odd.add(value)

    def found_in(self, text: str) -> set[str]:
        found = {value for value in self.odd if value in text}
        for match in _WORDS.finditer(text):
            word = match.group()
            if len(word) < _MIN_REDACT_LEN:
                continue
            if word in self.values:
                found.add(word)
                continue
            # A secret glued to other characters, e.g. "token=SECRET" or "SECRET.":
            for length in self.lengths:
                for start in range(len(word) - length + 1):
                    part = word[start : start + length]
                    if part in self.values:
                        found.add(part)
        return found


_KNOWN: Final = _Registry()


def scrub(text: str) -> str:
    """``text`` with every known secret value, bearer header and interaction token masked."""
    text = _BEARER.sub(lambda m: m.group(1) + _MASK, text)
    text = _INTERACTION_TOKEN.sub(lambda m: m.group(1) + _MASK, text)
    # Longest first, so a secret that contains another is masked whole.
    for value in sorted(_KNOWN.found_in(text), key=len, reverse=True):
        text = text.replace(value, _MASK)
    return text


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        if isinstance(value, Secret):
            value = value.reveal()
        self._value: str = value
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
