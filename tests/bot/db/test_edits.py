"""Staff edits (bot.db.edits): the seed's rules, one transaction, a change log that survives
reloads, a data version every instance can poll, names the NLU picks up at once."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot import paths
from bot.db import EventDB, load_seed
from bot.db.edits import (
    KINDS,
    EditConflict,
    FactEditError,
    FactEditor,
    LastUpdate,
    UnknownRecord,
)
from bot.db.seed.export import export_seed
from bot.nlu.names import DatabaseNames
from tests.bot.db.rows import snapshot

SEED_DIR = paths.SEED_DIR
T0 = dt.datetime(2024, 9, 10, 2, 0, tzinfo=dt.timezone.utc)


class Clock:
    """Editors' "now": advances a minute per reading so that every change has its own time."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(minutes=1)
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def editor(url: str, clock: Clock) -> Iterator[FactEditor]:
    facts = FactEditor(url, now=clock)
    yield facts
    facts.dispose()


def refused(call: Any, *args: Any, **kwargs: Any) -> FactEditError:
    with pytest.raises(FactEditError) as raised:
        call(*args, **kwargs)
    return raised.value


# --- reading ---------------------------------------------------------------------------


def test_editable_lists_every_record_with_both_languages(editor: FactEditor) -> None:
    venues = editor.editable("venue")
    assert [v.key for v in venues] == ["iff_nansha", "jiaomen_park", "beijing"]
    iff = venues[0]
    names = {f.name: f for f in iff.fields}
    assert "key" not in names and "aliases" not in names
    assert (names["address_zh"].lang, names["address_zh"].twin) == ("zh", "address_en")
    assert (names["address_en"].lang, names["address_en"].twin) == ("en", "address_zh")
    assert names["address_zh"].value is None and names["note_en"].value
    assert names["confirmed"].kind == "bool" and names["source"].value == ["seed"]
    assert iff.aliases is not None and "IFF" in iff.aliases
    assert iff.name_zh not in iff.aliases  # names are fields, aliases are the rest
    assert iff.last_updated is None and iff.revision >= 1

    finance = editor.record("theme_day", "finance_day")
    assert finance.values()["date"] == "2024-09-13"
    assert finance.values()["date_confirmed"] is False
    opening = editor.record("event", "opening_ceremony")
    assert opening.value("part_of_day") == "morning"
    precision = next(f for f in opening.fields if f.name == "date_precision")
    assert precision.choices == ("exact", "window", "unknown")
    fact = editor.record("fact", "recruitment_apply")
    assert fact.aliases is None and fact.name_en == "How to apply"
    assert {kind: len(editor.editable(kind)) > 0 for kind in KINDS} == dict.fromkeys(KINDS, True)


def test_unknown_kind_key_and_field_are_refused(editor: FactEditor) -> None:
    for kind in ("week", "organiser", ""):
        with pytest.raises(UnknownRecord, match="unknown kind"):
            editor.record(kind, "cyberweek_2024")
    with pytest.raises(UnknownRecord, match="no venue has key 'atlantis'"):
        editor.update("venue", "atlantis", {"city_en": "X"}, "ann")
    with pytest.raises(UnknownRecord):
        editor.record("venue", "x" * 500)

    error = refused(editor.update, "venue", "beijing", {"colour": "red", "key": "bj"}, "ann")
    assert set(error.by_field()) == {"colour", "key"}
    assert "unknown field" in error.by_field()["colour"][0]
    assert "城市" not in error.by_field("zh")["colour"][0]  # field names stay as in the YAML
    assert "未知字段" in error.by_field("zh")["colour"][0]
    error = refused(editor.update, "venue", "beijing", {"aliases": ["京城"]}, "ann")
    assert "add_alias" in error.by_field()["aliases"][0]
    with pytest.raises(ValueError):
        editor.update("venue", "beijing", {"city_en": "Peking"}, "")


