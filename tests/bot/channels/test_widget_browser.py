"""The website widget in a real browser: Debian's Chromium, headless, driven by Playwright.

The page is the demo page that the running assistant serves itself (`rasa_server` fixture, the
socket.io channel of credentials.yml); the expected facts are read from the seeded database.
Screenshots go to test-artifacts/ (desktop and 360 px wide).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from actions.messages import format_span
from bot import paths
from bot.db import EventDB
from tests.browser import (
    REPLY_TIMEOUT_MS,
    ask,
    bot_messages,
    new_page,
    open_widget,
    screenshot,
    user_messages,
    wait_for_reply,
)

XSS = "<img src=x onerror=alert(1)>"
AXE = paths.REPO_ROOT / "bot/channels/web/node_modules/axe-core/axe.min.js"  # a devDependency


@pytest.fixture(scope="module")
def db(seeded_db_url: str) -> EventDB:
    return EventDB(seeded_db_url)


@pytest.fixture
def page(browser: Browser, dialogs: list[str]) -> Iterator[Page]:
    page = new_page(browser, dialogs)
    yield page
    page.context.close()


def test_chinese_and_english_questions_are_answered_from_the_database(
    page: Page, demo_url: str, db: EventDB
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    open_widget(page, demo_url)
    expect(page.locator(".cwc-send")).to_have_text("发送")  # the page is in Chinese

    assert venue.name("zh") in ask(page, "开幕式在哪里举行")
    assert venue.name("en") in ask(page, "Where is the opening ceremony?")
    screenshot(page, "widget-desktop.png")


def click_suggestion(page: Page, title: str) -> str:
    before = len(bot_messages(page))
    page.locator(".cwc-chip", has_text=title).click()
    reply = wait_for_reply(page, before)
    expect(user_messages(page).last).to_have_text(title)
    return reply


def test_a_suggestion_button_gets_an_answer(page: Page, demo_url: str, db: EventDB) -> None:
    open_widget(page, demo_url + "?lang=en")
    expect(page.locator(".cwc-chip")).to_have_text(["Schedule", "Venues", "Theme days", "Jobs"])
    reply = click_suggestion(page, "Schedule")
    assert format_span(*db.week_span(), "en") in reply  # the week's dates, from the database


def test_a_chinese_suggestion_is_answered_in_chinese(
    page: Page, demo_url: str, db: EventDB
) -> None:
    open_widget(page, demo_url)
    expect(page.locator(".cwc-chip")).to_have_text(["日程", "场馆", "主题日", "招聘"])
    assert format_span(*db.week_span(), "zh") in click_suggestion(page, "日程")


def test_the_bots_buttons_become_suggestions_after_a_fallback(
    page: Page, demo_url: str, db: EventDB
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    open_widget(page, demo_url + "?lang=en")
    ask(page, "/nlu_fallback")  # what a message the NLU is unsure of becomes (rules.yml)
    expect(page.locator(".cwc-chip")).to_have_text(
        ["Schedule", "Venues", "Theme days", "Jobs", "Talk to staff"]
    )
    assert venue.name("en") in click_suggestion(page, "Venues")


def test_history_and_context_survive_a_reload(page: Page, demo_url: str, db: EventDB) -> None:
    day_after = db.theme_day_on(date(2024, 9, 12))  # CYBERWEEK_NOW is Tuesday 10 September
    assert day_after is not None
    open_widget(page, demo_url)
    first_reply = ask(page, "明天是什么主题日")

    page.reload()
    expect(page.locator(".cwc-panel")).to_be_visible()  # still open
    expect(user_messages(page)).to_have_text(["明天是什么主题日"])
    assert "\n".join(bot_messages(page)) == first_reply
    expect(page.locator(".cwc-root")).to_have_attribute("data-status", "online")
    # The same conversation on the server: the follow-up still knows what "the day after" means.
    assert day_after.name("zh") in ask(page, "后天呢")


def stored(page: Page, key: str, area: str = "sessionStorage") -> object:
    return page.evaluate(f"JSON.parse({area}.getItem('cyberweek-chat:{key}'))")


def test_the_same_tab_keeps_its_server_issued_session(page: Page, demo_url: str) -> None:
    open_widget(page, demo_url)
    ask(page, "开幕式在哪里举行")
    session, token = stored(page, "session"), stored(page, "token")
    assert isinstance(session, str) and isinstance(token, str) and token
    assert stored(page, "session", "localStorage") is None  # never kept beyond the tab
    assert stored(page, "history", "localStorage") is None
    page.reload()
    expect(page.locator(".cwc-root")).to_have_attribute("data-status", "online")
    assert stored(page, "session") == session  # the token proved it: the same conversation


def test_new_conversation_clears_the_chat_and_the_next_question_is_answered(
    page: Page, demo_url: str, db: EventDB
) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    open_widget(page, demo_url)
    ask(page, "明天是什么主题日")
    first_session = stored(page, "session")
    button = page.get_by_role("button", name="新对话")
    expect(button).to_have_attribute("aria-label", re.compile("新对话.*清除"))
    button.focus()
    page.keyboard.press("Enter")  # keyboard-operable, as a real <button>
    expect(user_messages(page)).to_have_count(0)
    expect(page.locator(".cwc-msg-bot:not(.cwc-welcome)")).to_have_count(0)
    expect(page.locator(".cwc-welcome")).to_be_visible()
    expect(page.get_by_label("您的问题")).to_be_focused()
    expect(page.locator(".cwc-root")).to_have_attribute("data-status", "online")
    assert stored(page, "history") in (None, [])
    assert venue.name("zh") in ask(page, "开幕式在哪里举行")
    new_session = stored(page, "session")
    assert isinstance(new_session, str) and new_session != first_session
    expect(user_messages(page)).to_have_text(["开幕式在哪里举行"])
    page.reload()  # what the new conversation holds survives a reload; the old one is gone
    expect(user_messages(page)).to_have_text(["开幕式在哪里举行"])
    page.locator(".cwc-lang").click()  # translated like the rest of the header
    expect(page.get_by_role("button", name="New chat")).to_have_text("New chat")


def test_a_new_tab_starts_with_nothing_of_the_last_visitors_chat(
    browser: Browser, dialogs: list[str], demo_url: str
) -> None:
    """A kiosk: the previous visitor closed the tab; the next one opens the page again. An
    older widget's chat left in localStorage is forgotten too."""
    page = new_page(browser, dialogs)
    try:
        page.add_init_script(
            "localStorage.setItem('cyberweek-chat:history', JSON.stringify("
            "[{from: 'user', text: 'my old question'}]));"
            "localStorage.setItem('cyberweek-chat:session', JSON.stringify('a'.repeat(32)))"
        )
        open_widget(page, demo_url)
        expect(user_messages(page)).to_have_count(0)
        ask(page, "开幕式在哪里举行")
        assert stored(page, "history", "localStorage") is None
        assert stored(page, "session") != "a" * 32
        next_visitor = page.context.new_page()  # same browser profile, a new tab
        open_widget(next_visitor, demo_url)
        expect(user_messages(next_visitor)).to_have_count(0)
        assert stored(next_visitor, "session") != stored(page, "session")
    finally:
        page.context.close()


