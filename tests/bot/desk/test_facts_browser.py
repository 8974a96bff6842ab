"""The console's Facts page in a real browser: an editor changes a venue's address and the bot
answers with it at once; a half-filled bilingual pair is refused next to the missing half; an
agent sees the same form read-only. Every change is put back. Screenshot in test-artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from bot.db.desk import StaffInfo
from tests.browser import new_page, screenshot

VENUE = "iff_nansha"
QUESTION = "IFF永久会址的地址是什么"


@pytest.fixture(scope="module")
def console_url(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/")


@pytest.fixture
def page(browser: Browser, dialogs: list[str]) -> Iterator[Page]:
    page = new_page(browser, dialogs, width=1280, height=900)
    yield page
    page.context.close()
    assert dialogs == []


def log_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "console")


def open_venue(page: Page) -> None:
    page.keyboard.press("Alt+4")
    expect(page.locator("#facts-view")).to_be_visible()
    expect(page.locator("#nav-facts")).to_have_attribute("aria-current", "page")
    page.locator("#facts-kind").select_option("venue")
    page.locator("#facts-filter").fill(VENUE)
    page.locator(f'#facts-list .fact-item[data-key="{VENUE}"]').click()
    expect(page.locator("#fact-field-key")).to_have_value(VENUE)


def save(page: Page) -> None:
    page.locator("#fact-save").click()


def answer(rasa_server: str) -> str:
    sender = f"facts-browser-{uuid.uuid4().hex[:8]}"
    reply = requests.post(rasa_server, json={"sender": sender, "message": QUESTION}, timeout=60)
    reply.raise_for_status()
    return "\n".join(m.get("text", "") for m in reply.json())


def test_an_editor_changes_an_address_and_the_bot_answers_with_it(
    page: Page,
    console_url: str,
    rasa_server: str,
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    log_in(page, console_url, "zhao", staff_password)
    open_venue(page)
    street = f"明珠湾{uuid.uuid4().hex[:4]}号"
    address_zh, address_en = (
        page.locator("#fact-field-address_zh"),
        page.locator("#fact-field-address_en"),
    )
    expect(address_zh).to_be_editable()
    expect(page.locator("#fact-field-key")).not_to_be_editable()  # the key is never edited

    # half a bilingual pair: refused, and the problem sits next to the missing half
    address_zh.fill(f"广州市南沙区{street}")
    save(page)
    problem = page.locator('.fact-field[data-field="address_en"] .field-problem')
    expect(problem).to_be_visible()
    expect(address_zh).to_have_value(f"广州市南沙区{street}")  # nothing typed was lost

    address_en.fill(f"{street}, Nansha")
    save(page)
    try:
        expect(page.locator("#fact-notice")).to_be_visible()
        expect(page.locator(".field-problem")).to_have_count(0)
        expect(page.locator("#fact-last-updated")).to_have_attribute("data-who", "zhao")
        expect(page.locator("#fact-last-updated")).to_contain_text("zhao")
        expect(
            page.locator('#fact-history .fact-change[data-field="address_en"]')
        ).not_to_have_count(0)
        expect(page.locator(f'#facts-list .fact-item[data-key="{VENUE}"]')).to_contain_text("zhao")
        assert street in answer(rasa_server)  # no retraining, no restart
        expect(page.locator("#fact-review")).to_contain_text("note")  # the note may be out of date
        page.locator("#fact-title").scroll_into_view_if_needed()
        screenshot(page, "desk-facts.png")
    finally:
        address_zh.fill("")
        address_en.fill("")
        save(page)
        expect(page.locator("#fact-notice")).to_be_visible()
        expect(address_zh).to_have_value("")
        expect(page.locator("#fact-form-error")).to_be_hidden()
    assert street not in answer(rasa_server)


def test_an_agent_sees_the_facts_read_only_on_a_tablet(
    browser: Browser,
    dialogs: list[str],
    console_url: str,
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    page = new_page(browser, dialogs, width=768, height=1024)
    log_in(page, console_url, "wang", staff_password)
    open_venue(page)
    expect(page.locator("#fact-readonly")).to_be_visible()
    expect(page.locator("#fact-field-address_zh")).to_be_disabled()
    expect(page.locator("#fact-save")).to_be_hidden()
    expect(page.locator("#fact-alias-form")).to_be_hidden()
    expect(page.locator(".fact-alias-remove")).to_have_count(0)
    enabled = page.locator("#fact-fields :is(input, select, textarea):not([disabled], [readonly])")
    expect(enabled).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768  # nothing sticks out
    screenshot(page, "desk-facts-768.png")
    page.context.close()
    assert dialogs == []
