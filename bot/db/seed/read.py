"""Seed YAML files -> records that remember where they came from.

Every later message names file, record and field, so an organiser can find a typo without
reading code; reading collects every problem instead of stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# The sections a seed file may hold, parents before children (the order rows are inserted in).
# `week` is one mapping; every other section is a list of records.
SECTIONS = (
    "week",
    "venues",
    "forum_topics",
    "events",
    "theme_days",
    "organisers",
    "facts",
    "logistics",
)
SINGLE_RECORD_SECTIONS = frozenset({"week"})


@dataclass
class Record:
    """One seed record as written, where it is, and (once validated) its converted values."""

    file: Path
    section: str
    index: int | None  # None for a single-record section (`week`)
    raw: Any
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        key = self.raw.get("key") if isinstance(self.raw, dict) else None
        return key if isinstance(key, str) else None

    def where(self) -> str:
        place = self.section if self.index is None else f"{self.section}[{self.index}]"
        return f"{self.file}: {place} ({f'key {self.key!r}' if self.key else 'no key'})"

    def problem(self, field_name: str, message: str, zh: str | None = None) -> Problem:
        """`message` (English) where the record is; `zh` is the same in Chinese, for the
        staff console's edit form (bot.db.edits), which shows a field's message alone."""
        return Problem(
            f"{self.where()}: field {field_name!r}: {message}", field_name, message, zh or message
        )


class Problem(str):
    """A problem with one field of a record: reads as the full English message (file, record,
    field), as `cyberweek db check` prints it, and keeps the field and the bare message in
    English and Chinese for the staff console."""

    field: str
    en: str
    zh: str

    def __new__(cls, text: str, field_name: str, en: str, zh: str) -> Problem:
        problem = super().__new__(cls, text)
        problem.field, problem.en, problem.zh = field_name, en, zh
        return problem


def read_directory(directory: Path) -> tuple[list[Record], list[str]]:
    """The records of every *.yml file in `directory` (unchecked), and why any could not be read."""
    if not directory.is_dir():
        return [], [f"{directory}: no such seed directory"]
    files = sorted(directory.glob("*.yml"))
    if not files:
        return [], [f"{directory}: no *.yml seed files"]
    records: list[Record] = []
    problems: list[str] = []
    for path in files:
        file_records, file_problems = read_file(path)
        records += file_records
        problems += file_problems
    return records, problems


def read_file(path: Path) -> tuple[list[Record], list[str]]:
    """The records of one YAML file (unchecked), or why the file cannot be read."""
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
    return _split_sections(path, document)


def _split_sections(path: Path, document: dict[Any, Any]) -> tuple[list[Record], list[str]]:
    records: list[Record] = []
    problems: list[str] = []
    for section, body in document.items():
        if section not in SECTIONS:
            known = ", ".join(SECTIONS)
            problems.append(f"{path}: unknown section {section!r} (expected one of {known})")
        elif section in SINGLE_RECORD_SECTIONS:
            records.append(Record(path, section, None, body))
        elif not isinstance(body, list):
            problems.append(f"{path}: section {section!r}: expected a list of records")
        else:
            records.extend(Record(path, section, i, raw) for i, raw in enumerate(body))
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
            nodes = {k.value: v for k, v in item.value if isinstance(k, yaml.ScalarNode)}
            key = nodes.get("key")
            raw = {"key": key.value} if isinstance(key, yaml.ScalarNode) else {}
            record = Record(path, str(section_node.value), index, raw)
            for name, node in nodes.items():
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
