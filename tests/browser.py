"""Real-browser helpers shared by the widget's and the console's tests: Debian's Chromium,
headless, driven by Playwright (the `browser` fixture is in tests/conftest.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import Browser, Dialog, Locator, Page, expect

from bot import paths

CHROMIUM = Path(os.environ.get("CYBERWEEK_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags Chromium keeps trying to reach Google's hosts.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = paths.REPO_ROOT / "test-artifacts"
REPLY_TIMEOUT_MS = 30_000


def new_page(browser: Browser, dialogs: list[str], width: int = 1280, height: int = 800) -> Page:
    """A page in a fresh browser context: empty localStorage, so a new visitor."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return page


def open_widget(page: Page, url: str) -> None:
    page.goto(url)
    page.locator(".cwc-launcher").click()
    expect(page.locator(".cwc-root")).to_have_attribute("data-status", "online")


def bot_messages(page: Page) -> list[str]:
    return page.locator(".cwc-msg-bot:not(.cwc-welcome) .cwc-text").all_inner_texts()


def user_messages(page: Page) -> Locator:
    # .cwc-text: without the speaker's name ("您：") that only screen readers read out
    return page.locator(".cwc-msg-user .cwc-text")


def wait_for_reply(page: Page, before: int) -> str:
    """The bot's new messages once they stop arriving (a reply may come in several parts)."""
    expect(page.locator(".cwc-msg-bot:not(.cwc-welcome)")).not_to_have_count(
        before, timeout=REPLY_TIMEOUT_MS
    )
    seen, stable_since = len(bot_messages(page)), time.monotonic()
    while time.monotonic() - stable_since < 0.5:
        page.wait_for_timeout(100)
        if (count := len(bot_messages(page))) != seen:
            seen, stable_since = count, time.monotonic()
    return "\n".join(bot_messages(page)[before:])


def ask(page: Page, question: str) -> str:
    before = len(bot_messages(page))
    box = page.get_by_role("textbox")
    box.fill(question)
    box.press("Enter")
    return wait_for_reply(page, before)


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / name)
