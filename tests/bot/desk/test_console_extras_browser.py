"""The console's extras in a real browser on a 768 px tablet: an editor adds a canned reply and
inserts it (with the picker and by typing /shortcut) in the conversation's language, labels the
conversation, leaves a private note, and asks the bot (Alt+A) in the ask panel.

The ask panel is checked against the documented answer of POST api/ask, served here by the
browser itself (page.route), so that the records table meets every kind of source: a web
address (a link), a seed note and a `javascript:` text (both plain text).
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from bot.db.desk import DeskStore, StaffInfo
from tests.desk_client import rest_conversation
from tests.browser import new_page, screenshot

LIVE_TIMEOUT_MS = 15_000
TABLET = {"width": 768, "height": 1024}
ASK_ANSWER = {
    "replies": [
        {"text": "开幕式在国家会展中心举行。", "buttons": ["交通指引", "Schedule"]},
        {"text": "Anything else?", "buttons": []},
    ],
    "intent": {"name": "ask_venue", "confidence": 0.98},
    "entities": [{"entity": "event", "value": "opening_ceremony"}],
    "records": [
        {
            "kind": "event",
            "key": "opening_ceremony",
            "name": "开幕式",
            "source": "https://example.org/cyberweek/opening",
            "confirmed": True,
            "note": None,
        },
        {
            "kind": "venue",
            "key": "main_hall",
            "name": "Main hall",
            "source": "seed: organiser's e-mail of 2024-08-01",
            "confirmed": False,
            "note": "the hall number is not announced yet",
        },
        {
            "kind": "fact",
            "key": "trap",
            "name": "<b>not bold</b>",
            "source": "javascript:alert(1)",
            "confirmed": False,
            "note": None,
        },
    ],
}


@pytest.fixture(scope="module")
def console_url(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/")


@pytest.fixture
def tablet(browser: Browser, dialogs: list[str]) -> Iterator[Page]:
    page = new_page(browser, dialogs, **TABLET)
    yield page
    page.context.close()


@pytest.fixture
def queued(desk_store: DeskStore) -> Iterator[Callable[[str], int]]:
    """Waiting English conversations with a message of the test's own; closed afterwards."""
    made: list[int] = []

    def new(message: str) -> int:
        sender = rest_conversation(f"extras-browser-{uuid.uuid4().hex}")
        made.append(desk_store.request_handoff(sender, "rest", "en", "asked", message).id)
        return made[-1]

    yield new
    for handoff_id in made:
        handoff = desk_store.handoff(handoff_id)
        if handoff is not None and handoff.active:
            desk_store.close(handoff_id, None, "left")


@pytest.fixture
def cleanup_canned(
    desk_store: DeskStore, staff_accounts: dict[str, StaffInfo]
) -> Iterator[list[str]]:
    """Shortcuts the test made, deleted afterwards."""
    shortcuts: list[str] = []
    yield shortcuts
    for reply in desk_store.canned_replies():
        if reply.shortcut in shortcuts:
            desk_store.delete_canned(reply.id, staff_accounts["zhao"].id)


def log_in(page: Page, url: str, username: str, password: str) -> None:
    """Signs in with the console in English (whatever the browser's language)."""
    page.add_init_script("localStorage.setItem('cyberweek-desk:lang', JSON.stringify('en'))")
    page.goto(url)
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "console")


def open_conversation(page: Page, message: str) -> None:
    item = page.locator("#queue-list .queue-item", has_text=message)
    expect(item).to_be_visible(timeout=LIVE_TIMEOUT_MS)
    item.click()
    expect(page.locator("#reply-form")).to_be_visible()


