"""INTERACTION_CREATE payloads, shaped like the ones Discord sends.

Command options are typed from the schema the bot synced (what Discord would
know), so a test cannot pass an option Discord would not let a member send.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord

from tests.harness.models import (
    BOT_PERMISSIONS,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeUser,
    walk_components,
)

SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER = 3, 4, 5, 6, 7, 8, 9, 10

Actor = FakeMember | FakeUser


class OptionError(AssertionError):
    """The test asked for an option Discord's client would not send."""


def base_interaction(
    *,
    interaction_id: int,
    token: str,
    interaction_type: int,
    application_id: int,
    data: dict[str, Any],
    actor: Actor,
    channel: FakeChannel,
    guild: FakeGuild | None,
    app_permissions: discord.Permissions = BOT_PERMISSIONS,
) -> dict[str, Any]:
    """``app_permissions`` are the bot's permissions in ``channel``, as Discord computes them."""
    payload: dict[str, Any] = {
        "id": str(interaction_id),
        "application_id": str(application_id),
        "type": interaction_type,
        "data": data,
        "token": token,
        "version": 1,
        "locale": "en-US",
        "app_permissions": str(app_permissions.value),
        "entitlements": [],
        "attachment_size_limit": 10 * 1024 * 1024,
        "channel_id": str(channel.id),
        "channel": channel.payload(),
    }
    if guild is not None:
        if not isinstance(actor, FakeMember):
            raise TypeError("an interaction in a guild comes from a FakeMember")
        payload |= {
            "guild_id": str(guild.id),
            "guild": guild.partial_payload(),
            "guild_locale": "en-US",
            "member": actor.payload(),
            "context": 0,
            "authorizing_integration_owners": {"0": str(guild.id)},
        }
    else:
        user = actor.user if isinstance(actor, FakeMember) else actor
        payload |= {
            "user": user.payload(),
            "context": 1,
            "authorizing_integration_owners": {"0": str(user.id)},
        }
    return payload


def command_data(
    command: Mapping[str, Any],
    path: list[str],
    options: Mapping[str, Any],
    *,
    focused: str | None,
    guild: FakeGuild | None,
) -> dict[str, Any]:
    """``data`` of a slash command (or autocomplete) interaction for ``/path...``."""
    resolved: dict[str, dict[str, Any]] = {}
    schema: Mapping[str, Any] = command
    chain: list[tuple[str, int]] = []
    for name in path[1:]:
        schema = _find_option(schema, name, kinds=(SUB_COMMAND, SUB_COMMAND_GROUP))
        chain.append((name, schema["type"]))
    if any(o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in schema.get("options", [])):
        raise OptionError(f"/{' '.join(path)} is a group: name one of its subcommands")

    leaf = _leaf_options(schema, options, focused=focused, guild=guild, resolved=resolved)
    for name, kind in reversed(chain):
        leaf = [{"name": name, "type": kind, "options": leaf}]
    data: dict[str, Any] = {
        "id": command["id"],
        "name": command["name"],
        "type": command.get("type", 1),
        "options": leaf,
    }
    if command.get("guild_id"):
        data["guild_id"] = command["guild_id"]
    if resolved:
        data["resolved"] = resolved
    return data


def _find_option(schema: Mapping[str, Any], name: str, *, kinds: tuple[int, ...]) -> dict[str, Any]:
    for option in schema.get("options", []):
        if option["name"] == name and option.get("type") in kinds:
            return dict(option)
    have = [o["name"] for o in schema.get("options", []) if o.get("type") in kinds]
    raise OptionError(f"{schema['name']!r} has no subcommand {name!r} (it has {have})")


