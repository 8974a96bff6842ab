"""Loading data/event/*.yml into the event database.

Organisers change the schedule by editing YAML and running `cyberweek db load`; a typo must
then stop the load with a message that says where it is, and must never leave the assistant
with half a schedule. So: every file is read and every record validated first (nothing is
loaded if anything is wrong), then all rows are replaced in ONE transaction. Loading the same
seed twice gives the same rows.

Seed layout: each file is a mapping of section name to records. Sections: `week` (one mapping)
and lists of `venues`, `forum_topics`, `events`, `theme_days`, `organisers`, `facts`. Records
of venues, forum topics, events and theme days may carry `aliases: [...]`: the names visitors
type, which become the `aliases` table (the NLU gazetteer) together with each record's zh/en
name or title.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import delete, func, inspect, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.db.engine import make_engine
from bot.db.info import NameEntry
from bot.db.models import (
    DATE_PRECISIONS,
    EVENT_KINDS,
    FACT_CATEGORIES,
    KEY_LEN,
    NAME_LEN,
    ORGANISER_ROLES,
    PARTS_OF_DAY,
    SEED_TABLES,
    Alias,
    Event,
    Fact,
    ForumTopic,
    Organiser,
    ThemeDay,
    Venue,
    Week,
    metadata,
)

KEY_PATTERN = re.compile(rf"^[a-z][a-z0-9_]{{0,{KEY_LEN - 1}}}$")
URL_PATTERN = re.compile(r"^https?://[^\s/]+\S*$")
TIME_PATTERN = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
SEED_SOURCE = "seed"  # the Guangzhou Daily article in /work/shared/seed
BILINGUAL_PAIRS = ("description", "location", "note", "district", "address", "transport")


class SeedError(Exception):
    """The seed cannot be loaded; `problems` lists every reason, each naming file/record/field."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass(frozen=True)
class LoadReport:
    """Rows per table after a load."""

    counts: dict[str, int]

    def __str__(self) -> str:
        return ", ".join(f"{table} {count}" for table, count in self.counts.items())


# --- field specifications --------------------------------------------------------------


class _Invalid(ValueError):
    """A field value that cannot be stored; the message says what was expected."""


@dataclass(frozen=True)
class _Spec:
    kind: str
    required: bool = True
    choices: tuple[str, ...] = ()


def _req(kind: str, choices: tuple[str, ...] = ()) -> _Spec:
    return _Spec(kind, True, choices)


def _opt(kind: str, choices: tuple[str, ...] = ()) -> _Spec:
    return _Spec(kind, False, choices)


_BILINGUAL_NAME = {"name_zh": _req("name"), "name_en": _req("name")}
_NOTE = {"note_zh": _opt("text"), "note_en": _opt("text")}
_PROVENANCE = {"source": _req("source"), "confirmed": _req("bool")}
_ALIASES = {"aliases": _opt("aliases")}

SECTION_FIELDS: dict[str, dict[str, _Spec]] = {
    "week": {
        "key": _req("key"),
        **_BILINGUAL_NAME,
        "start_date": _req("date"),
        "end_date": _req("date"),
        "source": _req("source"),
    },
    "venues": {
        "key": _req("key"),
        **_BILINGUAL_NAME,
        "city_zh": _req("name"),
        "city_en": _req("name"),
        "district_zh": _opt("name"),
        "district_en": _opt("name"),
        "address_zh": _opt("text"),
        "address_en": _opt("text"),
        "transport_zh": _opt("text"),
        "transport_en": _opt("text"),
        **_PROVENANCE,
        **_NOTE,
        **_ALIASES,
    },
    "forum_topics": {"key": _req("key"), **_BILINGUAL_NAME, **_PROVENANCE, **_ALIASES},
    "events": {
        "key": _req("key"),
        "kind": _req("choice", EVENT_KINDS),
        "parent_key": _opt("key"),
        "title_zh": _req("name"),
        "title_en": _req("name"),
        "description_zh": _opt("text"),
        "description_en": _opt("text"),
        "date_precision": _req("choice", DATE_PRECISIONS),
        "start_date": _opt("date"),
        "end_date": _opt("date"),
        "start_time": _opt("time"),
        "end_time": _opt("time"),
        "part_of_day": _opt("choice", PARTS_OF_DAY),
        "venue_key": _opt("key"),
        "location_zh": _opt("text"),
        "location_en": _opt("text"),
        "topic": _opt("key"),
        **_PROVENANCE,
        **_NOTE,
        **_ALIASES,
    },
    "theme_days": {
        "key": _req("key"),
        **_BILINGUAL_NAME,
        "date": _opt("date"),
        "date_confirmed": _req("bool"),
        "source": _req("source"),
        **_NOTE,
        **_ALIASES,
    },
    "organisers": {
        "key": _req("key"),
        **_BILINGUAL_NAME,
        "role": _req("choice", ORGANISER_ROLES),
        **_PROVENANCE,
    },
    "facts": {
        "key": _req("key"),
        "category": _req("choice", FACT_CATEGORIES),
        "subject_zh": _req("name"),
        "subject_en": _req("name"),
        "text_zh": _req("text"),
        "text_en": _req("text"),
        **_PROVENANCE,
        **_NOTE,
    },
}
SECTION_MODELS: dict[str, Any] = {
    "week": Week,
    "venues": Venue,
    "forum_topics": ForumTopic,
    "events": Event,
    "theme_days": ThemeDay,
    "organisers": Organiser,
    "facts": Fact,
}
# Parents before children: the order rows are inserted in.
LOAD_ORDER = ("week", "venues", "forum_topics", "events", "theme_days", "organisers", "facts")
# Sections whose records are things a visitor names -> the `aliases.entity` they become.
NAMED_SECTIONS = {
    "events": "event",
    "venues": "venue",
    "theme_days": "theme_day",
    "forum_topics": "forum_topic",
}


