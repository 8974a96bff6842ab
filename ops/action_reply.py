"""The action server's reply checked against Rasa's schema, one event type at a time.

Rasa's reply schema (`RemoteAction.action_response_format_spec()`) describes each item of
`events` as a `oneOf` over every event type, each branch pinning `event` to one name with
`const`. `oneOf` has to try every branch to know that exactly one holds, although for an event
whose `event` names a type all branches but that type's (and any branch without such a `const`)
fail on the `const` already. `ActionReplyValidator` therefore checks the reply with the items of
`events` left out, then each event against the item schema with `oneOf` narrowed to those
branches: the same answer as the whole schema, with a fraction of the work. An event without a
known string `event` is checked against the whole item schema. Everything is derived from
Rasa's schema when the validator is built; a schema not shaped as expected (references,
`unevaluated*`, a draft without `const`, `events` or its items not plain schemas, no `oneOf`)
is checked whole.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import jsonschema

# Keywords of the `events` schema that leave its items to `items` alone.
_ARRAY_KEYWORDS = frozenset(
    {"type", "items", "minItems", "maxItems", "uniqueItems", "title", "description", "$comment"}
)
# Keywords with which a part of the schema depends on another part, or on where it sits.
_ENTANGLING_KEYWORDS = frozenset(
    {"$ref", "$dynamicRef", "$recursiveRef", "$id", "unevaluatedProperties", "unevaluatedItems"}
)
_NEEDED_KEYWORDS = ("type", "properties", "items", "oneOf", "const")


def _walk(schema: Any) -> Iterator[Mapping[str, Any]]:
    """Every mapping in the schema, the schema itself included."""
    if isinstance(schema, Mapping):
        yield schema
        for value in schema.values():
            yield from _walk(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _walk(value)


def _event_const(branch: Any) -> str | None:
    """The event name a `oneOf` branch pins with `properties.event.const`, if a string."""
    if not isinstance(branch, Mapping):
        return None
    properties = branch.get("properties")
    if not isinstance(properties, Mapping):
        return None
    event = properties.get("event")
    if not isinstance(event, Mapping):
        return None
    const = event.get("const")
    return const if isinstance(const, str) else None


class ActionReplyValidator:
    """`is_valid(reply)` answers as validating `reply` against the whole `spec` would."""

    def __init__(self, spec: Mapping[str, Any]) -> None:
        validator_class = jsonschema.validators.validator_for(spec)
        validator_class.check_schema(spec)
        self._whole = validator_class(spec)
        self._reply: Any = None  # the reply schema with the items of `events` left out
        self._any_event: Any = None  # the item schema, whole
        self._event: dict[str, Any] = {}  # event name -> the item schema narrowed to it

        properties = spec.get("properties")
        events = properties.get("events") if isinstance(properties, Mapping) else None
        item = events.get("items") if isinstance(events, Mapping) else None
        if (
            not isinstance(events, Mapping)
            or not isinstance(item, Mapping)
            or not isinstance(item.get("oneOf"), list)
            or not set(events) <= _ARRAY_KEYWORDS
            or not all(keyword in validator_class.VALIDATORS for keyword in _NEEDED_KEYWORDS)
            or any(not _ENTANGLING_KEYWORDS.isdisjoint(part) for part in _walk(spec))
        ):
            return  # checked whole

        branches: list[Any] = item["oneOf"]
        names = {name for name in map(_event_const, branches) if name is not None}
        for name in names:
            narrowed = [branch for branch in branches if _event_const(branch) in (name, None)]
            self._event[name] = validator_class({**item, "oneOf": narrowed})
        self._any_event = validator_class(item)
        events_alone = {key: value for key, value in events.items() if key != "items"}
        self._reply = validator_class(
            {**spec, "properties": {**properties, "events": events_alone}}
        )

    @property
    def checks_by_event(self) -> bool:
        """Whether the spec was shaped as expected, so that events are checked by type."""
        return self._reply is not None

    def is_valid(self, reply: Any) -> bool:
        if self._reply is None:
            return bool(self._whole.is_valid(reply))
        if not self._reply.is_valid(reply):
            return False
        # As `properties` and `items` apply: to an object's `events`, if it is an array.
        if not self._reply.is_type(reply, "object") or "events" not in reply:
            return True
        events = reply["events"]
        if not self._reply.is_type(events, "array"):
            return True
        return all(self._event_validator(event).is_valid(event) for event in events)

    def _event_validator(self, event: Any) -> Any:
        name = event.get("event") if isinstance(event, dict) else None
        if isinstance(name, str):
            return self._event.get(name, self._any_event)
        return self._any_event
