"""A WeChat account and a recording bot in Rasa's place, for tests that run the channel's
blueprint on an app of their own (the replay / configuration tests and the fuzz tests)."""

from __future__ import annotations

from typing import Any

from rasa.core.channels.channel import UserMessage

from bot.channels.wechat.config import WeChatSettings, load_settings
from bot.channels.wechat.simulator import Account

ACCOUNT = Account(
    token="5b0c8f2e9d41a7c3e6f1b2a4d8c0e9f7",
    app_id="wx5e1f0c2b7a9d3e41",
    aes_key="PyE40EAN7ADuiDNaniqldrpBr9xCKrJg39PYeQ2fq6O",
)
WEBHOOK = "/webhooks/wechat/webhook"


def account_settings(mode: str = "compatible", **changes: Any) -> WeChatSettings:
    """The channel's settings for ACCOUNT in `mode`, with `changes` on top."""
    values: dict[str, Any] = {
        "token": ACCOUNT.token,
        "app_id": ACCOUNT.app_id,
        "encoding_aes_key": ACCOUNT.aes_key,
        "mode": mode,
    }
    return load_settings({**values, **changes}, environ={})


class RecordingBot:
    """Rasa's place: answers "echo: TEXT" and counts what reached it."""

    def __init__(self) -> None:
        self.messages: list[UserMessage] = []

    async def __call__(self, message: UserMessage) -> None:
        self.messages.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")
