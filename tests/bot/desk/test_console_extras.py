"""The console's extras on a running assistant (docs/desk-console-api.md): canned replies that
only editors may change, private notes that never reach the visitor, and labels that show in
the queue. Notes and labels need the queue permission only, not holding the conversation.

Every visitor is a new sender id and every canned reply a new shortcut, and what a test leaves
in the queue is closed afterwards, so the tests do not depend on each other or on their order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from bot.db.desk import DeskStore, StaffInfo
from tests.desk_client import rest_conversation
from bot.db.desk.models import MAX_LABELS, STAFF_TEXT_CHARS
from bot.desk.console import COOKIE

TIMEOUT_S = 60


class Console:
    """A staff member's browser: the session cookie in a requests.Session, the CSRF token."""

    def __init__(self, api: str, username: str, password: str) -> None:
        self.api = api
        self.http = requests.Session()
        login = self.http.post(
            f"{api}/login", json={"username": username, "password": password}, timeout=TIMEOUT_S
        )
        assert login.status_code == 200, login.text
        self.csrf: str = login.json()["csrf_token"]
        self.permissions: list[str] = login.json()["permissions"]

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.api}{path}", timeout=TIMEOUT_S, **kwargs)

    def post(self, path: str, body: Any = None, csrf: str | None = "session") -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf if csrf == "session" else csrf} if csrf else {}
        return self.http.post(f"{self.api}{path}", json=body, headers=headers, timeout=TIMEOUT_S)


def say(webhook: str, sender: str, message: str) -> list[dict[str, Any]]:
    """One visitor message over the REST channel; the replies Rasa (and the outbox) send."""
    response = requests.post(
        webhook, json={"sender": sender, "message": message}, timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


def listed(console: Console, view: str, handoff_id: int) -> dict[str, Any] | None:
    response = console.get("/handoffs", params={"view": view})
    assert response.status_code == 200, response.text
    return next((h for h in response.json()["handoffs"] if h["id"] == handoff_id), None)


def audit_of(desk: DeskStore, target: str) -> list[tuple[str, int | None, str]]:
    """(action, staff id, detail) of one target, oldest first."""
    entries = [e for e in desk.audit_log(limit=10_000) if e.target == target]
    return [(e.action, e.staff_id, e.detail) for e in reversed(entries)]


def new_shortcut() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def api(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/api")


@pytest.fixture(scope="module")
def wang(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "wang", staff_password)  # an agent


@pytest.fixture(scope="module")
def li(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "li", staff_password)  # an agent


@pytest.fixture(scope="module")
def zhao(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "zhao", staff_password)  # an editor


@pytest.fixture()
def queued(desk_store: DeskStore, visitor: Callable[[], str]) -> int:
    """A waiting conversation put in the queue directly (no visitor behind it)."""
    return desk_store.request_handoff(
        rest_conversation(visitor()), "rest", "en", "asked", "a person please"
    ).id


@pytest.fixture()
def canned(zhao: Console) -> Iterator[dict[str, Any]]:
    """A canned reply an editor made; deleted afterwards."""
    made = zhao.post(
        "/canned", {"shortcut": new_shortcut(), "text_zh": "请稍候。", "text_en": "One moment."}
    )
    assert made.status_code == 201, made.text
    reply: dict[str, Any] = made.json()["canned_reply"]
    yield reply
    zhao.post(f"/canned/{reply['id']}/delete")


# ------------------------------------------------------------------------------ sessions
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/canned"),
        ("POST", "/canned"),
        ("POST", "/canned/1"),
        ("POST", "/canned/1/delete"),
        ("POST", "/handoffs/1/notes"),
        ("POST", "/handoffs/1/labels"),
    ],
)
def test_the_new_routes_need_a_login(api: str, method: str, path: str) -> None:
    response = requests.request(
        method,
        f"{api}{path}",
        json={"text": "hi", "labels": ["x"], "shortcut": "x", "text_zh": "中", "text_en": "e"},
        cookies={COOKIE: "forged-token"},
        headers={"X-CSRF-Token": "anything"},
        timeout=TIMEOUT_S,
    )
    assert (response.status_code, response.json()) == (401, {"error": "login"})