def test_canned_replies_labels_and_notes_on_a_tablet(
    tablet: Page,
    console_url: str,
    staff_password: str,
    desk_store: DeskStore,
    queued: Callable[[str], int],
    cleanup_canned: list[str],
    dialogs: list[str],
) -> None:
    page = tablet
    message = f"Where can I print my badge {uuid.uuid4().hex[:6]}"
    handoff_id = queued(message)
    shortcut = f"hours{uuid.uuid4().hex[:6]}"
    cleanup_canned.append(shortcut)
    text_zh, text_en = "人工服务时间为每天 09:00–18:00。", "Staff answer daily from 09:00 to 18:00."
    log_in(page, console_url, "zhao", staff_password)
    open_conversation(page, message)

    # an editor adds a canned reply in the management dialog
    page.locator("#canned-button").click()
    expect(page.locator("#canned-panel")).to_be_visible()
    page.locator("#canned-manage").click()
    dialog = page.locator("#canned-dialog")
    expect(dialog).to_be_visible()
    page.locator("#canned-shortcut").fill(shortcut.upper())
    page.locator("#canned-zh").fill(text_zh)
    page.locator("#canned-en").fill(text_en)
    page.locator("#canned-save").click()
    expect(page.locator("#canned-manage-list")).to_contain_text("/" + shortcut)
    expect(page.locator("#canned-form-error")).to_be_hidden()
    screenshot(page, "desk-extras-canned-dialog.png")
    page.locator("#canned-dialog-close").click()
    expect(dialog).to_be_hidden()

    # "/" and the start of the shortcut offer it; Enter puts the conversation's language in
    box = page.locator("#reply-text")
    box.click()
    box.press_sequentially("/" + shortcut[:-1])
    option = page.locator(f"#canned-list .canned-item[data-shortcut='{shortcut}']")
    expect(option).to_be_visible()
    expect(option).to_contain_text(text_en)
    box.press("Enter")
    expect(box).to_have_value(text_en)
    expect(page.locator("#canned-panel")).to_be_hidden()

    # the picker: filter as you type, click to insert where the caret is
    box.fill("Hello! ")
    box.press("End")
    page.locator("#canned-button").click()
    page.locator("#canned-filter").press_sequentially("09:00 to")
    expect(page.locator("#canned-list .canned-item")).to_have_count(1)
    option.click()
    expect(box).to_have_value("Hello! " + text_en)
    assert desk_store.notes(handoff_id) == []  # nothing was sent: staff edit, then send

    # labels: added in the header, shown on the queue item, removed again
    page.locator("#label-input").fill("VIP")
    page.locator("#label-input").press("Enter")
    expect(page.locator("#label-list .label-text")).to_have_text(["vip"])
    page.locator("#label-input").fill("lost_item")
    page.locator("#label-add").click()
    expect(page.locator("#label-list .label-text")).to_have_text(["lost_item", "vip"])
    queue_labels = page.locator(f"#queue-list .queue-item[data-id='{handoff_id}'] .qi-label")
    expect(queue_labels).to_have_text(["lost_item", "vip"], timeout=LIVE_TIMEOUT_MS)
    page.locator("#label-input").fill("not a label!")
    page.locator("#label-input").press("Enter")
    expect(page.locator("#conv-notice")).to_be_visible()
    page.locator(".label-remove[data-label='vip']").click()
    expect(page.locator("#label-list .label-text")).to_have_text(["lost_item"])
    assert desk_store.labels([handoff_id]) == {handoff_id: ["lost_item"]}

    # a private note, without claiming the conversation
    note = f"Visitor asked twice already {uuid.uuid4().hex[:6]}"
    page.locator("#note-mode").check()
    expect(page.locator("#reply-form")).to_have_class(re.compile(r"\bis-note\b"))
    expect(page.locator("#send-button")).to_have_text("Add note")
    box.fill(note)
    box.press("Control+Enter")
    expect(page.locator("#transcript li.msg-note")).to_contain_text(note)
    expect(page.locator("#transcript li.msg-note .msg-who")).to_contain_text("Private note")
    expect(box).to_have_value("")
    assert [n.text for n in desk_store.notes(handoff_id)] == [note]
    handoff = desk_store.handoff(handoff_id)
    assert handoff is not None and handoff.assignee_id is None
    screenshot(page, "desk-extras-note-and-labels.png")
    assert dialogs == []


