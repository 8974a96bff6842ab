"""A second WeChat channel class, only for the test server (credentials.yml keys are class paths,
so one class can be configured once).

The test server runs the real channel with a normal reply budget next to this one with a budget
of zero, so the passive path and the customer-service path are both exercised over HTTP by one
Rasa process, without making the bot itself slow.
"""

from __future__ import annotations

from bot.channels.wechat.channel import WeChatInput


class ImpatientWeChatInput(WeChatInput):
    @classmethod
    def name(cls) -> str:
        return "wechat_impatient"