def test_changes_without_the_csrf_token_are_forbidden(
    zhao: Console, wang: Console, queued: int, canned: dict[str, Any], desk_store: DeskStore
) -> None:
    body = {"shortcut": new_shortcut(), "text_zh": "中", "text_en": "en"}
    for token in (None, "not-the-token"):
        for console, path, payload in (
            (zhao, "/canned", body),
            (zhao, f"/canned/{canned['id']}", body),
            (zhao, f"/canned/{canned['id']}/delete", None),
            (wang, f"/handoffs/{queued}/notes", {"text": "a note"}),
            (wang, f"/handoffs/{queued}/labels", {"labels": ["vip"]}),
        ):
            response = console.post(path, payload, csrf=token)
            assert (response.status_code, response.json()) == (403, {"error": "csrf"}), path
    # nothing happened
    assert wang.get("/canned").json()["canned"].count(canned) == 1
    assert body["shortcut"] not in {c.shortcut for c in desk_store.canned_replies()}
    assert desk_store.notes(queued) == [] and desk_store.labels([queued]) == {queued: []}


# ------------------------------------------------------------------------------ canned replies
def test_an_agent_reads_canned_replies_but_may_not_change_them(
    wang: Console, canned: dict[str, Any], desk_store: DeskStore
) -> None:
    assert "edit_canned" not in wang.permissions
    listing = wang.get("/canned")
    assert listing.status_code == 200, listing.text
    assert canned in listing.json()["canned"]
    body = {"shortcut": new_shortcut(), "text_zh": "中", "text_en": "en"}
    for path, payload in (
        ("/canned", body),
        (f"/canned/{canned['id']}", body),
        (f"/canned/{canned['id']}/delete", None),
    ):
        response = wang.post(path, payload)
        assert (response.status_code, response.json()) == (403, {"error": "forbidden"}), path
    assert canned in wang.get("/canned").json()["canned"]  # unchanged, not deleted


def test_an_editor_adds_changes_and_deletes_canned_replies(
    zhao: Console, wang: Console, desk_store: DeskStore, staff_accounts: dict[str, StaffInfo]
) -> None:
    assert "edit_canned" in zhao.permissions
    shortcut = new_shortcut()
    made = zhao.post(
        "/canned",
        {"shortcut": f" {shortcut.upper()} ", "text_zh": "您好！", "text_en": "Hello!"},
    )
    assert made.status_code == 201, made.text
    reply = made.json()["canned_reply"]
    assert {k: reply[k] for k in ("shortcut", "text_zh", "text_en", "updated_by")} == {
        "shortcut": shortcut,
        "text_zh": "您好！",
        "text_en": "Hello!",
        "updated_by": {"username": "zhao", "display_name": "Zhao"},
    }
    assert reply in wang.get("/canned").json()["canned"]  # every agent sees it

    renamed = new_shortcut()
    changed = zhao.post(
        f"/canned/{reply['id']}", {"shortcut": renamed, "text_zh": "您好。", "text_en": "Hi."}
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["canned_reply"]["id"], changed.json()["canned_reply"]["shortcut"]) == (
        reply["id"],
        renamed,
    )
    shortcuts = [c["shortcut"] for c in wang.get("/canned").json()["canned"]]
    assert renamed in shortcuts and shortcut not in shortcuts
    assert shortcuts == sorted(shortcuts)

    deleted = zhao.post(f"/canned/{reply['id']}/delete")
    assert (deleted.status_code, deleted.json()) == (200, {"deleted": reply["id"]})
    assert renamed not in [c["shortcut"] for c in wang.get("/canned").json()["canned"]]
    again = zhao.post(f"/canned/{reply['id']}/delete")
    assert (again.status_code, again.json()) == (404, {"error": "not_found"})
    missing = zhao.post(
        f"/canned/{reply['id']}", {"shortcut": renamed, "text_zh": "中", "text_en": "e"}
    )
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found"})

    zhao_id = staff_accounts["zhao"].id
    assert audit_of(desk_store, shortcut) == [("canned.add", zhao_id, f"id={reply['id']}")]
    assert audit_of(desk_store, renamed) == [
        ("canned.update", zhao_id, f"id={reply['id']} was={shortcut}"),
        ("canned.delete", zhao_id, f"id={reply['id']}"),
    ]


