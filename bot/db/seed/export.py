"""The event database -> seed YAML files that `cyberweek db load` reads back to the same rows.

Editors change facts in the staff console while the week runs; `cyberweek db export` writes
them back to data/event/*.yml so that the repository stays the source of truth. Each section
goes to the file that already holds it (else `<section>.yml`), fields in the seed's order,
empty fields left out, sources kept. Comments are lost, except each file's opening comment
block, which is kept under a line saying when the file was exported. The written files are
validated as a seed before they replace the old ones, so an export never leaves a seed that
does not load.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection, Engine

from bot.db.changes import DataState, ensure_tables, mark_exported, read_version, utc_now
from bot.db.engine import make_engine, writer
from bot.db.models import DERIVED_COLUMNS, Alias
from bot.db.schema import schema_state
from bot.db.seed.load import SECTION_MODELS
from bot.db.seed.read import SECTIONS, SINGLE_RECORD_SECTIONS
from bot.db.seed.validate import (
    ALIASES,
    NAMED_SECTIONS,
    SECTION_FIELDS,
    FieldSpec,
    check_seed,
    name_fields,
)

EXPORT_MARK = "# Exported by `cyberweek db export`"
YAML_WIDTH = 88  # PyYAML breaks at the first space past it: lines stay within ~100
FOLD_OVER = 80  # longer text with spaces is written folded (`>-`)

# The order fields are written in: the seed's, except where the repository's files differ
# (a sub-forum names its group and topic before its title).
FIELD_ORDER: dict[str, tuple[str, ...]] = {
    section: tuple(SECTION_FIELDS[section]) for section in SECTIONS
}
_events = [name for name in FIELD_ORDER["events"] if name != "topic"]
_events.insert(_events.index("parent_key") + 1, "topic")
FIELD_ORDER["events"] = tuple(_events)


class ExportError(Exception):
    """The database cannot be exported (not loaded, or the target directory is in the way)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class ExportReport:
    directory: Path
    files: tuple[Path, ...]
    counts: dict[str, int]  # records per section
    version: int  # the data version written

    def __str__(self) -> str:
        counts = ", ".join(f"{section} {count}" for section, count in self.counts.items())
        return f"{counts} (data version {self.version}) -> {len(self.files)} files"


# --- one record: database values <-> the seed's YAML form -------------------------------


class QuotedTime(str):
    """A time as the seed spells it, always quoted ('09:30'): unquoted, YAML reads 9:30 or
    10:00 as a number, and the repository's files quote every time."""


def format_time(value: time) -> str:
    return QuotedTime(value.strftime("%H:%M:%S" if value.second else "%H:%M"))


def yaml_value(spec: FieldSpec, value: Any) -> Any:
    """A column value as a seed file spells it (times quoted 'HH:MM', one source as a string,
    several as a list); dates stay dates, which YAML writes unquoted."""
    if spec.kind == "time" and isinstance(value, time):
        return format_time(value)
    if spec.kind == "source" and isinstance(value, str):
        sources = value.split()
        return sources[0] if len(sources) == 1 else sources
    return value


def seed_form(
    section: str, values: dict[str, Any], aliases: list[str] | None = None
) -> dict[str, Any]:
    """A record's columns (and aliases) as the seed record that loads back to them.

    Empty fields are left out, and so is an exact event's end_date when it is its start_date
    (the loader's default): the staff console validates edits against this form, so that
    moving a one-day event's start_date moves the event rather than contradicting end_date.
    """
    specs = SECTION_FIELDS[section]
    record: dict[str, Any] = {}
    for name in FIELD_ORDER[section]:
        if name == ALIASES:
            if aliases:
                record[ALIASES] = list(aliases)
            continue
        value = values.get(name)
        if value is None or (name == "end_date" and _is_default_end(section, values)):
            continue
        record[name] = yaml_value(specs[name], value)
    return record


def _is_default_end(section: str, values: dict[str, Any]) -> bool:
    return (
        section == "events"
        and values.get("date_precision") == "exact"
        and values.get("end_date") == values.get("start_date")
    )


def own_aliases(section: str, values: dict[str, Any], texts: list[str]) -> list[str]:
    """A named record's rows of `aliases` (in id order) minus its names: its seed aliases."""
    names = {values[name] for name in name_fields(section)}
    return [text for text in texts if text not in names]


# --- the whole database ----------------------------------------------------------------


