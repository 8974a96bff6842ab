"""Several Rasa instances behind nginx, one WeChat account (issue #14, item 4): a retry that
reaches another instance is not run again, and one instance at a time fetches the access token.

Two channels with their own memory share one Redis (the conftest fixture), each on a Sanic app
of its own with a stand-in bot, pushes signed by the simulator as WeChat sends them; the
customer-service API is the simulator's fake, which counts token requests."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from bot.channels.conversation_ids import WECHAT, conversation_id

from bot.channels.wechat import turns
from bot.channels.wechat.api import CustomerServiceApi
from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.config import WeChatSettings, load_settings
from bot.channels.wechat.turns import claims_for
from bot.channels.wechat.simulator import (
    Account,
    FakeCustomerServiceApi,
    Push,
    WeChatSimulator,
    new_msg_id,
    new_openid,
    running_fake_api,
)
from ops.harness import free_port

ACCOUNT = Account(
    token="8d3f1a6c0b9e4d7f2a5c8e1b4d7a0c3f",
    app_id="wx7c2e9b4d1f0a3e58",
    app_secret="local-test-secret-instances",
)
WEBHOOK = "/webhooks/wechat/webhook"
_app_numbers = itertools.count()


class SlowBot:
    """Rasa's place, shared by both instances: answers "echo: TEXT" after `delay_s` and counts
    every run."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.runs: list[str] = []

    async def __call__(self, message: UserMessage) -> None:
        self.runs.append(message.text or "")
        await asyncio.sleep(self.delay_s)
        await message.output_channel.send_text_message(message.sender_id, f"echo: {message.text}")


def settings(redis_url: str, **changes: Any) -> WeChatSettings:
    values = {"token": ACCOUNT.token, "app_id": ACCOUNT.app_id, "mode": "plain"}
    return load_settings({**values, "redis_url": redis_url, **changes}, environ={})


def instances(
    shared: WeChatSettings, bot: SlowBot, store: TrackerStore | None = None
) -> list[tuple[Sanic, WeChatInput]]:
    """Two instances of the account: same settings and tracker store (as on PostgreSQL),
    nothing shared in memory."""
    store = store or InMemoryTrackerStore(Domain.empty())
    pairs = []
    for _ in range(2):
        channel = WeChatInput(shared)
        app = Sanic(f"wechat_instance_{next(_app_numbers)}")
        app.ctx.agent = SimpleNamespace(tracker_store=store)  # Rasa's agent, as far as read
        app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
        pairs.append((app, channel))
    return pairs


async def post(app: Sanic, push: Push, after_s: float = 0.0) -> str:
    await asyncio.sleep(after_s)
    _, response = await app.asgi_client.post(WEBHOOK, params=push.query, content=push.body)
    assert response.status == 200
    return response.body.decode("utf-8")


def reply_of(push: Push, body: str) -> str | None:
    return WeChatSimulator("", ACCOUNT, "plain").read_reply(body.encode(), push)  # type: ignore[arg-type]


def deliver(pairs: list[tuple[Sanic, WeChatInput]], *posts: tuple[int, Push, float]) -> list[str]:
    """Each (instance, push, delay) posted at once on one loop, then the instances closed
    (which lets answers going through the customer-service API finish)."""

    async def scenario() -> list[str]:
        try:
            return list(await asyncio.gather(*(post(pairs[i][0], p, d) for i, p, d in posts)))
        finally:
            for _, channel in pairs:
                await channel.close()

    return asyncio.run(scenario())


# -- one run per message, whichever instance the retry reaches ---------------------------------


@pytest.mark.parametrize(
    ("bot_delay_s", "retry_after_s", "lease_s"),
    [(0.4, 0.1, None), (0.0, 0.3, None), (1.0, 0.2, 0.3)],
    ids=["waits-for-the-first-ones-reply", "late-retry-same-reply", "owner-slower-than-its-lease"],
)
def test_a_retry_on_another_instance_is_not_run_again(
    redis_url: str,
    monkeypatch: pytest.MonkeyPatch,
    bot_delay_s: float,
    retry_after_s: float,
    lease_s: float | None,
) -> None:
    """The retry gets the first instance's reply; a live owner renews its claim (every
    lease/3) however long its turn takes."""
    if lease_s is not None:
        monkeypatch.setattr(turns, "CLAIM_LEASE_S", lease_s)
    bot = SlowBot(delay_s=bot_delay_s)
    pairs = instances(settings(redis_url), bot)
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    push = sim.push(sim.text_xml(new_openid(), "开幕式在哪里举行"))
    first, retry = deliver(pairs, (0, push, 0.0), (1, push, retry_after_s))
    assert len(bot.runs) == 1  # the retry did not run the turn again
    assert reply_of(push, first) == reply_of(push, retry) == "echo: 开幕式在哪里举行"


def test_a_slow_answer_goes_out_once_and_the_retry_elsewhere_answers_success(
    redis_url: str,
) -> None:
    """The first instance runs out of its budget and sends the answer by the API; WeChat's
    retry on the other instance gets "success", not a second answer."""
    bot = SlowBot(delay_s=0.6)
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    openid = new_openid()
    push = sim.push(sim.text_xml(openid, "明天是什么主题日"))
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as fake:
        shared = settings(
            redis_url,
            reply_budget_s=0.2,
            app_secret=ACCOUNT.app_secret,
            api_base_url=fake.base_url,
        )
        first, retry = deliver(instances(shared, bot), (0, push, 0.0), (1, push, 0.3))
        sent = [message.content for message in fake.messages_to(openid)]
    assert first == retry == "success"
    assert len(bot.runs) == 1
    assert sent == ["echo: 明天是什么主题日"]


