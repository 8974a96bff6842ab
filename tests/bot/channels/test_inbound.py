"""bot/channels/inbound.py: what a visitor's message may carry into Rasa (issue #15).

The payload checks are compared with Rasa's own parser (RegexMessageHandler's
`unpack_regex_message` against the domain), so a test fails if the two ever read a text
differently; hypothesis sends random texts and random `/intent{...}` payloads.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.fallback import MAIN_TOPICS, TOPICS, payload, with_staff_button
from bot import paths
from bot.channels.inbound import (
    PayloadRules,
    checked_payload,
    kept_metadata,
    payload_rules,
    valid_entity_value,
    visitor_text,
)
from bot.limits import MAX_DAY_OFFSET, MAX_ENTITY_CHARS, MAX_MESSAGE_CHARS

RULES = payload_rules()
# A fixed budget (the suite stays fast) and no example database written into the tree.
FUZZ = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


# JSON as a hostile client sends it
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=80),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN_FILE))


def rasa_reads(text: str, domain: Domain) -> tuple[str | None, list[tuple[str, Any]]]:
    """(intent, [(entity, value)]) as Rasa's RegexMessageHandler reads `text`; intent None
    when Rasa takes it as ordinary text (for the NLU to classify)."""
    message = YAMLStoryReader.unpack_regex_message(Message(data={TEXT: text}), domain)
    intent = (message.get(INTENT) or {}).get("name")
    return intent, [(e["entity"], e["value"]) for e in message.get(ENTITIES) or []]


# ------------------------------------------------------------------------------ metadata
@pytest.mark.parametrize(
    ("metadata", "kept"),
    [
        ({"language": "en"}, {"language": "en"}),
        ({"language": "zh", "junk": "x" * 10_000, "nested": {"a": [1, 2]}}, {"language": "zh"}),
        ({"language": "fr"}, {}),
        ({"language": ["en"]}, {}),
        ({"Language": "en"}, {}),
        ({}, {}),
        (None, {}),
        (["language", "en"], {}),
        ("language=en", {}),
    ],
)
def test_only_the_metadata_the_product_uses_is_kept(metadata: Any, kept: dict[str, str]) -> None:
    assert kept_metadata(metadata) == kept


@given(
    st.dictionaries(
        st.sampled_from(["language", "Language", "lang"]) | st.text(max_size=8),
        st.sampled_from(["zh", "en", "fr", ""]) | json_values,
        max_size=4,
    )
)
@FUZZ
def test_kept_metadata_never_holds_another_key(metadata: dict[str, Any]) -> None:
    kept = kept_metadata(metadata)
    assert set(kept) <= {"language"} and set(kept.values()) <= {"zh", "en"}


# ------------------------------------------------------------------------ entity values
@pytest.mark.parametrize(
    ("entity", "value", "kept"),
    [
        ("event", "opening_ceremony", "opening_ceremony"),
        ("event", "x" * MAX_ENTITY_CHARS, "x" * MAX_ENTITY_CHARS),
        ("event", "x" * (MAX_ENTITY_CHARS + 1), None),
        ("event", "", None),
        ("event", ["expo", "main_forum"], None),
        ("event", {"$ne": 1}, None),
        ("event", 3, None),
        ("event", True, None),
        ("event", None, None),
        ("venue", "iff\nnansha", None),
        ("venue", "iff\u200bnansha", None),
        ("day_offset", "+1", "+1"),
        ("day_offset", "1", "+1"),
        ("day_offset", "-1", "-1"),
        ("day_offset", f"+{MAX_DAY_OFFSET}", f"+{MAX_DAY_OFFSET}"),
        ("day_offset", f"-{MAX_DAY_OFFSET + 1}", None),
        ("day_offset", "999999999", None),
        ("day_offset", 1, None),
        ("day_offset", "+-1", None),
        ("day_offset", "1.5", None),
        ("day_offset", "²", None),
        ("year", "2023", "2023"),
        ("year", "２０２３", None),
        ("year", "23", None),
        ("date", "2024-09-10", "2024-09-10"),
        ("date", "2024-02-30", None),
        ("date", "tomorrow", None),
        ("language", "en", "en"),
        ("language", "fr", None),
    ],
)
def test_entity_values(entity: str, value: Any, kept: str | None) -> None:
    assert valid_entity_value(entity, value) == kept


# --------------------------------------------------------------------------- payloads
@pytest.mark.parametrize(
    ("typed", "checked"),
    [
        # the OverflowError: the intent runs, the offset is gone
        ('/inform{"day_offset":"999999999"}', "/inform"),
        ('/inform{"day_offset":"+2"}', '/inform{"day_offset":"+2"}'),
        # lists and objects no longer reach text slots
        ('/ask_venue{"event":["expo","main_forum"]}', "/ask_venue"),
        ('/ask_venue{"event":{"a":1},"venue":"iff_nansha"}', '/ask_venue{"venue":"iff_nansha"}'),
        ('/ask_venue{"secret_slot":"x"}', "/ask_venue"),
        ('/ask_venue{"event": 7}', "/ask_venue"),
        ("/ask_venue{not json}", "/ask_venue"),
        ('/ask_venue{"event":' + "[" * 1500 + "}", "/ask_venue"),  # past json's recursion limit
        # Rasa's syntax wants {...} after the intent: anything else is text, as Rasa reads it
        ('/ask_venue["event"]', 'ask_venue["event"]'),
        # the visitor does not choose the classifier's confidence; trailing text dropped
        ('/ask_venue@0.01{"event":"expo"} hi', '/ask_venue{"event":"expo"}'),
        ("  /request_human  ", "/request_human"),
        # unknown intents are ordinary text, whatever slashes and spaces come first
        ("/not_an_intent", "not_an_intent"),
        ('/ /ask_venue{"day_offset":"999"}', 'ask_venue{"day_offset":"999"}'),
        ("//ask_venue", "ask_venue"),
        ("/", ""),
        ("/开幕式在哪里", "开幕式在哪里"),
        # not a payload at all: untouched
        ("开幕式在哪里 /ask_venue", "开幕式在哪里 /ask_venue"),
        (" where is it? ", " where is it? "),
    ],
)
def test_typed_payloads(typed: str, checked: str) -> None:
    assert checked_payload(typed, RULES) == checked


def test_an_unknown_intent_is_the_domains_verdict() -> None:
    rules = PayloadRules.of({"ask_venue"}, {"event"})
    assert checked_payload('/ask_venue{"event":"expo"}', rules) == '/ask_venue{"event":"expo"}'
    assert checked_payload('/greet{"event":"expo"}', rules) == 'greet{"event":"expo"}'


def test_rules_come_from_the_domain(domain: Domain) -> None:
    assert RULES.entities == frozenset(domain.entities)
    assert RULES.intents == frozenset(domain.intents)


def our_buttons() -> list[str]:
    """Every payload form the actions and the widget build, with every entity they carry."""
    built = [f"/{topic}" for topic, _ in MAIN_TOPICS] + [f"/{topic}" for topic in TOPICS]
    built += [b["payload"] for b in with_staff_button([], "zh")]
    understood = [
        {"entity": "event", "value": "opening_ceremony"},
        {"entity": "venue", "value": "iff_nansha"},
        {"entity": "theme_day", "value": "finance_day"},
        {"entity": "forum_topic", "value": "connected_cars"},
        {"entity": "date", "value": "2024-09-10"},
        {"entity": "day_offset", "value": "+1"},
    ]
    built += [payload(topic, understood) for topic in TOPICS]
    built += [payload(topic, [entity]) for topic in TOPICS for entity in understood]
    # actions/about_last.py and actions/context.py: f"/{intent}{json.dumps({kind: key})}"
    built += [f"/ask_venue{json.dumps({e['entity']: e['value']})}" for e in understood]
    return built


@pytest.mark.parametrize("button", our_buttons())
def test_our_own_buttons_pass_unchanged(button: str, domain: Domain) -> None:
    checked = checked_payload(button, RULES)
    assert rasa_reads(checked, domain) == rasa_reads(button, domain)
    assert rasa_reads(checked, domain)[0] is not None


def test_long_widget_and_wechat_messages_are_cut() -> None:
    assert visitor_text("开" * (MAX_MESSAGE_CHARS + 500)) == "开" * MAX_MESSAGE_CHARS
    assert visitor_text("开幕式在哪里") == "开幕式在哪里"
    assert visitor_text('/inform{"day_offset":"999999999"}') == "/inform"


# ------------------------------------------------------------------------------ fuzzing
def assert_safe_for_rasa(checked: str, domain: Domain) -> None:
    """What reaches Rasa is ordinary text, or a known intent with only valid entities."""
    intent, entities = rasa_reads(checked, domain)
    if checked.strip().startswith("/"):
        assert intent in RULES.intents
    for name, value in entities:
        assert name in RULES.entities and valid_entity_value(name, value) == value


entity_keys = st.sampled_from(sorted(RULES.entities | {"language", "slot", "__proto__"}))
typed_payloads = st.builds(
    lambda lead, intent, confidence, entities, rest: (
        f"{lead}/{intent}{confidence}{json.dumps(entities, ensure_ascii=False)}{rest}"
    ),
    st.sampled_from(["", " ", "/ ", "\n"]),
    st.sampled_from(sorted(RULES.intents)) | st.text(max_size=12),
    st.sampled_from(["", "@0.2", "@9", "@."]),
    st.dictionaries(entity_keys | st.text(max_size=8), json_values, max_size=4),
    st.sampled_from(["", " ", "}", '"}', "\n{}"]) | st.text(max_size=6),
)


@given(typed=typed_payloads)
@FUZZ
def test_random_payloads_reach_rasa_only_valid(domain: Domain, typed: str) -> None:
    checked = visitor_text(typed)
    assert_safe_for_rasa(checked, domain)
    assert checked_payload(checked, RULES) == checked  # checked once is checked for good
    assert len(checked) <= min(len(typed), MAX_MESSAGE_CHARS) + 1  # "1" -> "+1"


@given(text=st.text(max_size=300))
@FUZZ
def test_random_text_never_raises(domain: Domain, text: str) -> None:
    for typed in (text, "/" + text, "/ask_venue" + text, "/inform{" + text):
        checked = visitor_text(typed)
        assert_safe_for_rasa(checked, domain)
        assert len(checked) <= len(typed) + 1
    assert visitor_text(text) == text or text.strip().startswith("/")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("/ask_schedule", "en", '/ask_schedule{"language":"en"}'),
        ('/ask_venue{"event":"expo"}', "zh", '/ask_venue{"event":"expo","language":"zh"}'),
        ('/ask_venue{"language":"en"}', "zh", '/ask_venue{"language":"en"}'),  # typed wins
        ("/ask_schedule", None, "/ask_schedule"),
        ("开幕式在哪", "en", "开幕式在哪"),  # typed text: the LanguageTagger reads it
    ],
)
def test_a_payload_carries_the_language_its_buttons_were_shown_in(
    text: str, language: str | None, expected: str
) -> None:
    assert checked_payload(text, RULES, language) == expected
