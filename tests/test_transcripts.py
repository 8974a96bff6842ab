"""Conversations are kept in the SQL tracker store (endpoints.yml): a restart of the assistant
loses no context, and the help desk keeps its queue and transcripts across it."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

import requests
import yaml

from bot import paths
from bot.db import EventDB
from bot.db.desk import StaffInfo
from evaluation.e2e import ask
from ops import harness
from tests.desk_client import rest_conversation

ASKED_DAY = date(2024, 9, 11)  # 明天 under the demo clock (Tuesday 10 September)


def endpoints_with_sql_tracker_store(tmp_path: Path) -> Path:
    """endpoints.yml's tracker store, pointed at a file of this test's own."""
    settings = yaml.safe_load(paths.ENDPOINTS_FILE.read_text(encoding="utf-8"))
    kind = settings["tracker_store"]["type"]
    assert (
        kind == "bot.desk.tracker_store.DeskTrackerStore"
    ), "endpoints.yml must keep conversations"
    settings["tracker_store"]["db"] = str(tmp_path / "conversations.db")
    path = tmp_path / "endpoints.yml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    return path


def console(webhook: str, password: str) -> tuple[requests.Session, str]:
    """A logged-in console session and its base URL."""
    base = webhook.replace("/webhooks/rest/webhook", "/webhooks/desk/api")
    session = requests.Session()
    login = session.post(f"{base}/login", json={"username": "wang", "password": password})
    assert login.status_code == 200, login.text
    session.headers["X-CSRF-Token"] = login.json()["csrf_token"]
    return session, base


def test_a_follow_up_after_a_restart_uses_the_context_from_before_it(
    trained_model: Path,
    server_env: dict[str, str],
    seeded_db_url: str,
    tmp_path: Path,
    staff_accounts: dict[str, StaffInfo],
    staff_password: str,
) -> None:
    db = EventDB(seeded_db_url)
    try:
        asked = db.theme_day_on(ASKED_DAY)
        next_day = db.theme_day_on(date(2024, 9, 12))
    finally:
        db.dispose()
    assert asked is not None and next_day is not None
    endpoints = endpoints_with_sql_tracker_store(tmp_path)
    visitor = f"restart-{uuid.uuid4().hex[:8]}"
    waiting = f"waiting-{visitor}"  # asks for a person before the restart
    with harness.running_assistant(server_env, trained_model, endpoints=endpoints) as assistant:
        first = ask(assistant.webhook, visitor, "明天是什么主题日")
        ask(assistant.webhook, waiting, "转人工")
        ask(assistant.webhook, waiting, "我的问题写在这里 restart-check")
    assert asked.name("zh") in first.text
    with harness.running_assistant(server_env, trained_model, endpoints=endpoints) as assistant:
        follow_up = ask(assistant.webhook, visitor, "第二天呢")
        stranger = ask(assistant.webhook, f"other-{visitor}", "第二天呢")
        session, base = console(assistant.webhook, staff_password)
        queue = session.get(f"{base}/handoffs", params={"view": "waiting"}).json()["handoffs"]
        (handoff,) = [h for h in queue if h["conversation_id"] == rest_conversation(waiting)]
        shown = session.get(f"{base}/handoffs/{handoff['id']}").json()["transcript"]
        # still paused after the restart: the bot does not answer over the staff's heads
        still_paused = ask(assistant.webhook, waiting, "开幕式在哪里")
    assert "restart-check" in handoff["last_visitor_message"] or any(
        "restart-check" in entry["text"] for entry in shown
    )
    assert [e["text"] for e in shown if e["kind"] == "visitor"][:2] == [
        "转人工",
        "我的问题写在这里 restart-check",
    ]
    assert still_paused.text == "", still_paused.text
    assert next_day.name("zh") in follow_up.text, follow_up.text
    # without the stored context the same words have no day to count from
    assert next_day.name("zh") not in stranger.text, stranger.text
    assert (tmp_path / "conversations.db").stat().st_size > 0
