"""Staff replies from the help desk to a WeChat follower, through the customer-service API.

WeChat accepts customer-service messages for 48 hours after the follower's latest message, at
most 5 of them; past that it answers 45015 or 45047, which reach staff as DeliveryFailed (the
console shows them) and are never retried.
"""

from __future__ import annotations

from typing import Any

from bot.channels.conversation_ids import WECHAT
from bot.channels.delivery import DeliveryFailed, recipient
from bot.channels.wechat.api import ApiError, CustomerServiceApi
from bot.channels.wechat.render import split_text

# WeChat shows every message as the account's, with no sender: the prefix says a person wrote.
# Chinese and English both, because a delivery does not know the conversation's language.
STAFF_PREFIX = "【工作人员 Staff · {name}】"
EXPLAINED = {
    45015: "the follower last wrote more than 48 hours ago; WeChat takes no more messages "
    "until they write again",
    45047: "5 messages have been sent since the follower last wrote; WeChat takes no more "
    "until they write again",
}


def with_prefix(text: str, staff_name: str | None) -> str:
    return STAFF_PREFIX.format(name=staff_name.strip()) + text if staff_name else text


class WeChatDelivery:
    """Sends through the channel's CustomerServiceApi (its token cache and connections)."""

    def __init__(self, api: CustomerServiceApi, limit_bytes: int) -> None:
        self.api, self.limit_bytes = api, limit_bytes

    async def send(
        self, conversation_id: str, text: str, staff_name: str | None, *, at: float | None = None
    ) -> int:
        """Delivers `text` in as many messages as the byte limit needs (their number is
        returned: each counts against WeChat's quota); the first refusal raises
        DeliveryFailed (parts already sent stay sent). The conversation is `wx:<OpenID>`."""
        openid = recipient(WECHAT, conversation_id)
        parts = split_text(with_prefix(text, staff_name), self.limit_bytes)
        for part in parts:
            try:
                await self.api.deliver_text(openid, part)
            except ApiError as error:
                detail = EXPLAINED.get(error.errcode or 0) or error.errmsg or str(error)
                raise DeliveryFailed(detail, error.errcode) from None
        return len(parts)

    async def notify(self, conversation_id: str, state: dict[str, Any]) -> None:
        return None  # no typing indicator in WeChat, and states must not spend the quota
