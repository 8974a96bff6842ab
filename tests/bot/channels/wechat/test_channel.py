"""The WeChat channel over HTTP, against a running Rasa, driven by the WeChat simulator.

One Rasa process (module fixture) serves two WeChat channels: `wechat` in compatible mode with a
normal reply budget (plain, compatible and safe pushes are all accepted there), and the test-only
`wechat_impatient` in strict safe mode with a reply budget of zero, so that every answer takes
the customer-service path to the recording fake API. Rasa's HTTP API is enabled so the tests can
count what actually reached each follower's tracker. Expected facts come from the event DB.
The help desk's console runs there too, so staff replies travel the whole road to the fake API.

The last section has fast unit tests of the pieces (settings, rendering, the cache).
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from bot.channels.conversation_ids import conversation_id
from bot.limits import MAX_BODY_BYTES
from bot.channels.wechat.simulator import (
    Account,
    FakeCustomerServiceApi,
    Push,
    WeChatSimulator,
    new_msg_id,
    new_openid,
    running_fake_api,
    sign,
)

from bot import paths
from bot.db import EventDB
from ops import harness
from ops.harness import free_port

# Strong values of their own: the channel refuses short tokens and the documented examples.
ACCOUNT = Account(
    token="a01f1314b416c39875356f0f5138e61d",
    app_id="wx5e1f0c2b7a9d3e41",
    app_secret="test-app-secret",
    aes_key="LhZfVihBxJM2sixrKpQ7pe5MRrChEMMQcnlW3YwjC53",
    account_id="gh_cyberweek0001",
)
CHANNEL = "bot.channels.wechat.channel.WeChatInput"
CONSOLE = "bot.desk.console.DeskConsoleInput"
IMPATIENT_CHANNEL = "tests.bot.channels.wechat.impatient_channel.ImpatientWeChatInput"
CJK = ("\u4e00", "\u9fff")
IMPATIENT_LIMIT_BYTES = 300


@dataclass(frozen=True)
class WeChatServer:
    base_url: str
    fake_api: FakeCustomerServiceApi
    log: Path | None = None  # Rasa's output (the fuzz test reads it for tracebacks)

    def simulator(self, mode: str = "plain", channel: str = "wechat") -> WeChatSimulator:
        return WeChatSimulator(f"{self.base_url}/webhooks/{channel}/webhook", ACCOUNT, mode)  # type: ignore[arg-type]

    def user_events(self, openid: str) -> list[dict[str, Any]]:
        """The `user` events of the follower's tracker (`wx:<OpenID>`): what reached the bot."""
        url = f"{self.base_url}/conversations/{conversation_id('wx', openid)}/tracker"
        with urllib.request.urlopen(url, timeout=30) as response:
            tracker = json.loads(response.read())
        return [event for event in tracker.get("events", []) if event.get("event") == "user"]


def _credentials(fake_api_url: str) -> dict[str, dict[str, Any]]:
    common = {
        "token": ACCOUNT.token,
        "app_id": ACCOUNT.app_id,
        "app_secret": ACCOUNT.app_secret,
        "encoding_aes_key": ACCOUNT.aes_key,
        "api_base_url": fake_api_url,
        "api_backoff_s": 0.2,
    }
    return {
        CHANNEL: {**common, "mode": "compatible", "reply_budget_s": 4.0},
        IMPATIENT_CHANNEL: {
            **common,
            "mode": "safe",
            "reply_budget_s": 0.0,
            "reply_limit_bytes": IMPATIENT_LIMIT_BYTES,
        },
        CONSOLE: {},
    }


@pytest.fixture(scope="module")
def wechat_server(
    trained_model: Path,
    endpoints_file: Path,
    server_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WeChatServer]:
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as fake_api:
        credentials = tmp_path_factory.mktemp("wechat") / "credentials.yml"
        credentials.write_text(json.dumps(_credentials(fake_api.base_url)))  # JSON is YAML
        # The developer's own WeChat settings must not override the test's.
        env = {k: v for k, v in server_env.items() if not k.startswith("WECHAT_")}
        env.pop("REDIS_URL", None)
        port = free_port()
        server = harness.rasa_server(
            trained_model,
            endpoints_file,
            port,
            env,
            credentials=credentials,
            extra_args=["--enable-api"],
            health_path="/webhooks/wechat/",
        )
        log = tmp_path_factory.mktemp("wechat-log") / "rasa.log"
        with open(log, "ab") as output, server.running(output):
            yield WeChatServer(f"http://127.0.0.1:{port}", fake_api, log)


@pytest.fixture(scope="module")
def db(seeded_db_url: str) -> EventDB:
    return EventDB(seeded_db_url)


