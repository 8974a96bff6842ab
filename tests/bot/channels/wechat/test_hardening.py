"""WeChat replay bound to the body and weak configuration refused (issue #15, item 5), through
Sanic's test client: the channel's blueprint on an app of its own, a recording bot behind it,
pushes signed (and encrypted) by the simulator exactly as WeChat sends them."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from sanic import Sanic

from bot.channels.wechat.channel import WeChatInput
from bot.channels.wechat.config import (
    DOCUMENTED_EXAMPLE_SECRETS,
    MIN_TOKEN_CHARS,
    SettingsError,
    load_settings,
)
from bot.channels.wechat.replay import MemoryBindings, RedisBindings
from bot.channels.wechat.simulator import Push, WeChatSimulator, new_msg_id, new_openid
from tests.bot.channels.wechat.stand_in import ACCOUNT, WEBHOOK, RecordingBot, account_settings

_app_numbers = itertools.count()


settings = account_settings


def app_with(channel: WeChatInput, bot: RecordingBot) -> Sanic:
    app = Sanic(f"wechat_hardening_{next(_app_numbers)}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
    return app


@pytest.fixture()
def bot() -> RecordingBot:
    return RecordingBot()


@pytest.fixture()
def app(bot: RecordingBot) -> Iterator[Sanic]:
    yield app_with(WeChatInput(settings()), bot)


def simulator(mode: str = "plain") -> WeChatSimulator:
    return WeChatSimulator("", ACCOUNT, mode)  # type: ignore[arg-type]


def send(app: Sanic, *pushes: Push) -> list[tuple[int, str]]:
    """Each push's status and body, in order, on one event loop (a retry may await the task
    of the first delivery, as on a running server)."""

    async def deliver() -> list[tuple[int, str]]:
        results = []
        for push in pushes:
            _, response = await app.asgi_client.post(WEBHOOK, params=push.query, content=push.body)
            results.append((response.status, response.body.decode("utf-8", "replace")))
        return results

    return asyncio.run(deliver())


def reply_text(push: Push, body: str, mode: str = "plain") -> str | None:
    return simulator(mode).read_reply(body.encode(), push)


# -- replay bound to the body ------------------------------------------------------------------


def test_a_signed_query_replayed_with_another_body_is_refused(
    app: Sanic, bot: RecordingBot
) -> None:
    sim, openid = simulator(), new_openid()
    first = sim.push(sim.text_xml(openid, "开幕式在哪里举行"))
    forged = Push(first.query, sim.text_xml(openid, "招聘会提供多少岗位").encode())
    (status, _), (forged_status, reason) = send(app, first, forged)
    assert status == 200
    assert forged_status == 403 and "another body" in reason
    assert [m.text for m in bot.messages] == ["开幕式在哪里举行"]


def test_the_same_query_with_the_same_body_is_a_retry_answered_alike(
    app: Sanic, bot: RecordingBot
) -> None:
    sim, openid = simulator(), new_openid()
    push = sim.push(sim.text_xml(openid, "开幕式在哪里举行"))
    first, retry = send(app, push, push)
    assert first[0] == retry[0] == 200
    assert reply_text(push, first[1]) == reply_text(push, retry[1]) == "echo: 开幕式在哪里举行"
    assert len(bot.messages) == 1  # the bot ran once


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_a_message_id_from_another_follower_is_refused(
    app: Sanic, bot: RecordingBot, mode: str
) -> None:
    """Another OpenID under a seen MsgId would get the first follower's remembered answer."""
    sim, msg_id = simulator(mode), new_msg_id()
    victim, intruder = new_openid(), new_openid()
    first = sim.push(sim.text_xml(victim, "我的问题", msg_id))
    replayed = sim.push(sim.text_xml(intruder, "我的问题", msg_id))
    (_, answer), (status, reason) = send(app, first, replayed)
    assert reply_text(first, answer, mode) == "echo: 我的问题"
    assert status == 403 and "another follower" in reason
    assert [m.sender_id.endswith(victim) for m in bot.messages] == [True]


def test_an_encrypted_push_retried_is_answered_alike(app: Sanic, bot: RecordingBot) -> None:
    sim = simulator("safe")
    push = sim.push(sim.text_xml(new_openid(), "Where is the expo?"))
    replies = send(app, push, push)
    assert [status for status, _ in replies] == [200, 200]
    assert {reply_text(push, body, "safe") for _, body in replies} == {"echo: Where is the expo?"}
    assert len(bot.messages) == 1


def test_replays_are_refused_by_another_process_through_redis(redis_url: str) -> None:
    """Two channels with their own memory, as two Rasa instances behind nginx."""
    shared = settings("plain", redis_url=redis_url)
    bots = [RecordingBot(), RecordingBot()]
    apps = [app_with(WeChatInput(shared), bot) for bot in bots]
    sim, openid = simulator(), new_openid()
    first = sim.push(sim.text_xml(openid, "你好"))
    assert send(apps[0], first)[0][0] == 200
    assert send(apps[1], Push(first.query, sim.text_xml(openid, "再见").encode()))[0][0] == 403
    msg_id = new_msg_id()
    assert send(apps[0], sim.push(sim.text_xml(openid, "一", msg_id)))[0][0] == 200
    assert send(apps[1], sim.push(sim.text_xml(new_openid(), "一", msg_id)))[0][0] == 403
    assert len(bots[1].messages) == 0