def test_a_taken_shortcut_is_a_409(zhao: Console, canned: dict[str, Any]) -> None:
    body = {"shortcut": canned["shortcut"], "text_zh": "中", "text_en": "en"}
    duplicate = zhao.post("/canned", body)
    assert (duplicate.status_code, duplicate.json()) == (409, {"error": "shortcut_taken"})
    other = zhao.post("/canned", {**body, "shortcut": new_shortcut()}).json()["canned_reply"]
    try:
        renamed = zhao.post(f"/canned/{other['id']}", body)
        assert (renamed.status_code, renamed.json()) == (409, {"error": "shortcut_taken"})
    finally:
        zhao.post(f"/canned/{other['id']}/delete")


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"shortcut": "has space"}, "shortcut"),
        ({"shortcut": "问候"}, "shortcut"),
        ({"shortcut": "x" * 33}, "shortcut"),
        ({"shortcut": 7}, "shortcut"),
        ({"text_zh": ""}, "text_zh"),
        ({"text_en": "   "}, "text_en"),
        ({"text_en": None}, "text_en"),
        ({"text_zh": "长" * (STAFF_TEXT_CHARS + 1)}, "text_zh"),
    ],
)
def test_canned_replies_are_validated(
    zhao: Console, canned: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    body = {"shortcut": new_shortcut(), "text_zh": "中文", "text_en": "English", **change}
    for path in ("/canned", f"/canned/{canned['id']}"):
        response = zhao.post(path, body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert field in error or (field == "shortcut" and "a-z" in error), error
    assert canned in zhao.get("/canned").json()["canned"]  # unchanged


# ------------------------------------------------------------------------------ notes
def test_notes_are_for_staff_only_and_never_reach_the_visitor(
    rasa_server: str,
    wang: Console,
    li: Console,
    desk_store: DeskStore,
    staff_accounts: dict[str, StaffInfo],
    visitor: Callable[[], str],
) -> None:
    sender = visitor()
    say(rasa_server, sender, "转人工")
    handoff = desk_store.active_handoff(rest_conversation(sender))
    assert handoff is not None
    secret = f"内部备注 {uuid.uuid4().hex}: second time asking"
    # anyone may note a conversation: wang holds nothing here
    noted = wang.post(f"/handoffs/{handoff.id}/notes", {"text": f"  {secret}  "})
    assert noted.status_code == 200, noted.text
    assert noted.json()["note"]["text"] == secret and noted.json()["note"]["staff"] == "小王"
    assert noted.json()["handoff"]["id"] == handoff.id

    assert li.post(f"/handoffs/{handoff.id}/claim", {}).status_code == 200
    later = f"checked the badge desk {uuid.uuid4().hex}"
    assert wang.post(f"/handoffs/{handoff.id}/notes", {"text": later}).status_code == 200
    reply = "您好，我是 Li，请稍候。"
    assert li.post(f"/handoffs/{handoff.id}/reply", {"text": reply}).status_code == 200
    answered = say(rasa_server, sender, "好的")
    assert [a.get("text") for a in answered] == [reply]
    assert secret not in json.dumps(answered, ensure_ascii=False)
    assert later not in json.dumps(answered, ensure_ascii=False)

    detail = li.get(f"/handoffs/{handoff.id}").json()
    assert [(n["staff"], n["text"]) for n in detail["notes"]] == [("小王", secret), ("小王", later)]
    assert all(set(n) == {"id", "staff", "text", "at"} for n in detail["notes"])
    assert secret not in json.dumps(detail["transcript"], ensure_ascii=False)  # not in Rasa's

    # nor once the bot answers again
    assert li.post(f"/handoffs/{handoff.id}/resume").status_code == 200
    after = say(rasa_server, sender, "开幕式在哪里")
    assert after and secret not in json.dumps(after, ensure_ascii=False)
    closed_note = li.post(f"/handoffs/{handoff.id}/notes", {"text": "followed up by mail"})
    assert closed_note.status_code == 200, closed_note.text  # a closed one takes notes too

    wang_id = staff_accounts["wang"].id
    notes = [(a, s) for a, s, _ in audit_of(desk_store, str(handoff.id)) if a == "handoff.note"]
    assert notes == [("handoff.note", wang_id)] * 2 + [("handoff.note", staff_accounts["li"].id)]
    assert all(secret not in e.detail for e in desk_store.audit_log(limit=10_000))


def test_notes_are_checked(wang: Console, queued: int, desk_store: DeskStore) -> None:
    for body in ({}, {"text": ""}, {"text": "  \n"}, {"text": 5}, {"text": "x" * 2001}):
        response = wang.post(f"/handoffs/{queued}/notes", body)
        assert response.status_code == 400 and "text" in response.json()["error"], body
    missing = wang.post(f"/handoffs/{queued + 1_000_000}/notes", {"text": "hello"})
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found"})
    assert desk_store.notes(queued) == []


# ------------------------------------------------------------------------------ labels
def test_labels_show_in_the_queue_and_the_conversation(
    wang: Console, li: Console, queued: int, desk_store: DeskStore
) -> None:
    assert li.post(f"/handoffs/{queued}/claim", {}).status_code == 200
    # wang does not hold it, and may label it all the same
    labelled = wang.post(f"/handoffs/{queued}/labels", {"labels": ["VIP", "lost_item", "vip"]})
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["handoff"]["labels"] == ["lost_item", "vip"]
    for view in ("open", "mine"):
        console = wang if view == "open" else li
        row = listed(console, view, queued)
        assert row is not None and row["labels"] == ["lost_item", "vip"], view
    assert wang.get(f"/handoffs/{queued}").json()["handoff"]["labels"] == ["lost_item", "vip"]
    others = [h for h in wang.get("/handoffs", params={"view": "open"}).json()["handoffs"]]
    assert all(isinstance(h["labels"], list) for h in others)

    replaced = wang.post(f"/handoffs/{queued}/labels", {"labels": ["press"]})
    assert replaced.json()["handoff"]["labels"] == ["press"]
    assert li.post(f"/handoffs/{queued}/close", {"outcome": "resolved"}).status_code == 200
    row = listed(wang, "closed", queued)
    assert row is not None and row["labels"] == ["press"]
    cleared = wang.post(f"/handoffs/{queued}/labels", {"labels": []})
    assert cleared.json()["handoff"]["labels"] == []
    assert [d for a, _, d in audit_of(desk_store, str(queued)) if a == "handoff.labels"] == [
        "lost_item,vip",
        "press",
        "",
    ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"labels": "vip"},
        {"labels": ["has space"]},
        {"labels": ["x" * 33]},
        {"labels": [3]},
        {"labels": [f"l{i}" for i in range(MAX_LABELS + 1)]},
    ],
)
def test_labels_are_checked(
    wang: Console, queued: int, desk_store: DeskStore, body: dict[str, Any]
) -> None:
    assert wang.post(f"/handoffs/{queued}/labels", {"labels": ["keep"]}).status_code == 200
    response = wang.post(f"/handoffs/{queued}/labels", body)
    assert response.status_code == 400 and response.json()["error"], response.text
    assert desk_store.labels([queued]) == {queued: ["keep"]}


def test_ten_labels_are_allowed_and_unknown_conversations_are_404(
    wang: Console, queued: int
) -> None:
    ten = [f"l{i}" for i in range(MAX_LABELS)]
    response = wang.post(f"/handoffs/{queued}/labels", {"labels": ten})
    assert response.status_code == 200 and response.json()["handoff"]["labels"] == sorted(ten)
    missing = wang.post(f"/handoffs/{queued + 1_000_000}/labels", {"labels": ["x"]})
    assert (missing.status_code, missing.json()) == (404, {"error": "not_found"})
