"""SQLite engines (bot/db/engine.py): real transactions for writes, none for one-statement reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url

from bot.db.engine import make_engine, read_retrying_once, tracker_store_engine


def _engines(tmp_path: Path) -> dict[str, Engine]:
    return {
        "event database": make_engine(f"sqlite:///{tmp_path / 'event.db'}"),
        "tracker store": tracker_store_engine(make_url(f"sqlite:///{tmp_path / 'store.db'}")),
    }


def _recorded(engine: Engine) -> list[str]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    return seen


@pytest.mark.parametrize("which", ["event database", "tracker store"])
def test_a_one_statement_read_runs_without_begin(which: str, tmp_path: Path) -> None:
    engine = _engines(tmp_path)[which]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1), (2)"))
    seen = _recorded(engine)
    rows = read_retrying_once(engine, lambda db: db.execute(text("SELECT n FROM t")).all())
    assert [n for (n,) in rows] == [1, 2]
    assert seen == ["SELECT"]


def test_writes_still_run_in_a_transaction(tmp_path: Path) -> None:
    """(The tracker store's engine leaves BEGIN to pysqlite, before its first write.)"""
    engine = _engines(tmp_path)["event database"]
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    seen = _recorded(engine)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (:n)"), [{"n": 1}, {"n": 2}])
        raise RuntimeError("the transaction fails after its inserts")
    assert seen[0] == "BEGIN"
    assert read_retrying_once(engine, lambda db: db.execute(text("SELECT n FROM t")).all()) == []
    with engine.connect() as connection:  # a read that is not one statement: BEGIN as before
        connection.execute(text("SELECT n FROM t")).all()
    assert seen.count("BEGIN") == 2