def test_bindings_fall_back_to_memory_when_redis_is_unreachable() -> None:
    from ops.harness import free_port

    bindings = RedisBindings(f"redis://127.0.0.1:{free_port()}/0", 60, "test:")

    async def scenario() -> list[str]:
        try:
            return [await bindings.bind("k", "a"), await bindings.bind("k", "b")]
        finally:
            await bindings.close()

    assert asyncio.run(scenario()) == ["a", "a"]


def test_memory_bindings_keep_the_first_value_until_they_expire() -> None:
    bindings = MemoryBindings(ttl_s=0.05)

    async def scenario() -> list[str]:
        first = [await bindings.bind("k", "a"), await bindings.bind("k", "b")]
        await asyncio.sleep(0.1)
        return [*first, await bindings.bind("k", "c")]

    assert asyncio.run(scenario()) == ["a", "a", "c"]


# -- weak configuration refused at start-up ----------------------------------------------------


def refusal(**changes: Any) -> str:
    with pytest.raises(SettingsError) as refused:
        settings("plain", **changes)
    return str(refused.value)


def test_a_token_shorter_than_32_characters_is_refused() -> None:
    message = refusal(token="x7" * 15 + "q")  # 31 characters
    assert "WECHAT_TOKEN has 31 characters" in message
    assert f"at least {MIN_TOKEN_CHARS}" in message and "secrets.token_hex(16)" in message
    assert settings("plain", token="x7" * 16).token == "x7" * 16  # 32 are enough


@pytest.mark.parametrize("token", ["spamtest", "QDG6eK", "123456"])
def test_a_documented_example_token_is_refused(token: str) -> None:
    message = refusal(token=token)
    assert "WECHAT_TOKEN is an example token" in message and "WeChat console" in message


@pytest.mark.parametrize(
    "aes_key",
    sorted(secret for secret in DOCUMENTED_EXAMPLE_SECRETS if len(secret) == 43),
)
def test_a_documented_example_aes_key_is_refused(aes_key: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings("safe", encoding_aes_key=aes_key)
    assert "WECHAT_AES_KEY is an example EncodingAESKey" in str(refused.value)
    assert "随机生成" in str(refused.value)


def test_the_documented_examples_include_wechatpys_and_wechats() -> None:
    assert {
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",  # wechatpy tests/test_crypto.py
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",  # WeChat's WXBizMsgCrypt sample
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",  # WeCom's callback example
    } <= DOCUMENTED_EXAMPLE_SECRETS


def test_a_plain_http_api_base_url_is_refused() -> None:
    message = refusal(api_base_url="http://api.weixin.qq.com")
    assert "WECHAT_API_BASE_URL" in message and "https://" in message


@pytest.mark.parametrize("url", ["https://api.weixin.qq.com", "http://127.0.0.1:8088"])
def test_https_and_a_loopback_test_api_are_accepted(url: str) -> None:
    assert settings("plain", api_base_url=url).api_base_url == url


def test_an_unconfigured_channel_is_not_checked() -> None:
    """No token: the channel is off (`make run` on a laptop), nothing to refuse."""
    off = load_settings({"api_base_url": "http://api.weixin.qq.com"}, environ={})
    assert not off.enabled


def test_weak_settings_from_the_environment_are_refused_too() -> None:
    with pytest.raises(SettingsError, match="WECHAT_TOKEN has 5 characters"):
        load_settings({}, environ={"WECHAT_TOKEN": "short"})


def test_the_projects_credentials_file_passes_without_wechat_and_fails_with_a_weak_token() -> None:
    from bot import paths
    from bot.channels.wechat.config import check_credentials_file

    check_credentials_file(paths.CREDENTIALS_FILE, environ={})  # `make run` on a laptop
    with pytest.raises(SettingsError, match="WECHAT_TOKEN is an example token"):
        check_credentials_file(paths.CREDENTIALS_FILE, environ={"WECHAT_TOKEN": "spamtest"})


def test_serve_refuses_a_weak_wechat_setting_before_starting_anything(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    from bot import paths
    from ops import serve

    model = tmp_path / "model.tar.gz"
    model.write_bytes(b"")  # serve checks that a model exists first
    monkeypatch.setattr(paths, "MODEL_PATH", model)
    monkeypatch.setenv("WECHAT_TOKEN", "too-short")
    monkeypatch.delenv("CYBERWEEK_CORS_ORIGINS", raising=False)
    started: list[object] = []
    monkeypatch.setattr(serve.harness, "running_assistant", lambda *a, **k: started.append(a))
    assert serve.serve(5005, "127.0.0.1") == 1
    assert "WECHAT_TOKEN has 9 characters" in capsys.readouterr().err
    assert started == []
