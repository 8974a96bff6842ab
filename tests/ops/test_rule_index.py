"""ops.rule_index: the rule keys Rasa's `RulePolicy._get_possible_keys` finds, from fewer
candidates, on the trained model's rules, hand-made ones and generated conversations."""

from __future__ import annotations

import copy
import itertools
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import SHOULD_NOT_BE_SET as NOT_SET

from ops.rule_index import RULE_INDEXES, RuleIndex, install_rule_index, possible_keys

RASA_GET_POSSIBLE_KEYS = RulePolicy._get_possible_keys
POLICY_FILE = "components/train_RulePolicy0/rule_policy.json"
REAL_LOOKUPS = ("rules", "rules_for_loop_unhappy_path")
FUZZ = settings(max_examples=200, deadline=None, database=None)

State = dict[str, dict[str, Any]]
LISTEN = {"action_name": "action_listen"}


def _turn(action: str | None, intent: str | None = None, **sub_states: Any) -> State:
    state: State = {} if action is None else {"prev_action": {"action_name": action}}
    if intent is not None:
        state["user"] = {"intent": intent}
    return {**state, **sub_states}


def _key(*states: State) -> str:
    return json.dumps(list(states), sort_keys=True)


# rules whose answers are worked out by hand below
EMPTY = _key()  # no states: applies everywhere
STARTER = _key({"user": {"intent": "greet"}})  # no previous action: applies to starts only
GREET = _key(_turn("action_listen", "greet"))
NO_INTENT = _key(_turn("action_listen", NOT_SET))
TWO_STATE = _key(_turn("action_listen", "greet"), _turn("utter_greet", "greet"))
ACTION_TEXT = _key({"prev_action": {"action_text": "Hi there"}})
USER_TEXT = _key({"prev_action": LISTEN, "user": {"text": "hello"}})
CHINESE_GREET = _key(_turn("action_listen", "greet", slots={"lang": ["zh"]}))
IN_FORM = _key(_turn("form", active_loop={"name": "form"}))
TOY = (EMPTY, STARTER, GREET, NO_INTENT, TWO_STATE, ACTION_TEXT, USER_TEXT, CHINESE_GREET, IN_FORM)
# and odd ones, checked against Rasa only
ODD = (
    _key({"prev_action": {"action_name": ""}, "user": {"intent": "greet"}}),
    _key({"prev_action": {"action_name": NOT_SET, "action_text": "Hi there"}}),
    _key({"prev_action": {}, "user": {"intent": "greet"}}),
    _key({"prev_action": {"action_name": ["action_listen"]}}),
    _key({"prev_action": LISTEN, "user": {"intent": ""}}),
    _key({"prev_action": LISTEN, "user": {"intent": "greet", "entities": ["city"]}}),
    _key({"prev_action": LISTEN, "user": {}}),
    _key(_turn("action_listen", "greet"), {}),
    _key({}, _turn("action_listen", "greet")),
    _key(_turn("utter_greet", "greet", active_loop={"name": NOT_SET}, slots={"lang": NOT_SET})),
)


@pytest.fixture(scope="module")
def real_lookup(trained_model: Path) -> dict[str, Any]:
    with tarfile.open(trained_model) as archive:
        policy_file = archive.extractfile(POLICY_FILE)
        assert policy_file is not None
        lookup: dict[str, Any] = json.load(policy_file)["lookup"]
    assert len(lookup["rules"]) > 50 and lookup["rules_for_loop_unhappy_path"]
    return lookup


@pytest.fixture(scope="module")
def lookups(real_lookup: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {
        **{name: real_lookup[name] for name in REAL_LOOKUPS},
        "toy": dict.fromkeys(TOY + ODD, "action"),
    }


def _new_policy(folder: Path) -> RulePolicy:
    return RulePolicy.create(
        RulePolicy.get_default_config(),
        LocalModelStorage(folder),
        Resource("rule_policy"),
        ExecutionContext(GraphSchema({}), "rule-index-test"),
    )


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> RulePolicy:
    return _new_policy(tmp_path_factory.mktemp("rule-policy"))


@pytest.fixture()
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys)
    install_rule_index()
    yield


def _as_conversation(value: Any) -> Any:
    """A rule's state as the tracker gives it: lists are tuples there."""
    if isinstance(value, dict):
        return {key: _as_conversation(item) for key, item in value.items()}
    return tuple(value) if isinstance(value, list) else value


def _conversation_of(key: str) -> list[State]:
    """A rule's states as a conversation's."""
    return [_as_conversation(state) for state in json.loads(key)]


def _rules(lookups: dict[str, dict[str, str]]) -> list[list[State]]:
    return [_conversation_of(key) for lookup in lookups.values() for key in sorted(lookup)]


