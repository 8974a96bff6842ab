"""The console's report pages in a real browser: what the bot could not answer, and the dashboard.

Visitors talk to the running assistant over the REST channel (each message from a sender of its
own): one question the bot answers, one out of its scope ("今天天气怎么样"), one it has to ask back
about (/nlu_fallback) and one asking for a person (转人工). Staff then open "未解答问题 /
Unanswered": the out-of-scope question is in a group, its example opens the read-only transcript
(api/conversations/<id>), the chart has one group per day and the CSV link follows the period.
"数据概览 / Dashboard" shows the handover in the outcome bar and the messages in the hourly chart.
Screenshots go to test-artifacts/ (desk-unanswered.png, desk-dashboard.png at 1280×800,
desk-reports-tablet.png at 768×1024).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect

from bot.db.desk import DeskStore, StaffInfo
from tests.desk_client import rest_conversation
from tests.browser import new_page, screenshot

TIMEOUT_S = 60
REPORT_TIMEOUT_MS = 20_000
OUT_OF_SCOPE = "今天天气怎么样"


def say(webhook: str, sender: str, message: str) -> list[dict[str, Any]]:
    response = requests.post(
        webhook, json={"sender": sender, "message": message}, timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


@pytest.fixture(scope="module")
def console_url(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/")


@pytest.fixture(scope="module")
def traffic(rasa_server: str, desk_store: DeskStore) -> Iterator[dict[str, str]]:
    """One visitor per kind of outcome; the handed-over one leaves the queue afterwards."""
    senders: dict[str, str] = {}
    for kind, message in (
        ("answered", "开幕式在哪里举行"),
        ("out_of_scope", OUT_OF_SCOPE),
        ("clarified", "/nlu_fallback"),
        ("handoff", "转人工"),
    ):
        senders[kind] = f"reports-browser-{kind}-{uuid.uuid4().hex[:12]}"
        assert say(rasa_server, senders[kind], message), f"no reply to {message!r}"
    yield senders
    active = desk_store.active_handoff(rest_conversation(senders["handoff"]))
    if active is not None:
        desk_store.close(active.id, None, "left")


@pytest.fixture
def errors() -> list[str]:
    """The page's script errors and failed requests (none may be, but the 401 of the
    console's first `api/me`, which is how it learns that nobody is signed in yet)."""
    return []


def open_page(
    browser: Browser, dialogs: list[str], errors: list[str], width: int, height: int
) -> Page:
    page = new_page(browser, dialogs, width=width, height=height)
    signed_out = [True]

    def on_console(message: ConsoleMessage) -> None:
        # a failed request is logged too: it is checked, with its address, below
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.url.endswith("/api/login") and response.ok:
            signed_out[0] = False
        expected = signed_out[0] and response.status == 401 and response.url.endswith("/api/me")
        if response.status >= 400 and not expected:
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("response", on_response)
    return page


def log_in(page: Page, url: str, password: str, lang: str) -> None:
    page.add_init_script(f"localStorage.setItem('cyberweek-desk:lang', JSON.stringify('{lang}'))")
    page.goto(url)
    page.locator("#login-username").fill("wang")
    page.locator("#login-password").fill(password)
    page.locator("#login-submit").click()
    expect(page.locator("body")).to_have_attribute("data-screen", "console")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "live")
    expect(page.locator("#nav-queue")).to_have_attribute("aria-current", "page")