def read_seed_records(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every section's records in seed order, in the seed's YAML form."""
    aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in connection.execute(select(Alias.entity, Alias.key, Alias.text).order_by(Alias.id)):
        aliases[(row.entity, row.key)].append(row.text)
    documents: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        table = SECTION_MODELS[section].__table__
        columns = [c for c in table.columns if c.name not in DERIVED_COLUMNS]
        query = select(*columns)
        if "position" in table.columns:
            query = query.order_by(table.c.position)
        records = []
        for row in connection.execute(query):
            values = dict(row._mapping)
            texts = None
            if section in NAMED_SECTIONS:
                texts = own_aliases(
                    section, values, aliases[(NAMED_SECTIONS[section], values["key"])]
                )
            records.append(seed_form(section, values, texts))
        documents[section] = records
    return documents


def export_seed(
    directory: Path,
    url: str | None = None,
    *,
    engine: Engine | None = None,
    now: dt.datetime | None = None,
) -> ExportReport:
    """Write the event database to seed files in `directory` (created when missing).

    Raises ExportError, writing nothing, when the database holds no loaded seed, when a
    section is spread over several files there, or when a file there cannot be read.
    """
    directory = Path(directory)
    own_engine = engine is None
    engine = engine or make_engine(url)
    try:
        version, documents = _read_database(engine)
        written = _write_files(directory, documents, version, now or utc_now())
        with writer(engine).begin() as connection:
            ensure_tables(connection)
            mark_exported(connection, version, directory)
    finally:
        if own_engine:
            engine.dispose()
    counts = {section: len(records) for section, records in documents.items()}
    return ExportReport(directory, written, counts, version)


def _read_database(engine: Engine) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    """The data version and every record, read in one transaction (one consistent state)."""
    if engine.dialect.name == "postgresql":  # READ COMMITTED would see an edit half-way
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with engine.connect() as connection:
        problem = schema_state(connection).problem()
        if problem:
            raise ExportError([f"the event database is not loaded ({problem})"])
        # a database loaded before versions existed gets the table with its next load
        has_state = inspect(connection).has_table(DataState.__tablename__)
        version = read_version(connection) if has_state else 0
        documents = read_seed_records(connection)
    if not documents["week"]:
        raise ExportError(["the event database holds no seed data: run `cyberweek db load`"])
    return version, documents


# --- the files -------------------------------------------------------------------------


class _SeedDumper(yaml.SafeDumper):
    """Lists indented under their key, as the repository's files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Long English text folded (`>-`) over several lines, as the repository writes it;
    Chinese text has no spaces to fold at and stays on one line."""
    style = None
    if len(value) > FOLD_OVER and " " in value and "\n" not in value and value == value.strip():
        style = ">"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_SeedDumper.add_representer(str, _represent_str)
_SeedDumper.add_representer(
    QuotedTime,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="'"),
)


def render_section(section: str, records: list[dict[str, Any]]) -> str:
    body: Any = records[0] if section in SINGLE_RECORD_SECTIONS else records
    text = yaml.dump(
        {section: body},
        Dumper=_SeedDumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=YAML_WIDTH,
        indent=2,
    )
    # a blank line between the records of a list, as in the repository
    lines = text.splitlines()
    out = lines[:2]
    for line in lines[2:]:
        if line.startswith("  - "):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"


def _plan_files(directory: Path) -> tuple[dict[str, Path], dict[Path, list[str]]]:
    """Which file each section goes to (the one holding it now, else `<section>.yml`), and
    the opening comment block of each existing file."""
    holders: dict[str, list[Path]] = defaultdict(list)
    headers: dict[Path, list[str]] = {}
    problems = []
    for path in sorted(directory.glob("*.yml")) if directory.is_dir() else []:
        try:
            text = path.read_text(encoding="utf-8")
            document = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as error:
            problems.append(f"{path}: cannot read it ({error}); fix or remove it first")
            continue
        headers[path] = _opening_comments(text)
        for section in document if isinstance(document, dict) else ():
            if section in SECTIONS:
                holders[section].append(path)
    for section, paths in holders.items():
        if len(paths) > 1:
            names = ", ".join(path.name for path in paths)
            problems.append(
                f"{directory}: section {section!r} is in several files ({names}); an export "
                "writes each section to one file: merge them first"
            )
    if problems:
        raise ExportError(problems)
    files = {
        section: holders[section][0] if holders[section] else directory / f"{section}.yml"
        for section in SECTIONS
    }
    return files, headers


def _opening_comments(text: str) -> list[str]:
    """The comment lines before the first YAML line, without an earlier export's mark."""
    lines = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            break
        if line.startswith("#") and not line.startswith(EXPORT_MARK):
            lines.append(line)
    return lines


def _write_files(
    directory: Path, documents: dict[str, list[dict[str, Any]]], version: int, now: dt.datetime
) -> tuple[Path, ...]:
    """Render every file into a scratch directory, check it loads, then move the files in."""
    files, headers = _plan_files(directory)
    sections_of: dict[Path, list[str]] = defaultdict(list)
    for section in SECTIONS:
        sections_of[files[section]].append(section)
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    mark = f"{EXPORT_MARK} at {stamp} (data version {version}); other comments are lost."
    directory.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".export-", dir=directory))
    try:
        for path, sections in sections_of.items():
            header = [mark, *headers.get(path, [])]
            body = "\n".join(render_section(s, documents[s]) for s in sections)
            (scratch / path.name).write_text("\n".join(header) + "\n" + body, encoding="utf-8")
        problems = check_seed(scratch)
        if problems:  # a bug here, not the editors': never replace a loadable seed with it
            raise ExportError(["the exported files would not load:", *problems])
        for path in sections_of:
            os.replace(scratch / path.name, path)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return tuple(sections_of)