class Vocabulary:
    """The values the rules use, and others they do not, for conversations' states."""

    def __init__(self, lookups: dict[str, dict[str, str]]) -> None:
        states = [state for rule in _rules(lookups) for state in rule]

        def seen(sub_state: str, key: str) -> list[Any]:
            values = {state.get(sub_state, {}).get(key) for state in states}
            return sorted(values - {None}, key=repr)

        self.states = sorted({json.dumps(state, sort_keys=True) for state in states} | {"{}"})
        self.actions = seen("prev_action", "action_name") + ["", NOT_SET, "unseen_action"]
        self.intents = seen("user", "intent") + ["", NOT_SET, "unseen_intent"]
        self.loops = seen("active_loop", "name") + [NOT_SET, "unseen_loop"]
        self.slots = [("lang", value) for value in (("zh",), ("en",), NOT_SET)]


@pytest.fixture(scope="module")
def vocabulary(lookups: dict[str, dict[str, str]]) -> Vocabulary:
    words = Vocabulary(lookups)
    assert "action_listen" in words.actions and "greet" in words.intents
    return words


def _variants(state: State, words: Vocabulary) -> Iterator[State]:
    """`state` with its previous action, intent, slots, active loop or entities changed."""
    yield state
    for action in words.actions:
        yield {**state, "prev_action": {"action_name": action}}
    yield {**state, "prev_action": {"action_text": "Hi there"}}
    yield {**state, "prev_action": {**LISTEN, "action_text": "Hi there"}}
    yield {**state, "prev_action": {}}
    yield {name: sub for name, sub in state.items() if name != "prev_action"}  # a start
    user = state.get("user", {})
    for intent in words.intents:
        yield {**state, "user": {**user, "intent": intent}}
    yield {name: sub for name, sub in state.items() if name != "user"}
    yield {**state, "user": {"text": "hello"}}
    yield {**state, "user": {**user, "entities": ("city",)}}
    yield {**state, "user": {key: value for key, value in user.items() if key != "intent"}}
    for slot, value in words.slots:
        yield {**state, "slots": {slot: value}}
    yield {name: sub for name, sub in state.items() if name != "slots"}
    for loop in words.loops:
        yield {**state, "active_loop": {"name": loop}}
    yield {name: sub for name, sub in state.items() if name != "active_loop"}


def _conversations(lookups: dict[str, dict[str, str]], words: Vocabulary) -> Iterator[list[State]]:
    rules = _rules(lookups)
    greeted = _turn("action_listen", "greet")
    for rule in rules:  # the rules' own states, their beginnings and ends, after another state
        yield from (rule[:end] for end in range(len(rule) + 1))
        yield from (rule[start:] for start in range(1, len(rule)))
        yield [greeted, *rule]
    # every state a rule has, changed: a key the index dropped wrongly for a last state is
    # Rasa's for that state alone (a rule longer than the conversation applies)
    for state in words.states:
        yield from ([variant] for variant in _variants(_as_conversation(json.loads(state)), words))
    for action, intent in itertools.product(words.actions, words.intents):
        yield [_turn(action, intent)]


def _differences(
    policy: RulePolicy, lookup: dict[str, str], conversations: Iterator[list[State]]
) -> list[tuple[list[State], set[str], set[str]]]:
    found = []
    for states in conversations:
        rasas = RASA_GET_POSSIBLE_KEYS(policy, lookup, states)
        indexed = policy._get_possible_keys(lookup, states)
        if indexed != rasas:
            found.append((states, rasas, indexed))
    return found


def test_the_reference_is_rasas_own() -> None:
    assert RASA_GET_POSSIBLE_KEYS.__module__ == "rasa.core.policies.rule_policy"
    assert not hasattr(RASA_GET_POSSIBLE_KEYS, "narrows_by_last_state")


@pytest.mark.parametrize("name", [*REAL_LOOKUPS, "toy"])
def test_the_keys_are_rasas(
    installed: None,
    policy: RulePolicy,
    lookups: dict[str, dict[str, str]],
    vocabulary: Vocabulary,
    name: str,
) -> None:
    differences = _differences(policy, lookups[name], _conversations(lookups, vocabulary))
    assert not differences, differences[:3]