@pytest.mark.parametrize(
    ("kind", "key", "changes", "field", "en", "zh"),
    [
        ("theme_day", "finance_day", {"date": "2024-09-31"}, "date", "ISO date", "日期"),
        (
            "theme_day",
            "finance_day",
            {"date_confirmed": "yes"},
            "date_confirmed",
            "true or false",
            "true 或 false",
        ),
        (
            "event",
            "opening_ceremony",
            {"part_of_day": "noon"},
            "part_of_day",
            "expected one of",
            "之一",
        ),
        ("event", "opening_ceremony", {"start_time": 930}, "start_time", "in quotes", "引号"),
        (
            "event",
            "opening_ceremony",
            {"venue_key": "atlantis"},
            "venue_key",
            "no venues record",
            "没有键为",
        ),
        ("event", "opening_ceremony", {"title_en": "  "}, "title_en", "non-empty", "不能为空"),
        (
            "event",
            "subforum_egov",
            {"topic": "governance", "kind": "expo"},
            "topic",
            "only forums",
            "只有论坛",
        ),
        ("event", "sub_forums", {"parent_key": "main_forum"}, "parent_key", "groups", "子活动"),
        ("venue", "beijing", {"address_zh": "北京市"}, "address_en", "give both", "同时"),
        ("venue", "beijing", {"source": ["ftp://x"]}, "source", "http(s) URL", "网址"),
        ("fact", "theme", {"category": "gossip"}, "category", "expected one of", "之一"),
    ],
)
def test_a_refusal_names_the_field_in_both_languages(
    editor: FactEditor,
    url: str,
    kind: str,
    key: str,
    changes: dict[str, Any],
    field: str,
    en: str,
    zh: str,
) -> None:
    before, version = snapshot(url), editor.data_version()
    error = refused(editor.update, kind, key, changes, "ann")
    assert field in error.by_field(), error.problems
    assert en in " ".join(error.by_field("en")[field])
    assert zh in " ".join(error.by_field("zh")[field])
    # nothing changed, nothing logged
    assert snapshot(url) == before
    assert editor.data_version() == version
    assert editor.history() == []


@pytest.mark.parametrize(
    ("kind", "key", "changes", "field"),
    [
        # an address while the venue is not confirmed: only with a note saying what is not
        (
            "venue",
            "iff_nansha",
            {
                "confirmed": False,
                "address_zh": "南沙区",
                "address_en": "Nansha",
                "note_zh": None,
                "note_en": None,
            },
            "note_zh",
        ),
        # confirming a theme day needs its date
        ("theme_day", "youth_day", {"date_confirmed": True, "date": None}, "date"),
        # an unconfirmed date keeps its note
        ("theme_day", "finance_day", {"note_zh": "", "note_en": ""}, "note_zh"),
        # a window (the day not announced) or an unconfirmed event needs its note
        ("event", "subforum_egov", {"note_zh": None, "note_en": None}, "note_zh"),
        (
            "event",
            "press_conference",
            {"confirmed": False, "note_zh": None, "note_en": None},
            "note_zh",
        ),
        # an exact date needs the date; a window may not carry a time
        ("event", "expo", {"date_precision": "exact", "start_date": None}, "start_date"),
        ("event", "subforum_egov", {"start_time": "09:30"}, "start_time"),
    ],
)
def test_an_unconfirmed_value_is_never_stored_as_a_fact(
    editor: FactEditor, kind: str, key: str, changes: dict[str, Any], field: str
) -> None:
    error = refused(editor.update, kind, key, changes, "ann")
    assert field in error.by_field(), error.problems


# --- accepted edits --------------------------------------------------------------------


def test_confirming_finance_day_changes_the_answer_at_once(editor: FactEditor, url: str) -> None:
    db = EventDB(url)  # opened before the edit, as a running action server is
    assert not db.theme_day("finance_day").date_confirmed
    version = editor.data_version()

    record = editor.update(
        "theme_day",
        "finance_day",
        {"date_confirmed": True, "date": "2024-09-13", "note_zh": None, "note_en": None},
        "ann",
    )
    assert record.value("date_confirmed") is True and record.value("note_zh") is None
    assert record.review == ()  # the note was dealt with in the same edit
    finance = db.theme_day("finance_day")
    assert finance.date_confirmed and finance.date == dt.date(2024, 9, 13)
    assert db.theme_day_on(dt.date(2024, 9, 13)).key == "finance_day"
    assert editor.data_version() == db.data_version() == version + 1
    db.dispose()