def _leaf_options(
    schema: Mapping[str, Any],
    given: Mapping[str, Any],
    *,
    focused: str | None,
    guild: FakeGuild | None,
    resolved: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    known = {option["name"]: option for option in schema.get("options", [])}
    unknown = set(given) - set(known)
    if unknown:
        raise OptionError(
            f"/{schema['name']} has no option {sorted(unknown)} (it has {list(known)})"
        )
    if focused is not None and focused not in given:
        raise OptionError(f"the focused option {focused!r} needs a (partial) value")
    if focused is None:
        missing = [n for n, o in known.items() if o.get("required") and n not in given]
        if missing:
            raise OptionError(f"/{schema['name']} needs the option(s) {missing}")
    options = []
    for name, value in given.items():
        spec = known[name]
        if name == focused:
            # Discord sends what the member has typed so far, as a string.
            options.append(
                {"name": name, "type": spec["type"], "value": str(value), "focused": True}
            )
            continue
        options.append(
            {
                "name": name,
                "type": spec["type"],
                "value": _option_value(spec, value, guild, resolved),
            }
        )
    return options


def _option_value(
    spec: Mapping[str, Any],
    value: Any,
    guild: FakeGuild | None,
    resolved: dict[str, dict[str, Any]],
) -> Any:
    kind = spec["type"]
    name = spec["name"]
    if kind == STRING:
        if not isinstance(value, str):
            raise OptionError(f"option {name!r} is a string")
        if not (spec.get("min_length", 0) <= len(value) <= spec.get("max_length", 6000)):
            raise OptionError(f"option {name!r}: Discord's client refuses that length")
    elif kind in (INTEGER, NUMBER):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise OptionError(f"option {name!r} is a number")
        if kind == INTEGER and not isinstance(value, int):
            raise OptionError(f"option {name!r} is an integer")
        low, high = spec.get("min_value"), spec.get("max_value")
        if (low is not None and value < low) or (high is not None and value > high):
            raise OptionError(
                f"option {name!r}: Discord's client refuses {value} (range {low}..{high})"
            )
    elif kind == BOOLEAN:
        if not isinstance(value, bool):
            raise OptionError(f"option {name!r} is a boolean")
    elif kind == USER:
        return _resolve_user(name, value, guild, resolved)
    elif kind == CHANNEL:
        return _resolve_channel(name, value, resolved)
    else:
        raise OptionError(f"option {name!r}: type {kind} is not supported by the harness yet")
    choices = spec.get("choices")
    if choices and value not in [choice["value"] for choice in choices]:
        raise OptionError(f"option {name!r} must be one of {[c['value'] for c in choices]}")
    return value


def _resolve_user(
    name: str, value: Any, guild: FakeGuild | None, resolved: dict[str, dict[str, Any]]
) -> str:
    if isinstance(value, FakeMember):
        user = value.user
        if guild is not None:
            member = value.payload()
            member.pop("user")
            resolved.setdefault("members", {})[str(user.id)] = member
    elif isinstance(value, FakeUser):
        user = value
    else:
        raise OptionError(f"option {name!r} takes a FakeMember or FakeUser")
    resolved.setdefault("users", {})[str(user.id)] = user.payload()
    return str(user.id)


def _resolve_channel(name: str, value: Any, resolved: dict[str, dict[str, Any]]) -> str:
    if not isinstance(value, FakeChannel):
        raise OptionError(f"option {name!r} takes a FakeChannel")
    channel = value.payload() | {"permissions": str(BOT_PERMISSIONS.value)}
    resolved.setdefault("channels", {})[str(value.id)] = channel
    return str(value.id)


def component_data(component: Mapping[str, Any], values: list[str] | None = None) -> dict[str, Any]:
    """``data`` of a click on a button (or a choice in a select menu)."""
    if "custom_id" not in component:
        raise OptionError("link buttons have no custom_id and send no interaction")
    if component.get("disabled"):
        raise OptionError(f"the component {component['custom_id']!r} is disabled")
    data: dict[str, Any] = {
        "custom_id": component["custom_id"],
        "component_type": component["type"],
    }
    if values is not None:
        data["values"] = values
    return data


def modal_submit_data(modal: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """``data`` of a modal submit answering ``modal`` (the bot's MODAL response data)."""
    inputs = {c["custom_id"]: c for c in walk_components(modal["components"]) if c.get("type") == 4}
    unknown = set(values) - set(inputs)
    if unknown:
        raise OptionError(f"the modal has no text input {sorted(unknown)} (it has {list(inputs)})")
    for custom_id, spec in inputs.items():
        text = values.get(custom_id, "")
        if spec.get("required", True) and not text:
            raise OptionError(f"the modal's input {custom_id!r} is required")
        if text and not (spec.get("min_length", 0) <= len(text) <= spec.get("max_length", 4000)):
            raise OptionError(f"the modal's input {custom_id!r}: Discord refuses that length")

    def submitted(component: Mapping[str, Any]) -> dict[str, Any]:
        if component.get("type") == 4:
            return {
                "type": 4,
                "id": component.get("id", 0),
                "custom_id": component["custom_id"],
                "value": values.get(component["custom_id"], ""),
            }
        if component.get("type") == 1:
            return {"type": 1, "components": [submitted(c) for c in component["components"]]}
        if component.get("type") == 18:
            return {"type": 18, "component": submitted(component["component"])}
        return dict(component)

    return {
        "custom_id": modal["custom_id"],
        "components": [submitted(c) for c in modal["components"]],
    }
