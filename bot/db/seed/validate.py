"""Seed records -> checked column values, or every reason they cannot be loaded.

Everything is checked before anything is written, so a typo stops `cyberweek db load` with a
message naming file, record and field and never leaves the assistant with half a schedule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from bot.db.info import NameEntry
from bot.db.models import (
    DATE_PRECISIONS,
    EVENT_KINDS,
    FACT_CATEGORIES,
    KEY_LEN,
    LOGISTICS_TOPICS,
    MAX_EVENT_DAYS,
    NAME_LEN,
    ORGANISER_ROLES,
    PARTS_OF_DAY,
)
from bot.db.seed.read import SECTIONS, Record, read_directory

KEY_PATTERN = re.compile(rf"^[a-z][a-z0-9_]{{0,{KEY_LEN - 1}}}$")
URL_PATTERN = re.compile(r"^https?://[^\s/]+\S*$")
TIME_PATTERN = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
SEED_SOURCE = "seed"  # the Guangzhou Daily article in /work/shared/seed
ALIASES = "aliases"  # the one seed field that is not a column: it becomes rows of `aliases`


class SeedError(Exception):
    """The seed cannot be loaded; `problems` lists every reason, each naming file/record/field."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


# --- field specifications --------------------------------------------------------------


class InvalidValue(ValueError):
    """A field value that cannot be stored; the message says what was expected (`zh`: the
    same in Chinese, for the staff console)."""

    def __init__(self, message: str, zh: str | None = None) -> None:
        super().__init__(message)
        self.zh = zh or message


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # a key of CONVERTERS
    required: bool = True
    choices: tuple[str, ...] = ()


