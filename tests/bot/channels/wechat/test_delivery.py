"""Staff replies to WeChat followers (bot/channels/wechat/delivery.py) against the fake
customer-service API on loopback: the prefix, WeChat's 48 h / 5 message refusals reaching staff
without retries, and the access token renewed once. No Rasa here; the whole road (follower,
pause, console) is tested in test_channel.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from bot.channels.conversation_ids import conversation_id
from bot.channels.delivery import DeliveryFailed
from bot.channels.wechat.api import CustomerServiceApi
from bot.channels.wechat.config import WeChatSettings
from bot.channels.wechat.delivery import STAFF_PREFIX, WeChatDelivery
from bot.channels.wechat.render import render, utf8_size
from bot.channels.wechat.simulator import FakeCustomerServiceApi, new_openid, running_fake_api

APP_ID, APP_SECRET = "wx5e1f0c2b7a9d3e41", "test-app-secret"


@pytest.fixture()
def fake() -> Iterator[FakeCustomerServiceApi]:
    with running_fake_api(APP_ID, APP_SECRET) as api:
        yield api


def run(
    fake: FakeCustomerServiceApi,
    scenario: Callable[[WeChatDelivery], Awaitable[Any]],
    limit_bytes: int = 2048,
) -> Any:
    """`scenario` with a delivery on a fresh API client (its own token cache), closed after."""
    settings = WeChatSettings(
        token="a94a113eb875671c0e8c2fc86fc2734b",
        app_id=APP_ID,
        app_secret=APP_SECRET,
        api_base_url=fake.base_url,
        api_backoff_s=0.05,
    )

    async def main() -> Any:
        api = CustomerServiceApi(settings)
        try:
            return await scenario(WeChatDelivery(api, limit_bytes))
        finally:
            await api.close()

    return asyncio.run(main())


def test_staff_replies_carry_the_prefix_and_bot_messages_do_not(
    fake: FakeCustomerServiceApi,
) -> None:
    openid = new_openid()
    conversation = conversation_id("wx", openid)  # what the desk holds: the OpenID goes out

    async def scenario(delivery: WeChatDelivery) -> None:
        await delivery.send(conversation, "您好，开幕式在主会场举行。", "小王")
        await delivery.send(conversation, "工作人员已将对话交还智能助手。", None)
        await delivery.notify(conversation, {"status": "open", "staff": "小王", "typing": True})

    run(fake, scenario)
    assert [m.content for m in fake.messages_to(openid)] == [
        STAFF_PREFIX.format(name="小王") + "您好，开幕式在主会场举行。",
        "工作人员已将对话交还智能助手。",
    ]
    assert fake.send_requests == 2  # notify() spent nothing of the follower's 5 messages


def test_a_long_staff_reply_is_split_within_the_limit(fake: FakeCustomerServiceApi) -> None:
    openid = new_openid()
    text = "\n".join(f"第{i}条：请到主会场东门服务台领取证件" for i in range(8))
    run(fake, lambda delivery: delivery.send(f"wx:{openid}", text, "小王"), limit_bytes=200)
    parts = [m.content for m in fake.messages_to(openid)]
    assert len(parts) > 1 and all(utf8_size(part) <= 200 for part in parts)
    assert parts[0].startswith(STAFF_PREFIX.format(name="小王"))
    assert "".join(parts).replace("\n", "") == (STAFF_PREFIX.format(name="小王") + text).replace(
        "\n", ""
    )


@pytest.mark.parametrize(
    ("errcode", "detail"),
    [(45015, "48 hours"), (45047, "5 messages"), (40003, "injected failure")],
    ids=["window-passed", "quota-used-up", "other-with-errmsg"],
)
def test_wechat_refusals_reach_staff_and_are_not_retried(
    fake: FakeCustomerServiceApi, errcode: int, detail: str
) -> None:
    openid = new_openid()
    fake.fail_next_sends(errcode)
    long_reply = "\n".join(
        ["这是一条分成两段发送的回复"] * 20
    )  # two parts: the second is not tried
    with pytest.raises(DeliveryFailed) as failed:
        run(
            fake,
            lambda delivery: delivery.send(f"wx:{openid}", long_reply, "小王"),
            limit_bytes=300,
        )
    assert failed.value.errcode == errcode
    assert detail in failed.value.detail
    assert fake.send_requests == 1
    assert fake.messages_to(openid) == []


def test_an_invalid_token_is_replaced_once_and_the_reply_delivered(
    fake: FakeCustomerServiceApi,
) -> None:
    openid = new_openid()

    async def scenario(delivery: WeChatDelivery) -> None:
        await delivery.send(f"wx:{openid}", "第一条", "小王")
        fake.fail_next_sends(40001)  # the token WeChat holds is no longer valid
        await delivery.send(f"wx:{openid}", "第二条", "小王")

    run(fake, scenario)
    assert [m.content.removeprefix(STAFF_PREFIX.format(name="小王")) for m in fake.sent] == [
        "第一条",
        "第二条",
    ]
    assert fake.token_requests == 2
    assert fake.send_requests == 3


@pytest.mark.parametrize(
    ("conversation", "why"),
    [
        ("{openid}", "before conversation ids were namespaced"),  # legacy: read-only
        ("rest:{openid}", "not a conversation of this channel"),  # a REST caller's OpenID-named
        ("web:{openid}", "not a conversation of this channel"),
    ],
    ids=["legacy", "rest", "web"],
)
def test_only_wechat_conversations_are_sent_to(
    fake: FakeCustomerServiceApi, conversation: str, why: str
) -> None:
    openid = new_openid()
    with pytest.raises(DeliveryFailed, match=why):
        run(fake, lambda d: d.send(conversation.format(openid=openid), "您好", "小王"))
    assert fake.send_requests == 0 and fake.messages_to(openid) == []


def test_the_handoff_json_is_not_shown_to_the_follower() -> None:
    """What Rasa's collector holds after the handoff: the queue text, then the custom json."""
    answer = render(
        [
            {"recipient_id": "o1", "text": "好的，正在为您转接人工客服。"},
            {"recipient_id": "o1", "custom": {"handoff": {"status": "waiting"}}},
        ]
    )
    assert answer.text == "好的，正在为您转接人工客服。"
    assert render([]).text == ""  # a paused conversation: Rasa says nothing, WeChat gets success
