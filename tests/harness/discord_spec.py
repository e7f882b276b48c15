"""Request bodies checked against Discord's own OpenAPI description.

The description (tests/discord_api/openapi.json.gz) gives each operation's
request body as a JSON Schema 2020-12 schema. A validator is compiled once per
operation and reused by every test.

Discord's unions (interaction callbacks, components, command options) are
``oneOf``/``anyOf`` lists of objects told apart by their ``type`` field. Read
as written, a validator tries every member on every value (slow) and reports
"valid under none of the given schemas" (useless). Loading turns each such
union into one lookup (the ``x-fake-discord-by-type`` keyword): same bodies
accepted, only the member the body's ``type`` names is checked, and an error
points at the field that is wrong.
"""

from __future__ import annotations

import functools
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_FILE = Path(__file__).resolve().parent.parent / "discord_api" / "openapi.json.gz"
SPEC_URI = "https://discord.com/api/v10/openapi.json"
BY_TYPE = "x-fake-discord-by-type"  # our keyword: the union member named by "type"
MAX_SHOWN = 160  # characters of a rejected value quoted in a violation


@dataclass(frozen=True)
class Violation:
    """One way a body breaks Discord's rules: where (``embeds.0.title``) and what."""

    where: str
    problem: str
    code: str = "BASE_TYPE_INVALID"

    def __str__(self) -> str:
        return f"{self.where or '(body)'}: {self.problem}"


@functools.cache
def document() -> dict[str, Any]:
    """The description as published."""
    with gzip.open(SPEC_FILE, "rt", encoding="utf-8") as handle:
        loaded: dict[str, Any] = json.load(handle)
    return loaded


@functools.cache
def _registry() -> Registry[Any]:
    schemas = document()["components"]["schemas"]
    described = _by_type(document(), schemas)
    # Discord takes a snowflake as a JSON number too, and discord.py sends the ids
    # of attachments (their indexes in the upload) that way.
    described["components"]["schemas"]["SnowflakeType"] = {
        "anyOf": [schemas["SnowflakeType"], {"type": "integer", "minimum": 0}]
    }
    resource: Resource[Any] = DRAFT202012.create_resource(described)
    return Registry().with_resource(SPEC_URI, resource)


def operation(path: str, method: str) -> dict[str, Any]:
    """The operation ``method path`` (``"post"``, ``"/channels/{channel_id}/messages"``)."""
    try:
        found: dict[str, Any] = document()["paths"][path][method.lower()]
    except KeyError:
        raise KeyError(f"Discord's API has no operation {method.upper()} {path}") from None
    return found


def check_body(path: str, method: str, body: Any) -> list[Violation]:
    """What in ``body`` breaks the request schema of ``method path``; empty when it is valid."""
    # Many bodies repeat (every harness syncs the same commands): check each text once.
    return list(_check_text(path, method.lower(), json.dumps(body, sort_keys=True)))


@functools.lru_cache(maxsize=4096)
def _check_text(path: str, method: str, text: str) -> tuple[Violation, ...]:
    return tuple(_check(path, method, json.loads(text)))


def _check(path: str, method: str, body: Any) -> list[Violation]:
    request_body = operation(path, method).get("requestBody")
    if request_body is None:
        if body is None:
            return []
        return [Violation("", f"{method.upper()} {path} takes no body")]
    if body is None:
        if request_body.get("required"):
            return [Violation("", "a body is required", "BASE_TYPE_REQUIRED")]
        return []
    validator = _validator(path, method.lower())
    error = best_match(validator.iter_errors(body))
    return [] if error is None else [_violation(_innermost(error))]


def _innermost(error: ValidationError) -> ValidationError:
    """For "valid under none of the schemas": an error of the member the body fits best.

    That is the member with the fewest errors (a string choice list breaks the
    integer member on every value, the string member only where it is wrong).
    """
    while error.context:
        by_member: dict[Any, list[ValidationError]] = {}
        for inner in error.context:
            by_member.setdefault(inner.relative_schema_path[0], []).append(inner)
        closest = min(by_member.values(), key=len)
        error = best_match(closest) or closest[0]
    return error


