"""`cyberweek db export`: the database back to seed YAML that loads to the same rows, edits
included, in the repository's shape; `cyberweek db load` will not silently drop edits."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot import paths
from bot.db import EventDB, check_seed, load_seed
from bot.db.edits import FactEditor
from bot.db.seed.export import EXPORT_MARK, FIELD_ORDER, ExportError, export_seed
from bot.db.seed.validate import fold_alias, name_fields
from ops.cli import main
from tests.bot.db.rows import snapshot

SEED_DIR = paths.SEED_DIR


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def sections(directory: Path) -> dict[str, dict[str, Any]]:
    """file name -> its parsed document."""
    return {
        path.name: yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted(directory.glob("*.yml"))
    }


@pytest.fixture()
def loaded(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "first.db")
    load_seed(SEED_DIR, url)
    return url


def test_export_then_load_gives_the_same_rows(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    report = export_seed(out, loaded)
    assert check_seed(out) == []
    second = sqlite_url(tmp_path / "second.db")
    load_seed(out, second)
    first_rows, second_rows = snapshot(loaded), snapshot(second)
    assert first_rows.keys() == second_rows.keys()
    for table in first_rows:  # table by table, row by row, so a failure names the table
        assert first_rows[table] == second_rows[table], table
    assert report.counts["events"] == len(first_rows["events"])
    assert {path.name for path in report.files} == {path.name for path in SEED_DIR.glob("*.yml")}


def test_the_files_have_the_repository_shape(loaded: str, tmp_path: Path) -> None:
    out = tmp_path / "exported"
    export_seed(out, loaded)
    repo, exported = sections(SEED_DIR), sections(out)
    assert repo.keys() == exported.keys()
    for name, document in repo.items():
        assert list(exported[name]) == list(document), name  # same sections, same order
        for section, body in document.items():
            ours = exported[name][section]
            if isinstance(body, dict):
                assert ours == body
                continue
            assert [r["key"] for r in ours] == [r["key"] for r in body]
            for theirs, mine in zip(body, ours):
                assert_same_record(section, theirs, mine)


def assert_same_record(section: str, theirs: dict[str, Any], mine: dict[str, Any]) -> None:
    """The same fields in the same order with the same values, except what the loader never
    stores: empty fields, an exact event's end_date equal to its start, and aliases that are
    the record's own name in other letter case."""
    where = (section, theirs["key"])
    kept = {k: v for k, v in theirs.items() if v is not None}
    if section == "events" and kept.get("end_date") == kept.get("start_date"):
        kept.pop("end_date", None)
    names = (
        {fold_alias(theirs[field]) for field in name_fields(section)}
        if "aliases" in kept
        else set()
    )
    if "aliases" in kept:
        kept["aliases"] = [a for a in kept["aliases"] if fold_alias(a) not in names]
    assert list(mine) == list(kept), where
    assert [k for k in FIELD_ORDER[section] if k in mine] == list(mine), where
    for field, value in kept.items():
        if isinstance(value, str):
            value = value.strip()
        if field == "source" and isinstance(value, list) and len(value) == 1:
            value = value[0]
        assert mine[field] == value, (*where, field)


def test_sources_are_kept(loaded: str, tmp_path: Path) -> None:
    export_seed(tmp_path / "out", loaded)
    facts = yaml.safe_load((tmp_path / "out" / "facts.yml").read_text(encoding="utf-8"))
    theme = next(f for f in facts["facts"] if f["key"] == "theme")
    assert theme["source"] == ["seed", "http://en.people.cn/n3/2024/0909/c90000-20216740.html"]


def test_each_file_says_it_was_exported_and_keeps_its_opening_comments(
    loaded: str, tmp_path: Path
) -> None:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    original = (SEED_DIR / "venues.yml").read_text(encoding="utf-8").splitlines()
    opening = [line for line in original[: original.index("venues:")] if line.startswith("#")]
    for _ in range(2):  # a second export replaces the first one's line
        export_seed(target, loaded)
        lines = (target / "venues.yml").read_text(encoding="utf-8").splitlines()
        assert lines[0].startswith(EXPORT_MARK) and "(data version 1)" in lines[0]
        assert lines[1 : 1 + len(opening)] == opening
        assert lines[1 + len(opening)] == "venues:"
    assert sum(line.startswith(EXPORT_MARK) for line in lines) == 1
    assert not list(target.glob(".export-*"))  # the scratch directory is gone