def test_html_in_a_message_is_shown_as_text(page: Page, demo_url: str, dialogs: list[str]) -> None:
    open_widget(page, demo_url)
    assert ask(page, XSS).strip()
    expect(user_messages(page).last).to_have_text(XSS)
    page.wait_for_timeout(500)  # an onerror handler would have fired by now
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_bot_links_are_clickable_and_only_http(page: Page, demo_url: str) -> None:
    open_widget(page, demo_url)
    page.evaluate(
        """window.CyberweekChat.widget.receive({text:
            "Programme: https://example.cn/week?id=1. Bad: javascript:alert(1) <a href=x>y</a>"})"""
    )
    last = page.locator(".cwc-msg-bot").last
    links = last.locator("a")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("href", "https://example.cn/week?id=1")
    expect(links).to_have_attribute("rel", "noopener noreferrer nofollow")
    expect(last).to_contain_text("javascript:alert(1) <a href=x>y</a>")


def test_keyboard_and_screen_reader(page: Page, demo_url: str) -> None:
    page.goto(demo_url)
    launcher = page.locator(".cwc-launcher")
    expect(launcher).to_have_attribute("aria-expanded", "false")
    launcher.focus()
    page.keyboard.press("Enter")
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("您的问题")).to_be_focused()  # a labelled input, focused on open
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    page.keyboard.press("Escape")
    expect(page.locator(".cwc-panel")).to_be_hidden()
    expect(launcher).to_be_focused()


def test_no_accessibility_violations_found_by_axe(browser: Browser, demo_url: str) -> None:
    """axe-core's WCAG 2.1 A/AA rules over the open widget with a conversation in it."""
    # the demo page's CSP forbids injected scripts, axe included: this context may bypass it
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    page = context.new_page()
    try:
        open_widget(page, demo_url)
        ask(page, "开幕式在哪里举行")
        page.add_script_tag(path=AXE)
        violations = page.evaluate(
            """async () => (await axe.run(document.querySelector(".cyberweek-chat"),
                {runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})).violations
                .map(v => `${v.id}: ${v.help}: ${v.nodes.map(n => n.html).join(" ")}`)"""
        )
    finally:
        context.close()
    assert violations == []


def test_language_follows_the_page_and_the_toggle(page: Page, demo_url: str) -> None:
    open_widget(page, demo_url + "?lang=en")
    expect(page.locator(".cwc-send")).to_have_text("Send")
    expect(page.locator(".cwc-chip").first).to_have_text("Schedule")
    page.get_by_role("button", name="中文").click()
    expect(page.locator(".cwc-send")).to_have_text("发送")
    expect(page.locator(".cwc-chip").first).to_have_text("日程")
    page.reload()  # the visitor's choice outranks the page's language
    expect(page.locator(".cwc-send")).to_have_text("发送")


def test_phone_layout(browser: Browser, dialogs: list[str], demo_url: str, db: EventDB) -> None:
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    page = new_page(browser, dialogs, width=360, height=740)
    try:
        open_widget(page, demo_url)
        panel = page.locator(".cwc-panel").bounding_box()
        assert panel is not None and panel["width"] == 360  # full screen
        assert venue.name("zh") in ask(page, "开幕式在哪里举行")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, f"the page scrolls sideways ({width} px)"
        screenshot(page, "widget-mobile-360.png")
    finally:
        page.context.close()


def test_reconnects_after_the_connection_drops(page: Page, demo_url: str, db: EventDB) -> None:
    """What the widget sees when the server restarts: the transport closes, then comes back."""
    venue = db.venue_of_event("opening_ceremony")
    assert venue is not None
    open_widget(page, demo_url)
    page.evaluate("window.CyberweekChat.widget.socket.io.engine.close()")
    expect(page.locator(".cwc-root")).to_have_attribute("data-status", "offline")
    expect(page.locator(".cwc-root")).to_have_attribute(
        "data-status", "online", timeout=REPLY_TIMEOUT_MS
    )
    assert venue.name("en") in ask(page, "Where is the opening ceremony?")