def required(kind: str, choices: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(kind, True, choices)


def optional(kind: str, choices: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(kind, False, choices)


_BILINGUAL_NAME = {"name_zh": required("name"), "name_en": required("name")}
_NOTE = {"note_zh": optional("text"), "note_en": optional("text")}
_PROVENANCE = {"source": required("source"), "confirmed": required("bool")}
_ALIASES = {ALIASES: optional("aliases")}

# Each section's fields: the model's columns except DERIVED_COLUMNS, plus `aliases` for the
# things a visitor names (tests/bot/db/test_schema_agreement.py keeps the two in step).
SECTION_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "week": {
        "key": required("key"),
        **_BILINGUAL_NAME,
        "start_date": required("date"),
        "end_date": required("date"),
        "source": required("source"),
    },
    "venues": {
        "key": required("key"),
        **_BILINGUAL_NAME,
        "city_zh": required("name"),
        "city_en": required("name"),
        "district_zh": optional("name"),
        "district_en": optional("name"),
        "address_zh": optional("text"),
        "address_en": optional("text"),
        "transport_zh": optional("text"),
        "transport_en": optional("text"),
        **_PROVENANCE,
        **_NOTE,
        **_ALIASES,
    },
    "forum_topics": {"key": required("key"), **_BILINGUAL_NAME, **_PROVENANCE, **_ALIASES},
    "events": {
        "key": required("key"),
        "kind": required("choice", EVENT_KINDS),
        "parent_key": optional("key"),
        "title_zh": required("name"),
        "title_en": required("name"),
        "description_zh": optional("text"),
        "description_en": optional("text"),
        "date_precision": required("choice", DATE_PRECISIONS),
        "start_date": optional("date"),
        "end_date": optional("date"),
        "start_time": optional("time"),
        "end_time": optional("time"),
        "part_of_day": optional("choice", PARTS_OF_DAY),
        "venue_key": optional("key"),
        "location_zh": optional("text"),
        "location_en": optional("text"),
        "topic": optional("key"),
        **_PROVENANCE,
        **_NOTE,
        **_ALIASES,
    },
    "theme_days": {
        "key": required("key"),
        **_BILINGUAL_NAME,
        "date": optional("date"),
        "date_confirmed": required("bool"),
        "source": required("source"),
        **_NOTE,
        **_ALIASES,
    },
    "organisers": {
        "key": required("key"),
        **_BILINGUAL_NAME,
        "role": required("choice", ORGANISER_ROLES),
        **_PROVENANCE,
    },
    "facts": {
        "key": required("key"),
        "category": required("choice", FACT_CATEGORIES),
        "subject_zh": required("name"),
        "subject_en": required("name"),
        "text_zh": required("text"),
        "text_en": required("text"),
        **_PROVENANCE,
        **_NOTE,
    },
    "logistics": {
        "key": required("key"),
        "topic": required("choice", LOGISTICS_TOPICS),
        "event_key": optional("key"),
        "venue_key": optional("key"),
        "text_zh": optional("text"),
        "text_en": optional("text"),
        **_PROVENANCE,
        **_NOTE,
    },
}
# A venue's transport is its `transport_zh/en` (one place for each fact), not a logistics record.
TRANSPORT_TOPIC = "transport"
# Sections whose records are things a visitor names -> the `aliases.entity` they become.
NAMED_SECTIONS = {
    "events": "event",
    "venues": "venue",
    "theme_days": "theme_day",
    "forum_topics": "forum_topic",
}


def _as_key(value: Any, spec: FieldSpec) -> str:
    if not isinstance(value, str) or not KEY_PATTERN.match(value):
        raise InvalidValue(
            f"expected a key of lower-case letters, digits and _, got {value!r}",
            f"应为由小写字母、数字和 _ 组成的键，实际为 {value!r}",
        )
    return value


def _as_text(value: Any, spec: FieldSpec, limit: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValue(f"expected non-empty text, got {value!r}", f"不能为空，实际为 {value!r}")
    if limit is not None and len(value.strip()) > limit:
        raise InvalidValue(f"longer than {limit} characters", f"超过 {limit} 个字符")
    return value.strip()


def _as_name(value: Any, spec: FieldSpec) -> str:
    return _as_text(value, spec, NAME_LEN)


def _as_bool(value: Any, spec: FieldSpec) -> bool:
    if not isinstance(value, bool):
        raise InvalidValue(
            f"expected true or false, got {value!r}", f"应为 true 或 false，实际为 {value!r}"
        )
    return value


def _as_date(value: Any, spec: FieldSpec) -> date:
    if isinstance(value, datetime):
        raise InvalidValue(
            f"expected a date without a time (YYYY-MM-DD), got {value!r}",
            f"应为不带时间的日期（YYYY-MM-DD），实际为 {value!r}",
        )
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidValue(
        f"expected an ISO date YYYY-MM-DD, got {value!r}",
        f"应为 YYYY-MM-DD 格式的日期，实际为 {value!r}",
    )


def _as_time(value: Any, spec: FieldSpec) -> time:
    if isinstance(value, int) and not isinstance(value, bool):
        raise InvalidValue(
            f"expected a time in quotes such as '09:30' (YAML reads an unquoted 9:30 as the "
            f"number {value})",
            f"时间须加引号，如 '09:30'（YAML 把不加引号的 9:30 读成数字 {value}）",
        )
    if isinstance(value, str) and TIME_PATTERN.match(value.strip()):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidValue(
        f"expected a 24-hour time 'HH:MM' (China Standard Time), got {value!r}",
        f"应为 24 小时制时间 'HH:MM'（北京时间），实际为 {value!r}",
    )


def _as_choice(value: Any, spec: FieldSpec) -> str:
    if value not in spec.choices:
        raise InvalidValue(
            f"expected one of {', '.join(spec.choices)}, got {value!r}",
            f"应为 {'、'.join(spec.choices)} 之一，实际为 {value!r}",
        )
    return str(value)


def _as_source(value: Any, spec: FieldSpec) -> str:
    """Stored space-separated, since URLs have no spaces: one column, no sources table."""
    items = value if isinstance(value, list) else [value]
    if not items:
        raise InvalidValue(
            "expected 'seed' or a public URL, got an empty list",
            "应为 'seed' 或公开网址，不能是空列表",
        )
    sources: list[str] = []
    for item in items:
        if not isinstance(item, str) or not (
            item.strip() == SEED_SOURCE or URL_PATTERN.match(item.strip())
        ):
            raise InvalidValue(
                f"expected 'seed' or an http(s) URL, got {item!r}",
                f"应为 'seed' 或 http(s) 网址，实际为 {item!r}",
            )
        if item.strip() not in sources:
            sources.append(item.strip())
    return " ".join(sources)


def _as_aliases(value: Any, spec: FieldSpec) -> list[str]:
    if not isinstance(value, list):
        raise InvalidValue(
            f"expected a list of names, got {value!r}", f"应为名称列表，实际为 {value!r}"
        )
    return [_as_name(item, spec) for item in value]


CONVERTERS: dict[str, Callable[[Any, FieldSpec], Any]] = {
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


# --- one record ------------------------------------------------------------------------


def _check_fields(record: Record) -> list[str]:
    """Types and presence of each field; fills `record.values` with the converted values."""
    specs = SECTION_FIELDS[record.section]
    if not isinstance(record.raw, dict):
        return [f"{record.where()}: expected a mapping of field: value, got {record.raw!r}"]
    problems = [
        record.problem(
            str(name),
            f"unknown field (expected one of {', '.join(specs)})",
            f"未知字段（应为 {'、'.join(specs)} 之一）",
        )
        for name in record.raw
        if name not in specs
    ]
    for name, spec in specs.items():
        value = record.raw.get(name)
        if value is None or (value == "" and not spec.required):
            if spec.required:
                problems.append(record.problem(name, "missing (required)", "必填"))
            record.values[name] = [] if spec.kind == "aliases" else None
            continue
        try:
            record.values[name] = CONVERTERS[spec.kind](value, spec)
        except InvalidValue as error:
            problems.append(record.problem(name, str(error), error.zh))
    return problems


def _check_bilingual_pairs(record: Record) -> list[str]:
    """A zh text needs its en twin and vice versa: a reply must exist in both languages."""
    problems = []
    for zh in (name for name in SECTION_FIELDS[record.section] if name.endswith("_zh")):
        en = zh.removesuffix("_zh") + "_en"
        if (record.values[zh] is None) != (record.values[en] is None):
            missing = zh if record.values[zh] is None else en
            problems.append(
                record.problem(
                    missing,
                    f"give both {zh} and {en}, or neither",
                    f"{zh} 和 {en} 须同时填写或同时留空",
                )
            )
    return problems


def _check_event(record: Record) -> list[str]:
    """Dates and times must agree with `date_precision`; an unsure event must say why."""
    values = record.values
    date_checks = {
        "unknown": _check_unknown_dates,
        "window": _check_window_dates,
        "exact": _check_exact_dates,
    }
    problems = date_checks[values["date_precision"]](record)
    problems += _check_span(record)
    is_sure = values["date_precision"] == "exact" and values["confirmed"]
    if not is_sure and values["note_zh"] is None:
        problems.append(
            record.problem(
                "note_zh",
                "required when the date or the event is not confirmed",
                "日期或活动未确认时必须填写说明",
            )
        )
    if values["topic"] is not None and values["kind"] not in ("forum", "sub_forum", "seminar"):
        problems.append(
            record.problem(
                "topic", "only forums and seminars have a topic", "只有论坛和研讨会有主题"
            )
        )
    return problems


def _check_unknown_dates(record: Record) -> list[str]:
    return [
        record.problem(
            name,
            "must be empty when date_precision is unknown",
            "date_precision 为 unknown 时须留空",
        )
        for name in ("start_date", "end_date", "start_time", "end_time", "part_of_day")
        if record.values[name] is not None
    ]


def _check_window_dates(record: Record) -> list[str]:
    values = record.values
    problems = [
        record.problem(
            name, "required when date_precision is window", "date_precision 为 window 时必填"
        )
        for name in ("start_date", "end_date")
        if values[name] is None
    ]
    problems += [
        record.problem(
            name,
            "must be empty for a window (the day is not announced)",
            "时间段（window）须留空（具体哪天尚未公布）",
        )
        for name in ("start_time", "end_time", "part_of_day")
        if values[name] is not None
    ]
    if values["start_date"] and values["end_date"] and values["end_date"] <= values["start_date"]:
        problems.append(
            record.problem(
                "end_date",
                "a window must span more than one day (else: exact)",
                "时间段（window）须跨越多天（否则应为 exact）",
            )
        )
    return problems


def _check_exact_dates(record: Record) -> list[str]:
    """Also fills the default: an exact event without end_date is a one-day event."""
    values = record.values
    problems = []
    if values["start_date"] is None:
        problems.append(
            record.problem(
                "start_date",
                "required when date_precision is exact",
                "date_precision 为 exact 时必填",
            )
        )
    if values["end_date"] is None:
        values["end_date"] = values["start_date"]
    if values["start_date"] and values["end_date"] < values["start_date"]:
        problems.append(record.problem("end_date", "is before start_date", "早于 start_date"))
    if values["end_time"] is not None and values["start_time"] is None:
        problems.append(
            record.problem("start_time", "required when end_time is given", "填写 end_time 时必填")
        )
    if (
        values["start_time"] is not None
        and values["end_time"] is not None
        and values["start_date"] == values["end_date"]
        and values["end_time"] <= values["start_time"]
    ):
        problems.append(record.problem("end_time", "is not after start_time", "不晚于 start_time"))
    return problems


def _check_span(record: Record) -> list[str]:
    """An event lasts at most MAX_EVENT_DAYS: the database's "what is on day X" relies on it."""
    start, end = record.values["start_date"], record.values["end_date"]
    if not isinstance(start, date) or not isinstance(end, date):
        return []
    if (end - start).days <= MAX_EVENT_DAYS:
        return []
    return [
        record.problem(
            "end_date",
            f"more than {MAX_EVENT_DAYS} days after start_date",
            f"比 start_date 晚了 {MAX_EVENT_DAYS} 天以上",
        )
    ]


def _check_theme_day(record: Record) -> list[str]:
    values = record.values
    if values["date_confirmed"] and values["date"] is None:
        return [
            record.problem(
                "date", "required when date_confirmed is true", "date_confirmed 为 true 时必填"
            )
        ]
    if not values["date_confirmed"] and values["note_zh"] is None:
        return [
            record.problem(
                "note_zh",
                "required when date_confirmed is false",
                "date_confirmed 为 false 时必须填写说明",
            )
        ]
    return []


def _check_venue(record: Record) -> list[str]:
    if not record.values["confirmed"] and record.values["note_zh"] is None:
        return [
            record.problem(
                "note_zh", "required when confirmed is false", "confirmed 为 false 时必须填写说明"
            )
        ]
    return []


def _check_logistics(record: Record) -> list[str]:
    """One scope at most, and a confirmed record states something."""
    values = record.values
    problems = []
    if values["event_key"] is not None and values["venue_key"] is not None:
        problems.append(
            record.problem(
                "venue_key",
                "give event_key or venue_key (or neither, for the whole week), not both",
                "event_key 与 venue_key 只能填一个（都不填表示整个宣传周）",
            )
        )
    if values["confirmed"] and values["text_zh"] is None:
        problems.append(
            record.problem(
                "text_zh",
                "required when confirmed is true (empty = not announced)",
                "confirmed 为 true 时必填（留空表示尚未公布）",
            )
        )
    if values["topic"] == TRANSPORT_TOPIC and values["venue_key"] is not None:
        problems.append(
            record.problem(
                "venue_key",
                "a venue's transport is its transport_zh / transport_en, not a logistics record",
                "场馆的交通信息填写在该场馆的 transport_zh / transport_en 中，不在这里",
            )
        )
    return problems


_SECTION_CHECKS: dict[str, Callable[[Record], list[str]]] = {
    "events": _check_event,
    "theme_days": _check_theme_day,
    "venues": _check_venue,
    "logistics": _check_logistics,
}


def check_record(record: Record) -> list[str]:
    """Every problem of one record on its own (types, bilingual pairs, the section's rules),
    filling `record.values`; the seed load and the staff console's edits (bot.db.edits) both
    call it, so an edit is held to the seed's rules."""
    problems = _check_fields(record)
    if problems:
        return problems
    problems = _check_bilingual_pairs(record)
    section_check = _SECTION_CHECKS.get(record.section)
    return problems + (section_check(record) if section_check else [])


# --- across records --------------------------------------------------------------------


def _check_unique_keys(records: dict[str, list[Record]]) -> list[str]:
    problems = []
    for section_records in records.values():
        first_with: dict[str, Record] = {}
        for record in section_records:
            key = record.values["key"]
            if key in first_with:
                problems.append(
                    record.problem(
                        "key",
                        f"duplicate key (first used at {first_with[key].where()})",
                        f"键重复（首次出现于 {first_with[key].where()}）",
                    )
                )
            else:
                first_with[key] = record
    return problems


def _check_references(records: dict[str, list[Record]]) -> list[str]:
    """Every venue_key, topic and parent_key names an existing record."""
    keys = {section: {r.values["key"] for r in rs} for section, rs in records.items()}
    parents = {r.values["key"]: r.values["parent_key"] for r in records["events"]}
    problems = []
    for record in records["events"]:
        problems += check_event_references(record, keys["venues"], keys["forum_topics"], parents)
    event_venues = {r.values["key"]: r.values["venue_key"] for r in records["events"]}
    for record in records["logistics"]:
        problems += _check_logistics_references(record, event_venues, keys["venues"])
    return problems


def _check_logistics_references(
    record: Record, event_venues: dict[str, str | None], venues: set[str]
) -> list[str]:
    """The scope exists; an event held at a venue gets its transport from that venue."""
    values = record.values
    event, venue = values["event_key"], values["venue_key"]
    if event is not None and event not in event_venues:
        return [
            record.problem(
                "event_key",
                f"no events record has key {event!r}",
                f"events 中没有键为 {event!r} 的记录",
            )
        ]
    if venue is not None and venue not in venues:
        return [
            record.problem(
                "venue_key",
                f"no venues record has key {venue!r}",
                f"venues 中没有键为 {venue!r} 的记录",
            )
        ]
    if values["topic"] == TRANSPORT_TOPIC and event is not None and event_venues[event]:
        return [
            record.problem(
                "event_key",
                f"{event!r} is held at venue {event_venues[event]!r}: its transport is that "
                "venue's transport_zh / transport_en",
                f"{event!r} 在场馆 {event_venues[event]!r} 举行：交通信息请填写在该场馆的 "
                "transport_zh / transport_en 中",
            )
        ]
    return []


def _check_unique_scopes(records: list[Record]) -> list[str]:
    """One logistics record per (topic, scope), so that an answer never has two to choose from."""
    first_with: dict[tuple[str, str | None, str | None], Record] = {}
    problems = []
    for record in records:
        values = record.values
        scope = (values["topic"], values["event_key"], values["venue_key"])
        if scope in first_with:
            where = first_with[scope].where()
            problems.append(
                record.problem(
                    "topic",
                    f"a record with this topic and scope exists already ({where})",
                    f"已有相同主题和范围的记录（{where}）",
                )
            )
        else:
            first_with[scope] = record
    return problems


def check_event_references(
    record: Record, venues: set[str], topics: set[str], parents: dict[str, str | None]
) -> list[str]:
    """One event's venue_key, topic and parent_key name existing records; `parents` maps
    every event key to its parent_key."""
    values = record.values
    problems = []
    for name, section, known in (
        ("venue_key", "venues", venues),
        ("topic", "forum_topics", topics),
    ):
        if values[name] is not None and values[name] not in known:
            problems.append(
                record.problem(
                    name,
                    f"no {section} record has key {values[name]!r}",
                    f"{section} 中没有键为 {values[name]!r} 的记录",
                )
            )
    parent = values["parent_key"]
    if parent is None:
        return problems
    if parent not in parents or parent == values["key"]:
        problems.append(
            record.problem(
                "parent_key",
                f"no other event has key {parent!r}",
                f"没有其他活动的键为 {parent!r}",
            )
        )
    elif parents[parent] is not None:
        problems.append(
            record.problem(
                "parent_key", f"{parent!r} is itself a child event", f"{parent!r} 本身是子活动"
            )
        )
    return problems


def fold_alias(text: str) -> str:
    """The form in which two names count as the same name (case and spacing aside)."""
    return " ".join(text.casefold().split())


def name_fields(section: str) -> tuple[str, str]:
    """The zh and en fields that are a named record's own names (they join its aliases)."""
    prefix = "title" if section == "events" else "name"
    return f"{prefix}_zh", f"{prefix}_en"


def record_names(section: str, values: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, text) of a named record's names, then its aliases: the gazetteer's order."""
    texts = [(name, values[name]) for name in name_fields(section)]
    return texts + [(ALIASES, alias) for alias in values[ALIASES]]


def _gazetteer(records: dict[str, list[Record]]) -> tuple[list[NameEntry], list[str]]:
    """Names + aliases of every named record; one text may mean only one thing."""
    names: list[NameEntry] = []
    owner: dict[str, tuple[NameEntry, Record]] = {}
    problems: list[str] = []
    for section, entity in NAMED_SECTIONS.items():
        for record in records[section]:
            values = record.values
            for field_name, text in record_names(section, values):
                folded = fold_alias(text)
                if folded not in owner:
                    entry = NameEntry(entity, values["key"], text)
                    owner[folded] = (entry, record)
                    names.append(entry)
                    continue
                first, first_record = owner[folded]
                if (first.entity, first.key) != (entity, values["key"]):
                    problems.append(
                        record.problem(
                            field_name,
                            f"name {text!r} already means {first.entity} {first.key!r} "
                            f"({first_record.where()})",
                            f"名称 {text!r} 已用于 {first.entity} {first.key!r}"
                            f"（{first_record.where()}）",
                        )
                    )
    return names, problems


# --- the whole seed --------------------------------------------------------------------


@dataclass
class SeedData:
    """A seed that passed every check: records per section (in SECTIONS order) and names."""

    records: dict[str, list[Record]]
    names: list[NameEntry]


def validate(directory: Path) -> tuple[SeedData | None, list[str]]:
    """Every problem in the seed, and the checked data when there are none."""
    all_records, problems = read_directory(directory)
    for record in all_records:
        problems += check_record(record)
    weeks = [r for r in all_records if r.section == "week"]
    if len(weeks) != 1 and not problems:
        places = ", ".join(str(r.file) for r in weeks) or "none found"
        problems.append(f"{directory}: expected exactly one `week` section ({places})")
    if problems:
        return None, problems
    records = {section: [r for r in all_records if r.section == section] for section in SECTIONS}
    problems = (
        _check_unique_keys(records)
        + _check_references(records)
        + _check_unique_scopes(records["logistics"])
    )
    names, name_problems = _gazetteer(records)
    problems += name_problems
    return (None if problems else SeedData(records, names)), problems


def check_seed(directory: Path) -> list[str]:
    """Every validation problem in the seed directory (empty when it is loadable); no DB."""
    return validate(Path(directory))[1]


def collect_names(directory: Path) -> list[NameEntry]:
    """The gazetteer straight from the seed, for generating NLU lookup tables without a DB."""
    data, problems = validate(Path(directory))
    if data is None:
        raise SeedError(problems)
    return data.names