def test_an_agent_picks_canned_replies_but_does_not_manage_them(
    tablet: Page,
    console_url: str,
    staff_password: str,
    desk_store: DeskStore,
    staff_accounts: dict[str, StaffInfo],
    queued: Callable[[str], int],
    cleanup_canned: list[str],
) -> None:
    shortcut = f"bye{uuid.uuid4().hex[:6]}"
    cleanup_canned.append(shortcut)
    desk_store.add_canned(shortcut, "再见！", "Goodbye!", staff_accounts["zhao"].id)
    message = f"Thanks, that is all {uuid.uuid4().hex[:6]}"
    queued(message)
    log_in(tablet, console_url, "wang", staff_password)
    open_conversation(tablet, message)
    tablet.locator("#canned-button").click()
    expect(tablet.locator("#canned-filter")).to_be_focused()
    expect(tablet.locator("#canned-manage")).to_be_hidden()
    tablet.locator("#canned-filter").press_sequentially(shortcut)
    tablet.locator("#canned-filter").press("Enter")
    expect(tablet.locator("#reply-text")).to_have_value("Goodbye!")  # the visitor's English


def test_the_ask_panel_on_a_tablet(
    tablet: Page, console_url: str, staff_password: str, dialogs: list[str]
) -> None:
    page = tablet
    asked: list[dict[str, Any]] = []

    def answer(route: Route) -> None:
        request = route.request
        asked.append({"body": request.post_data_json, "csrf": request.headers.get("x-csrf-token")})
        body = ASK_ANSWER if request.post_data_json.get("text", "").strip() else {"error": "text"}
        status = 200 if body is ASK_ANSWER else 400
        route.fulfill(status=status, content_type="application/json", body=json.dumps(body))

    page.route("**/api/ask", answer)
    log_in(page, console_url, "li", staff_password)
    page.keyboard.press("Alt+a")
    dialog = page.locator("#ask-dialog")
    expect(dialog).to_be_visible()
    expect(page.locator("#ask-text")).to_be_focused()
    page.locator("#ask-submit").click()  # empty: the page says so and asks nothing
    expect(page.locator("#ask-error")).to_be_visible()
    assert asked == []

    page.locator("#ask-text").fill("开幕式在哪里")
    page.locator("#ask-text").press("Enter")
    expect(page.locator("#ask-replies .ask-reply")).to_have_count(2)
    expect(page.locator("#ask-replies")).to_contain_text("开幕式在国家会展中心举行。")
    expect(page.locator("#ask-replies .ask-button-chip")).to_have_text(["交通指引", "Schedule"])
    expect(page.locator("#ask-intent .intent-name")).to_have_text("ask_venue")
    expect(page.locator("#ask-intent .intent-confidence")).to_have_text("0.98")
    expect(page.locator("#ask-entities")).to_contain_text("event=opening_ceremony")
    assert asked[0]["body"] == {"text": "开幕式在哪里"} and asked[0]["csrf"]

    rows = page.locator("#ask-records-body tr")
    expect(rows).to_have_count(3)
    link = rows.nth(0).locator(".rec-source a")
    expect(link).to_have_attribute("href", "https://example.org/cyberweek/opening")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(rows.nth(0).locator(".rec-confirmed")).to_contain_text("✓")
    expect(rows.nth(1).locator(".rec-confirmed")).to_contain_text("✗")
    expect(rows.nth(1).locator(".rec-note")).to_have_text("the hall number is not announced yet")
    for plain in (1, 2):  # a seed note and a javascript: text are text, never links
        expect(rows.nth(plain).locator(".rec-source a")).to_have_count(0)
    expect(rows.nth(2).locator(".rec-source-text")).to_have_text("javascript:alert(1)")
    # no console edit in the stubbed records: each says it is as seeded
    expect(rows.nth(2).locator(".rec-updated")).to_have_text(
        "As seeded (not changed in the console)"
    )
    expect(rows.nth(2).locator(".rec-name")).to_have_text("<b>not bold</b>")
    expect(rows.nth(2).locator("b")).to_have_count(0)

    # it fits the tablet: nothing wider than the screen, the table readable in the panel
    box = dialog.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= TABLET["width"]
    table = page.locator("#ask-records").bounding_box()
    assert table is not None and table["x"] + table["width"] <= box["x"] + box["width"]
    screenshot(page, "desk-extras-ask-tablet.png")

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("Alt+a")  # again: the last answer is still there
    expect(page.locator("#ask-records-body tr")).to_have_count(3)
    assert dialogs == []