def test_unanswered_questions_with_their_transcripts_chart_and_csv(
    browser: Browser,
    dialogs: list[str],
    errors: list[str],
    console_url: str,
    traffic: dict[str, str],
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    page = open_page(browser, dialogs, errors, 1280, 800)
    log_in(page, console_url, staff_password, "zh")
    page.locator("#nav-unanswered").click()
    expect(page.locator("#nav-unanswered")).to_have_attribute("aria-current", "page")
    expect(page.locator("#nav-queue")).not_to_have_attribute("aria-current", "page")
    expect(page.locator("#console-view")).to_be_hidden()

    # the out-of-scope question is in a group, with its outcome as a translated chip
    group = page.locator("#unanswered-groups .ug-item", has_text=OUT_OF_SCOPE)
    expect(group).to_be_visible(timeout=REPORT_TIMEOUT_MS)
    chip = group.locator(".outcome-chip[data-outcome='out_of_scope']")
    expect(chip).to_contain_text("超出范围")
    clarified = page.locator("#unanswered-groups .outcome-chip[data-outcome='clarified']")
    expect(clarified.first).to_contain_text("反问澄清")

    # the chart: one group per day of the period, and the day's messages counted
    chart = page.locator("#daily-chart svg")
    expect(chart).to_have_attribute("role", "img")
    expect(chart.locator("g.chart-day")).to_have_count(7)
    expect(page.locator("#daily-chart table.sr-only tbody tr")).to_have_count(7)
    days = chart.locator("g.chart-day")
    unanswered = sum(int(days.nth(i).get_attribute("data-unanswered") or 0) for i in range(7))
    answered = sum(int(days.nth(i).get_attribute("data-answered") or 0) for i in range(7))
    assert unanswered >= 3 and answered >= 1, (answered, unanswered)
    expect(page.locator("#daily-legend li")).to_have_count(3)
    screenshot(page, "desk-unanswered.png")

    # its example opens the read-only transcript of that conversation; Escape closes it
    example = group.locator(
        f".ug-example[data-conversation='{rest_conversation(traffic['out_of_scope'])}']"
    )
    example.click()
    dialog = page.locator("#report-transcript-dialog")
    expect(dialog).to_be_visible()
    transcript = page.locator("#report-transcript")
    expect(transcript.locator("li.msg[data-kind='visitor']").first).to_contain_text(OUT_OF_SCOPE)
    expect(transcript.locator("li.msg[data-kind='bot']").first).to_be_visible()
    expect(transcript.locator("li.msg.is-example")).to_contain_text(OUT_OF_SCOPE)
    expect(page.locator("#report-transcript-id")).to_contain_text(traffic["out_of_scope"])
    expect(dialog.locator("#reply-text, textarea, input")).to_have_count(0)  # read-only
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(example).to_be_focused()
    # ...and the back button too
    example.click()
    expect(dialog).to_be_visible()
    page.locator("#report-transcript-back").click()
    expect(dialog).to_be_hidden()

    # another period: as many day groups, and the CSV link follows
    csv_link = page.locator("#unanswered-csv")
    expect(csv_link).to_have_attribute("href", "api/reports/unanswered.csv?days=7")
    page.locator("#unanswered-days").select_option("14")
    expect(chart.locator("g.chart-day")).to_have_count(14)
    expect(page.locator("#daily-chart svg g.chart-day")).to_have_count(14)
    expect(csv_link).to_have_attribute("href", "api/reports/unanswered.csv?days=14")
    assert csv_link.get_attribute("download") is not None
    csv = page.request.get(console_url + "api/reports/unanswered.csv?days=14")
    assert csv.ok and "text/csv" in csv.headers["content-type"]
    assert OUT_OF_SCOPE in csv.text()

    assert not dialogs and not errors, (dialogs, errors)
    page.context.close()


def test_dashboard_with_outcomes_hours_and_topics(
    browser: Browser,
    dialogs: list[str],
    errors: list[str],
    console_url: str,
    traffic: dict[str, str],
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    page = open_page(browser, dialogs, errors, 1280, 800)
    page.clock.install()  # the 60 s refresh without waiting a minute
    log_in(page, console_url, staff_password, "zh")
    asked: list[str] = []
    page.on(
        "request",
        lambda request: asked.append(request.url)
        if "api/reports/dashboard" in request.url
        else None,
    )
    page.keyboard.press("Alt+3")
    expect(page.locator("#nav-dashboard")).to_have_attribute("aria-current", "page")
    expect(page.locator("#dashboard-view")).to_be_visible()

    # the outcome bar: the handover is a share of its own, with its percentage in the legend
    handed_over = page.locator("#outcome-bar .stack-seg[data-outcome='handoff']")
    expect(handed_over).to_be_visible(timeout=REPORT_TIMEOUT_MS)
    assert int(handed_over.get_attribute("data-count") or 0) > 0
    legend = page.locator("#outcome-legend li[data-outcome='handoff']")
    expect(legend).to_contain_text("转人工")
    expect(legend).to_contain_text(re.compile(r"\d+%"))
    assert (page.locator("#outcome-bar").get_attribute("aria-label") or "").count("%") >= 2

    # messages and conversations per hour: 24 hours, some with bars, and a text alternative
    hours = page.locator("#per-hour-chart svg g.chart-hour")
    expect(hours).to_have_count(24)
    bars = page.locator("#per-hour-chart rect.series-messages:not([data-value='0'])")
    assert bars.count() >= 1
    assert float(bars.first.get_attribute("height") or 0) > 0
    expect(page.locator("#per-hour-chart polyline.series-conversations")).to_have_count(1)
    expect(page.locator("#per-hour-chart svg")).to_have_attribute("aria-label", re.compile(r"\d"))
    assert page.locator("#per-hour-chart table.sr-only tbody tr").count() >= 1

    expect(page.locator("#topic-list li.topic").first).to_be_visible()
    expect(page.locator("#wait-value")).to_have_text(re.compile(r"^(—|\d.*秒|\d.*分)$"))
    expect(page.locator("#dashboard-status")).to_contain_text("60")
    expect(page.locator("#shortcut-list")).to_contain_text("Alt+1")
    screenshot(page, "desk-dashboard.png")

    # refreshed every 60 s while on screen
    before = len(asked)
    page.clock.fast_forward(61_000)
    for _ in range(50):
        if len(asked) > before:
            break
        page.wait_for_timeout(100)
    assert len(asked) > before, asked
    expect(page.locator("#dashboard-view")).to_have_attribute("aria-busy", "false")

    # Alt+1 back to the queue
    page.keyboard.press("Alt+1")
    expect(page.locator("#console-view")).to_be_visible()
    expect(page.locator("#dashboard-view")).to_be_hidden()

    assert not dialogs and not errors, (dialogs, errors)
    page.context.close()


def test_reports_on_a_tablet(
    browser: Browser,
    dialogs: list[str],
    errors: list[str],
    console_url: str,
    traffic: dict[str, str],
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    page = open_page(browser, dialogs, errors, 768, 1024)
    log_in(page, console_url, staff_password, "en")
    page.locator("#nav-unanswered").click()
    expect(page.locator("#unanswered-groups .ug-item").first).to_be_visible(
        timeout=REPORT_TIMEOUT_MS
    )
    expect(
        page.locator("#unanswered-groups .outcome-chip[data-outcome='out_of_scope']").first
    ).to_contain_text("out of scope")
    assert page.evaluate("document.documentElement.scrollWidth") <= 768

    page.locator("#nav-dashboard").click()
    page.locator("#dashboard-hours").select_option("168")
    expect(page.locator("#per-hour-chart svg g.chart-hour")).to_have_count(168)
    # hour labels are sparse enough not to overlap
    boxes = page.locator("#per-hour-chart text.chart-label:not(.is-date)").evaluate_all(
        "nodes => nodes.map(n => { const b = n.getBoundingClientRect(); return [b.left, b.right]; })"
    )
    assert len(boxes) >= 4
    assert all(a[1] < b[0] for a, b in zip(boxes, boxes[1:])), boxes
    svg_box = page.locator("#per-hour-chart svg").bounding_box()
    assert svg_box is not None and svg_box["x"] + svg_box["width"] <= 768
    expect(page.locator("#outcome-bar .stack-seg[data-outcome='handoff']")).to_be_visible()
    expect(page.locator("#outcome-legend li[data-outcome='handoff']")).to_contain_text(
        "handed over"
    )
    page.locator("#dashboard-hours").select_option("24")
    expect(page.locator("#per-hour-chart svg g.chart-hour")).to_have_count(24)
    screenshot(page, "desk-reports-tablet.png")

    assert not dialogs and not errors, (dialogs, errors)
    page.context.close()