def test_a_retry_runs_the_message_when_the_instance_that_claimed_it_died(redis_url: str) -> None:
    """The owner claimed the message and died before answering: its lease lapses and the
    retry on another instance runs the message, once."""
    bot = SlowBot()
    pairs = instances(settings(redis_url), bot)
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    msg_id = new_msg_id()
    push = sim.push(sim.text_xml(new_openid(), "主论坛在哪里", msg_id=msg_id))

    async def claim_and_die() -> None:
        dead = claims_for(redis_url, 300, ACCOUNT.app_id, lease_s=0.5)
        assert await dead.claim(msg_id)
        await dead.close()  # no renewals from here on: the process is gone

    asyncio.run(claim_and_die())
    (retry,) = deliver(pairs, (1, push, 0.0))
    assert reply_of(push, retry) == "echo: 主论坛在哪里"
    assert len(bot.runs) == 1


def test_a_retry_answers_what_the_dead_owner_stored_instead_of_running_it_again(
    redis_url: str,
) -> None:
    """The owner stored the turn and died before it replied: the retry that claims the
    message after the lease answers from the stored conversation, with the stored options
    numbered, and the conversation holds the message once."""
    bot = SlowBot()
    store = InMemoryTrackerStore(Domain.empty())
    pairs = instances(settings(redis_url), bot, store)
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    openid, msg_id = new_openid(), new_msg_id()
    push = sim.push(sim.text_xml(openid, "主论坛在哪里", msg_id=msg_id))
    buttons = [{"title": "日程", "payload": "/ask_schedule"}]
    stored_turn = [
        UserUttered("早上好", message_id=new_msg_id()),
        BotUttered("早上好！"),
        ActionExecuted("action_listen"),
        UserUttered("主论坛在哪里", message_id=msg_id),
        BotUttered("主论坛在国家会展中心。"),
        BotUttered("还想了解：", {"buttons": buttons}),
        ActionExecuted("action_listen"),
    ]
    conversation = conversation_id(WECHAT, openid)

    async def store_the_turn_and_die() -> None:
        await store.save(DialogueStateTracker.from_events(conversation, stored_turn))
        dead = claims_for(redis_url, 300, ACCOUNT.app_id, lease_s=0.5)
        assert await dead.claim(msg_id)
        await dead.close()

    asyncio.run(store_the_turn_and_die())
    (retry,) = deliver(pairs, (1, push, 0.0))
    assert reply_of(push, retry) == "主论坛在国家会展中心。\n\n还想了解：\n1. 日程"
    assert bot.runs == []


def test_without_redis_each_instance_still_answers() -> None:
    """Redis unreachable: no shared dedupe, but no follower goes unanswered."""
    bot = SlowBot()
    pairs = instances(settings(f"redis://127.0.0.1:{free_port()}/0"), bot)
    sim = WeChatSimulator("", ACCOUNT, "plain")  # type: ignore[arg-type]
    push = sim.push(sim.text_xml(new_openid(), "你好"))
    replies = deliver(pairs, (0, push, 0.0), (1, push, 0.0))
    assert {reply_of(push, body) for body in replies} == {"echo: 你好"}


# -- one access-token refresher for all instances ---------------------------------------------


@pytest.fixture()
def fake() -> Iterator[FakeCustomerServiceApi]:
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as api:
        yield api


def api_settings(redis_url: str, fake: FakeCustomerServiceApi) -> WeChatSettings:
    return WeChatSettings(
        token=ACCOUNT.token,
        app_id=ACCOUNT.app_id,
        app_secret=ACCOUNT.app_secret,
        api_base_url=fake.base_url,
        redis_url=redis_url,
    )


def send_from_clients(shared: WeChatSettings, openid: str, clients: int) -> list[bool]:
    """One message from each of `clients` API clients at once, as from as many instances."""

    async def scenario() -> list[bool]:
        apis = [CustomerServiceApi(shared) for _ in range(clients)]
        try:
            sends = (api.send_text(openid, f"第{n}条") for n, api in enumerate(apis, start=1))
            return list(await asyncio.gather(*sends))
        finally:
            for api in apis:
                await api.close()

    return asyncio.run(scenario())


def test_concurrent_refreshes_fetch_one_token(redis_url: str, fake: FakeCustomerServiceApi) -> None:
    openid = new_openid()
    assert send_from_clients(api_settings(redis_url, fake), openid, clients=4) == [True] * 4
    assert len(fake.messages_to(openid)) == 4
    assert fake.token_requests == 1  # a second fetch would have invalidated the first token


def test_a_refresh_lock_left_by_a_dead_instance_expires(
    redis_url: str, fake: FakeCustomerServiceApi
) -> None:
    import redis

    client = redis.Redis.from_url(redis_url)
    client.set(f"cyberweek:wechat:access_token_refresh:{ACCOUNT.app_id}", "dead", px=300)
    client.close()
    openid = new_openid()
    assert send_from_clients(api_settings(redis_url, fake), openid, clients=2) == [True, True]
    assert fake.token_requests == 1