def test_every_accepted_field_is_logged_with_old_and_new_values(
    editor: FactEditor, clock: Clock
) -> None:
    record = editor.update(
        "venue",
        "iff_nansha",
        {
            "address_zh": "广州市南沙区",
            "address_en": "Nansha District, Guangzhou",
            "city_en": "Guangzhou",
        },
        "bob",
    )
    when = clock.now
    assert record.last_updated == LastUpdate(when, "bob")
    assert editor.last_updated("venue", "iff_nansha") == (when, "bob")
    assert editor.last_updated("venue", "beijing") is None
    # city_en did not change: not logged
    changes = editor.history(kind="venue", key="iff_nansha")
    assert [(c.field, c.old, c.new, c.editor, c.when) for c in changes] == [
        ("address_en", None, "Nansha District, Guangzhou", "bob", when),
        ("address_zh", None, "广州市南沙区", "bob", when),
    ]
    assert len({c.version for c in changes}) == 1  # one transaction, one version
    # the note still says the address is not announced: the editor is asked to look at it
    assert [hint.field for hint in record.review] == ["note_zh"]

    editor.update("event", "opening_ceremony", {"start_time": "09:30", "end_time": "11:00"}, "cy")
    newest = editor.history(limit=2)
    assert [(c.key, c.field, c.new) for c in newest] == [
        ("opening_ceremony", "end_time", "11:00"),
        ("opening_ceremony", "start_time", "09:30"),
    ]
    assert [c.key for c in editor.history(kind="venue")] == ["iff_nansha", "iff_nansha"]
    assert len(editor.history()) == 4


def test_an_edit_that_changes_nothing_writes_nothing(editor: FactEditor, url: str) -> None:
    before, version = snapshot(url), editor.data_version()
    record = editor.update("venue", "beijing", {"city_en": "Beijing", "source": ["seed"]}, "ann")
    assert record.last_updated is None
    assert (snapshot(url), editor.data_version(), editor.history()) == (before, version, [])


def test_moving_a_one_day_event_moves_its_end_date(editor: FactEditor) -> None:
    record = editor.update("event", "opening_ceremony", {"start_date": "2024-09-09"}, "ann")
    assert (record.value("start_date"), record.value("end_date")) == ("2024-09-09", "2024-09-09")
    assert {c.field for c in editor.history()} == {"start_date", "end_date"}


def test_a_confirmed_fact_with_its_old_text_is_flagged_for_review(editor: FactEditor) -> None:
    record = editor.update("fact", "recruitment_apply", {"confirmed": True}, "ann")
    assert "text_zh" in [hint.field for hint in record.review]
    texts = {"text_zh": "通过官网报名。", "text_en": "Apply on the official website."}
    editor.update("fact", "recruitment_apply", {"confirmed": False}, "ann")
    record = editor.update("fact", "recruitment_apply", {"confirmed": True, **texts}, "ann")
    assert record.review == ()


def test_data_version_goes_up_with_every_edit_and_every_load(editor: FactEditor, url: str) -> None:
    first = editor.data_version()
    assert first >= 1  # the load counted
    editor.update("venue", "beijing", {"city_en": "Peking"}, "ann")
    editor.add_alias("venue", "beijing", "京城", "zh", "ann")
    assert editor.data_version() == first + 2
    load_seed(SEED_DIR, url)
    assert editor.data_version() == first + 3


def test_an_empty_database_has_version_none_for_readers(tmp_path: Path) -> None:
    db = EventDB(f"sqlite:///{tmp_path / 'empty.db'}")
    assert db.data_version() is None  # the names provider then relies on its TTL
    db.dispose()


def test_the_change_log_survives_a_reload_of_the_repository_seed(
    editor: FactEditor, url: str
) -> None:
    editor.update("venue", "jiaomen_park", {"district_en": "Nansha"}, "ann")
    logged = editor.history()
    assert editor.unexported_changes(SEED_DIR) == logged
    # tables rebuilt too: an out-of-date column makes the load drop every event table
    with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
        connection.execute("ALTER TABLE facts ADD COLUMN stale TEXT")
    load_seed(SEED_DIR, url)
    assert editor.history() == logged
    assert editor.record("venue", "jiaomen_park").value("district_en") == "Nansha District"
    assert editor.last_updated("venue", "jiaomen_park") == (logged[0].when, "ann")
    assert editor.unexported_changes(SEED_DIR) == []  # the load replaced it, knowingly


def test_an_export_to_the_seed_directory_clears_the_unexported_edits(
    editor: FactEditor, url: str, tmp_path: Path
) -> None:
    editor.update("venue", "jiaomen_park", {"district_en": "Nansha"}, "ann")
    elsewhere = tmp_path / "elsewhere"
    export_seed(elsewhere, url)
    assert editor.unexported_changes(elsewhere) == []
    assert len(editor.unexported_changes(SEED_DIR)) == 1  # exported, but not there