@functools.cache
def _validator(path: str, method: str) -> Draft202012Validator:
    """The body's validator, compiled once per operation (a cached lookup afterwards)."""
    pointer = "/" + "/".join(
        _escape(part)
        for part in ("paths", path, method, "requestBody", "content", "application/json", "schema")
    )
    schema = {"$ref": f"{SPEC_URI}#{quote(pointer, safe='/~')}"}
    validator: Draft202012Validator = SpecValidator(schema, registry=_registry())
    return validator


def _by_type(node: Any, schemas: dict[str, Any]) -> Any:
    """A copy of ``node`` with every union of ``type``-tagged members as one BY_TYPE lookup."""
    if isinstance(node, list):
        return [_by_type(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    copy = {key: _by_type(value, schemas) for key, value in node.items()}
    for keyword in ("oneOf", "anyOf"):
        members = _tagged_members(node.get(keyword), schemas)
        if members:
            del copy[keyword]
            copy["allOf"] = [*copy.get("allOf", []), _dispatch(members)]
    return copy


def _tagged_members(union: Any, schemas: dict[str, Any]) -> dict[int, str] | None:
    """``{type value: member $ref}`` when every member is a $ref with its own ``type`` values."""
    if not isinstance(union, list) or not union:
        return None
    members: dict[int, str] = {}
    for member in union:
        ref = member.get("$ref") if isinstance(member, dict) else None
        if not isinstance(ref, str) or len(member) != 1:
            return None
        target = schemas[ref.removeprefix("#/components/schemas/")]
        values = target.get("properties", {}).get("type", {}).get("enum")
        if not values or any(value in members for value in values):
            return None
        members |= dict.fromkeys(values, ref)
    return members


def _dispatch(members: dict[int, str]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["type"],
        BY_TYPE: {str(k): v for k, v in members.items()},
    }


def _by_type_keyword(
    validator: Any, members: dict[str, str], instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    """Validate an object against the union member its ``type`` names, and only that one."""
    if not isinstance(instance, dict) or "type" not in instance:
        return  # "type" and "required" report it
    ref = members.get(str(instance["type"]))
    if ref is None:
        yield ValidationError(
            f"{instance['type']!r} is not one of {sorted(int(k) for k in members)}",
            validator="enum",
            validator_value=sorted(int(k) for k in members),
            path=["type"],
        )
        return
    yield from validator.descend(instance, {"$ref": ref})


SpecValidator = validators.extend(Draft202012Validator, {BY_TYPE: _by_type_keyword})


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _violation(error: ValidationError) -> Violation:
    steps = [str(step) for step in error.absolute_path]
    kind = str(error.validator)
    limit = error.validator_value
    if kind == "required" and isinstance(error.instance, dict):
        # Discord names the missing field itself, as jsonschema's message does.
        missing = [name for name in limit if name not in error.instance]
        return Violation(".".join([*steps, *missing[:1]]), "This field is required", _CODES[kind])
    where = ".".join(steps)
    if kind in ("maxLength", "maxItems"):
        problem = f"Must be {limit} or fewer in length."
    elif kind in ("minLength", "minItems"):
        problem = f"Must be {limit} or more in length."
    else:
        problem = error.message
        if len(problem) > MAX_SHOWN:
            problem = problem[: MAX_SHOWN - 3] + "..."
    return Violation(where, problem, _CODES.get(kind, "BASE_TYPE_INVALID"))


# Discord's error codes for the kinds of schema violation (as in its 50035 answers).
_CODES = {
    "required": "BASE_TYPE_REQUIRED",
    "maxLength": "BASE_TYPE_MAX_LENGTH",
    "minLength": "BASE_TYPE_MIN_LENGTH",
    "maxItems": "BASE_TYPE_MAX_LENGTH",
    "minItems": "BASE_TYPE_MIN_LENGTH",
    "enum": "BASE_TYPE_CHOICES",
    "type": "BASE_TYPE_INVALID",
}