def _as_key(value: Any, spec: _Spec) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise _Invalid(f"expected a key of lower-case letters, digits and _, got {value!r}")
    return value


def _as_text(value: Any, spec: _Spec, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"expected non-empty text, got {value!r}")
    if limit is not None and len(value.strip()) > limit:
        raise _Invalid(f"longer than {limit} characters")
    return value.strip()


def _as_name(value: Any, spec: _Spec) -> str:
    return _as_text(value, spec, NAME_LEN)


def _as_bool(value: Any, spec: _Spec) -> bool:
    if not isinstance(value, bool):
        raise _Invalid(f"expected true or false, got {value!r}")
    return value


def _as_date(value: Any, spec: _Spec) -> date:
    if isinstance(value, datetime):
        raise _Invalid(f"expected a date without a time (YYYY-MM-DD), got {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Invalid(f"expected an ISO date YYYY-MM-DD, got {value!r}")


def _as_time(value: Any, spec: _Spec) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        raise _Invalid(
            f"expected a time in quotes such as '09:30' (YAML reads an unquoted 9:30 as the "
            f"number {value})"
        )
    if isinstance(value, str) and TIME_PATTERN.match(value.strip()):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise _Invalid(f"expected a 24-hour time 'HH:MM' (China Standard Time), got {value!r}")


def _as_choice(value: Any, spec: _Spec) -> str:
    if value not in spec.choices:
        raise _Invalid(f"expected one of {', '.join(spec.choices)}, got {value!r}")
    return str(value)


def _as_source(value: Any, spec: _Spec) -> str:
    """'seed', a public URL, or a list of them -> stored space-separated (URLs have no spaces)."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise _Invalid("expected 'seed' or a public URL, got an empty list")
    sources: list[str] = []
    for item in items:
        if not isinstance(item, str) or not (
            item.strip() == SEED_SOURCE or URL_PATTERN.match(item.strip())
        ):
            raise _Invalid(f"expected 'seed' or an http(s) URL, got {item!r}")
        if item.strip() not in sources:
            sources.append(item.strip())
    return " ".join(sources)


def _as_aliases(value: Any, spec: _Spec) -> list[str]:
    if not isinstance(value, list):
        raise _Invalid(f"expected a list of names, got {value!r}")
    return [_as_name(item, spec) for item in value]


_CONVERTERS: dict[str, Callable[[Any, _Spec], Any]] = {
    "key": _as_key,
    "name": _as_name,
    "text": _as_text,
    "bool": _as_bool,
    "date": _as_date,
    "time": _as_time,
    "choice": _as_choice,
    "source": _as_source,
    "aliases": _as_aliases,
}


# --- records ---------------------------------------------------------------------------


@dataclass
class _Record:
    """One seed record, where it came from, and its checked values."""

    file: Path
    section: str
    index: int | None  # None for the `week` mapping
    raw: Any
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        key = self.raw.get("key") if isinstance(self.raw, dict) else None
        return key if isinstance(key, str) else None

    def where(self) -> str:
        place = self.section if self.index is None else f"{self.section}[{self.index}]"
        return f"{self.file}: {place} ({f'key {self.key!r}' if self.key else 'no key'})"

    def problem(self, field_name: str, message: str) -> str:
        return f"{self.where()}: field {field_name!r}: {message}"


@dataclass
class _SeedData:
    records: dict[str, list[_Record]]
    names: list[NameEntry]

    def rows(self, section: str) -> list[dict[str, Any]]:
        """Column values of each record, in seed order, with its position in that order."""
        rows = []
        for position, record in enumerate(self.records[section]):
            row = {k: v for k, v in record.values.items() if k != "aliases"}
            if record.index is not None:  # list sections keep their order; `week` is one row
                row["position"] = position
            rows.append(row)
        return rows


def _read_file(path: Path) -> tuple[list[_Record], list[str]]:
    """The records of one YAML file (not yet checked), or why the file cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [], [f"{path}: cannot read: {error}"]
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        reason = getattr(error, "problem", None) or str(error)
        return [], [f"{path}: {at}malformed YAML: {reason}"]
    except ValueError as error:  # PyYAML builds dates itself and fails on 2024-09-31
        return [], _impossible_dates(path, text) or [f"{path}: invalid value: {error}"]
    if document is None:
        return [], []  # an empty (or comment-only) file holds no records
    if not isinstance(document, dict):
        return [], [f"{path}: expected a mapping of section name to records at the top level"]
    records: list[_Record] = []
    problems: list[str] = []
    for section, body in document.items():
        if section not in SECTION_FIELDS:
            known = ", ".join(SECTION_FIELDS)
            problems.append(f"{path}: unknown section {section!r} (expected one of {known})")
        elif section == "week":
            records.append(_Record(path, section, None, body))
        elif not isinstance(body, list):
            problems.append(f"{path}: section {section!r}: expected a list of records")
        else:
            records.extend(_Record(path, section, i, raw) for i, raw in enumerate(body))
    return records, problems


def _impossible_dates(path: Path, text: str) -> list[str]:
    """Which record and field hold an unquoted date YAML cannot build (2024-09-31).

    safe_load stops at the first such value without saying where; composing the node tree
    (no objects are built) finds each one so the message can name record and field.
    """
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    builder = yaml.SafeLoader("")
    problems = []
    for section_node, body in root.value:
        if isinstance(body, yaml.MappingNode):
            items: list[tuple[int | None, yaml.Node]] = [(None, body)]
        elif isinstance(body, yaml.SequenceNode):
            items = list(enumerate(body.value))
        else:
            continue
        for index, item in items:
            if not isinstance(item, yaml.MappingNode):
                continue
            fields = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            key = fields.get("key")
            raw = {"key": key.value} if isinstance(key, yaml.ScalarNode) else {}
            record = _Record(path, str(section_node.value), index, raw)
            for name, node in fields.items():
                if node.tag != "tag:yaml.org,2002:timestamp":
                    continue
                try:
                    builder.construct_yaml_timestamp(node)
                except ValueError as error:
                    where = f"line {node.start_mark.line + 1}"
                    problems.append(
                        record.problem(name, f"not a valid date {node.value!r} ({where}): {error}")
                    )
    return problems


def _read_directory(directory: Path) -> tuple[list[_Record], list[str]]:
    if not directory.is_dir():
        return [], [f"{directory}: no such seed directory"]
    files = sorted(directory.glob("*.yml"))
    if not files:
        return [], [f"{directory}: no *.yml seed files"]
    records: list[_Record] = []
    problems: list[str] = []
    for path in files:
        file_records, file_problems = _read_file(path)
        records += file_records
        problems += file_problems
    return records, problems


def _check_fields(record: _Record) -> list[str]:
    """Types and presence of each field; fills `record.values` with the converted values."""
    specs = SECTION_FIELDS[record.section]
    if not isinstance(record.raw, dict):
        return [f"{record.where()}: expected a mapping of field: value, got {record.raw!r}"]
    problems = [
        record.problem(str(name), f"unknown field (expected one of {', '.join(specs)})")
        for name in record.raw
        if name not in specs
    ]
    for name, spec in specs.items():
        value = record.raw.get(name)
        if value is None or (value == "" and not spec.required):
            if spec.required:
                problems.append(record.problem(name, "missing (required)"))
            record.values[name] = [] if spec.kind == "aliases" else None
            continue
        try:
            record.values[name] = _CONVERTERS[spec.kind](value, spec)
        except _Invalid as error:
            problems.append(record.problem(name, str(error)))
    return problems


def _check_pairs(record: _Record) -> list[str]:
    """A zh text needs its en twin and vice versa: a reply must exist in both languages."""
    problems = []
    for stem in BILINGUAL_PAIRS:
        zh, en = f"{stem}_zh", f"{stem}_en"
        if zh in record.values and (record.values[zh] is None) != (record.values[en] is None):
            missing = zh if record.values[zh] is None else en
            problems.append(record.problem(missing, f"give both {zh} and {en}, or neither"))
    return problems


def _check_event(record: _Record) -> list[str]:
    """Dates, times and notes must agree with `date_precision`."""
    v = record.values
    precision = v["date_precision"]
    problems: list[str] = []
    if precision == "unknown":
        for name in ("start_date", "end_date", "start_time", "end_time", "part_of_day"):
            if v[name] is not None:
                problems.append(
                    record.problem(name, "must be empty when date_precision is unknown")
                )
    elif precision == "window":
        for name in ("start_date", "end_date"):
            if v[name] is None:
                problems.append(record.problem(name, "required when date_precision is window"))
        for name in ("start_time", "end_time", "part_of_day"):
            if v[name] is not None:
                problems.append(
                    record.problem(name, "must be empty for a window (the day is not announced)")
                )
        if v["start_date"] and v["end_date"] and v["end_date"] <= v["start_date"]:
            problems.append(
                record.problem("end_date", "a window must span more than one day (else: exact)")
            )
    else:  # exact
        if v["start_date"] is None:
            problems.append(record.problem("start_date", "required when date_precision is exact"))
        if v["end_date"] is None:
            v["end_date"] = v["start_date"]
        if v["start_date"] and v["end_date"] < v["start_date"]:
            problems.append(record.problem("end_date", "is before start_date"))
        if v["end_time"] is not None and v["start_time"] is None:
            problems.append(record.problem("start_time", "required when end_time is given"))
        if (
            v["start_time"] is not None
            and v["end_time"] is not None
            and v["start_date"] == v["end_date"]
            and v["end_time"] <= v["start_time"]
        ):
            problems.append(record.problem("end_time", "is not after start_time"))
    if (precision != "exact" or not v["confirmed"]) and v["note_zh"] is None:
        problems.append(
            record.problem("note_zh", "required when the date or the event is not confirmed")
        )
    if v["topic"] is not None and v["kind"] not in ("forum", "sub_forum", "seminar"):
        problems.append(record.problem("topic", "only forums and seminars have a topic"))
    return problems


def _check_theme_day(record: _Record) -> list[str]:
    v = record.values
    if v["date_confirmed"] and v["date"] is None:
        return [record.problem("date", "required when date_confirmed is true")]
    if not v["date_confirmed"] and v["note_zh"] is None:
        return [record.problem("note_zh", "required when date_confirmed is false")]
    return []


def _check_venue(record: _Record) -> list[str]:
    if not record.values["confirmed"] and record.values["note_zh"] is None:
        return [record.problem("note_zh", "required when confirmed is false")]
    return []


_RECORD_RULES: dict[str, Callable[[_Record], list[str]]] = {
    "events": _check_event,
    "theme_days": _check_theme_day,
    "venues": _check_venue,
}


def _check_record(record: _Record) -> list[str]:
    problems = _check_fields(record)
    if problems:
        return problems
    problems = _check_pairs(record)
    rule = _RECORD_RULES.get(record.section)
    return problems + (rule(record) if rule else [])


def _check_unique_keys(records: dict[str, list[_Record]]) -> list[str]:
    problems = []
    for section_records in records.values():
        seen: dict[str, _Record] = {}
        for record in section_records:
            key = record.values["key"]
            if key in seen:
                problems.append(
                    record.problem("key", f"duplicate key (first used at {seen[key].where()})")
                )
            else:
                seen[key] = record
    return problems


def _check_references(records: dict[str, list[_Record]]) -> list[str]:
    """Every venue_key, topic and parent_key names an existing record."""
    keys = {section: {r.values["key"] for r in rs} for section, rs in records.items()}
    events = {r.values["key"]: r for r in records["events"]}
    problems = []
    for record in records["events"]:
        v = record.values
        for name, section in (("venue_key", "venues"), ("topic", "forum_topics")):
            if v[name] is not None and v[name] not in keys[section]:
                problems.append(record.problem(name, f"no {section} record has key {v[name]!r}"))
        parent = v["parent_key"]
        if parent is None:
            continue
        if parent not in events or parent == v["key"]:
            problems.append(record.problem("parent_key", f"no other event has key {parent!r}"))
        elif events[parent].values["parent_key"] is not None:
            problems.append(record.problem("parent_key", f"{parent!r} is itself a child event"))
    return problems


def _collect_names(records: dict[str, list[_Record]]) -> tuple[list[NameEntry], list[str]]:
    """Names + aliases of every named record; one text may mean only one thing."""
    names: list[NameEntry] = []
    owner: dict[str, tuple[NameEntry, _Record]] = {}
    problems: list[str] = []
    for section, entity in NAMED_SECTIONS.items():
        for record in records[section]:
            v = record.values
            prefix = "title" if section == "events" else "name"
            texts = [(f"{prefix}_zh", v[f"{prefix}_zh"]), (f"{prefix}_en", v[f"{prefix}_en"])]
            texts += [("aliases", alias) for alias in v["aliases"]]
            for field_name, text in texts:
                folded = " ".join(text.casefold().split())
                if folded not in owner:
                    entry = NameEntry(entity, v["key"], text)
                    owner[folded] = (entry, record)
                    names.append(entry)
                    continue
                first, first_record = owner[folded]
                if (first.entity, first.key) != (entity, v["key"]):
                    problems.append(
                        record.problem(
                            field_name,
                            f"name {text!r} already means {first.entity} {first.key!r} "
                            f"({first_record.where()})",
                        )
                    )
    return names, problems


def _validate(directory: Path) -> tuple[_SeedData | None, list[str]]:
    """Every problem in the seed, and the checked data when there are none."""
    all_records, problems = _read_directory(directory)
    for record in all_records:
        problems += _check_record(record)
    weeks = [r for r in all_records if r.section == "week"]
    if len(weeks) != 1 and not problems:
        places = ", ".join(str(r.file) for r in weeks) or "none found"
        problems.append(f"{directory}: expected exactly one `week` section ({places})")
    if problems:
        return None, problems
    records = {section: [r for r in all_records if r.section == section] for section in LOAD_ORDER}
    problems = _check_unique_keys(records) + _check_references(records)
    names, name_problems = _collect_names(records)
    problems += name_problems
    return (None if problems else _SeedData(records, names)), problems


def check_seed(directory: Path) -> list[str]:
    """Every validation problem in the seed directory (empty when it is loadable); no DB."""
    return _validate(Path(directory))[1]


def collect_names(directory: Path) -> list[NameEntry]:
    """The gazetteer straight from the seed, for generating NLU lookup tables without a DB."""
    data, problems = _validate(Path(directory))
    if data is None:
        raise SeedError(problems)
    return data.names


# --- loading ---------------------------------------------------------------------------


def load_seed(directory: Path, url: str | None = None) -> LoadReport:
    """Validate the whole seed, then replace every seed table's rows in one transaction.

    Raises SeedError (and touches no database) when any record is invalid. A failure during
    the load rolls the transaction back, leaving the previous data as it was.
    """
    data, problems = _validate(Path(directory))
    if data is None:
        raise SeedError(problems)
    engine = make_engine(url)
    try:
        with Session(engine, future=True) as session, session.begin():
            _prepare_schema(session.connection())
            _replace_rows(session, data)
            _insert_aliases(session, data.names)
            counts = _count_rows(session)
    finally:
        engine.dispose()
    return LoadReport(counts)


def _prepare_schema(connection: Connection) -> None:
    """Create missing tables; rebuild them all if a table's columns differ from the models.

    The tables hold nothing but seed data, so rebuilding loses nothing, and it spares a
    migration tool for a schema that changes only with the code.
    """
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    stale = any(
        {c["name"] for c in inspector.get_columns(table.name)} != set(table.columns.keys())
        for table in metadata.sorted_tables
        if table.name in existing
    )
    if stale:
        metadata.drop_all(connection)
    metadata.create_all(connection)


def _replace_rows(session: Session, data: _SeedData) -> None:
    for model in SEED_TABLES:  # children first
        session.execute(delete(model))
    for section in LOAD_ORDER:
        model = SECTION_MODELS[section]
        rows = data.rows(section)
        # Parents first, flushed, so that the self-reference events.parent_key resolves.
        for group in (
            [r for r in rows if not r.get("parent_key")],
            [r for r in rows if r.get("parent_key")],
        ):
            session.add_all(model(**row) for row in group)
            session.flush()


def _count_rows(session: Session) -> dict[str, int]:
    models = [SECTION_MODELS[section] for section in LOAD_ORDER] + [Alias]
    return {
        model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in models
    }


def _insert_aliases(session: Session, names: list[NameEntry]) -> None:
    session.add_all(Alias(entity=n.entity, key=n.key, text=n.text) for n in names)
    session.flush()
