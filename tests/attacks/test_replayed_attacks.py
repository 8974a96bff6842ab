"""Each attack of issue #15's "Why", replayed against the running assistant (tests/attacks/
conftest.py: the shipped channels, rate limits on, WeChat configured) with the safe behaviour
asserted. docs/security.md names the control behind each; the unit and fuzz tests of those
controls are beside their code. One attack of the list is replayed in a browser instead:
the kiosk that showed the previous visitor's chat (tests/bot/channels/test_widget_browser.py).
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import socketio

from bot import paths
from bot.channels.conversation_ids import conversation_id
from bot.channels.wechat.simulator import Push, new_openid
from bot.db import EventDB
from bot.limits import MAX_BODY_BYTES, RATE_CONNECTIONS_PER_IP, RATE_CONVERSATION
from bot.unavailable import SLOW_DOWN, slow_down
from ops import harness
from tests.attacks.conftest import ACCOUNT, ExposedAssistant, exposed_env
from tests.bot.channels import fuzz
from tests.bot.channels.test_fuzz import http_post

REPLY_TIMEOUT_S = 30
TWENTY_MB = 20 * 1024 * 1024
# Rasa's RSS may move by a few MB between requests on its own; five accepted 20 MB bodies grew
# it by ~40 MB (the issue).
RSS_SLACK_BYTES = 15 * 1024 * 1024
PACED_QUESTIONS = 30
PACE_S = 1.1
FLOOD_CONNECTIONS = 4


def limit_count(rule: str) -> int:
    """The N of a rule written "N per M seconds"."""
    return int(rule.split()[0])


@pytest.fixture(scope="module")
def db(seeded_db_url: str) -> EventDB:
    return EventDB(seeded_db_url)


def new_sender() -> str:
    return f"attack-{uuid.uuid4().hex[:12]}"


def post_json(
    url: str, body: dict[str, Any], address: str = "10.0.0.1"
) -> tuple[int, Any, dict[str, str]]:
    """(status, parsed body, headers); `address` is the client's, as nginx would pass it on."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-Real-IP": address},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=REPLY_TIMEOUT_S) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        content = error.read()
        try:
            parsed: Any = json.loads(content)
        except ValueError:
            parsed = content.decode("utf-8", "replace")
        return error.code, parsed, dict(error.headers)


def address_of(sender: str) -> str:
    """An address of the sender's own: each conversation of these tests its own client."""
    digest = hashlib.sha256(sender.encode()).digest()
    return f"10.{100 + digest[0] % 100}.{digest[1]}.{digest[2]}"


def ask(exposed: ExposedAssistant, sender: str, text: str, address: str | None = None) -> str:
    body = {"sender": sender, "message": text}
    status, replies, _ = post_json(exposed.rest_url, body, address or address_of(sender))
    assert status == 200 and replies, (status, replies)
    return "\n".join(reply.get("text", "") for reply in replies)


def rss_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match is not None
    return int(match.group(1)) * 1024


def environment_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (item.decode("utf-8", "replace").partition("=") for item in raw if item)
    return {name: value for name, _, value in pairs}


class Widget(fuzz.Widget):
    """The widget of one client address (nginx's X-Real-IP), its session not yet asked for."""

    def __init__(self, exposed: ExposedAssistant, address: str) -> None:
        super().__init__(exposed.base_url, REPLY_TIMEOUT_S, {"X-Real-IP": address}, join=False)

    def say(self, text: str) -> None:
        self.send("user_uttered", {"message": text})

    def nothing_more(self, wait_s: float) -> bool:
        return self.nothing_more_than([], wait_s)

    def nothing_more_than(self, received: list[Any], wait_s: float) -> bool:
        """True when no message comes within `wait_s`; else adds it to `received`."""
        try:
            received.append(self.replies.get(timeout=wait_s))
        except queue.Empty:
            return True
        return False


def connection_refusal(exposed: ExposedAssistant, address: str) -> Any:
    """What the server said refusing a new socket from `address`; None when it connected."""
    client = socketio.Client(reconnection=False)
    refusals: list[Any] = []
    client.on("connect_error", refusals.append)
    try:
        client.connect(exposed.base_url, headers={"X-Real-IP": address}, transports=["websocket"])
    except socketio.exceptions.ConnectionError:
        return refusals[0] if refusals else "refused without a word"
    client.disconnect()
    return None


@pytest.fixture()
def widgets(exposed: ExposedAssistant) -> Iterator[list[Widget]]:
    opened: list[Widget] = []
    yield opened
    for widget in opened:
        widget.close()


# -- "five REST requests each carrying 20 MB of metadata were all accepted" ------------------