def has_cjk(text: str) -> bool:
    return any(CJK[0] <= ch <= CJK[1] for ch in text)


# -- URL verification and authentication -------------------------------------------------------


def test_url_verification_echoes_echostr_only_when_signed(wechat_server: WeChatServer) -> None:
    simulator = wechat_server.simulator()
    assert simulator.verify_url("7356201849") == (200, "7356201849")
    status, _ = simulator.verify_url("7356201849", signature="0" * 40)
    assert status == 403


def _forged(push: Push, **changes: str) -> Push:
    return Push({**push.query, **changes}, push.body)


@pytest.mark.parametrize(
    ("mode", "forge"),
    [
        ("plain", lambda p: _forged(p, signature="0" * 40)),
        ("plain", lambda p: Push({k: v for k, v in p.query.items() if k != "signature"}, p.body)),
        ("plain", lambda p: _forged(p, nonce=p.query["nonce"] + "1")),
        ("safe", lambda p: _forged(p, msg_signature="0" * 40)),
        (
            "safe",
            lambda p: Push(p.query, p.body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[A")),
        ),
    ],
    ids=[
        "wrong-signature",
        "no-signature",
        "nonce-changed",
        "wrong-msg-signature",
        "ciphertext-changed",
    ],
)
def test_forged_pushes_get_403_and_reach_nobody(
    wechat_server: WeChatServer, mode: str, forge: Any
) -> None:
    simulator = wechat_server.simulator(mode)
    openid = new_openid()
    reply = simulator.send(forge(simulator.push(simulator.text_xml(openid, "开幕式在哪里举行"))))
    assert reply.status == 403
    assert wechat_server.user_events(openid) == []


def test_push_encrypted_with_another_key_is_refused(wechat_server: WeChatServer) -> None:
    """Someone who knows the token but not the EncodingAESKey cannot inject messages."""
    intruder = Account(ACCOUNT.token, ACCOUNT.app_id, aes_key="a" * 43)
    simulator = WeChatSimulator(wechat_server.simulator().webhook_url, intruder, "safe")
    openid = new_openid()
    reply = simulator.send(simulator.push(simulator.text_xml(openid, "开幕式在哪里举行")))
    assert reply.status in (400, 403)
    assert wechat_server.user_events(openid) == []


@pytest.mark.parametrize("age_s", [-3600, 3600], ids=["an-hour-old", "an-hour-ahead"])
def test_stale_timestamp_is_refused(wechat_server: WeChatServer, age_s: int) -> None:
    simulator = wechat_server.simulator("safe")
    openid = new_openid()
    push = simulator.push(
        simulator.text_xml(openid, "开幕式在哪里举行"), timestamp=int(time.time()) - age_s
    )
    assert simulator.send(push).status == 403
    assert wechat_server.user_events(openid) == []


def test_signed_query_replayed_with_another_body_is_refused(wechat_server: WeChatServer) -> None:
    """Plain mode signs no body: a captured query string must not carry a second message."""
    simulator = wechat_server.simulator("plain")
    openid = new_openid()
    first = simulator.push(simulator.text_xml(openid, "你好"))
    assert simulator.send(first).status == 200
    replay = Push(first.query, simulator.text_xml(openid, "招聘会提供多少岗位").encode())
    assert simulator.send(replay).status == 403
    assert len(wechat_server.user_events(openid)) == 1


def test_plain_push_refused_by_a_safe_mode_channel(wechat_server: WeChatServer) -> None:
    simulator = wechat_server.simulator("plain", channel="wechat_impatient")
    openid = new_openid()
    assert simulator.ask(openid, "开幕式在哪里举行").status == 403
    assert wechat_server.user_events(openid) == []


# -- answers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
def test_chinese_question_answered_passively_in_every_mode(
    wechat_server: WeChatServer, db: EventDB, mode: str
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    openid = new_openid()
    reply = wechat_server.simulator(mode).ask(openid, "开幕式在哪里举行")
    assert reply.status == 200 and reply.text is not None, reply.body[:200]
    assert venue.name("zh") in reply.text
    assert reply.elapsed_s < 4.5
    assert [event["text"] for event in wechat_server.user_events(openid)] == ["开幕式在哪里举行"]


def test_english_question_answered_in_english(wechat_server: WeChatServer, db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    reply = wechat_server.simulator("safe").ask(new_openid(), "Where is the opening ceremony?")
    assert reply.text is not None
    assert venue.name("en") in reply.text
    assert not has_cjk(reply.text), reply.text


def test_context_is_kept_per_follower(wechat_server: WeChatServer, db: EventDB) -> None:
    simulator = wechat_server.simulator("compatible")
    follower, other = new_openid(), new_openid()
    simulator.ask(follower, "明天是什么主题日")
    day_after = db.theme_day_on(date(2024, 9, 12))
    assert day_after is not None
    reply = simulator.ask(follower, "后天呢")
    assert reply.text is not None and day_after.name("zh") in reply.text
    assert len(wechat_server.user_events(follower)) == 2
    assert wechat_server.user_events(other) == []


def test_numbered_options_select_the_button_payload(wechat_server: WeChatServer) -> None:
    simulator = wechat_server.simulator("safe")
    openid = new_openid()
    # The intent payload makes the fallback (the response with buttons) independent of NLU.
    fallback = simulator.ask(openid, "/nlu_fallback")
    assert fallback.text is not None
    assert "1. " in fallback.text and "2. " in fallback.text, fallback.text
    simulator.ask(openid, "１")  # a full-width digit, as Chinese keyboards type it
    chosen = wechat_server.user_events(openid)[-1]
    assert chosen["text"] == "/ask_schedule"
    assert chosen["parse_data"]["intent"]["name"] == "ask_schedule"


def test_a_number_selects_an_option_numbered_by_another_channel_instance(
    wechat_server: WeChatServer,
) -> None:
    """As behind nginx, where the follower's "2" may reach another Rasa instance: the options
    come from the shared tracker, not from the memory of the instance that numbered them."""
    same, moved = new_openid(), new_openid()
    instance = wechat_server.simulator("safe")
    for openid in (same, moved):
        instance.ask(openid, "/nlu_fallback")
    instance.ask(same, "2")
    other_instance = wechat_server.simulator("safe", channel="wechat_impatient")
    other_instance.send(other_instance.push(other_instance.text_xml(moved, "2")))
    chosen_here = wechat_server.user_events(same)[-1]["text"]
    assert chosen_here.startswith("/"), chosen_here
    assert _wait_for_user_events(wechat_server, moved, 2)[-1]["text"] == chosen_here


def test_a_number_after_an_answer_without_options_is_sent_as_typed(
    wechat_server: WeChatServer,
) -> None:
    simulator = wechat_server.simulator("safe")
    openid = new_openid()
    simulator.ask(openid, "/nlu_fallback")
    simulator.ask(openid, "/greet")  # an answer without buttons replaces the options
    simulator.ask(openid, "1")
    assert wechat_server.user_events(openid)[-1]["text"] == "1"


def _wait_for_user_events(
    server: WeChatServer, openid: str, count: int, timeout_s: float = 20.0
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while True:
        events = server.user_events(openid)
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.2)


def test_subscribe_gets_a_welcome_and_unsubscribe_nothing(wechat_server: WeChatServer) -> None:
    simulator = wechat_server.simulator("safe")
    openid = new_openid()
    welcome = simulator.send(simulator.push(simulator.event_xml(openid, "subscribe")))
    assert welcome.text is not None
    assert "日程" in welcome.text or "schedule" in welcome.text.lower(), welcome.text
    goodbye = simulator.send(simulator.push(simulator.event_xml(openid, "unsubscribe")))
    assert goodbye.is_success_only


@pytest.mark.parametrize(
    ("msg_type", "fields"),
    [
        ("image", {"PicUrl": "http://example.invalid/a.jpg", "MediaId": "m1"}),
        ("voice", {"MediaId": "m2", "Format": "amr"}),
        ("location", {"Location_X": "23.1", "Location_Y": "113.3", "Scale": "15", "Label": "广州"}),
        ("link", {"Title": "t", "Description": "d", "Url": "http://example.invalid"}),
        ("video", {"MediaId": "m3", "ThumbMediaId": "m4"}),
    ],
)
def test_non_text_messages_get_a_polite_text_reply(
    wechat_server: WeChatServer, msg_type: str, fields: dict[str, str]
) -> None:
    simulator = wechat_server.simulator("plain")
    openid = new_openid()
    reply = simulator.send(simulator.push(simulator.media_xml(openid, msg_type, **fields)))
    assert reply.text is not None
    assert "文字" in reply.text and "text" in reply.text
    assert wechat_server.user_events(openid) == []


def test_voice_with_speech_recognition_is_answered(
    wechat_server: WeChatServer, db: EventDB
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    simulator = wechat_server.simulator("plain")
    xml = simulator.media_xml(
        new_openid(), "voice", MediaId="m5", Format="amr", Recognition="开幕式在哪里举行"
    )
    reply = simulator.send(simulator.push(xml))
    assert reply.text is not None and venue.name("zh") in reply.text


# -- retries -------------------------------------------------------------------------------


def test_retries_are_processed_once_and_answered_alike(
    wechat_server: WeChatServer, db: EventDB
) -> None:
    """WeChat's three deliveries of one MsgId (here at once, plus one after the answer) make
    one bot turn; every delivery gets the same passive reply or "success"."""
    simulator = wechat_server.simulator("compatible")
    openid, msg_id = new_openid(), new_msg_id()
    xml = simulator.text_xml(openid, "开幕式在哪里举行", msg_id)
    replies = simulator.send_concurrently([simulator.push(xml) for _ in range(3)])
    replies.append(simulator.send(simulator.push(xml)))
    assert [reply.status for reply in replies] == [200] * 4
    texts = {reply.text for reply in replies if not reply.is_success_only}
    assert len(texts) == 1, texts
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None and venue.name("zh") in texts.pop()  # type: ignore[operator]
    events = wechat_server.user_events(openid)
    assert [event["message_id"] for event in events] == [msg_id]


def test_event_retries_are_processed_once(wechat_server: WeChatServer) -> None:
    simulator = wechat_server.simulator("plain")
    openid, created = new_openid(), int(time.time())
    xml = simulator.event_xml(openid, "subscribe", create_time=created)
    replies = simulator.send_concurrently([simulator.push(xml) for _ in range(3)])
    assert all(reply.status == 200 for reply in replies)
    assert len(wechat_server.user_events(openid)) == 1


# -- slow answers: the customer-service API ---------------------------------------------------


def passive_answer(server: WeChatServer, question: str) -> str:
    """What a new follower is answered at once: the reference for answers sent later."""
    reply = server.simulator("plain").ask(new_openid(), question)
    assert reply.text is not None, reply
    return reply.text


def delivered(server: WeChatServer, openid: str) -> str:
    """Everything the customer-service API got for `openid`, as one text (line breaks
    between parts ignored: the impatient channel's small limit splits answers)."""
    return "".join(m.content for m in server.fake_api.wait_until_quiet(openid)).replace("\n", "")


def test_slow_answer_is_delivered_once_through_the_customer_service_api(
    wechat_server: WeChatServer, db: EventDB
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    expected = passive_answer(wechat_server, "开幕式在哪里举行")
    assert venue.name("zh") in expected
    simulator = wechat_server.simulator("safe", channel="wechat_impatient")
    openid, msg_id = new_openid(), new_msg_id()
    xml = simulator.text_xml(openid, "开幕式在哪里举行", msg_id)
    first = simulator.send(simulator.push(xml))
    assert first.is_success_only and first.elapsed_s < 2.0, first
    retries = simulator.send_concurrently([simulator.push(xml) for _ in range(2)])
    assert all(reply.is_success_only for reply in retries)
    assert delivered(wechat_server, openid) == expected.replace("\n", "")
    # A barrier: Rasa handles one follower's messages in order, so once a later message is
    # answered, any second run of the first (and its delivery) would have happened.
    barrier_id = new_msg_id()
    wechat_server.simulator("plain").ask(openid, "你好", barrier_id)
    time.sleep(0.5)
    events = wechat_server.user_events(openid)
    assert [event["message_id"] for event in events] == [msg_id, barrier_id]
    sent = wechat_server.fake_api.messages_to(openid)
    assert "".join(m.content for m in sent).replace("\n", "") == expected.replace("\n", "")
    assert all("\\u" not in m.raw_body.decode() for m in sent)  # real UTF-8, as WeChat needs


def test_customer_service_api_busy_and_expired_token_are_survived(
    wechat_server: WeChatServer,
) -> None:
    fake = wechat_server.fake_api
    greeting = passive_answer(wechat_server, "你好").replace("\n", "")
    simulator = wechat_server.simulator("safe", channel="wechat_impatient")
    warm_up = new_openid()
    simulator.ask(warm_up, "你好")
    assert delivered(wechat_server, warm_up) == greeting
    tokens_before = fake.token_requests

    cached = new_openid()
    simulator.ask(cached, "你好")
    assert delivered(wechat_server, cached) == greeting
    assert fake.token_requests == tokens_before  # the cached token was used

    busy = new_openid()
    fake.fail_next_sends(-1)  # "system busy": retried after a back-off
    simulator.ask(busy, "你好")
    assert delivered(wechat_server, busy) == greeting

    expired = new_openid()
    fake.expire_tokens()  # 42001: a new token is fetched and the send repeated
    simulator.ask(expired, "你好")
    assert delivered(wechat_server, expired) == greeting
    assert fake.token_requests == tokens_before + 1


# -- the help desk: handoff, pause, staff replies ---------------------------------------------


class Console:
    """A member of staff in the help desk's console API (docs/desk-console-api.md)."""

    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.api = f"{base_url}/webhooks/desk/api"
        self.cookie = self.csrf = ""
        status, me, headers = self._call(
            "POST", "/login", {"username": username, "password": password}
        )
        assert status == 200, me
        self.csrf = me["csrf_token"]
        cookie = next(
            c for c in headers.get_all("Set-Cookie") or [] if c.startswith("cyberweek_desk=")
        )
        self.cookie = cookie.split(";")[0]

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any], Any]:
        headers = {"Content-Type": "application/json", "X-CSRF-Token": self.csrf}
        if self.cookie:
            headers["Cookie"] = self.cookie
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.api + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read()), response.headers
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read()), error.headers

    def handoff_of(self, conversation_id: str) -> dict[str, Any]:
        _, queue, _ = self._call("GET", "/handoffs?view=waiting")
        return next(h for h in queue["handoffs"] if h["conversation_id"] == conversation_id)

    def post(self, handoff_id: int, verb: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, answer, _ = self._call("POST", f"/handoffs/{handoff_id}/{verb}", body)
        return status, answer


def hand_over(server: WeChatServer) -> str:
    """A new follower asks for a person: the queue text comes as the passive reply, and a
    follow-up while staff have the conversation gets "success" (shown as nothing, no retry)."""
    simulator = server.simulator("safe")
    openid = new_openid()
    queued = simulator.ask(openid, "转人工")
    assert queued.text is not None and "人工" in queued.text, queued
    assert "handoff" not in queued.text and "{" not in queued.text  # the custom json is not shown
    waiting = simulator.ask(openid, "请问证件在哪里领取")
    assert waiting.is_success_only, waiting
    assert [e["text"] for e in server.user_events(openid)] == ["转人工", "请问证件在哪里领取"]
    return openid


def test_follower_is_queued_and_the_paused_bot_stays_silent(wechat_server: WeChatServer) -> None:
    openid = hand_over(wechat_server)
    time.sleep(0.5)
    assert wechat_server.fake_api.messages_to(openid) == []  # nothing pushed either


def test_staff_reply_reaches_the_follower_and_wechat_refusals_reach_staff(
    wechat_server: WeChatServer, staff_accounts: dict[str, Any], staff_password: str
) -> None:
    from bot.channels.wechat.delivery import STAFF_PREFIX

    openid = hand_over(wechat_server)
    console = Console(wechat_server.base_url, "wang", staff_password)
    # the desk holds `wx:<OpenID>`; the customer-service API gets the OpenID itself
    handoff = console.handoff_of(conversation_id("wx", openid))
    assert handoff["channel"] == "wechat"
    assert console.post(handoff["id"], "claim", {"take_over": False})[0] == 200
    status, answer = console.post(handoff["id"], "reply", {"text": "您好，证件在东门服务台领取。"})
    assert (status, answer.get("delivered")) == (200, True), answer
    name = staff_accounts["wang"].display_name
    assert [m.content for m in wechat_server.fake_api.messages_to(openid)] == [
        STAFF_PREFIX.format(name=name) + "您好，证件在东门服务台领取。"
    ]
    for errcode in (45015, 45047):
        requests_before = wechat_server.fake_api.send_requests
        wechat_server.fake_api.fail_next_sends(errcode)
        status, answer = console.post(handoff["id"], "reply", {"text": "还在吗？"})
        assert status == 502
        shown = (answer.get("error"), answer.get("channel"), answer.get("errcode"))
        assert shown == ("delivery", "wechat", errcode), answer
        assert answer.get("detail"), answer  # what it means, for the staff member
        assert wechat_server.fake_api.send_requests == requests_before + 1  # not retried
    assert len(wechat_server.fake_api.messages_to(openid)) == 1


# -- hostile input ----------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&d;</Content><MsgId>1</MsgId></xml>"
)
XXE = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>&e;</Content><MsgId>2</MsgId></xml>"
)
TEXT_TEMPLATE = (
    "<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName>"
    "<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>{content}</Content>"
    "<MsgId>3</MsgId></xml>"
)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not xml at all",
        b"<xml><ToUserName>gh</ToUserName><FromUserName>{openid}",  # truncated
        BILLION_LAUGHS.encode(),
        XXE.encode(),
        TEXT_TEMPLATE.replace("{content}", "x" * 70_000).encode(),  # over 64 KiB
        TEXT_TEMPLATE.replace("{content}", "开幕式").encode("gbk"),  # not UTF-8
        b"<root><FromUserName>{openid}</FromUserName><MsgType>text</MsgType></root>",
        b"<xml><FromUserName>{openid}</FromUserName><Content>hi</Content></xml>",  # no MsgType
        TEXT_TEMPLATE.replace("{openid}", "../../etc").encode(),  # not an OpenID
    ],
    ids=[
        "empty",
        "garbage",
        "truncated",
        "billion-laughs",
        "xxe",
        "huge",
        "gbk",
        "wrong-root",
        "no-msgtype",
        "bad-openid",
    ],
)
def test_bad_xml_is_refused_and_nothing_is_processed(
    wechat_server: WeChatServer, db: EventDB, body: bytes
) -> None:
    simulator = wechat_server.simulator("plain")
    openid = new_openid()
    stamp, nonce = str(int(time.time())), str(time.monotonic_ns() % 10**9)
    query = {
        "signature": sign(ACCOUNT.token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": openid,
    }
    reply = simulator.send(Push(query, body.replace(b"{openid}", openid.encode())))
    assert reply.status == (413 if len(body) > MAX_BODY_BYTES else 400)  # too large / malformed
    assert wechat_server.user_events(openid) == []
    # ...and the channel still answers the next follower.
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    assert venue.name("zh") in (simulator.ask(new_openid(), "开幕式在哪里举行").text or "")


def test_bad_xml_inside_a_valid_envelope_gets_400(wechat_server: WeChatServer) -> None:
    """The decrypted payload is checked like a plain body (the key holder is not trusted more)."""
    simulator = wechat_server.simulator("safe")
    openid = new_openid()
    push = simulator.push(XXE.replace("{openid}", openid))
    push = Push({**push.query, "openid": openid}, push.body)
    assert simulator.send(push).status == 400
    assert wechat_server.user_events(openid) == []


# -- unit tests of the pieces ----------------------------------------------------------------


def test_channel_in_credentials_yml_is_off_without_environment() -> None:
    """`make run` and the REST tests load credentials.yml with no WeChat variables set."""
    from rasa.shared.utils.io import read_config_file

    from bot.channels.wechat.config import load_settings

    credentials = read_config_file(paths.CREDENTIALS_FILE)
    assert CHANNEL in credentials
    settings = load_settings(credentials[CHANNEL], environ={})
    assert not settings.enabled


def test_environment_overrides_credentials() -> None:
    from bot.channels.wechat.config import load_settings

    settings = load_settings(
        {"token": "from-file-" + "f" * 32, "reply_budget_s": 3.0},
        environ={
            "WECHAT_TOKEN": ACCOUNT.token,
            "WECHAT_REPLY_BUDGET_S": "1.5",
            "WECHAT_AES_KEY": ACCOUNT.aes_key,
            "WECHAT_APP_ID": ACCOUNT.app_id,
        },
    )
    assert (settings.token, settings.reply_budget_s) == (ACCOUNT.token, 1.5)
    assert settings.mode == "safe"  # an AES key and no mode: the strict encrypted mode


@pytest.mark.parametrize(
    ("credentials", "names"),
    [
        (
            {"token": ACCOUNT.token, "mode": "safe", "app_id": "wx1", "encoding_aes_key": "short"},
            "WECHAT_AES_KEY",
        ),
        (
            {"token": ACCOUNT.token, "mode": "safe", "encoding_aes_key": ACCOUNT.aes_key},
            "WECHAT_APP_ID",
        ),
        ({"token": ACCOUNT.token, "mode": "secret"}, "is not one of"),
        ({"token": ACCOUNT.token, "reply_budget_s": 5}, "reply_budget_s"),
        ({"token": ACCOUNT.token, "tokne": "typo"}, "tokne"),
    ],
    ids=["short-aes-key", "no-app-id", "unknown-mode", "budget-over-5s", "unknown-key"],
)
def test_misconfiguration_fails_at_start(credentials: dict[str, Any], names: str) -> None:
    from bot.channels.wechat.config import SettingsError, load_settings

    with pytest.raises(SettingsError, match=names):
        load_settings(credentials, environ={})


def test_rasa_messages_become_one_text_with_numbered_options() -> None:
    from bot.channels.wechat.render import chosen_payload, render

    answer = render(
        [
            {"text": "第一段"},
            {
                "text": "请选择：",
                "buttons": [
                    {"title": "日程", "payload": "/ask_schedule"},
                    {"title": "场馆", "payload": "/ask_venue"},
                ],
            },
            {"image": "https://example.invalid/map.png"},
        ]
    )
    assert answer.text == "第一段\n\n请选择：\n1. 日程\n2. 场馆\n\nhttps://example.invalid/map.png"
    assert chosen_payload("2", answer.options) == "/ask_venue"
    assert chosen_payload(" １。", answer.options) == "/ask_schedule"
    assert chosen_payload("3", answer.options) is None
    assert chosen_payload("1号", answer.options) is None


def test_the_options_offered_are_those_of_the_bots_answer_since_the_last_message() -> None:
    from bot.channels.wechat.render import last_answer_options
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    def bot(text: str, titles: list[str], at: float) -> BotUttered:
        buttons = [{"title": t, "payload": f"/{t}"} for t in titles]
        return BotUttered(text, {"buttons": buttons}, timestamp=at)

    earlier = [UserUttered("hi", timestamp=100.0), bot("old", ["x"], 101.0)]
    answer = [UserUttered("?", timestamp=200.0), bot("a", ["one"], 201.0), bot("b", ["two"], 202.0)]
    events = [*earlier, *answer, ActionExecuted("action_listen", timestamp=203.0)]
    offered = last_answer_options(events, now=300.0, max_age_s=3600.0)
    assert [option.payload for option in offered] == ["/one", "/two"]
    assert last_answer_options(events, now=202.0 + 3601.0, max_age_s=3600.0) == ()
    assert last_answer_options([*events, UserUttered("next", timestamp=250.0)], 300.0, 3600.0) == ()
    assert last_answer_options([], 300.0, 3600.0) == ()


def test_the_stored_answer_to_a_message_is_the_bots_answer_up_to_the_next_message() -> None:
    from bot.channels.wechat.render import stored_answer
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    buttons = [{"title": "场馆", "payload": "/ask_venue"}]
    events = [
        UserUttered("开幕式几点", message_id="m1"),
        BotUttered("9:30 开始。"),
        BotUttered("还想了解：", {"buttons": buttons}),
        ActionExecuted("action_listen"),
        UserUttered("谢谢", message_id="m2"),
        BotUttered("不客气。"),
        UserUttered("/human", message_id="m3"),  # paused for the help desk: the bot is silent
    ]
    first = stored_answer(events, "m1")
    assert first is not None
    assert first.text == "9:30 开始。\n\n还想了解：\n1. 场馆"
    assert [option.payload for option in first.options] == ["/ask_venue"]
    assert stored_answer(events, "m2") == stored_answer(events[4:], "m2")
    assert stored_answer(events, "m2").text == "不客气。"  # type: ignore[union-attr]
    assert stored_answer(events, "m3").text == ""  # type: ignore[union-attr]
    assert stored_answer(events, "m4") is None
    assert stored_answer([], "m1") is None


def test_long_answers_are_split_and_truncated_within_the_byte_limit() -> None:
    from bot.channels.wechat.render import TRUNCATION_MARK, split_text, truncate_text, utf8_size

    text = "\n".join(f"第{i}行：网络安全为人民，网络安全靠人民" for i in range(200))
    text += "\n" + "长" * 3000  # one line longer than a whole message
    parts = split_text(text, 2048)
    assert all(utf8_size(part) <= 2048 for part in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    short = truncate_text(text, 2048)
    assert utf8_size(short) <= 2048 and short.endswith(TRUNCATION_MARK)
    assert truncate_text("短", 2048) == "短"


@pytest.mark.parametrize(
    "document",
    [
        "<!DOCTYPE xml><xml><MsgType>text</MsgType></xml>",
        '<!DOCTYPE xml [<!ENTITY a "b">]><xml><Content>&a;</Content></xml>',
        '<!DOCTYPE xml SYSTEM "http://example.invalid/x.dtd"><xml/>',
    ],
    ids=["bare-doctype", "internal-entity", "external-dtd"],
)
def test_any_dtd_is_refused_before_parsing(document: str) -> None:
    """Not left to xmltodict's own entity switch: no DTD of any kind gets past the channel."""
    from bot.channels.wechat.protocol import Rejected, ensure_safe_xml

    with pytest.raises(Rejected) as refused:
        ensure_safe_xml(document)
    assert refused.value.status == 400


def test_ttl_cache_forgets_old_entries_and_stays_bounded() -> None:
    from bot.cache import TtlCache

    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(ttl_s=10, max_entries=3, clock=lambda: now[0])
    for i in range(5):
        cache.put(f"k{i}", i)
    assert len(cache) == 3 and cache.get("k0") is None and cache.get("k4") == 4
    now[0] = 11
    assert cache.get("k4") is None and len(cache) == 0


# -- the access token cache shared through Redis -----------------------------------------------


def _send_from_two_processes(redis_url: str, fake: FakeCustomerServiceApi, openid: str) -> None:
    """Two API clients with their own memory, as two Rasa processes would have."""
    from bot.channels.wechat.api import CustomerServiceApi
    from bot.channels.wechat.config import WeChatSettings

    settings = WeChatSettings(
        token=ACCOUNT.token,
        app_id=ACCOUNT.app_id,
        app_secret=ACCOUNT.app_secret,
        api_base_url=fake.base_url,
        redis_url=redis_url,
    )

    async def scenario() -> None:
        clients = [CustomerServiceApi(settings), CustomerServiceApi(settings)]
        try:
            for number, client in enumerate(clients, start=1):
                assert await client.send_text(openid, f"第{number}条")
        finally:
            for client in clients:
                await client.close()

    asyncio.run(scenario())


def test_access_token_is_shared_through_redis(redis_url: str) -> None:
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as fake:
        openid = new_openid()
        _send_from_two_processes(redis_url, fake, openid)
        assert [m.content for m in fake.messages_to(openid)] == ["第1条", "第2条"]
        assert fake.token_requests == 1


def test_unreachable_redis_does_not_stop_answers() -> None:
    with running_fake_api(ACCOUNT.app_id, ACCOUNT.app_secret) as fake:
        openid = new_openid()
        _send_from_two_processes(f"redis://127.0.0.1:{free_port()}/0", fake, openid)
        assert len(fake.messages_to(openid)) == 2
        assert fake.token_requests == 2  # each client fell back to a token of its own


def test_sub_forum_list_fits_one_passive_reply(wechat_server: WeChatServer, db: EventDB) -> None:
    reply = wechat_server.simulator("plain").ask(new_openid(), "有哪些分论坛")
    assert reply.text is not None and len(reply.text.encode()) <= 2048
    for sub_forum in db.sub_forums():
        assert sub_forum.title("zh") in reply.text


def test_answer_longer_than_the_limit_arrives_whole_in_several_messages(
    wechat_server: WeChatServer, db: EventDB
) -> None:
    """The impatient channel's limit is IMPATIENT_LIMIT_BYTES: the sub-forum list needs
    several customer-service messages, each within the limit, together the whole answer."""
    openid = new_openid()
    simulator = wechat_server.simulator("safe", channel="wechat_impatient")
    assert simulator.ask(openid, "有哪些分论坛").is_success_only
    pieces = [message.content for message in wechat_server.fake_api.wait_until_quiet(openid)]
    assert len(pieces) > 1
    assert all(len(piece.encode()) <= IMPATIENT_LIMIT_BYTES for piece in pieces)
    for sub_forum in db.sub_forums():
        assert sub_forum.title("zh") in "\n".join(pieces)


# -- a fuzzed surface (issue #15, item 7; the fast layer: tests/bot/channels/test_fuzz.py) ------


def test_fuzzed_pushes_get_a_reply_or_a_clear_4xx(
    wechat_server: WeChatServer, seeded_db_url: str, server_logs: Path
) -> None:
    """Signed pushes of any body (plain, and inside a correctly signed AES envelope) and
    unsigned ones, against the real assistant: never a 5xx, no traceback in Rasa's or the
    action server's log, the event database unchanged."""
    import itertools
    from urllib.parse import urlencode

    from hypothesis import given
    from hypothesis import strategies as st

    from tests.bot.channels.fuzz import (
        event_tables_digest,
        fuzz_settings,
        traceback_lines,
        wechat_bodies,
    )
    from tests.bot.channels.test_fuzz import http_post, unsigned_queries

    assert wechat_server.log is not None
    logs = [wechat_server.log, server_logs / "actions.log"]
    offsets = [log.stat().st_size for log in logs]
    digest = event_tables_digest(seeded_db_url)
    plain, safe = wechat_server.simulator("plain"), wechat_server.simulator("safe")
    nonces = itertools.count(10**9)

    def post(push: Push) -> tuple[int, str]:
        path = f"/webhooks/wechat/webhook?{urlencode(push.query)}"
        status, content = http_post(wechat_server.base_url, path, push.body)
        return status, content.decode("utf-8", "replace")

    @given(
        body=wechat_bodies(plain),
        how=st.sampled_from(["plain", "safe", "unsigned"]),
        forged=unsigned_queries,
    )
    @fuzz_settings(40)
    def one_push(body: bytes, how: str, forged: dict[str, str]) -> None:
        nonce = str(next(nonces))
        if how == "safe":
            push = safe.push(body.decode("utf-8", "replace"), nonce=nonce)
        elif how == "plain":
            stamp = str(int(time.time()))
            query = {"signature": sign(ACCOUNT.token, stamp, nonce), "timestamp": stamp}
            push = Push({**query, "nonce": nonce}, body)
        else:
            push = Push(forged, body)
        status, answer = post(push)
        assert status in (200, 400, 403, 413), (status, answer[:300])
        if how == "unsigned":
            assert status in (403, 413)
        if status == 200:
            assert answer == "success" or answer.startswith("<xml>"), answer[:300]
        else:
            assert answer.strip()

    one_push()
    problems = []
    for log, offset in zip(logs, offsets):
        written = log.read_bytes()[offset:].decode("utf-8", "replace")
        problems += [f"{log.name}: {line}" for line in traceback_lines(written)]
    assert problems == []
    assert event_tables_digest(seeded_db_url) == digest