def test_an_export_after_edits_shows_them_and_loads_them(loaded: str, tmp_path: Path) -> None:
    editor = FactEditor(loaded)
    editor.update(
        "theme_day",
        "finance_day",
        {"date_confirmed": True, "date": "2024-09-13", "note_zh": None, "note_en": None},
        "ann",
    )
    editor.update(
        "venue",
        "iff_nansha",
        {"address_zh": "广州市南沙区", "address_en": "Nansha, Guangzhou"},
        "ann",
    )
    editor.update("event", "opening_ceremony", {"start_time": "09:30"}, "ann")
    editor.update("venue", "jiaomen_park", {"name_en": "Jiaomen Park (Nansha)"}, "ann")
    editor.add_alias("venue", "iff_nansha", "南沙国际金融岛", "zh", "ann")
    editor.dispose()

    out = tmp_path / "out"
    report = export_seed(out, loaded)
    assert report.version == 6  # the load and five edits
    docs = sections(out)
    finance = next(t for t in docs["theme_days.yml"]["theme_days"] if t["key"] == "finance_day")
    assert finance["date_confirmed"] is True and "note_zh" not in finance
    iff = docs["venues.yml"]["venues"][0]
    assert iff["address_zh"] == "广州市南沙区" and iff["aliases"][-1] == "南沙国际金融岛"
    opening = next(e for e in docs["events.yml"]["events"] if e["key"] == "opening_ceremony")
    assert opening["start_time"] == "09:30"  # quoted: YAML would read 9:30 as a number
    assert "start_time: '09:30'" in (out / "events.yml").read_text(encoding="utf-8")

    second = sqlite_url(tmp_path / "second.db")
    load_seed(out, second)
    assert snapshot(second) == snapshot(loaded)
    db = EventDB(second)
    assert db.theme_day("finance_day").date_confirmed
    assert ("venue", "jiaomen_park", "Jiaomen Park (Nansha)") in {
        (n.entity, n.key, n.text) for n in db.names()
    }
    db.dispose()


def test_nothing_to_export_from_an_empty_database(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="not loaded"):
        export_seed(tmp_path / "out", sqlite_url(tmp_path / "empty.db"))
    assert not (tmp_path / "out").exists()


def test_a_section_spread_over_two_files_is_refused(loaded: str, tmp_path: Path) -> None:
    target = tmp_path / "seed"
    shutil.copytree(SEED_DIR, target)
    (target / "more_venues.yml").write_text("venues: []\n", encoding="utf-8")
    before = (target / "venues.yml").read_text(encoding="utf-8")
    with pytest.raises(ExportError, match="several files"):
        export_seed(target, loaded)
    assert (target / "venues.yml").read_text(encoding="utf-8") == before


# --- the command -----------------------------------------------------------------------


def test_load_refuses_to_drop_unexported_edits(
    loaded: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    editor = FactEditor(loaded)
    editor.update("venue", "beijing", {"city_en": "Peking"}, "ann")
    editor.dispose()
    seed = tmp_path / "seed"
    shutil.copytree(SEED_DIR, seed)

    assert main(["db", "load", "--seed", str(seed), "--url", loaded]) == 1
    err = capsys.readouterr().err
    assert "1 change(s) made in the staff console" in err and "ann: venue beijing city_en" in err
    assert EventDB(loaded).venue("beijing").city_en == "Peking"  # nothing was loaded

    assert main(["db", "export", "--out", str(seed), "--url", loaded]) == 0
    assert "city_en: Peking" in (seed / "venues.yml").read_text(encoding="utf-8")
    assert main(["db", "load", "--seed", str(seed), "--url", loaded]) == 0
    assert EventDB(loaded).venue("beijing").city_en == "Peking"


def test_load_with_discard_edits_replaces_them(loaded: str, tmp_path: Path) -> None:
    editor = FactEditor(loaded)
    editor.update("venue", "beijing", {"city_en": "Peking"}, "ann")
    assert main(["db", "load", "--seed", str(SEED_DIR), "--url", loaded, "--discard-edits"]) == 0
    assert EventDB(loaded).venue("beijing").city_en == "Beijing"
    assert [c.new for c in editor.history()] == ["Peking"]  # the log keeps what was replaced
    editor.dispose()
    # a fresh database has no edits to lose
    assert main(["db", "load", "--url", sqlite_url(tmp_path / "fresh.db")]) == 0


def test_export_command_reports_an_empty_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite_url(tmp_path / "empty.db")
    assert main(["db", "export", "--out", str(tmp_path / "out"), "--url", url]) == 1
    assert "Nothing was written" in capsys.readouterr().err