@FUZZ
@given(data=st.data())
def test_the_keys_are_rasas_in_generated_conversations(
    policy: RulePolicy,
    lookups: dict[str, dict[str, str]],
    vocabulary: Vocabulary,
    data: st.DataObject,
) -> None:
    words = vocabulary
    prev_action = st.one_of(
        st.fixed_dictionaries({"action_name": st.sampled_from(words.actions)}),
        st.fixed_dictionaries(
            {"action_text": st.sampled_from(["Hi there", "other"])},
            optional={"action_name": st.sampled_from(words.actions)},
        ),
        st.just({}),
    )
    user = st.fixed_dictionaries(
        {},
        optional={
            "intent": st.sampled_from(words.intents),
            "text": st.sampled_from(["hello", "hi"]),
            "entities": st.sampled_from([("city",), ("city", "day"), NOT_SET]),
        },
    )
    made_up = st.fixed_dictionaries(
        {},
        optional={
            "prev_action": prev_action,
            "user": user,
            "slots": st.dictionaries(st.just("lang"), st.sampled_from([v for _, v in words.slots])),
            "active_loop": st.fixed_dictionaries({"name": st.sampled_from(words.loops)}),
        },
    )
    a_rules = st.sampled_from(words.states).map(lambda state: _as_conversation(json.loads(state)))
    changed = st.builds(lambda state, change: {**state, **change}, a_rules, made_up)
    states = data.draw(st.lists(st.one_of(a_rules, changed, made_up), max_size=5), label="states")
    lookup = lookups[data.draw(st.sampled_from(sorted(lookups)), label="lookup")]
    assert possible_keys(policy, lookup, states) == RASA_GET_POSSIBLE_KEYS(policy, lookup, states)


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ([], set(TOY)),
        ([_turn("action_listen", "greet")], {EMPTY, GREET}),
        ([_turn("action_listen", "greet"), _turn("utter_greet", "greet")], {EMPTY, TWO_STATE}),
        ([_turn("utter_greet", "greet")], {EMPTY, TWO_STATE}),  # longer than the conversation
        ([_turn(None, "bye")], {EMPTY, STARTER}),
        ([{}], {EMPTY, STARTER}),
        ([_turn("action_listen")], {EMPTY, NO_INTENT}),
        ([_turn("action_listen", NOT_SET)], {EMPTY, NO_INTENT}),
        ([{"prev_action": LISTEN, "user": {"text": "hello"}}], {EMPTY, NO_INTENT, USER_TEXT}),
        (
            [{"prev_action": {"action_text": "Hi there"}, "user": {"intent": "greet"}}],
            {EMPTY, ACTION_TEXT},
        ),
        ([_turn("action_listen", "greet", slots={"lang": ("zh",)})], {EMPTY, GREET, CHINESE_GREET}),
        ([_turn("form", "greet", active_loop={"name": "form"})], {EMPTY, IN_FORM}),
    ],
)
def test_the_keys_worked_out_by_hand(
    installed: None, policy: RulePolicy, states: list[State], expected: set[str]
) -> None:
    lookup = dict.fromkeys(TOY, "action")
    assert RASA_GET_POSSIBLE_KEYS(policy, lookup, states) == expected  # the hand is Rasa's
    assert policy._get_possible_keys(lookup, states) == expected


def test_the_candidates_are_the_rules_that_can_end_there(real_lookup: dict[str, Any]) -> None:
    rules = real_lookup["rules"]
    greet = _key(_turn("action_listen", "greet"))
    assert rules[greet] == "utter_greet"
    assert RuleIndex(rules).candidates(_turn("action_listen", "greet")) == {greet}
    assert RuleIndex(rules).candidates(_turn(None, "greet")) == set()


def test_the_index_is_kept_and_follows_a_lookup_losing_keys(policy: RulePolicy) -> None:
    lookup = dict.fromkeys(TOY, "action")
    greeted = [_turn("action_listen", "greet")]
    assert possible_keys(policy, lookup, greeted) == {EMPTY, GREET}
    index = policy.__dict__[RULE_INDEXES][id(lookup)]
    assert possible_keys(policy, lookup, greeted) == {EMPTY, GREET}
    assert policy.__dict__[RULE_INDEXES][id(lookup)] is index  # built once

    del lookup[GREET]  # as training takes out a rule
    assert possible_keys(policy, lookup, greeted) == {EMPTY}
    assert policy.__dict__[RULE_INDEXES][id(lookup)] is not index
    assert RASA_GET_POSSIBLE_KEYS(policy, lookup, greeted) == {EMPTY}


def test_candidates_are_only_keys_still_in_the_lookup() -> None:
    lookup = dict.fromkeys(TOY, "action")
    index = RuleIndex(lookup)
    greeted = _turn("action_listen", "greet")
    assert {GREET, CHINESE_GREET} <= index.candidates(greeted)
    del lookup[GREET]
    assert CHINESE_GREET in index.candidates(greeted)
    assert GREET not in index.candidates(greeted)


def test_install_is_idempotent_and_a_policy_answers_as_rasa(
    monkeypatch: pytest.MonkeyPatch,
    real_lookup: dict[str, Any],
    tmp_path: Path,
) -> None:
    monkeypatch.setattr(RulePolicy, "_get_possible_keys", RulePolicy._get_possible_keys)
    install_rule_index()
    installed = RulePolicy._get_possible_keys
    assert installed is not RASA_GET_POSSIBLE_KEYS
    assert getattr(installed, "narrows_by_last_state", False)
    install_rule_index()
    assert RulePolicy._get_possible_keys is installed

    policy = _new_policy(tmp_path)
    policy.lookup = copy.deepcopy(real_lookup)
    for name in REAL_LOOKUPS:
        lookup = policy.lookup[name]
        for key in lookup:  # each rule, as a conversation: it applies, and Rasa agrees
            states = _conversation_of(key)
            keys = policy._get_possible_keys(lookup, states)
            assert key in keys
            assert keys == RASA_GET_POSSIBLE_KEYS(policy, lookup, states)
