"""The staff console's JSON API (bot/desk/console/, docs/desk-console-api.md) on a running
assistant: who may call it, what it refuses, and a visitor's whole trip from the bot to staff
and back, seen from both sides (the REST webhook and the console).

Every visitor is a new sender id, and what a test leaves in the queue is closed afterwards, so
the tests do not depend on each other or on their order. Queue positions and the bot's answers
are read from the desk's tables and from the bot itself, never copied into the test.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot import paths
from bot.db.desk import DeskStore, StaffInfo
from bot.db.desk.models import ROLES, LoginSession
from bot.db.engine import make_engine
from bot.desk.accounts import NewAccount, add_account
from bot.desk.auth import LOCKOUT_FAILURES, PERMISSIONS, SESSION_IDLE, SESSION_LIFETIME, token_hash
from bot.desk.console import CLOSED, COOKIE, MAX_BODY_BYTES, RETURNED
from bot.desk.hours import load_hours
from tests.desk_client import TIMEOUT_S, Console, rest_conversation, say, text_of

CJK = re.compile(r"[\u4e00-\u9fff]")


# ------------------------------------------------------------------------------ helpers
def customs(replies: list[dict[str, Any]]) -> list[Any]:
    return [reply["custom"] for reply in replies if "custom" in reply]


def listed(console: Console, view: str, handoff_id: int) -> dict[str, Any] | None:
    response = console.get("/handoffs", params={"view": view})
    assert response.status_code == 200, response.text
    return next((h for h in response.json()["handoffs"] if h["id"] == handoff_id), None)


def audit_of(desk: DeskStore, handoff_id: int) -> list[tuple[str, int | None, str]]:
    """(action, staff id, detail) of one conversation, oldest first."""
    entries = [e for e in desk.audit_log(limit=10_000) if e.target == str(handoff_id)]
    return [(e.action, e.staff_id, e.detail) for e in reversed(entries)]


def set_session_times(db_url: str, token: str, **times: dt.datetime) -> None:
    """Ages a console session in the database the servers share (as time passing would)."""
    engine = make_engine(db_url)
    with Session(engine) as session, session.begin():
        changed = session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == token_hash(token))
            .values(**times)
            .execution_options(synchronize_session=False)
        ).rowcount
    engine.dispose()
    assert changed == 1


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def api(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/api")


@pytest.fixture(scope="module")
def wang(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "wang", staff_password)


@pytest.fixture(scope="module")
def li(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "li", staff_password)


@pytest.fixture()
def queued(desk_store: DeskStore, visitor: Callable[[], str]) -> int:
    """A waiting conversation put in the queue directly (for tests of refusals only)."""
    return desk_store.request_handoff(
        rest_conversation(visitor()), "rest", "zh", "asked", "转人工"
    ).id


# ------------------------------------------------------------------------------ sessions
UNAUTHENTICATED_ROUTES = [
    ("GET", "/me"),
    ("GET", "/handoffs"),
    ("GET", "/handoffs/1"),
    ("GET", "/stream"),
    ("POST", "/handoffs/1/claim"),
    ("POST", "/handoffs/1/reply"),
    ("POST", "/handoffs/1/typing"),
    ("POST", "/handoffs/1/resume"),
    ("POST", "/handoffs/1/close"),
    ("POST", "/logout"),
]


@pytest.mark.parametrize(("method", "path"), UNAUTHENTICATED_ROUTES)
@pytest.mark.parametrize("cookie", [None, "forged-token"])
def test_every_api_route_needs_a_login(
    api: str, method: str, path: str, cookie: str | None
) -> None:
    cookies = {COOKIE: cookie} if cookie else {}
    body = {"text": "hi", "outcome": "resolved", "take_over": True}
    response = requests.request(
        method, f"{api}{path}", json=body if method == "POST" else None, cookies=cookies,
        headers={"X-CSRF-Token": "anything"}, timeout=TIMEOUT_S,
    )  # fmt: skip
    assert response.status_code == 401, response.text
    assert response.json() == {"error": "login"}


def test_a_wrong_password_or_name_is_refused_alike(api: str, staff_accounts: Any) -> None:
    """The same answer for a wrong password and an unknown name: names cannot be probed."""
    for name in ("wang", "nobody-here"):
        response = requests.post(
            f"{api}/login", json={"username": name, "password": "not the password!"}, timeout=60
        )
        assert (response.status_code, response.json()) == (401, {"error": "credentials"})
        assert COOKIE not in response.cookies


def test_five_wrong_passwords_lock_the_name_even_for_the_right_one(
    api: str, desk_store: DeskStore, staff_password: str, li: Console
) -> None:
    name = f"locked{uuid.uuid4().hex[:8]}"  # its own account: the shared ones stay usable
    add_account(desk_store, NewAccount(name, "Locked", "agent"), staff_password)

    def log_in(password: str) -> requests.Response:
        return requests.post(
            f"{api}/login", json={"username": name, "password": password}, timeout=TIMEOUT_S
        )

    for _ in range(LOCKOUT_FAILURES):
        assert log_in("wrong password!!").json() == {"error": "credentials"}
    locked = log_in(staff_password)
    assert locked.status_code == 429, locked.text
    assert locked.json()["error"] == "locked" and locked.json()["retry_after_s"] > 0
    assert COOKIE not in locked.cookies
    assert li.get("/me").status_code == 200  # other staff are not locked out


def test_the_session_cookie_is_http_only_strict_and_scoped_to_the_console(
    api: str, staff_accounts: Any, staff_password: str
) -> None:
    def set_cookie(headers: dict[str, str]) -> list[str]:
        response = requests.post(
            f"{api}/login",
            json={"username": "li", "password": staff_password},
            headers=headers,
            timeout=TIMEOUT_S,
        )
        assert response.status_code == 200, response.text
        value, *attributes = response.headers["Set-Cookie"].split(";")
        assert value.strip().startswith(f"{COOKIE}=") and len(value) > len(COOKIE) + 20
        assert response.json()["csrf_token"] not in value
        return [attribute.strip().lower() for attribute in attributes]

    plain = set_cookie({})
    assert "httponly" in plain and "samesite=strict" in plain and "path=/webhooks/desk" in plain
    assert "secure" not in plain  # plain http (the tests): a Secure cookie would not come back
    behind_https = set_cookie({"X-Forwarded-Proto": "https"})
    assert "secure" in behind_https and "samesite=strict" in behind_https


def test_me_answers_for_the_session_and_logout_ends_it(
    api: str, staff_accounts: dict[str, StaffInfo], staff_password: str
) -> None:
    console = Console(api, "zhao", staff_password)
    me = console.get("/me").json()
    assert me["staff"] == {"username": "zhao", "display_name": "Zhao", "role": "editor"}
    assert me["csrf_token"] == console.csrf
    assert me["permissions"] == sorted(PERMISSIONS["editor"])
    logout = console.post("/logout")
    assert logout.status_code == 200, logout.text
    assert COOKIE not in console.http.cookies or not console.http.cookies[COOKIE]
    stale = requests.get(f"{api}/me", cookies={COOKIE: console.token}, timeout=TIMEOUT_S)
    assert (stale.status_code, stale.json()) == (401, {"error": "login"})


@pytest.mark.parametrize(
    ("column", "limit"), [("last_seen_at", SESSION_IDLE), ("created_at", SESSION_LIFETIME)]
)
def test_an_idle_or_too_old_session_is_refused_and_ended(
    api: str,
    staff_accounts: Any,
    staff_password: str,
    seeded_db_url: str,
    desk_store: DeskStore,
    column: str,
    limit: dt.timedelta,
) -> None:
    console = Console(api, "li", staff_password)
    assert console.get("/me").status_code == 200
    set_session_times(
        seeded_db_url,
        console.token,
        **{column: dt.datetime.now(dt.timezone.utc) - limit - dt.timedelta(minutes=1)},
    )
    response = console.get("/me")
    assert (response.status_code, response.json()) == (401, {"error": "login"})
    assert desk_store.session(token_hash(console.token)) is None  # ended, not only refused
    assert console.post("/logout").status_code == 401  # a login problem, not a CSRF one


# ------------------------------------------------------------------------------ CSRF and roles
@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_changes_without_the_csrf_token_are_forbidden(
    wang: Console, queued: int, token: str | None, desk_store: DeskStore
) -> None:
    for path, body in ((f"/handoffs/{queued}/claim", {}), ("/logout", None)):
        response = wang.post(path, body, csrf=token)
        assert (response.status_code, response.json()) == (403, {"error": "csrf"}), path
    handoff = desk_store.handoff(queued)
    assert handoff is not None and handoff.assignee_id is None  # nothing happened
    assert wang.get("/me").status_code == 200  # and the session was not ended


def test_the_documented_roles_are_the_ones_enforced() -> None:
    """docs/desk-console-api.md states each role's permissions; auth.PERMISSIONS enforces them,
    for every role the staff table admits."""
    doc = " ".join((paths.REPO_ROOT / "docs" / "desk-console-api.md").read_text().split())
    found = re.search(r"\(agent: ([^;]+); editor: \+ ([^;]+); admin: \+ ([^)]+)\)", doc)
    assert found, "the Roles rule of docs/desk-console-api.md changed its form"
    words = {
        "queue": "queue",
        "reply": "reply",
        "facts": "edit_facts",
        "canned replies": "edit_canned",
        "staff": "manage_staff",
    }
    agent, editor, admin = ({words[w.strip()] for w in g.split(",")} for g in found.groups())
    assert PERMISSIONS == {
        "agent": agent,
        "editor": agent | editor,
        "admin": agent | editor | admin,
    }
    assert set(ROLES) == set(PERMISSIONS)  # a role without an entry could do nothing at all


def test_a_role_without_a_routes_permission_is_forbidden(
    wang: Console, api: str, desk_store: DeskStore, staff_password: str
) -> None:
    """Agents may answer visitors but not edit canned replies (editors may): checked on the
    server for every call, whatever the page shows."""
    assert "edit_canned" not in PERMISSIONS["agent"]
    reply = {"shortcut": f"t{uuid.uuid4().hex[:8]}", "text_zh": "您好", "text_en": "Hello"}
    refused = wang.post("/canned", reply)
    assert (refused.status_code, refused.json()) == (403, {"error": "forbidden"})
    name = f"editor{uuid.uuid4().hex[:8]}"
    add_account(desk_store, NewAccount(name, name, "editor"), staff_password)
    assert Console(api, name, staff_password).post("/canned", reply).status_code == 201


# ------------------------------------------------------------------------------ bodies
def test_an_oversized_body_is_refused_before_anything_else(wang: Console, queued: int) -> None:
    big = {"text": "x" * (MAX_BODY_BYTES + 1)}
    response = wang.post(f"/handoffs/{queued}/claim", big)
    assert response.status_code == 413, response.text
    login = requests.post(
        wang.api + "/login", json={"username": "wang", "password": "p" * MAX_BODY_BYTES}, timeout=60
    )
    assert login.status_code == 413, login.text


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b"{"])
def test_a_body_that_is_not_a_json_object_is_a_400(
    wang: Console, queued: int, body: bytes, desk_store: DeskStore
) -> None:
    headers = {"X-CSRF-Token": wang.csrf, "Content-Type": "application/json"}
    response = wang.http.post(
        f"{wang.api}/handoffs/{queued}/claim", data=body, headers=headers, timeout=TIMEOUT_S
    )
    assert response.status_code == 400 and response.json()["error"], response.text
    assert desk_store.handoff(queued).assignee_id is None  # type: ignore[union-attr]
    login = requests.post(f"{wang.api}/login", data=body, timeout=TIMEOUT_S)
    assert login.status_code == 400, login.text


def test_replies_and_closings_are_checked(
    wang: Console, queued: int, desk_store: DeskStore
) -> None:
    assert wang.post(f"/handoffs/{queued}/claim", {}).status_code == 200
    for body in ({}, {"text": ""}, {"text": "   \n"}, {"text": 42}, {"text": "长" * 2001}):
        response = wang.post(f"/handoffs/{queued}/reply", body)
        assert response.status_code == 400 and "text" in response.json()["error"], body
    for body in ({}, {"outcome": "happy"}, {"outcome": "returned"}, {"outcome": ["resolved"]}):
        response = wang.post(f"/handoffs/{queued}/close", body)
        assert response.status_code == 400 and "outcome" in response.json()["error"], body
    handoff = desk_store.handoff(queued)
    assert handoff is not None and handoff.status == "open"  # nothing was closed
    assert [action for action, _, _ in audit_of(desk_store, queued)] == [
        "handoff.open",
        "handoff.claim",
    ]


def test_unknown_conversations_views_and_verbs(wang: Console, queued: int) -> None:
    missing = queued + 1_000_000
    assert wang.get(f"/handoffs/{missing}").json() == {"error": "not_found"}
    claim = wang.post(f"/handoffs/{missing}/claim", {})
    assert (claim.status_code, claim.json()) == (404, {"error": "not_found"})
    assert wang.post(f"/handoffs/{queued}/delete", {}).status_code == 404
    view = wang.get("/handoffs", params={"view": "everything"})
    assert view.status_code == 400 and "view" in view.json()["error"]


# ------------------------------------------------------------------------------ the trip
def test_a_visitor_goes_to_staff_and_back_to_the_bot(
    rasa_server: str,
    wang: Console,
    li: Console,
    desk_store: DeskStore,
    staff_accounts: dict[str, StaffInfo],
    visitor: Callable[[], str],
) -> None:
    sender = visitor()
    asked = say(rasa_server, sender, "转人工")
    handoff = desk_store.active_handoff(rest_conversation(sender))
    assert handoff is not None
    assert f"第 {desk_store.queue_position(handoff.id)} 位" in text_of(asked)
    assert {"handoff": {"status": "waiting"}} in customs(asked)

    row = listed(wang, "waiting", handoff.id)
    assert row is not None, "not in the waiting view"
    assert (row["conversation_id"], row["channel"], row["language"]) == (
        rest_conversation(sender),
        "rest",
        "zh",
    )
    assert (row["status"], row["reason"], row["assignee"]) == ("waiting", "asked", None)
    waiting = wang.get("/handoffs", params={"view": "waiting"}).json()
    assert waiting["counts"]["waiting"] == len(waiting["handoffs"])

    # while staff have it, the bot says nothing, but staff see what the visitor wrote
    assert say(rasa_server, sender, "我想问一下门票怎么买") == []
    detail = wang.get(f"/handoffs/{handoff.id}").json()
    assert detail["handoff"]["last_visitor_message"] == "我想问一下门票怎么买"
    assert detail["wechat"] is None
    kinds = [entry["kind"] for entry in detail["transcript"]]
    assert kinds[:2] == ["visitor", "bot"] and "system" in kinds
    last = detail["transcript"][-1]
    assert (last["kind"], last["text"]) == ("visitor", "我想问一下门票怎么买")
    assert isinstance(last["intent"], str) and last["intent"]
    assert 0.0 <= last["confidence"] <= 1.0
    assert detail["transcript"][0]["intent"] == "request_human"

    # one responder at a time; taking over must be asked for
    claimed = wang.post(f"/handoffs/{handoff.id}/claim", {})
    assert claimed.status_code == 200, claimed.text
    assert claimed.json()["handoff"]["status"] == "open"
    assert claimed.json()["handoff"]["assignee"] == {"username": "wang", "display_name": "小王"}
    collision = li.post(f"/handoffs/{handoff.id}/claim", {})
    assert (collision.status_code, collision.json()) == (
        409,
        {"error": "claimed", "assignee": "小王"},
    )
    taken = li.post(f"/handoffs/{handoff.id}/claim", {"take_over": True})
    assert taken.status_code == 200, taken.text
    assert taken.json()["handoff"]["assignee"]["username"] == "li"
    for verb, body in (("reply", {"text": "我来回答"}), ("typing", {"typing": True})):
        late = wang.post(f"/handoffs/{handoff.id}/{verb}", body)
        assert (late.status_code, late.json()) == (409, {"error": "not_yours", "assignee": "Li"})
    assert listed(li, "mine", handoff.id) is not None
    assert listed(wang, "mine", handoff.id) is None
    assert listed(wang, "waiting", handoff.id) is None and listed(wang, "open", handoff.id)

    assert li.post(f"/handoffs/{handoff.id}/typing", {"typing": True}).status_code == 200
    sent = li.post(f"/handoffs/{handoff.id}/reply", {"text": "您好，我是 Li，门票在官网购买。"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["delivered"] is True
    assert say(rasa_server, sender, "好的，谢谢") == [
        {"recipient_id": sender, "text": "您好，我是 Li，门票在官网购买。", "staff": {"name": "Li"}}
    ]
    staff_entries = [
        e for e in wang.get(f"/handoffs/{handoff.id}").json()["transcript"] if e["kind"] == "staff"
    ]
    assert [(e["text"], e["staff"]) for e in staff_entries] == [
        ("您好，我是 Li，门票在官网购买。", "Li")
    ]

    # back to the bot: the visitor is told, and the next question gets the bot's own answer
    resumed = li.post(f"/handoffs/{handoff.id}/resume")
    assert resumed.status_code == 200, resumed.text
    assert (resumed.json()["handoff"]["status"], resumed.json()["handoff"]["outcome"]) == (
        "closed",
        "returned",
    )
    expected = say(rasa_server, visitor(), "开幕式在哪里")
    answered = say(rasa_server, sender, "开幕式在哪里")
    assert answered[0]["text"] == RETURNED["zh"] and "staff" not in answered[0]
    assert text_of(answered[1:]) == text_of(expected) and text_of(expected)
    assert li.post(f"/handoffs/{handoff.id}/reply", {"text": "还在吗"}).json() == {
        "error": "closed"
    }
    transcript = wang.get(f"/handoffs/{handoff.id}").json()["transcript"]
    assert ("system", "resumed") in [(e["kind"], e["text"]) for e in transcript]

    wang_id, li_id = staff_accounts["wang"].id, staff_accounts["li"].id
    assert audit_of(desk_store, handoff.id) == [
        ("handoff.open", None, "asked"),
        ("handoff.claim", wang_id, ""),
        ("handoff.take_over", li_id, ""),
        ("handoff.reply", li_id, ""),
        ("handoff.close", li_id, "returned"),
    ]


def test_an_english_visitor_is_answered_and_the_conversation_closed(
    rasa_server: str, wang: Console, desk_store: DeskStore, visitor: Callable[[], str]
) -> None:
    sender = visitor()
    asked = text_of(say(rasa_server, sender, "talk to a human"))
    handoff = desk_store.active_handoff(rest_conversation(sender))
    assert handoff is not None and handoff.language == "en"
    assert f"number {desk_store.queue_position(handoff.id)}" in asked
    assert load_hours().describe("en") in asked and not CJK.search(asked), asked

    assert wang.post(f"/handoffs/{handoff.id}/claim", {}).status_code == 200
    assert wang.post(f"/handoffs/{handoff.id}/reply", {"text": "Hi, Wang here."}).ok
    closed = wang.post(f"/handoffs/{handoff.id}/close", {"outcome": "resolved"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["handoff"]["outcome"] == "resolved"
    assert closed.json()["handoff"]["closed_at"] is not None
    row = listed(wang, "closed", handoff.id)
    assert row is not None and (row["status"], row["outcome"]) == ("closed", "resolved")
    assert listed(wang, "open", handoff.id) is None
    again = wang.post(f"/handoffs/{handoff.id}/claim", {})
    assert (again.status_code, again.json()) == (409, {"error": "closed"})

    expected = say(rasa_server, visitor(), "Where is the opening ceremony?")
    answered = say(rasa_server, sender, "Where is the opening ceremony?")
    assert [(r["text"], r.get("staff")) for r in answered[:2]] == [
        ("Hi, Wang here.", {"name": "小王"}),
        (CLOSED["en"], None),
    ]
    assert text_of(answered[2:]) == text_of(expected) and text_of(expected)
    assert [action for action, _, _ in audit_of(desk_store, handoff.id)][-3:] == [
        "handoff.claim",
        "handoff.reply",
        "handoff.close",
    ]
    assert audit_of(desk_store, handoff.id)[-1][2] == "resolved"


def test_a_visitor_the_bot_twice_misunderstood_reaches_the_queue(
    rasa_server: str, wang: Console, desk_store: DeskStore, visitor: Callable[[], str]
) -> None:
    sender = visitor()
    say(rasa_server, sender, "hello")
    clarification = say(rasa_server, sender, "/nlu_fallback")
    payloads = [b["payload"] for reply in clarification for b in reply.get("buttons") or []]
    assert "/request_human" in payloads
    assert desk_store.active_handoff(rest_conversation(sender)) is None  # one miss is not enough
    say(rasa_server, sender, "/nlu_fallback")
    handoff = desk_store.active_handoff(rest_conversation(sender))
    assert handoff is not None
    row = listed(wang, "waiting", handoff.id)
    assert row is not None and (row["reason"], row["language"]) == ("fallback", "en")


# ------------------------------------------------------------------------------ live updates
def next_event(lines: Iterator[str], deadline: float) -> tuple[str, dict[str, Any]]:
    """The next `event:`/`data:` pair of a Server-Sent Events stream; heartbeats are skipped
    but do not outlast `deadline` (time.monotonic())."""
    event = ""
    try:
        for line in lines:
            if line.startswith("event:"):
                event = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                return event, json.loads(line.partition(":")[2])
            if time.monotonic() > deadline:
                break
    except requests.ConnectionError as silence:  # the read timeout: nothing at all came
        raise AssertionError(f"the stream went quiet: {silence}") from None
    raise AssertionError("no event before the deadline (or the stream ended)")


def test_the_stream_announces_a_new_handoff(
    rasa_server: str, wang: Console, desk_store: DeskStore, visitor: Callable[[], str]
) -> None:
    # the read timeout stays under the stream's 15 s heartbeat: silence fails the test quickly
    stream = wang.http.get(f"{wang.api}/stream", stream=True, timeout=(5, 10))
    try:
        assert stream.status_code == 200, stream.text
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        stream.encoding = "utf-8"
        lines = stream.iter_lines(chunk_size=1, decode_unicode=True)
        event, data = next_event(lines, time.monotonic() + 5)
        assert event == "queue" and data["changed"] == [] and data["version"]
        sender = visitor()
        say(rasa_server, sender, "转人工")
        handoff = desk_store.active_handoff(rest_conversation(sender))
        assert handoff is not None
        deadline = time.monotonic() + 10
        while True:  # other tests' changes may come first; next_event fails at the deadline
            event, data = next_event(lines, deadline)
            if event == "queue" and handoff.id in data["changed"]:
                break
    finally:
        stream.close()


def test_a_legacy_conversation_opens_read_only(
    rasa_server: str, wang: Console, desk_store: DeskStore
) -> None:
    """A conversation stored before ids had their channel's prefix: its transcript opens, a
    reply is refused (the name may now be another channel's client), closing still works."""
    legacy = f"desk-test-legacy-{uuid.uuid4().hex}"
    assert say(rasa_server, legacy, "开幕式在哪里")  # kept as rest:…; the legacy id is unused
    handoff = desk_store.request_handoff(legacy, "rest", "zh", "asked", "转人工")
    try:
        assert wang.get(f"/handoffs/{handoff.id}").status_code == 200
        assert wang.post(f"/handoffs/{handoff.id}/claim", {}).status_code == 200
        refused = wang.post(f"/handoffs/{handoff.id}/reply", {"text": "您好"})
        assert refused.status_code == 502, refused.text
        assert (refused.json()["error"], refused.json()["channel"]) == ("delivery", "rest")
        assert "before conversation ids were namespaced" in refused.json()["detail"]
        assert desk_store.take_outgoing(legacy) == []
        assert wang.post(f"/handoffs/{handoff.id}/close", {"outcome": "left"}).status_code == 200
    finally:
        if (active := desk_store.active_handoff(legacy)) is not None:
            desk_store.close(active.id, None, "left")
    transcript = wang.get(f"/conversations/{rest_conversation(legacy)}")  # the prefixed one
    assert transcript.status_code == 200, transcript.text
    assert transcript.json()["conversation_id"] == rest_conversation(legacy)