def test_a_stale_form_is_refused_instead_of_overwriting(editor: FactEditor, url: str) -> None:
    seen = editor.record("venue", "beijing").revision
    editor.update("venue", "beijing", {"city_en": "Peking"}, "ann", expected_revision=seen)
    with pytest.raises(EditConflict) as raised:
        editor.update(
            "venue", "beijing", {"city_en": "Beijing City"}, "bob", expected_revision=seen
        )
    assert "ann changed this record" in str(raised.value)
    assert "ann" in raised.value.by_field("zh")[""][0]
    assert editor.record("venue", "beijing").value("city_en") == "Peking"
    # other records keep their revision; a reload changes every record's
    other = editor.record("venue", "jiaomen_park").revision
    assert other == seen
    load_seed(SEED_DIR, url)
    with pytest.raises(EditConflict, match="reloaded"):
        editor.update("venue", "jiaomen_park", {"city_en": "X"}, "bob", expected_revision=other)


# --- names and aliases -----------------------------------------------------------------


def test_an_alias_is_a_name_at_once(editor: FactEditor, url: str) -> None:
    db = EventDB(url)
    record = editor.add_alias("venue", "iff_nansha", "南沙国际金融岛", "zh", "ann")
    assert record.aliases is not None and record.aliases[-1] == "南沙国际金融岛"
    assert ("venue", "iff_nansha", "南沙国际金融岛") in {
        (n.entity, n.key, n.text) for n in db.names()
    }
    change = editor.history()[0]
    assert (change.field, change.old, change.new) == ("aliases", None, "南沙国际金融岛")

    editor.remove_alias("venue", "iff_nansha", "南沙国际金融岛", "ann")
    assert "南沙国际金融岛" not in {n.text for n in db.names()}
    assert (editor.history()[0].old, editor.history()[0].new) == ("南沙国际金融岛", None)
    db.dispose()


@pytest.mark.parametrize(
    ("kind", "key", "text", "lang", "message"),
    [
        ("venue", "jiaomen_park", "iff  VENUE", "en", "already means venue 'iff_nansha'"),
        ("venue", "iff_nansha", "iff venue", "en", "already a name of this record"),
        ("venue", "iff_nansha", "国际金融论坛（IFF）永久会址", "zh", "already a name"),
        ("venue", "iff_nansha", "港", "zh", "too short"),
        ("venue", "iff_nansha", "南沙金融岛", "en", "Chinese characters"),
        ("venue", "iff_nansha", "Nansha island", "zh", "no Chinese characters"),
        ("venue", "iff_nansha", "Nansha island", "fr", "zh or en"),
        ("venue", "iff_nansha", "  ", "en", "non-empty"),
        ("venue", "iff_nansha", "x" * 300, "en", "longer than"),
        ("fact", "theme", "the slogan", "en", "has no aliases"),
    ],
)
def test_a_bad_alias_is_refused(
    editor: FactEditor, kind: str, key: str, text: str, lang: str, message: str
) -> None:
    error = refused(editor.add_alias, kind, key, text, lang, "ann")
    assert message in str(error)
    assert all(p.zh for p in error.problems)
    assert editor.history() == []


def test_removing_a_name_is_refused(editor: FactEditor) -> None:
    error = refused(editor.remove_alias, "venue", "beijing", "北京", "ann")
    assert "not one of this record's aliases" in str(error)


def test_a_renamed_record_is_known_by_its_new_name(editor: FactEditor, url: str) -> None:
    db = EventDB(url)
    editor.update("venue", "jiaomen_park", {"name_en": "Jiaomen Park (Nansha)"}, "ann")
    texts = [n.text for n in db.names() if n.key == "jiaomen_park"]
    assert "Jiaomen Park (Nansha)" in texts and "Jiaomen Park" not in texts
    assert texts[:2] == ["蕉门公园", "Jiaomen Park (Nansha)"]  # names first, as a load does
    error = refused(editor.update, "venue", "jiaomen_park", {"name_en": "IFF"}, "ann")
    assert "already means venue 'iff_nansha'" in error.by_field()["name_en"][0]
    db.dispose()


