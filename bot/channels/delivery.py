"""How a staff reply reaches a visitor on each channel (used by the help desk's console).

Each channel that can carry staff replies registers a `Delivery` on the Sanic app when the
server starts (`register_delivery`); the console looks it up by the desk's channel name
(webchat, wechat, rest). The console records the reply in the transcript only once the
delivery has succeeded.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.channels.conversation_ids import Channel, split_conversation_id

DELIVERIES_ATTR = "desk_deliveries"


class DeliveryFailed(Exception):
    """The channel refused the message; `errcode` is the channel's own (WeChat's 45015…)."""

    def __init__(self, detail: str, errcode: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errcode = errcode


class Delivery(Protocol):
    async def send(
        self, conversation_id: str, text: str, staff_name: str | None, *, at: float | None = None
    ) -> int:
        """Delivers `text` (from `staff_name`, or from the bot when None) or raises
        DeliveryFailed; returns how many channel messages it took (WeChat counts them).
        `at` is the message's time in the transcript (a widget that reconnects asks for the
        desk's messages after the last `at` it saw)."""

    async def notify(self, conversation_id: str, state: dict[str, Any]) -> None:
        """Tells a live client about the handoff (claimed, typing, returned); may do nothing."""


def recipient(channel: Channel, conversation_id: str) -> str:
    """What `channel` addresses for a conversation (the OpenID, the widget's session), or
    DeliveryFailed when the conversation is not that channel's: a legacy id, stored before ids
    had their channel's prefix, stays read-only rather than reach whoever now holds that name."""
    prefix, raw = split_conversation_id(conversation_id)
    if prefix is None:
        raise DeliveryFailed(
            "this conversation is from before conversation ids were namespaced by channel; "
            "it can be read, not answered"
        )
    if prefix != channel or not raw:
        raise DeliveryFailed(f"not a conversation of this channel ({channel})")
    return raw


def register_delivery(app: Any, channel: str, delivery: Delivery) -> None:
    registry = getattr(app.ctx, DELIVERIES_ATTR, None)
    if registry is None:
        registry = {}
        setattr(app.ctx, DELIVERIES_ATTR, registry)
    registry[channel] = delivery


def delivery_for(app: Any, channel: str) -> Delivery | None:
    return (getattr(app.ctx, DELIVERIES_ATTR, None) or {}).get(channel)