def test_twenty_megabyte_bodies_are_refused_and_rasa_does_not_grow(
    exposed: ExposedAssistant, no_traceback: None
) -> None:
    rasa = exposed.pid("Rasa")
    ask(exposed, new_sender(), "你好")  # warm: the first turn loads what every turn needs
    before = rss_bytes(rasa)
    body = json.dumps(
        {"sender": new_sender(), "message": "hi", "metadata": {"x": "a" * TWENTY_MB}}
    ).encode()
    parts = urlsplit(exposed.rest_url)
    for _ in range(5):
        status, content = http_post(f"http://{parts.netloc}", parts.path, body)
        assert status == 413, (status, content[:200])
    assert rss_bytes(rasa) - before < RSS_SLACK_BYTES


def test_only_the_metadata_the_product_uses_reaches_the_tracker(
    exposed: ExposedAssistant, no_traceback: None
) -> None:
    sender = new_sender()
    metadata = {"language": "en", "x": "a" * 10_000, "nested": {"deep": [1, 2, 3]}}
    body = {"sender": sender, "message": "Where is the expo?", "metadata": metadata}
    status, replies, _ = post_json(exposed.rest_url, body, address_of(sender))
    assert status == 200 and replies
    [stored] = exposed.events(conversation_id("rest", sender), "user")
    kept = {key: value for key, value in stored["metadata"].items() if key in metadata}
    assert kept == {"language": "en"}  # beside it, Rasa's own assistant_id and model_id


def test_a_body_just_over_64_kib_is_refused_too(exposed: ExposedAssistant) -> None:
    body = json.dumps({"sender": new_sender(), "message": "x" * MAX_BODY_BYTES}).encode()
    parts = urlsplit(exposed.rest_url)
    assert http_post(f"http://{parts.netloc}", parts.path, body)[0] == 413


# -- "a REST request without `sender` joins the one shared conversation `default`" ------------


def test_a_request_without_a_sender_is_refused_and_joins_nothing(
    exposed: ExposedAssistant,
) -> None:
    status, content, _ = post_json(exposed.rest_url, {"message": "明天是什么主题日"})
    assert status == 400
    assert "sender" in json.dumps(content, ensure_ascii=False)
    assert not {"default", conversation_id("rest", "default")} & exposed.conversations()


# -- "the widget's session_request joins whatever session id the client names" -------------


def test_naming_another_visitors_session_joins_a_new_one(
    exposed: ExposedAssistant, widgets: list[Widget]
) -> None:
    visitor = Widget(exposed, "10.1.0.1")
    attacker = Widget(exposed, "10.1.0.2")
    widgets += [visitor, attacker]
    session, token = visitor.join()
    visitor.say("开幕式在哪里举行")
    assert visitor.answered()
    for forged in (None, "", token[:-1] + ("0" if token[-1] != "0" else "1")):
        taken, _ = attacker.join(session, forged)
        assert taken != session
    attacker.say("我是谁")  # whatever it writes stays out of the visitor's conversation
    attacker.answered()
    visitor.say("几点开始")
    assert visitor.answered()
    assert attacker.nothing_more(wait_s=2), "the attacker received the visitor's reply"
    assert exposed.user_texts(conversation_id("web", session)) == ["开幕式在哪里举行", "几点开始"]


def test_a_widget_session_id_as_a_rest_sender_is_another_conversation(
    exposed: ExposedAssistant, widgets: list[Widget]
) -> None:
    """REST, widget and WeChat ids shared one namespace: a widget's session id sent as a REST
    sender read the visitor's context."""
    visitor = Widget(exposed, "10.1.0.3")
    widgets.append(visitor)
    session, _ = visitor.join()
    visitor.say("开幕式在哪里举行")
    visitor.answered()
    ask(exposed, session, "几点开始", address="10.1.0.4")
    assert exposed.user_texts(conversation_id("web", session)) == ["开幕式在哪里举行"]
    assert exposed.user_texts(conversation_id("rest", session)) == ["几点开始"]


def test_a_wechat_openid_as_a_rest_sender_reads_nothing_of_the_follower(
    exposed: ExposedAssistant, db: EventDB
) -> None:
    follower = new_openid()
    wechat = exposed.wechat()
    assert wechat.ask(follower, "明天是什么主题日").text
    day_after = db.theme_day_on(date(2024, 9, 12))
    assert day_after is not None
    # The follower's own follow-up uses the context; the same words sent as REST with the
    # OpenID as sender do not (the day after *tomorrow* would need the follower's question).
    follower_reply = wechat.ask(follower, "再后一天呢").text
    assert follower_reply is not None and day_after.name("zh") in follower_reply
    attacker_reply = ask(exposed, follower, "再后一天呢", address="10.1.0.5")
    assert day_after.name("zh") not in attacker_reply
    assert exposed.user_texts(conversation_id("rest", follower)) == ["再后一天呢"]
    assert exposed.user_texts(conversation_id("wx", follower)) == ["明天是什么主题日", "再后一天呢"]


