"""Conversation ids namespaced by channel (bot/channels/conversation_ids.py), and the
deliveries' check that a conversation is theirs (bot/channels/delivery.py)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.conversation_ids import (
    CHANNELS,
    DESK_CHANNELS,
    conversation_id,
    is_legacy,
    prefix_length,
    split_conversation_id,
)
from bot.channels.delivery import DeliveryFailed, recipient

FUZZ = settings(max_examples=300, deadline=None, database=None)


@pytest.mark.parametrize(
    ("channel", "raw", "expected"),
    [
        ("web", "0123456789abcdef0123456789abcdef", "web:0123456789abcdef0123456789abcdef"),
        ("wx", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "wx:o6_bmjrPTlm6_2sgVt7hMZOPfL2M"),
        ("rest", "abc", "rest:abc"),
        ("rest", "wx:o123", "rest:wx:o123"),  # a REST caller naming a WeChat conversation
    ],
)
def test_each_channel_has_its_prefix(channel: str, raw: str, expected: str) -> None:
    assert conversation_id(channel, raw) == expected  # type: ignore[arg-type]
    assert split_conversation_id(expected) == (channel, raw)
    assert not is_legacy(expected)


@FUZZ
@given(channel=st.sampled_from(CHANNELS), raw=st.text(max_size=200))
def test_round_trip(channel: str, raw: str) -> None:
    assert split_conversation_id(conversation_id(channel, raw)) == (channel, raw)  # type: ignore[arg-type]


@FUZZ
@given(raw=st.text(max_size=200), target=st.sampled_from(CHANNELS))
def test_a_rest_sender_never_names_another_channels_conversation(raw: str, target: str) -> None:
    """Whatever a REST client sends as `sender`, its conversation is a REST one."""
    assert split_conversation_id(conversation_id("rest", raw))[0] == "rest"
    if target != "rest":
        with pytest.raises(DeliveryFailed):
            recipient(target, conversation_id("rest", raw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "legacy",
    ["0123456789abcdef0123456789abcdef", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M", "visitor-1", "",
     "webchat:1", "WEB:1", ":x", "http://x"],
)  # fmt: skip
def test_an_unprefixed_id_is_legacy(legacy: str) -> None:
    assert split_conversation_id(legacy) == (None, legacy)
    assert is_legacy(legacy)


def test_an_unknown_channel_is_refused() -> None:
    with pytest.raises(ValueError, match="telegram"):
        conversation_id("telegram", "1")  # type: ignore[arg-type]


def test_the_desk_names_every_channel() -> None:
    assert sorted(DESK_CHANNELS.values()) == sorted(CHANNELS)
    assert prefix_length("rest") == len("rest:")


@pytest.mark.parametrize(
    ("channel", "cid", "raw"),
    [("wx", "wx:o123", "o123"), ("web", "web:abcdef12", "abcdef12"), ("rest", "rest:a:b", "a:b")],
)
def test_a_delivery_gets_the_raw_id_of_its_own_conversations(
    channel: str, cid: str, raw: str
) -> None:
    assert recipient(channel, cid) == raw  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("channel", "cid", "why"),
    [
        ("wx", "o123", "before conversation ids were namespaced"),  # legacy: read-only
        ("wx", "rest:o123", "not a conversation of this channel"),
        ("web", "wx:abcdef12", "not a conversation of this channel"),
        ("rest", "web:abcdef12", "not a conversation of this channel"),
        ("wx", "wx:", "not a conversation of this channel"),
    ],
)
def test_a_delivery_refuses_other_conversations(channel: str, cid: str, why: str) -> None:
    with pytest.raises(DeliveryFailed, match=why):
        recipient(channel, cid)  # type: ignore[arg-type]