def test_the_names_provider_sees_a_new_alias_without_waiting_for_its_ttl(
    editor: FactEditor, url: str
) -> None:
    db = EventDB(url)
    now = [1000.0]
    versions: list[int | None] = []

    def version() -> int | None:
        versions.append(db.data_version())
        return versions[-1]

    provider = DatabaseNames(db.names, ttl_seconds=300, monotonic=lambda: now[0], version=version)
    first = provider.snapshot()
    assert first is not None and "南沙国际金融岛" not in {n.text for n in first.names}
    editor.add_alias("venue", "iff_nansha", "南沙国际金融岛", "zh", "ann")
    now[0] += 1.0
    assert provider.snapshot() is first  # within the 2 s between version checks: no query
    now[0] += 1.0
    fresh = provider.snapshot()
    assert fresh is not None and fresh.generation == first.generation + 1
    assert ("iff_nansha", "南沙国际金融岛") in {(n.key, n.text) for n in fresh.names}
    now[0] += 2.0
    assert provider.snapshot() is fresh  # version unchanged: names not read again
    assert len(versions) == 3  # one read at the load, one per due check
    db.dispose()


def test_the_shared_provider_and_gazetteer_pick_up_an_alias(editor: FactEditor, url: str) -> None:
    from bot.nlu.gazetteer import DatabaseGazetteer
    from tests.bot.nlu.helpers import found, message

    DatabaseNames.forget_shared()
    try:
        shared = DatabaseNames.shared(url)
        shared.version_check_seconds = 0  # "at once" without sleeping 2 s in a test
        gazetteer = DatabaseGazetteer({"database_url": url})
        before = message("南沙国际金融岛怎么去")
        gazetteer.process([before])
        assert found(before, "DatabaseGazetteer") == []
        editor.add_alias("venue", "iff_nansha", "南沙国际金融岛", "zh", "ann")
        after = message("南沙国际金融岛怎么去")
        gazetteer.process([after])
        assert found(after, "DatabaseGazetteer") == [("venue", "iff_nansha", "南沙国际金融岛")]
    finally:
        DatabaseNames.forget_shared()


# --- logistics: staff fill in what is announced -------------------------------------------


def test_a_logistics_text_is_filled_in_confirmed_and_answered_at_once(
    editor: FactEditor, url: str
) -> None:
    db = EventDB(url)  # opened before the edit, as a running action server is
    assert db.logistics("admission", event="expo").text("zh") is None
    record = editor.record("logistics", "expo_admission")
    assert {f.name for f in record.fields} == {
        "text_zh",
        "text_en",
        "source",
        "confirmed",
        "note_zh",
        "note_en",
    }  # topic and scope are what the record is; they stay as in the YAML
    assert "expo" in record.name_en and record.name_zh and record.aliases is None

    texts = {"text_zh": "凭身份证免费入场。", "text_en": "Free entry with an ID card."}
    editor.update("logistics", "expo_admission", {**texts, "confirmed": True}, "ann")
    expo = db.logistics("admission", event="expo")
    assert (expo.text("zh"), expo.text("en")) == (texts["text_zh"], texts["text_en"])
    assert db.logistics("admission").text("zh") is None  # the week's record is another one
    assert [c.field for c in editor.history(kind="logistics")] == [
        "confirmed",
        "text_en",
        "text_zh",
    ]
    db.dispose()


def test_a_logistics_edit_is_held_to_the_seed_rules(editor: FactEditor) -> None:
    error = refused(editor.update, "logistics", "expo_admission", {"confirmed": True}, "ann")
    assert "text_zh" in error.by_field()
    error = refused(editor.update, "logistics", "expo_admission", {"text_zh": "免费"}, "ann")
    assert "text_en" in error.by_field()  # both languages or neither
    error = refused(
        editor.update, "logistics", "expo_admission", {"event_key": "main_forum"}, "ann"
    )
    assert "YAML" in error.by_field()["event_key"][0]
    assert (
        "topic" in refused(editor.update, "logistics", "week_wifi", {"topic": "x"}, "a").by_field()
    )


def test_an_exported_logistics_edit_loads_back(
    editor: FactEditor, url: str, tmp_path: Path
) -> None:
    texts = {"text_zh": "会场提供免费Wi-Fi。", "text_en": "Free Wi-Fi on site."}
    editor.update("logistics", "week_wifi", {**texts, "confirmed": True}, "ann")
    out = tmp_path / "exported"
    export_seed(out, url)
    again = f"sqlite:///{tmp_path / 'again.db'}"
    load_seed(out, again)
    assert snapshot(again)["logistics"] == snapshot(url)["logistics"]
    wifi = EventDB(again).logistics("wifi")
    assert wifi is not None and wifi.text("en") == texts["text_en"]
