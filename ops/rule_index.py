"""Rasa's `RulePolicy._get_possible_keys` checks every rule of a lookup against every state of
the conversation, and it runs several times a turn (for the rules, then for the loops' unhappy
paths), though a rule can only apply if its last state matches the conversation's last state. For
that state's previous action and intent an exact value is a dictionary look-up, so `RuleIndex`
keeps a lookup's rule keys by the action and intent their last state requires: only the rules whose
last state can match the conversation's last state are left, and Rasa's own check
(`_is_rule_applicable`, on every state as Rasa does) decides among them. What the index cannot
judge exactly (a falsy value, `SHOULD_NOT_BE_SET`, an action text, a value that is not a string)
leaves the rule a candidate.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Mapping
from enum import Enum
from typing import TYPE_CHECKING, Final

from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

if TYPE_CHECKING:
    from rasa.core.policies.rule_policy import RulePolicy
    from rasa.shared.core.domain import State

# a policy's indexes, by the `id` of their lookup (each holds its lookup, so the id stays its own)
RULE_INDEXES: Final = "_cyberweek_rule_indexes"
# a policy serves two lookups; training hands it new ones, so older indexes are let go
KEPT_INDEXES: Final = 8


class _Any(Enum):
    ANY = "any"


# a rule's last state requires no one value here (a bucket every conversation state looks in)
ANY: Final = _Any.ANY

Required = str | _Any


def _required(rule_sub_state: object, key: str) -> Required:
    """The one string a rule's sub-state requires for `key` in the conversation, else ANY."""
    if not isinstance(rule_sub_state, Mapping):
        return ANY
    value = rule_sub_state.get(key)
    if isinstance(value, str) and value and value != SHOULD_NOT_BE_SET:
        return value
    return ANY


def _looked_up(value: object) -> tuple[Required, ...]:
    """The buckets a conversation's value is found in: only a string equals a rule's string."""
    return (value, ANY) if isinstance(value, str) else (ANY,)


class RuleIndex:
    """A lookup's rule keys by what their last state requires of the conversation's last state."""

    def __init__(self, lookup: Mapping[str, object]) -> None:
        self.lookup = lookup
        self.size = len(lookup)
        # no states, or states Rasa's own check should judge (it decides, or raises, as before)
        self._always: set[str] = set()
        # a last state without a previous action: a conversation's start
        self._starters: set[str] = set()
        self._by_action_intent: defaultdict[tuple[Required, Required], set[str]] = defaultdict(set)
        for key in lookup:
            self._add(key)

    def _add(self, key: str) -> None:
        states = json.loads(key)
        last = states[-1] if isinstance(states, list) and states else None
        if not isinstance(last, Mapping):
            self._always.add(key)
        elif not last.get(PREVIOUS_ACTION):
            self._starters.add(key)
        else:
            action = _required(last[PREVIOUS_ACTION], ACTION_NAME)
            intent = _required(last.get(USER), INTENT)
            self._by_action_intent[(action, intent)].add(key)

    def is_for(self, lookup: Mapping[str, object]) -> bool:
        """Whether this index is `lookup`'s, and `lookup` has kept its size (training pops)."""
        return self.lookup is lookup and len(lookup) == self.size

    def candidates(self, last_state: State) -> set[str]:
        """The keys of the rules whose last state can match the conversation's `last_state`."""
        previous_action = last_state.get(PREVIOUS_ACTION)
        if not previous_action:
            found = self._always | self._starters
        else:
            user = last_state.get(USER, {})
            if not isinstance(previous_action, Mapping) or not isinstance(user, Mapping):
                return set(self.lookup)  # not a state Rasa makes: its own check judges them all
            found = set(self._always)
            for bucket in itertools.product(
                _looked_up(previous_action.get(ACTION_NAME)), _looked_up(user.get(INTENT))
            ):
                found.update(self._by_action_intent.get(bucket, ()))
        return {key for key in found if key in self.lookup}


def _index(policy: RulePolicy, lookup: dict[str, str]) -> RuleIndex:
    indexes: dict[int, RuleIndex] = policy.__dict__.setdefault(RULE_INDEXES, {})
    index = indexes.get(id(lookup))
    if index is None or not index.is_for(lookup):
        if len(indexes) >= KEPT_INDEXES:
            indexes.clear()
        index = indexes[id(lookup)] = RuleIndex(lookup)
    return index


def possible_keys(policy: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """Rasa's `RulePolicy._get_possible_keys`, checking only the index's candidates."""
    if not states:
        return set(lookup.keys())
    keys = _index(policy, lookup).candidates(states[-1])
    for turn_index, state in enumerate(reversed(states)):
        keys = {key for key in keys if policy._is_rule_applicable(key, turn_index, state)}
    return keys


def install_rule_index() -> None:
    from rasa.core.policies.rule_policy import RulePolicy

    if getattr(RulePolicy._get_possible_keys, "narrows_by_last_state", False):
        return

    def _get_possible_keys(
        self: RulePolicy, lookup: dict[str, str], states: list[State]
    ) -> set[str]:
        return possible_keys(self, lookup, states)

    _get_possible_keys.narrows_by_last_state = True  # type: ignore[attr-defined]
    RulePolicy._get_possible_keys = _get_possible_keys  # type: ignore[method-assign]
