"""Live fact edits from the console: checked like the seed, answered at once, logged, and
only for editors. Every test puts the shared database back as it found it."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.db.desk import StaffInfo
from tests.desk_client import Console, say, text_of

VENUE = "iff_nansha"


@pytest.fixture(scope="module")
def api(rasa_server: str) -> str:
    return rasa_server.replace("/webhooks/rest/webhook", "/webhooks/desk/api")


@pytest.fixture(scope="module")
def editor(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "zhao", staff_password)


@pytest.fixture(scope="module")
def agent(api: str, staff_accounts: dict[str, StaffInfo], staff_password: str) -> Console:
    return Console(api, "wang", staff_password)


def venue(console: Console) -> dict:
    reply = console.get(f"/facts/venue/{VENUE}")
    assert reply.status_code == 200, reply.text
    return reply.json()


def answer(rasa_server: str, question: str) -> str:
    return text_of(say(rasa_server, f"facts-{uuid.uuid4().hex[:8]}", question))


def test_an_agent_may_read_facts_but_not_change_them(agent: Console) -> None:
    record = venue(agent)["record"]
    refused = agent.post(
        f"/facts/venue/{VENUE}", {"changes": {"address_zh": "x"}, "revision": record["revision"]}
    )
    assert (refused.status_code, refused.json()) == (403, {"error": "forbidden"})


def test_an_address_added_by_an_editor_is_answered_at_once_and_logged(
    editor: Console, rasa_server: str
) -> None:
    street = f"明珠湾{uuid.uuid4().hex[:4]}号"
    assert street not in answer(rasa_server, "IFF永久会址的地址是什么")
    before = venue(editor)["record"]
    saved = editor.post(
        f"/facts/venue/{VENUE}",
        {
            "changes": {"address_zh": f"广州市南沙区{street}", "address_en": f"{street}, Nansha"},
            "revision": before["revision"],
        },
    )
    assert saved.status_code == 200, saved.text
    try:
        assert street in answer(rasa_server, "IFF永久会址的地址是什么")  # no retraining, no restart
        shown = venue(editor)
        assert shown["record"]["last_updated"]["who"] == "zhao"
        assert {c["field"] for c in shown["history"][:2]} == {"address_zh", "address_en"}
    finally:
        revision = saved.json()["record"]["revision"]
        restored = editor.post(
            f"/facts/venue/{VENUE}",
            {"changes": {"address_zh": None, "address_en": None}, "revision": revision},
        )
        assert restored.status_code == 200, restored.text


def test_a_refused_edit_names_the_field_and_a_stale_form_is_a_conflict(editor: Console) -> None:
    record = venue(editor)["record"]
    half = editor.post(
        f"/facts/venue/{VENUE}",
        {"changes": {"address_zh": "只有中文"}, "revision": record["revision"]},
    )
    assert half.status_code == 422
    assert half.json()["problems"][0]["field"] == "address_en"
    assert venue(editor)["record"]["revision"] == record["revision"]  # nothing changed
    stale = editor.post(f"/facts/venue/{VENUE}", {"changes": {"city_en": "Canton"}, "revision": -1})
    assert stale.status_code == 409
    assert (
        editor.post("/facts/venue/no_such_venue", {"changes": {}, "revision": 0}).status_code == 404
    )


def test_a_new_alias_is_understood_within_seconds(editor: Console, rasa_server: str) -> None:
    alias = "珠江明珠会场"
    record = venue(editor)["record"]
    added = editor.post(
        f"/facts/venue/{VENUE}/aliases/add",
        {"text": alias, "lang": "zh", "revision": record["revision"]},
    )
    assert added.status_code == 200, added.text
    try:
        name = record["name_zh"]
        deadline = time.monotonic() + 10  # the names provider looks every 2 s
        while name not in (reply := answer(rasa_server, f"{alias}在哪里")):
            assert time.monotonic() < deadline, reply
            time.sleep(1)
    finally:
        revision = added.json()["record"]["revision"]
        removed = editor.post(
            f"/facts/venue/{VENUE}/aliases/delete", {"text": alias, "revision": revision}
        )
        assert removed.status_code == 200, removed.text
