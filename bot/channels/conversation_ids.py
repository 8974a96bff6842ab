"""Conversation ids namespaced by channel: `web:<session>`, `wx:<OpenID>`, `rest:<sender>`.

Rasa keys a conversation (its tracker, slots, context, the help desk's handoff) by the sender id
the channel hands it. When the channels shared one namespace, a follower's WeChat OpenID sent as
a REST `sender` read and wrote that follower's conversation. Here each channel prefixes what the
client names, so a REST caller can only ever reach `rest:…` conversations, and the help desk's
deliveries take the OpenID or the widget's room back out (`recipient`, bot/channels/delivery.py).

This module owns the scheme; nothing else builds or takes apart a conversation id.
"""

from __future__ import annotations

from typing import Final, Literal

Channel = Literal["web", "wx", "rest"]
WEB: Final = "web"
WECHAT: Final = "wx"
REST: Final = "rest"
CHANNELS: Final[tuple[Channel, ...]] = (WEB, WECHAT, REST)
SEPARATOR: Final = ":"
# The help desk names channels as Rasa's handoff action stored them (desk_handoffs.channel).
DESK_CHANNELS: Final[dict[str, Channel]] = {"webchat": WEB, "wechat": WECHAT, "rest": REST}


def conversation_id(channel: Channel, raw: str) -> str:
    """The conversation of what `channel`'s client calls `raw` (session id, OpenID, sender)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}: one of {', '.join(CHANNELS)}")
    return f"{channel}{SEPARATOR}{raw}"


def split_conversation_id(cid: str) -> tuple[Channel | None, str]:
    """(channel, raw) of a conversation id; (None, cid) for a legacy id, stored before the
    channels had prefixes (the desk shows those read-only)."""
    prefix, separator, raw = cid.partition(SEPARATOR)
    for channel in CHANNELS:
        if separator and prefix == channel:
            return channel, raw
    return None, cid


def is_legacy(cid: str) -> bool:
    return split_conversation_id(cid)[0] is None


def prefix_length(channel: Channel) -> int:
    """How many characters the prefix adds (a raw id's limit is the stored id's minus this)."""
    return len(conversation_id(channel, ""))