# -- "visitors can type Rasa's /intent{...} syntax" -----------------------------------------


def test_a_typed_day_offset_of_a_billion_days_gets_an_answer_not_a_traceback(
    exposed: ExposedAssistant, no_traceback: None
) -> None:
    sender = new_sender()
    ask(exposed, sender, "明天是什么主题日")
    reply = ask(exposed, sender, '/inform{"day_offset":"999999999"}')
    assert "出错" not in reply and "error" not in reply.lower(), reply


@pytest.mark.parametrize(
    "typed",
    [
        '/ask_venue{"event": ["opening_ceremony", "expo"]}',
        '/ask_venue{"event": {"$ne": null}}',
        '/ask_venue{"event": 12345678901234567890}',
        '/ask_venue{"no_such_entity": "x", "event": "' + "a" * 500 + '"}',
    ],
)
def test_typed_entities_of_the_wrong_type_never_reach_a_slot(
    exposed: ExposedAssistant, typed: str, no_traceback: None
) -> None:
    sender = new_sender()
    assert ask(exposed, sender, typed)
    slots = exposed.events(conversation_id("rest", sender), "slot")
    assert all(isinstance(slot["value"], (str, type(None), bool, float)) for slot in slots), slots
    assert all(len(str(slot["value"])) <= 64 for slot in slots), slots


# -- "there is no rate limit anywhere" -----------------------------------------------------


def test_a_conversation_sending_too_fast_is_told_to_slow_down_and_rasa_sees_its_rate(
    exposed: ExposedAssistant,
) -> None:
    sender, burst = new_sender(), limit_count(RATE_CONVERSATION)
    answers = [
        post_json(exposed.rest_url, {"sender": sender, "message": "hello"}, "10.2.0.1")
        for _ in range(burst + 3)
    ]
    statuses = [status for status, _, _ in answers]
    assert set(statuses) == {200, 429}
    first_refused = statuses.index(429)
    assert 1 <= first_refused <= burst  # then its address's rule or its own
    _, replies, headers = answers[first_refused]
    assert int(headers["Retry-After"]) >= 1
    assert replies[0]["text"] == SLOW_DOWN["en"]
    assert len(exposed.user_texts(conversation_id("rest", sender))) == statuses.count(200)


def test_fresh_sockets_from_one_address_are_refused_past_the_connection_rate(
    exposed: ExposedAssistant,
) -> None:
    allowed = limit_count(RATE_CONNECTIONS_PER_IP)
    refusals = [connection_refusal(exposed, "10.3.0.1") for _ in range(allowed + 1)]
    assert refusals[:allowed] == [None] * allowed
    assert refusals[allowed]["message"] == slow_down(None)  # both languages: no reader known
    assert refusals[allowed]["data"]["retry_after_s"] >= 1
    assert connection_refusal(exposed, "10.3.0.2") is None  # another address is not affected


def test_one_socket_flooding_messages_reaches_rasa_at_its_rate(
    exposed: ExposedAssistant, widgets: list[Widget]
) -> None:
    widget = Widget(exposed, "10.4.0.1")
    widgets.append(widget)
    widget.join()
    for _ in range(30):
        widget.say("hello")
    told = [widget.answered()]
    while not widget.nothing_more_than(told, wait_s=3):
        pass
    answers = [m for m in told if m.get("text") != SLOW_DOWN["en"]]
    assert len(told) - len(answers) == 1  # told once, not once per refused message
    assert 1 <= len(answers) <= limit_count(RATE_CONVERSATION)
    assert len(exposed.user_texts(conversation_id("web", widget.session))) == len(answers)


def p95(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1]


def paced_latencies(exposed: ExposedAssistant, count: int, address: str) -> list[float]:
    """A visitor asking `count` questions PACE_S apart (within its conversation's rate)."""
    sender, latencies = new_sender(), []
    for _ in range(count):
        started = time.monotonic()
        ask(exposed, sender, "开幕式在哪里举行", address)
        latencies.append(time.monotonic() - started)
        time.sleep(max(0.0, PACE_S - latencies[-1]))
    return latencies


def test_a_flood_from_one_client_leaves_another_visitor_its_pace(
    exposed: ExposedAssistant,
) -> None:
    """A few clients with fresh ids saturated the one event loop for everyone."""
    unloaded = paced_latencies(exposed, PACED_QUESTIONS, "10.5.0.1")
    flooder = subprocess.Popen(
        ["nice", "-n", "19", sys.executable, "-m", "tests.attacks.flooder", exposed.rest_url]
        + ["10.5.0.66", str(PACED_QUESTIONS * PACE_S + 3), str(FLOOD_CONNECTIONS)],
        cwd=paths.REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)  # the flood under way
        loaded = paced_latencies(exposed, PACED_QUESTIONS, "10.5.0.2")
        counts = json.loads(flooder.communicate(timeout=60)[0])
    finally:
        flooder.kill()
    assert counts.get("429"), counts  # the flood was refused, not absent
    assert p95(loaded) <= 2 * p95(unloaded), (sorted(unloaded), sorted(loaded))


