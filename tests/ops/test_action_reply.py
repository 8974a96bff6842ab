"""The action server's reply checked event by event (ops/action_reply.py): the same verdicts as
Rasa's whole reply schema."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction
from rasa.shared.core import events as rasa_events

from ops.action_reply import ActionReplyValidator

SPEC = RemoteAction.action_response_format_spec()
FUZZ = settings(
    max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

# One event of each type Rasa knows, as the action server sends it.
EVENTS: list[dict[str, Any]] = [
    event.as_dict()
    for event in (
        rasa_events.UserUttered(
            "开幕式在哪里",
            {"name": "ask_venue", "confidence": 0.93},
            [{"entity": "event", "value": "开幕式", "start": 0, "end": 3}],
            message_id="m1",
            input_channel="web",
        ),
        rasa_events.DefinePrevUserUtteredFeaturization(True),
        rasa_events.EntitiesAdded([{"entity": "city", "value": "广州", "start": 0, "end": 2}]),
        rasa_events.BotUttered(
            "开幕式在南沙举行",
            {
                "buttons": [{"title": "交通", "payload": "/ask_transport"}],
                "custom": {"card": {"venue": "南沙"}},
                "image": None,
            },
            {"utter_action": "utter_venue"},
        ),
        rasa_events.SlotSet("venue", "南沙"),
        rasa_events.SlotSet("x", 1),
        rasa_events.Restarted(),
        rasa_events.UserUtteranceReverted(),
        rasa_events.AllSlotsReset(),
        rasa_events.ReminderScheduled("remind", datetime(2026, 1, 1, 9), name="r1"),
        rasa_events.ReminderCancelled(name="r1"),
        rasa_events.ActionReverted(),
        rasa_events.StoryExported("stories.yml"),
        rasa_events.FollowupAction("action_venue"),
        rasa_events.ConversationPaused(),
        rasa_events.ConversationResumed(),
        rasa_events.ActionExecuted("action_venue", policy="RulePolicy", confidence=1.0),
        rasa_events.AgentUttered("hi"),
        rasa_events.ActiveLoop("venue_form"),
        rasa_events.ActiveLoop(None),
        rasa_events.LoopInterrupted(True),
        rasa_events.ActionExecutionRejected("action_venue", policy="RulePolicy"),
        rasa_events.SessionStarted(),
    )
] + [  # Rasa reads these old events but writes them as `active_loop` / `loop_interrupted`
    {"event": "form", "name": "venue_form", "timestamp": None},
    {"event": "form_validation", "validate": True, "timestamp": None},
]
RESPONSES = [
    {"text": "开幕式在南沙举行", "buttons": [{"title": "交通", "payload": "/ask_transport"}]},
    {"template": "utter_venue", "response": "utter_venue", "custom": {"card": 1}},
]


def whole_is_valid(reply: Any, spec: dict[str, Any] = SPEC) -> bool:
    return bool(jsonschema.validators.validator_for(spec)(spec).is_valid(reply))


WHOLE = jsonschema.validators.validator_for(SPEC)(SPEC)
CHEAP = ActionReplyValidator(SPEC)


def same_verdict(reply: Any) -> bool:
    verdict = CHEAP.is_valid(reply)
    assert verdict == WHOLE.is_valid(reply), reply
    return verdict


def event_names(spec: dict[str, Any]) -> set[str]:
    branches = spec["properties"]["events"]["items"]["oneOf"]
    return {branch["properties"]["event"]["const"] for branch in branches}


def test_rasas_spec_is_checked_by_event_type() -> None:
    assert CHEAP.checks_by_event


def test_there_is_an_example_of_every_event_type() -> None:
    assert {event["event"] for event in EVENTS} == event_names(SPEC)


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: event["event"])
def test_each_event_type_is_valid(event: dict[str, Any]) -> None:
    assert same_verdict({"events": [event]})
    assert same_verdict({"events": [event], "responses": RESPONSES})


@pytest.mark.parametrize(
    "reply",
    [
        {},
        {"events": []},
        {"responses": []},
        {"events": EVENTS, "responses": RESPONSES},
        {"events": EVENTS * 20, "responses": RESPONSES * 5},
        {"events": [{"event": "slot", "name": "x", "value": None}]},
        {"events": [{"event": "slot", "name": "x", "value": {"a": [1]}, "timestamp": 1.5}]},
        {"events": [{"event": "bot", "text": None, "data": {}, "metadata": None}]},
        {"events": [{"event": "bot", "anything": [1, 2]}]},  # branches list what they check
        {"events": [{"event": "restart", "timestamp": None, "metadata": {"k": "v"}}]},
        {"events": EVENTS, "responses": RESPONSES, "extra": 1},  # extra keys are allowed
    ],
)
def test_valid_replies(reply: dict[str, Any]) -> None:
    assert same_verdict(reply)


@pytest.mark.parametrize(
    "reply",
    [
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"name": "x", "value": 1}]},  # no event
        {"events": [{"event": 5, "name": "x", "value": 1}]},
        {"events": [{"event": None}]},
        {"events": [{"event": ["slot"], "name": "x", "value": 1}]},
        {"events": [{"event": "slot", "name": 5, "value": 1}]},
        {"events": [{"event": "slot", "value": 1}]},  # no name
        {"events": [{"event": "slot", "name": "x"}]},  # no value
        {"events": [{"event": "slot", "name": "x", "value": 1, "timestamp": "now"}]},
        {"events": [{"event": "bot", "metadata": []}]},
        {"events": [{"event": "action", "name": 3}]},
        {"events": [{"event": "user", "parse_data": {"intent": []}}]},
        {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "x"}]}}]},
        {"events": [*EVENTS, {"event": "slot", "name": 5, "value": 1}]},  # the last one
        {"events": [{"event": "SLOT", "name": "x", "value": 1}]},
        {"events": "not a list"},
        {"events": None},
        {"events": {"event": "slot", "name": "x", "value": 1}},
        {"events": ({"event": "restart"},)},  # a tuple is not a JSON array
        {"events": [["event", "restart"]]},
        {"events": ["restart"]},
        {"events": [None]},
        {"responses": [3]},
        {"responses": "text"},
        {"responses": None},
        {"events": EVENTS, "responses": [*RESPONSES, "text"]},
        [],
        None,
        "events",
    ],
)
def test_invalid_replies(reply: Any) -> None:
    assert not same_verdict(reply)


# What a reply's values may be turned into.
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)
NAMES = sorted(event_names(SPEC))
KEYS = sorted({key for event in EVENTS for key in event} | {"value", "entities", "parse_data"})


@st.composite
def mutated_events(draw: st.DrawFn) -> Any:
    """An event of Rasa's, with keys dropped, added or changed, perhaps deep down."""
    event = copy.deepcopy(draw(st.sampled_from(EVENTS)))
    for _ in range(draw(st.integers(0, 3))):
        target = event
        # Perhaps into a nested object (parse_data, its intent, a button...).
        while draw(st.booleans()):
            nested = [
                value for value in target.values() if isinstance(value, dict | list) and value
            ]
            if not nested:
                break
            inner = draw(st.sampled_from(nested))
            target = draw(st.sampled_from(inner)) if isinstance(inner, list) else inner
            if not isinstance(target, dict):
                break
        if not isinstance(target, dict):
            continue
        action = draw(st.sampled_from(["drop", "set", "rename"]))
        if action == "drop" and target:
            del target[draw(st.sampled_from(sorted(target)))]
        elif action == "set":
            known = sorted(target) or KEYS
            key = draw(st.sampled_from(known) | st.sampled_from(KEYS) | st.text(max_size=3))
            target[key] = draw(VALUES)
        elif action == "rename":
            target["event"] = draw(
                st.sampled_from(NAMES) | st.text(max_size=6) | st.sampled_from([None, 1, ["slot"]])
            )
    return draw(st.just(event) | VALUES) if draw(st.integers(0, 19)) == 0 else event


