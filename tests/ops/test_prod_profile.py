"""The production profile running: `cyberweek ops up --detach` with 2 instances, once for the
module, then `cyberweek ops down` (the last test checks nothing is left).

Select with `-m prod_profile`. Needs PostgreSQL, redis-server and nginx (`make services`;
`make test` installs them) and the trained model; data and logs in build/prod-test/.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from bot import paths
from bot.channels.conversation_ids import conversation_id
from bot.channels.webchat import SOCKETIO_REDIS_CHANNEL, valid_session_id
from tests.ops.running_profile import (
    RunningProfile,
    assert_down_leaves_nothing_running,
    running_profile,
    widget_visitor,
)

pytestmark = pytest.mark.prod_profile

PROFILE_DIR = paths.BUILD_DIR / "prod-test"


@pytest.fixture(scope="module")
def profile(trained_model: Path) -> Iterator[RunningProfile]:
    with running_profile(PROFILE_DIR) as running:
        yield running


def _ask(profile: RunningProfile, sender: str, message: str) -> str:
    response = requests.post(
        profile.rest_url,
        json={"sender": sender, "message": message},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    texts = [m.get("text") or "" for m in response.json()]
    assert any(texts), f"an empty reply to {message!r}"
    return "\n".join(texts)


def test_questions_through_nginx_are_answered_with_context_by_either_instance(
    profile: RunningProfile,
) -> None:
    opening = profile.opening_ceremony()  # the facts loaded into PostgreSQL
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    assert opening["venue"] in _ask(profile, sender, "开幕式在哪里举行")
    # round-robin: the follow-up goes to the other instance, which reads the same tracker
    assert opening["date"] in _ask(profile, sender, "什么时候")
    expected = {f"127.0.0.1:{port}" for port in profile.rasa_ports()}
    deadline = time.monotonic() + 5  # nginx writes a request's line after its reply
    while (answered_by := _upstreams_in_access_log(profile)) != expected:
        if time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answered_by == expected


def _upstreams_in_access_log(profile: RunningProfile) -> set[str]:
    access_log = (profile.dirs.nginx / "logs" / "access.log").read_text()
    return {
        line.rsplit("upstream=", 1)[1].strip()
        for line in access_log.splitlines()
        if "POST /webhooks/rest/webhook" in line and " 200 " in line
    }


def test_the_conversation_is_stored_in_postgresql(profile: RunningProfile) -> None:
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    _ask(profile, sender, "有哪些分论坛")
    rows = profile.tracker_rows(
        "SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id",
        {"s": conversation_id("rest", sender)},
    )
    types = [row.type_name for row in rows]
    assert "user" in types and "bot" in types
    user_texts = [json.loads(row.data).get("text") for row in rows if row.type_name == "user"]
    assert "有哪些分论坛" in user_texts


def test_the_lock_store_is_redis(profile: RunningProfile) -> None:
    import redis

    lock_db = int(profile.state["redis_lock_db"])
    client = redis.Redis.from_url(profile.state["redis_url"])
    client.config_set("notify-keyspace-events", "KA")  # the lock lives only during a turn
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    sender = f"prod-{uuid.uuid4().hex[:8]}"
    pubsub.subscribe(f"__keyspace@{lock_db}__:cyberweek:lock:{conversation_id('rest', sender)}")
    try:
        _ask(profile, sender, "明天是什么主题日")
        operations = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "del" not in operations:
            message = pubsub.get_message(timeout=0.5)
            if message:
                operations.append(message["data"].decode())
        assert "set" in operations and "del" in operations, operations
    finally:
        pubsub.close()
        client.config_set("notify-keyspace-events", "")
        client.close()


def test_a_body_over_64_kib_is_refused_by_nginx(profile: RunningProfile) -> None:
    body = b'{"sender": "big", "message": "' + b"a" * (70 * 1024) + b'"}'
    response = requests.post(
        profile.rest_url,
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 413
    assert response.headers.get("Server") == "nginx"


def test_nothing_but_the_channels_and_the_console_is_exposed(profile: RunningProfile) -> None:
    assert requests.get(f"{profile.url}/", timeout=10).status_code == 404
    assert requests.get(f"{profile.url}/status", timeout=10).status_code == 404
    assert requests.get(f"{profile.url}/webhooks/rest/", timeout=10).status_code == 200


def test_action_servers_answer_only_their_rasa_and_rasa_hides_its_version(
    profile: RunningProfile,
) -> None:
    """The answers above needed the actions, so Rasa sent the secret; anyone else gets 401."""
    from ops.action_entry import SECRET_HEADER

    secret = profile.dirs.action_secret_file.read_text().strip()
    for instance in profile.state["instances"]:
        base = f"http://127.0.0.1:{instance['actions_port']}"
        assert requests.get(f"{base}/actions", timeout=10).status_code == 401
        assert requests.post(f"{base}/webhook", json={}, timeout=10).status_code == 401
        listed = requests.get(f"{base}/actions", headers={SECRET_HEADER: secret}, timeout=10)
        assert listed.status_code == 200
        root = requests.get(f"http://127.0.0.1:{instance['rasa_port']}/", timeout=10)
        assert root.status_code == 200 and "Rasa" not in root.text


def test_socketio_upgrades_to_websocket_through_nginx(profile: RunningProfile) -> None:
    port = int(profile.url.rsplit(":", 1)[1])
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request.encode())
        status_line = connection.recv(1024).split(b"\r\n", 1)[0]
    assert status_line == b"HTTP/1.1 101 Switching Protocols"


def test_a_reply_reaches_the_visitor_connected_to_the_other_instance(
    profile: RunningProfile,
) -> None:
    """The widget open on instance 1; the same session's message handled by instance 2."""
    import redis

    first, second = profile.rasa_ports()
    client = redis.Redis.from_url(profile.state["redis_url"])
    channel = client.pubsub(ignore_subscribe_messages=True)
    channel.subscribe(SOCKETIO_REDIS_CHANNEL)
    try:
        text = asyncio.run(_reply_seen_on(first, sent_through=second, message="开幕式在哪里举行"))
        published = []
        deadline = time.monotonic() + 2  # what the channel holds (None: nothing yet, or the
        while time.monotonic() < deadline:  # subscription's own confirmation)
            message = channel.get_message(timeout=0.2)
            if message is not None:
                published.append(message["data"])
    finally:
        channel.close()
        client.close()
    assert text
    assert any(b"bot_uttered" in data for data in published)  # it went through Redis


async def _reply_seen_on(port: int, sent_through: int, message: str) -> str:
    """The reply a widget on `port` gets to `message`, sent by another socket of the same
    session on `sent_through` (whose session, issued by the first instance, it presents)."""
    watcher = await widget_visitor(port)
    try:
        assert valid_session_id(watcher.session_id)
        sender = await widget_visitor(sent_through, resume=watcher)
        try:
            assert sender.session_id == watcher.session_id  # the other instance took it
            await sender.client.emit("user_uttered", {"message": message})
            return await watcher.reply(30)
        finally:
            await sender.client.disconnect()
    finally:
        await watcher.client.disconnect()


def test_down_leaves_nothing_running(profile: RunningProfile) -> None:
    recorded = [(p["name"], int(p["pid"])) for p in profile.state["processes"]]
    assert {name for name, _ in recorded} == {
        "PostgreSQL", "Redis", "action server", "Rasa", "nginx"
    }  # fmt: skip
    assert_down_leaves_nothing_running(profile)