# -- "a signed query string can be replayed with a different body or FromUserName" ----------


def test_a_signed_wechat_query_replayed_with_another_body_is_refused(
    exposed: ExposedAssistant,
) -> None:
    wechat, follower, other = exposed.wechat(), new_openid(), new_openid()
    first = wechat.push(wechat.text_xml(follower, "你好", msg_id="7400000000000000001"))
    assert wechat.send(first).status == 200
    another_text = Push(first.query, wechat.text_xml(follower, "招聘会提供多少岗位").encode())
    another_follower = Push(
        first.query, wechat.text_xml(other, "你好", msg_id="7400000000000000001").encode()
    )
    assert wechat.send(another_text).status == 403
    assert wechat.send(another_follower).status == 403
    assert wechat.send(first).status == 200  # WeChat's own retry: the same body, answered alike
    assert exposed.user_texts(conversation_id("wx", follower)) == ["你好"]
    assert exposed.user_texts(conversation_id("wx", other)) == []


# -- "the token's strength is never checked" ------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("WECHAT_TOKEN", "short-token", "WECHAT_TOKEN"),
        ("WECHAT_API_BASE_URL", "http://api.weixin.qq.com", "https"),
    ],
)
def test_rasa_refuses_to_start_with_a_weak_wechat_setting(
    trained_model: Path,
    endpoints_file: Path,
    server_env: dict[str, str],
    tmp_path: Path,
    setting: str,
    value: str,
    said: str,
) -> None:
    env = {**exposed_env(server_env, "https://api.weixin.qq.com"), setting: value}
    rasa = harness.rasa_server(trained_model, endpoints_file, harness.free_port(), env)
    log = tmp_path / "rasa.log"
    with log.open("ab") as output:
        rasa.start(output)
        assert rasa.process is not None
        try:
            code = rasa.process.wait(timeout=120)
        finally:
            rasa.stop()
    assert code != 0
    assert said in log.read_text(encoding="utf-8", errors="replace")


# -- "GET / prints the version; the action server is given secrets; telemetry; setuptools" -


def test_the_root_says_nothing_of_rasa(exposed: ExposedAssistant) -> None:
    with urllib.request.urlopen(f"{exposed.base_url}/", timeout=10) as response:
        page = response.read().decode()
    assert "rasa" not in page.lower() and "3.6" not in page


def test_the_action_server_has_no_wechat_secret_and_listens_on_loopback_only(
    exposed: ExposedAssistant,
) -> None:
    actions = environment_of(exposed.pid("action server"))
    assert not [name for name in actions if name.startswith("WECHAT_")]
    assert ACCOUNT.app_secret not in "\0".join(actions.values())
    assert "CYBERWEEK_SESSION_SECRET" not in actions
    assert listening_addresses(exposed.pid("action server")) == {"127.0.0.1"}


def listening_addresses(pid: int) -> set[str]:
    """The local IPv4/IPv6 addresses `pid`'s listening TCP sockets are bound to."""
    inodes = {
        link.readlink().name.removeprefix("socket:[").removesuffix("]")
        for link in Path(f"/proc/{pid}/fd").iterdir()
        if link.readlink().name.startswith("socket:")
    }
    addresses = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                addresses.add(hex_address(fields[1].split(":")[0]))
    return addresses


def hex_address(hex_ip: str) -> str:
    if len(hex_ip) == 8:  # IPv4, little-endian
        return ".".join(str(int(hex_ip[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return "::" if set(hex_ip) == {"0"} else hex_ip


def test_telemetry_is_off_for_rasa(exposed: ExposedAssistant) -> None:
    assert environment_of(exposed.pid("Rasa")).get("RASA_TELEMETRY_ENABLED") == "false"


def test_the_venv_has_the_locked_pip_and_setuptools() -> None:
    import importlib.metadata

    locked = dict(
        line.split("==", 1)
        for line in (paths.REPO_ROOT / "requirements.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name in ("pip", "setuptools"):
        assert importlib.metadata.version(name) == locked[name].split()[0], name


@pytest.mark.parametrize("page", ["/webhooks/socketio/demo/", "/webhooks/desk/"])
def test_pages_carry_the_security_headers(exposed: ExposedAssistant, page: str) -> None:
    with urllib.request.urlopen(f"{exposed.base_url}{page}", timeout=10) as response:
        headers = response.headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors" in policy and "'unsafe-inline'" not in policy.split("script-src")[-1]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"]