REPLIES = st.fixed_dictionaries(
    {},
    optional={
        "events": st.lists(mutated_events(), max_size=6) | VALUES,
        "responses": st.lists(st.sampled_from(RESPONSES) | VALUES, max_size=3) | VALUES,
        "extra": VALUES,
    },
)


@FUZZ
@given(reply=REPLIES)
def test_mutated_replies_get_the_whole_schemas_verdict(reply: dict[str, Any]) -> None:
    same_verdict(reply)


@FUZZ
@given(events=st.lists(mutated_events(), min_size=1, max_size=6))
def test_mutated_events_get_the_whole_schemas_verdict(events: list[Any]) -> None:
    same_verdict({"events": events, "responses": RESPONSES})


def altered_spec(alter: Any) -> dict[str, Any]:
    spec = copy.deepcopy(SPEC)
    alter(spec)
    return spec


def item_schema(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["properties"]["events"]["items"]


def slot_branch(spec: dict[str, Any]) -> dict[str, Any]:
    (branch,) = [
        branch
        for branch in item_schema(spec)["oneOf"]
        if branch["properties"]["event"].get("const") == "slot"
    ]
    return branch


def const_inside_all_of(spec: dict[str, Any]) -> None:
    branch = slot_branch(spec)
    branch["allOf"] = [{"properties": {"event": branch["properties"].pop("event")}}]


def two_slot_branches(spec: dict[str, Any]) -> None:
    item_schema(spec)["oneOf"].append(copy.deepcopy(slot_branch(spec)))


def branch_without_const(spec: dict[str, Any]) -> None:
    item_schema(spec)["oneOf"].append({"properties": {"name": {"type": "integer"}}})


DRAFT_7 = "http://json-schema.org/draft-07/schema#"
SAMPLE_REPLIES: list[Any] = [
    {"events": EVENTS, "responses": RESPONSES},
    *({"events": [event]} for event in EVENTS),
    {"events": [{"event": "slot", "name": 5, "value": 1}]},
    {"events": [{"event": "slot", "name": "x", "value": 1, "extra": 2}]},
    {"events": [{"event": "restart", "name": 5}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": 1}]},
    {"events": None},
    {"responses": [3]},
]


@pytest.mark.parametrize(
    ("alter", "by_event"),
    [
        (const_inside_all_of, True),  # that branch is kept for every event
        (two_slot_branches, True),  # a slot event then matches both: invalid
        (branch_without_const, True),
        (lambda spec: item_schema(spec).pop("oneOf"), False),
        (lambda spec: item_schema(spec)["oneOf"].append(True), True),  # matches any event
        (lambda spec: spec.update({"$schema": DRAFT_7}), True),
        (
            lambda spec: spec.update({"$schema": DRAFT_7})
            or spec["properties"]["events"].update(items=[{"type": "object"}]),
            False,
        ),
        (lambda spec: spec["properties"]["events"].update(prefixItems=[False]), False),
        (lambda spec: spec["properties"]["events"].update(unevaluatedItems=False), False),
        (lambda spec: spec.update(unevaluatedProperties=False), False),
        (lambda spec: spec.update({"$schema": "http://json-schema.org/draft-04/schema#"}), False),
        (
            lambda spec: spec.update(
                {"$defs": {"event": spec["properties"]["events"].pop("items")}},
                properties={**spec["properties"], "events": {"items": {"$ref": "#/$defs/event"}}},
            ),
            False,
        ),
        (lambda spec: spec["properties"].pop("events"), False),
    ],
)
def test_a_spec_of_another_shape_gets_the_same_verdicts(alter: Any, by_event: bool) -> None:
    spec = altered_spec(alter)
    validator = ActionReplyValidator(spec)
    assert validator.checks_by_event is by_event
    verdicts = [validator.is_valid(reply) for reply in SAMPLE_REPLIES]
    assert verdicts == [whole_is_valid(reply, spec) for reply in SAMPLE_REPLIES]
    assert len(set(verdicts)) == 2 or not whole_is_valid({"events": [{"event": "restart"}]}, spec)


def test_two_branches_for_one_event_make_it_invalid() -> None:
    validator = ActionReplyValidator(altered_spec(two_slot_branches))
    assert not validator.is_valid({"events": [{"event": "slot", "name": "x", "value": 1}]})
    assert validator.is_valid({"events": [{"event": "restart"}]})


def test_a_branch_without_const_is_tried_for_every_event() -> None:
    validator = ActionReplyValidator(altered_spec(branch_without_const))
    # A restart with an integer name matches that branch too: two branches, so invalid.
    assert not validator.is_valid({"events": [{"event": "restart", "name": 5}]})
    assert validator.is_valid({"events": [{"event": "restart", "name": "x"}]})
