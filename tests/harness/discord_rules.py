"""Discord's documented rules for request bodies that its OpenAPI description cannot say.

The schema (discord_spec.py) checks types and most single-field limits; these
are the rules across fields (required options first, unique custom_ids, the
6000-character total of embeds) and the ones the description leaves out or
states looser than Discord enforces for bots (content is 2000 characters).
Each returns the violations found, empty when the body is fine; the bodies
have passed the schema already, so their shape can be relied on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.harness.discord_spec import Violation

COMPONENTS_V2 = 1 << 15  # message flag: layout components instead of action rows

# https://discord.com/developers/docs/interactions/application-commands
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
# Discord's pattern is ^[-_\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$; Python's \w is
# letters, digits and "_" in any script, which is the same for the names a bot uses.
NAME_PATTERN = re.compile(r"^[-\w]{1,32}$")

# https://discord.com/developers/docs/resources/message#embed-object-embed-limits
EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_NAME, FIELD_VALUE, FOOTER_TEXT, AUTHOR_NAME = 256, 1024, 2048, 256
MAX_EMBEDS, MAX_FIELDS = 10, 25
CONTENT = 2000

# https://discord.com/developers/docs/components/reference
ACTION_ROW, BUTTON, TEXT_INPUT = 1, 2, 4
SELECTS = {3, 5, 6, 7, 8}
LINK, PREMIUM = 5, 6
MAX_ROWS, MAX_BUTTONS_PER_ROW, BUTTON_LABEL, CUSTOM_ID = 5, 5, 80, 100
MAX_V2_COMPONENTS = 40
MAX_CHOICES = 25
MODAL_TITLE, MODAL_COMPONENTS = 45, 5
EMPTY_MESSAGE = "EMPTY_MESSAGE"  # answered 50006 instead of 50035


def _at(*parts: object) -> str:
    return ".".join(str(part) for part in parts if part != "")


# -- messages ------------------------------------------------------------------------


def check_message(data: dict[str, Any], *, creating: bool, prefix: str = "") -> list[Violation]:
    """A message as created or edited (channel message, followup, callback data)."""
    found: list[Violation] = []
    content = data.get("content") or ""
    if len(content) > CONTENT:
        found.append(Violation(_at(prefix, "content"), f"Must be {CONTENT} or fewer in length."))
    embeds = data.get("embeds") or []
    found += _check_embeds(embeds, prefix)
    components = data.get("components") or []
    v2 = bool((data.get("flags") or 0) & COMPONENTS_V2)
    found += _check_components(components, v2=v2, at=prefix)
    if creating and not (content or embeds or components or data.get("attachments")):
        found.append(Violation(prefix, "Cannot send an empty message", EMPTY_MESSAGE))
    return found


def _check_embeds(embeds: list[dict[str, Any]], prefix: str) -> list[Violation]:
    found: list[Violation] = []
    if len(embeds) > MAX_EMBEDS:
        found.append(Violation(_at(prefix, "embeds"), f"Must be {MAX_EMBEDS} or fewer in length."))
    total = 0
    for index, embed in enumerate(embeds):
        at = _at(prefix, "embeds", index)
        for key, limit in EMBED_LIMITS.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                found.append(Violation(_at(at, key), f"Must be {limit} or fewer in length."))
        fields = embed.get("fields") or []
        if len(fields) > MAX_FIELDS:
            found.append(Violation(_at(at, "fields"), f"Must be {MAX_FIELDS} or fewer in length."))
        for number, field in enumerate(fields):
            for key, limit in (("name", FIELD_NAME), ("value", FIELD_VALUE)):
                text = field.get(key) or ""
                total += len(text)
                if not 1 <= len(text) <= limit:
                    found.append(
                        Violation(
                            _at(at, "fields", number, key),
                            f"Must be between 1 and {limit} in length.",
                        )
                    )
        for part, key, limit in (("footer", "text", FOOTER_TEXT), ("author", "name", AUTHOR_NAME)):
            text = (embed.get(part) or {}).get(key) or ""
            total += len(text)
            if len(text) > limit:
                found.append(Violation(_at(at, part, key), f"Must be {limit} or fewer in length."))
    if total > EMBED_TOTAL:
        found.append(
            Violation(
                _at(prefix, "embeds"),
                f"Embed size exceeds maximum size of {EMBED_TOTAL} ({total} characters)",
            )
        )
    return found


def _check_components(components: list[dict[str, Any]], *, v2: bool, at: str) -> list[Violation]:
    found: list[Violation] = []
    where = _at(at, "components")
    if v2:
        if sum(1 for _ in _walk(components)) > MAX_V2_COMPONENTS:
            found.append(
                Violation(where, f"A message holds at most {MAX_V2_COMPONENTS} components.")
            )
    else:
        if len(components) > MAX_ROWS:
            found.append(Violation(where, f"Must be {MAX_ROWS} or fewer in length."))
        for index, row in enumerate(components):
            if row.get("type") != ACTION_ROW:
                found.append(
                    Violation(
                        _at(where, index),
                        "Without the components v2 flag, a message holds only action rows.",
                    )
                )
                continue
            found += _check_row(row.get("components") or [], _at(where, index, "components"))
    seen: set[str] = set()
    for component in _walk(components):
        custom_id = component.get("custom_id")
        if custom_id is None:
            continue
        if not 1 <= len(custom_id) <= CUSTOM_ID:
            found.append(
                Violation(where, f"custom_id {custom_id[:40]!r} must be 1-{CUSTOM_ID} characters")
            )
        if custom_id in seen:
            found.append(
                Violation(
                    where,
                    f"custom_id {custom_id!r} is used twice",
                    "COMPONENT_CUSTOM_ID_DUPLICATED",
                )
            )
        seen.add(custom_id)
    return found


def _check_row(items: list[dict[str, Any]], where: str) -> list[Violation]:
    found: list[Violation] = []
    selects = [item for item in items if item.get("type") in SELECTS]
    if selects and len(items) > 1:
        found.append(Violation(where, "A select menu takes a whole action row."))
    buttons = [item for item in items if item.get("type") == BUTTON]
    if len(buttons) > MAX_BUTTONS_PER_ROW:
        found.append(Violation(where, f"Must be {MAX_BUTTONS_PER_ROW} or fewer in length."))
    for index, button in enumerate(items):
        if button.get("type") != BUTTON:
            continue
        found += _check_button(button, _at(where, index))
    return found


def _check_button(button: dict[str, Any], where: str) -> list[Violation]:
    found: list[Violation] = []
    style = button.get("style")
    if len(button.get("label") or "") > BUTTON_LABEL:
        found.append(Violation(_at(where, "label"), f"Must be {BUTTON_LABEL} or fewer in length."))
    if style == LINK:
        if not button.get("url") or button.get("custom_id") is not None:
            found.append(Violation(where, "A link button has a url and no custom_id."))
    elif style != PREMIUM and (not button.get("custom_id") or button.get("url") is not None):
        found.append(Violation(where, "A button other than a link has a custom_id and no url."))
    if style != PREMIUM and not (button.get("label") or button.get("emoji")):
        found.append(Violation(where, "A button needs a label or an emoji."))
    return found


def _walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk(component.get("components") or [])
        for key in ("component", "accessory"):
            if isinstance(component.get(key), dict):
                yield from _walk([component[key]])


# -- interaction callbacks --------------------------------------------------------------


def check_choices(data: dict[str, Any]) -> list[Violation]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        return [Violation("data.choices", "Autocomplete answers with a list of choices.")]
    if len(choices) > MAX_CHOICES:
        return [Violation("data.choices", f"Must be {MAX_CHOICES} or fewer in length.")]
    return []


def check_modal(data: dict[str, Any]) -> list[Violation]:
    found: list[Violation] = []
    if not 1 <= len(data.get("title") or "") <= MODAL_TITLE:
        found.append(Violation("data.title", f"Must be between 1 and {MODAL_TITLE} in length."))
    components = data.get("components") or []
    if not 1 <= len(components) <= MODAL_COMPONENTS:
        found.append(
            Violation("data.components", f"Must be between 1 and {MODAL_COMPONENTS} in length.")
        )
    seen: set[str] = set()
    for component in _walk(components):
        custom_id = component.get("custom_id")
        if custom_id is not None and custom_id in seen:
            found.append(Violation("data.components", f"custom_id {custom_id!r} is used twice"))
        if custom_id is not None:
            seen.add(custom_id)
    return found


# -- application commands --------------------------------------------------------------


def check_commands(commands: list[dict[str, Any]]) -> list[Violation]:
    """A bulk overwrite of application commands."""
    found: list[Violation] = []
    names: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        kind = command.get("type") or CHAT_INPUT
        name = command.get("name", "")
        if (kind, name) in names:
            found.append(Violation(_at(index, "name"), f"Command name {name!r} is used twice"))
        names.add((kind, name))
        if kind == CHAT_INPUT:
            found += _check_name(name, _at(index, "name"))
            found += _check_description(command.get("description"), _at(index, "description"))
            found += _check_options(command.get("options") or [], _at(index, "options"), depth=0)
        elif command.get("description"):
            found.append(
                Violation(
                    _at(index, "description"), "User and message commands have no description."
                )
            )
    return found


def _check_name(name: str, where: str) -> list[Violation]:
    if NAME_PATTERN.match(name) is None or name != name.lower():
        return [
            Violation(
                where,
                f"Name {name!r} must be 1-32 lowercase letters, digits, '-' or '_'.",
                "APPLICATION_COMMAND_INVALID_NAME",
            )
        ]
    return []


def _check_description(description: Any, where: str) -> list[Violation]:
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        return [Violation(where, "Must be between 1 and 100 in length.")]
    return []


def _check_options(options: list[dict[str, Any]], where: str, *, depth: int) -> list[Violation]:
    found: list[Violation] = []
    kinds = [option.get("type") for option in options]
    nested = [kind in (SUB_COMMAND, SUB_COMMAND_GROUP) for kind in kinds]
    if any(nested) and not all(nested):
        found.append(Violation(where, "Subcommands cannot be mixed with other options."))
    if SUB_COMMAND_GROUP in kinds and depth > 0:
        found.append(Violation(where, "A subcommand group cannot hold another group."))
    seen_optional = False
    names: set[str] = set()
    for index, option in enumerate(options):
        at = _at(where, index)
        name = option.get("name", "")
        found += _check_name(name, _at(at, "name"))
        found += _check_description(option.get("description"), _at(at, "description"))
        if name in names:
            found.append(Violation(_at(at, "name"), f"Option name {name!r} is used twice"))
        names.add(name)
        if option.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
            found += _check_options(
                option.get("options") or [], _at(at, "options"), depth=depth + 1
            )
            continue
        if option.get("required"):
            if seen_optional:
                found.append(
                    Violation(
                        at,
                        "Required options must be placed before non-required options",
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    )
                )
        else:
            seen_optional = True
        choices = option.get("choices") or []
        if len(choices) > MAX_CHOICES:
            found.append(
                Violation(_at(at, "choices"), f"Must be {MAX_CHOICES} or fewer in length.")
            )
        if choices and option.get("autocomplete"):
            found.append(Violation(at, "An option with choices cannot autocomplete."))
    return found
