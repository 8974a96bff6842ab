"""Staff edits of the event facts while the week runs: the seed's rules, one transaction, a log.

Help-desk editors fix facts in the staff console (金融日 confirmed with its date, the IFF
venue's address, a new alias) instead of waiting for an organiser to edit data/event/*.yml.
Every change is checked by the seed's own validation (bot.db.seed.validate) against the
record as `cyberweek db export` would write it, so whatever an editor may save also loads from
YAML, and the rule that an unconfirmed value is never stated as fact holds the same way.
Each accepted change is one transaction that updates the row, bumps the data version and logs
who changed which field from what to what (bot.db.changes), so every instance answers from the
new facts at once and `cyberweek db export` can hand them back to the repository.

The staff console calls `FactEditor`; no HTTP or UI here. Kinds are named as the console's
ask box names records (`event`, `venue`, `theme_day`, plus `fact`, `forum_topic` and
`logistics`), fields as in the YAML.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, time
from pathlib import Path
from typing import Any, Final, NamedTuple

from sqlalchemy import and_, delete, func, insert, inspect, not_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql import Select

from bot.db.changes import (
    Change,
    bump_version,
    ensure_tables,
    read_state,
    read_version,
    utc_now,
)
from bot.db.engine import describe_url, make_engine, writer
from bot.db.info import LOGISTICS_TOPIC_NAMES
from bot.db.models import DERIVED_COLUMNS, KEY_LEN, Alias, Event, ForumTopic, Venue
from bot.db.queries import DatabaseNotReady
from bot.db.schema import schema_state
from bot.db.seed.export import format_time, own_aliases, seed_form
from bot.db.seed.load import SECTION_MODELS
from bot.db.seed.read import Problem
from bot.db.seed.read import Record as SeedRecord
from bot.db.seed.validate import (
    ALIASES,
    CONVERTERS,
    NAMED_SECTIONS,
    SECTION_FIELDS,
    FieldSpec,
    InvalidValue,
    check_event_references,
    check_record,
    fold_alias,
    name_fields,
    record_names,
)

# kind (as the console names records) -> seed section
KINDS: Final[dict[str, str]] = {
    "event": "events",
    "venue": "venues",
    "theme_day": "theme_days",
    "fact": "facts",
    "forum_topic": "forum_topics",
    "logistics": "logistics",
}
# Keys are what the NLU data, the entities and docs/data-keys.md refer to: an organiser
# changes them in YAML. Aliases change through add_alias / remove_alias.
NOT_EDITABLE: Final = frozenset({"key", ALIASES})
# What a logistics record is about (topic and scope) is part of its identity, like a key:
# editors fill in its text and confirm it; an organiser adds records in YAML.
FIXED_FIELDS: Final[dict[str, frozenset[str]]] = {
    "logistics": frozenset({"topic", "event_key", "venue_key"}),
}
WHOLE_WEEK: Final = {"zh": "整个宣传周", "en": "whole week"}
NOTE_FIELDS: Final = ("note_zh", "note_en")
MAX_TEXT_CHARS: Final = 4000  # the longest seed text is ~1,200 characters
MAX_SOURCES: Final = 20  # the seed's records have one to three
MIN_ALIAS_CHARS: Final = 2  # the gazetteer ignores shorter names (min_name_length)
ALIAS_LANGS: Final = ("zh", "en")
EDITOR_MAX_CHARS: Final = 64
MAX_HISTORY: Final = 1000


# --- what the console gets -------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """Why a field's value was refused, in both languages; `field` is the YAML field name
    (None: the record as a whole)."""

    field: str | None
    en: str
    zh: str

    def message(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class FactEditError(Exception):
    """The edit was refused and nothing was changed; `problems` says why, field by field."""

    def __init__(self, problems: Iterable[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(
            "; ".join(f"{p.field}: {p.en}" if p.field else p.en for p in self.problems)
        )

    def by_field(self, lang: str = "en") -> dict[str, list[str]]:
        """Messages per field, for the edit form ("" = about the record as a whole)."""
        found: dict[str, list[str]] = {}
        for problem in self.problems:
            found.setdefault(problem.field or "", []).append(problem.message(lang))
        return found


class UnknownRecord(FactEditError):
    """No such kind, or no record of that kind with that key."""


class EditConflict(FactEditError):
    """The record changed (an edit or a seed load) since the revision the editor saw."""


class LastUpdate(NamedTuple):
    when: dt.datetime  # UTC, timezone-aware
    who: str  # the editor's username


@dataclass(frozen=True)
class EditableField:
    """One field of a record as the edit form shows it. `value` is JSON-ready: dates
    "YYYY-MM-DD", times "HH:MM", `source` a list of "seed" / URLs; None = empty."""

    name: str  # as in the YAML
    value: Any
    kind: str  # key | name | text | bool | date | time | choice | source
    required: bool
    choices: tuple[str, ...]
    lang: str | None  # "zh" / "en" for one half of a bilingual pair
    twin: str | None  # the pair's other field


@dataclass(frozen=True)
class EditableRecord:
    """A record with its editable fields, its names for the gazetteer and its revision.

    `revision` goes into `update(..., expected_revision=...)` so that an edit based on an old
    form is refused instead of overwriting a colleague's. `review`: fields the editor should
    look at again after this edit (not errors), e.g. a note that may no longer hold."""

    kind: str
    key: str
    name_zh: str  # its name, title or subject, for lists and headings
    name_en: str
    fields: tuple[EditableField, ...]
    aliases: tuple[str, ...] | None  # None: this kind has no aliases
    revision: int
    last_updated: LastUpdate | None
    review: tuple[FieldProblem, ...] = ()

    def value(self, name: str) -> Any:
        for item in self.fields:
            if item.name == name:
                return item.value
        raise KeyError(name)

    def values(self) -> dict[str, Any]:
        return {item.name: item.value for item in self.fields}

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.last_updated is not None:
            data["last_updated"] = {
                "when": self.last_updated.when.isoformat(),
                "who": self.last_updated.who,
            }
        return data


@dataclass(frozen=True)
class ChangeInfo:
    """One logged change; `old` and `new` are JSON-ready values. An alias added is logged as
    field "aliases" from None to its text, one removed from its text to None."""

    id: int
    version: int
    when: dt.datetime
    editor: str
    kind: str
    key: str
    field: str
    old: Any
    new: Any


# --- values between the database, the YAML form and the console ------------------------


def api_value(spec: FieldSpec, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return format_time(value)
    if spec.kind == "source":
        return value.split()
    return value


def _label_fields(section: str) -> tuple[str, str]:
    if section == "facts":
        return "subject_zh", "subject_en"
    return name_fields(section)


def _labels(section: str, values: dict[str, Any]) -> tuple[str, str]:
    """A record's name for lists and headings (zh, en); a logistics record has none of its
    own: its topic and scope ("停车安排 · expo")."""
    if section != "logistics":
        zh_field, en_field = _label_fields(section)
        return values[zh_field], values[en_field]
    names = LOGISTICS_TOPIC_NAMES[values["topic"]]
    scope = values["event_key"] or values["venue_key"]
    return (
        f"{names['zh']} · {scope or WHOLE_WEEK['zh']}",
        f"{names['en']} · {scope or WHOLE_WEEK['en']}",
    )


def _editable(section: str, name: str) -> bool:
    return name not in NOT_EDITABLE and name not in FIXED_FIELDS.get(section, ())


def _problem(problem: Problem | str) -> FieldProblem:
    if isinstance(problem, Problem):
        return FieldProblem(problem.field, problem.en, problem.zh)
    return FieldProblem(None, str(problem), str(problem))


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


# --- the editor ------------------------------------------------------------------------


class FactEditor:
    """Reads and changes the event records the console may edit.

    Construct with a SQLAlchemy URL, an Engine, or neither (`DATABASE_URL`, else the SQLite
    file), as `EventDB`. Raises DatabaseNotReady while the event tables are missing or out of
    date (`cyberweek db load` first); creates the change-log tables when first needed.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        engine: Engine | None = None,
        now: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        if url is not None and engine is not None:
            raise ValueError("give a url or an engine, not both")
        self._owns_engine = engine is None
        self._engine = engine or make_engine(url)
        self._now = now
        self._ready = False

    def dispose(self) -> None:
        if self._owns_engine:
            self._engine.dispose()

    def ensure_schema(self) -> None:
        """Check the event tables and create the change-log tables (call at startup; every
        method also does it once)."""
        if self._ready:
            return
        with writer(self._engine).begin() as connection:
            problem = schema_state(connection).problem()
            if problem:
                where = describe_url(self._engine.url)
                raise DatabaseNotReady(
                    f"The event database ({where}) is not ready: {problem}. "
                    "Run `cyberweek db load` to create and load it."
                )
            ensure_tables(connection)
        self._ready = True

    # --- reading -----------------------------------------------------------------------

    def editable(self, kind: str) -> list[EditableRecord]:
        """Every record of `kind` in seed order, with its editable fields and values."""
        section = _section(kind)
        table = SECTION_MODELS[section].__table__
        with self._read() as connection:
            latest = self._latest_changes(connection, kind)
            loaded = self._loaded_version(connection)
            aliases = self._aliases_of_kind(connection, section)
            rows = connection.execute(select(table).order_by(table.c.position))
            return [
                self._record(
                    kind,
                    _values(row),
                    aliases.get(row.key, []),
                    latest.get(row.key),
                    loaded,
                )
                for row in rows
            ]

    def record(self, kind: str, key: str) -> EditableRecord:
        """One record; UnknownRecord when there is no such kind or key."""
        section = _section(kind)
        with self._read() as connection:
            return self._current(connection, kind, section, key)

    def history(
        self, kind: str | None = None, key: str | None = None, limit: int = 100
    ) -> list[ChangeInfo]:
        """Logged changes, newest first: all, of one kind, or of one record."""
        query = select(Change).order_by(Change.id.desc())
        if kind is not None:
            query = query.where(Change.kind == kind)
        if key is not None:
            query = query.where(Change.key == key)
        query = query.limit(max(1, min(int(limit), MAX_HISTORY)))
        with self._read() as connection:
            return [_change_info(row) for row in connection.execute(query)]

    def last_updated(self, kind: str, key: str) -> LastUpdate | None:
        """When and by whom the record was last edited in the console (None: never; seed
        loads do not count)."""
        query = (
            select(Change.changed_at, Change.editor)
            .where(Change.kind == kind, Change.key == key)
            .order_by(Change.id.desc())
            .limit(1)
        )
        with self._read() as connection:
            row = connection.execute(query).first()
            return LastUpdate(row.changed_at, row.editor) if row else None

    def data_version(self) -> int:
        """Goes up with every edit and seed load: poll it to notice any change (one
        primary-key read)."""
        with self._read() as connection:
            return read_version(connection)

    def unexported_changes(self, seed_dir: Path) -> list[ChangeInfo]:
        """Edits a load of `seed_dir` would overwrite: made after the last load and not
        exported to `seed_dir` since (oldest first). Needs no loaded event tables, so that
        `cyberweek db load` can ask before it rebuilds them."""
        with self._engine.connect() as connection:
            if not inspect(connection).has_table(Change.__tablename__):
                return []
            state = read_state(connection)
            if state is None:
                return []
            query = select(Change).order_by(Change.id)
            if state.loaded_version is not None:
                query = query.where(Change.version > state.loaded_version)
            if state.exported_version is not None and state.exported_to == str(
                Path(seed_dir).resolve()
            ):
                query = query.where(Change.version > state.exported_version)
            return [_change_info(row) for row in connection.execute(query)]

    # --- changing ----------------------------------------------------------------------

    def update(
        self,
        kind: str,
        key: str,
        changes: dict[str, Any],
        editor: str,
        *,
        expected_revision: int | None = None,
    ) -> EditableRecord:
        """Apply field changes (YAML field names -> JSON values; None or "" clears an optional
        field) in one transaction, after the seed's validation of the whole record.

        Raises UnknownRecord, EditConflict or FactEditError (nothing changed). Unchanged
        values are not logged; an edit that changes nothing writes nothing.
        """
        editor = _editor(editor)
        section = _section(kind)
        problems = _precheck(section, changes)
        if problems:
            raise FactEditError(problems)
        with self._write() as connection:
            values = self._row(connection, kind, section, key, lock=True)
            self._check_revision(connection, kind, key, expected_revision)
            raw = {**seed_form(section, values), **changes}
            record = SeedRecord(Path(f"<{kind} {key}>"), section, 0, raw)
            problems = [_problem(p) for p in check_record(record)]
            if not problems and section == "events":
                problems = self._event_references(connection, record)
            if problems:
                raise FactEditError(problems)
            new_values = {n: v for n, v in record.values.items() if n != ALIASES}
            texts, old_texts, problems = self._names_after(
                connection, section, key, values, new_values
            )
            if problems:
                raise FactEditError(problems)
            changed = {n: (values[n], v) for n, v in new_values.items() if values[n] != v}
            log = [
                (
                    name,
                    api_value(SECTION_FIELDS[section][name], old),
                    api_value(SECTION_FIELDS[section][name], new),
                )
                for name, (old, new) in changed.items()
            ]
            if section in NAMED_SECTIONS:  # an alias the same as a new name is dropped
                after = own_aliases(section, new_values, texts)
                log += [
                    (ALIASES, alias, None)
                    for alias in own_aliases(section, values, old_texts)
                    if alias not in after
                ]
            if not log:
                return self._current(connection, kind, section, key)
            model = SECTION_MODELS[section]
            if changed:
                connection.execute(
                    update(model)
                    .where(model.key == key)
                    .values(**{name: new for name, (_, new) in changed.items()})
                )
            if texts != old_texts:
                self._replace_names(connection, section, key, texts)
            self._log(connection, editor, kind, key, log)
            review = _review(section, values, changed, changes)
            return self._current(connection, kind, section, key, review)

    def add_alias(
        self,
        kind: str,
        key: str,
        alias_text: str,
        lang: str,
        editor: str,
        *,
        expected_revision: int | None = None,
    ) -> EditableRecord:
        """A name visitors may type for the record, understood by the NLU at once.

        `lang` ("zh" / "en") is checked against the text (Chinese characters or none) to catch
        a slip of the form's language switch; the seed's alias lists carry no language, so it
        is not stored. Raises FactEditError when the text is invalid, too short for the
        gazetteer, already one of the record's names, or already means another record.
        """
        editor = _editor(editor)
        section = _named_section(kind)
        text = _alias_text(alias_text, lang)
        with self._write() as connection:
            self._row(connection, kind, section, key, lock=True)
            self._check_revision(connection, kind, key, expected_revision)
            entity = NAMED_SECTIONS[section]
            texts = self._name_texts(connection, entity, key)
            folded = fold_alias(text)
            if folded in {fold_alias(t) for t in texts}:
                raise FactEditError(
                    [
                        FieldProblem(
                            ALIASES,
                            f"{text!r} is already a name of this record",
                            f"{text!r} 已是该记录的名称",
                        )
                    ]
                )
            owner = self._owners(connection, entity, key).get(folded)
            if owner is not None:
                raise FactEditError([_taken(ALIASES, text, owner)])
            connection.execute(insert(Alias).values(entity=entity, key=key, text=text))
            self._log(connection, editor, kind, key, [(ALIASES, None, text)])
            return self._current(connection, kind, section, key)

    def remove_alias(
        self,
        kind: str,
        key: str,
        alias_text: str,
        editor: str,
        *,
        expected_revision: int | None = None,
    ) -> EditableRecord:
        """Remove one alias (exactly as listed); a record's own names cannot be removed, only
        changed through `update`."""
        editor = _editor(editor)
        section = _named_section(kind)
        with self._write() as connection:
            values = self._row(connection, kind, section, key, lock=True)
            self._check_revision(connection, kind, key, expected_revision)
            entity = NAMED_SECTIONS[section]
            before = own_aliases(section, values, self._name_texts(connection, entity, key))
            if alias_text not in before:
                raise FactEditError(
                    [
                        FieldProblem(
                            ALIASES,
                            f"{alias_text!r} is not one of this record's aliases",
                            f"{alias_text!r} 不是该记录的别名",
                        )
                    ]
                )
            connection.execute(
                delete(Alias).where(
                    Alias.entity == entity, Alias.key == key, Alias.text == alias_text
                )
            )
            self._log(connection, editor, kind, key, [(ALIASES, alias_text, None)])
            return self._current(connection, kind, section, key)

    # --- plumbing ----------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        self.ensure_schema()
        with self._engine.connect() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One transaction that may read before it writes (BEGIN IMMEDIATE on SQLite)."""
        self.ensure_schema()
        with writer(self._engine).begin() as connection:
            yield connection

    def _row(
        self, connection: Connection, kind: str, section: str, key: Any, lock: bool = False
    ) -> dict[str, Any]:
        if not isinstance(key, str) or not 0 < len(key) <= KEY_LEN:
            raise _unknown_key(kind, key)
        table = SECTION_MODELS[section].__table__
        query: Select = select(table).where(table.c.key == key)
        if lock:  # PostgreSQL: two editors of one record queue here (SQLite locks the file)
            query = query.with_for_update()
        row = connection.execute(query).first()
        if row is None:
            raise _unknown_key(kind, key)
        return _values(row)

    def _current(
        self,
        connection: Connection,
        kind: str,
        section: str,
        key: str,
        review: tuple[FieldProblem, ...] = (),
    ) -> EditableRecord:
        values = self._row(connection, kind, section, key)
        texts: list[str] = []
        if section in NAMED_SECTIONS:
            texts = self._name_texts(connection, NAMED_SECTIONS[section], key)
        latest = connection.execute(
            select(Change).where(Change.kind == kind, Change.key == key).order_by(Change.id.desc())
        ).first()
        loaded = self._loaded_version(connection)
        return self._record(kind, values, texts, latest, loaded, review)

    def _record(
        self,
        kind: str,
        values: dict[str, Any],
        name_texts: list[str],
        latest: Any,
        loaded_version: int,
        review: tuple[FieldProblem, ...] = (),
    ) -> EditableRecord:
        section = KINDS[kind]
        fields = tuple(
            EditableField(
                name,
                api_value(spec, values[name]),
                spec.kind,
                spec.required,
                spec.choices,
                name[-2:] if name.endswith(("_zh", "_en")) else None,
                _twin(name),
            )
            for name, spec in SECTION_FIELDS[section].items()
            if _editable(section, name)
        )
        label_zh, label_en = _labels(section, values)
        aliases = None
        if section in NAMED_SECTIONS:
            aliases = tuple(own_aliases(section, values, name_texts))
        return EditableRecord(
            kind=kind,
            key=values["key"],
            name_zh=label_zh,
            name_en=label_en,
            fields=fields,
            aliases=aliases,
            revision=max(latest.version if latest else 0, loaded_version),
            last_updated=LastUpdate(latest.changed_at, latest.editor) if latest else None,
            review=review,
        )

    def _check_revision(
        self, connection: Connection, kind: str, key: str, expected: int | None
    ) -> None:
        if expected is None:
            return
        latest = connection.execute(
            select(Change).where(Change.kind == kind, Change.key == key).order_by(Change.id.desc())
        ).first()
        loaded = self._loaded_version(connection)
        current = max(latest.version if latest else 0, loaded)
        if current == expected:
            return
        if latest is not None and latest.version == current:
            when = latest.changed_at.strftime("%Y-%m-%d %H:%M UTC")
            en = f"{latest.editor} changed this record at {when}; reload it and edit again"
            zh = f"{latest.editor} 已于 {when} 修改了这条记录，请刷新后重新编辑"
        else:
            en = "the event data was reloaded since you opened this record; reload it"
            zh = "打开这条记录后活动数据已重新加载，请刷新后重新编辑"
        raise EditConflict([FieldProblem(None, en, zh)])

    @staticmethod
    def _loaded_version(connection: Connection) -> int:
        state = read_state(connection)
        return state.loaded_version or 0 if state else 0

    @staticmethod
    def _latest_changes(connection: Connection, kind: str) -> dict[str, Any]:
        newest = select(func.max(Change.id)).where(Change.kind == kind).group_by(Change.key)
        rows = connection.execute(select(Change).where(Change.id.in_(newest)))
        return {row.key: row for row in rows}

    @staticmethod
    def _aliases_of_kind(connection: Connection, section: str) -> dict[str, list[str]]:
        if section not in NAMED_SECTIONS:
            return {}
        found: dict[str, list[str]] = {}
        query = (
            select(Alias.key, Alias.text)
            .where(Alias.entity == NAMED_SECTIONS[section])
            .order_by(Alias.id)
        )
        for row in connection.execute(query):
            found.setdefault(row.key, []).append(row.text)
        return found

    @staticmethod
    def _name_texts(connection: Connection, entity: str, key: str) -> list[str]:
        """The record's rows of the gazetteer (names and aliases), in load order."""
        query = select(Alias.text).where(Alias.entity == entity, Alias.key == key)
        return list(connection.execute(query.order_by(Alias.id)).scalars())

    @staticmethod
    def _owners(connection: Connection, entity: str, key: str) -> dict[str, tuple[str, str]]:
        """folded name -> (entity, key) for every other record's names and aliases."""
        query = select(Alias.entity, Alias.key, Alias.text).where(
            not_(and_(Alias.entity == entity, Alias.key == key))
        )
        return {fold_alias(row.text): (row.entity, row.key) for row in connection.execute(query)}

    def _names_after(
        self,
        connection: Connection,
        section: str,
        key: str,
        values: dict[str, Any],
        new_values: dict[str, Any],
    ) -> tuple[list[str], list[str], list[FieldProblem]]:
        """The record's gazetteer rows after the edit (as a seed load would make them), the
        rows now, and any new name another record already has."""
        if section not in NAMED_SECTIONS:
            return [], [], []
        entity = NAMED_SECTIONS[section]
        old_texts = self._name_texts(connection, entity, key)
        unchanged = all(new_values[n] == values[n] for n in name_fields(section))
        if unchanged:
            return old_texts, old_texts, []
        aliases = own_aliases(section, values, old_texts)
        owners = self._owners(connection, entity, key)
        texts: list[str] = []
        seen: set[str] = set()
        problems = []
        for field_name, text in record_names(section, {**new_values, ALIASES: aliases}):
            folded = fold_alias(text)
            if folded in seen:
                continue
            if folded in owners:
                problems.append(_taken(field_name, text, owners[folded]))
            seen.add(folded)
            texts.append(text)
        return texts, old_texts, problems

    @staticmethod
    def _replace_names(connection: Connection, section: str, key: str, texts: list[str]) -> None:
        entity = NAMED_SECTIONS[section]
        connection.execute(delete(Alias).where(Alias.entity == entity, Alias.key == key))
        for text in texts:
            connection.execute(insert(Alias).values(entity=entity, key=key, text=text))

    @staticmethod
    def _event_references(connection: Connection, record: SeedRecord) -> list[FieldProblem]:
        venues = set(connection.execute(select(Venue.key)).scalars())
        topics = set(connection.execute(select(ForumTopic.key)).scalars())
        parents = {
            row.key: row.parent_key
            for row in connection.execute(select(Event.key, Event.parent_key))
        }
        key, parent = record.values["key"], record.values["parent_key"]
        parents[key] = parent
        problems = [_problem(p) for p in check_event_references(record, venues, topics, parents)]
        children = sorted(k for k, p in parents.items() if p == key)
        if parent is not None and children:
            problems.append(
                FieldProblem(
                    "parent_key",
                    f"this event groups {', '.join(children)}, so it cannot belong to a group",
                    f"该活动下有子活动（{'、'.join(children)}），不能再属于其他活动",
                )
            )
        return problems

    def _log(
        self,
        connection: Connection,
        editor: str,
        kind: str,
        key: str,
        changes: list[tuple[str, Any, Any]],
    ) -> None:
        """Bump the data version and log each changed field, in the caller's transaction."""
        now = self._now()
        version = bump_version(connection, now)
        for field_name, old, new in changes:
            connection.execute(
                insert(Change).values(
                    version=version,
                    changed_at=now,
                    editor=editor,
                    kind=kind,
                    key=key,
                    field=field_name,
                    old_value=_json(old),
                    new_value=_json(new),
                )
            )


# --- checks before the seed's ----------------------------------------------------------


def _section(kind: Any) -> str:
    if kind not in KINDS:
        raise UnknownRecord(
            [
                FieldProblem(
                    None,
                    f"unknown kind {kind!r} (expected one of {', '.join(KINDS)})",
                    f"未知类型 {kind!r}（应为 {'、'.join(KINDS)} 之一）",
                )
            ]
        )
    return KINDS[kind]


def _named_section(kind: Any) -> str:
    section = _section(kind)
    if section not in NAMED_SECTIONS:
        raise FactEditError(
            [FieldProblem(ALIASES, f"a {kind} has no aliases", f"{kind} 类型没有别名")]
        )
    return section


def _unknown_key(kind: str, key: Any) -> UnknownRecord:
    return UnknownRecord(
        [FieldProblem(None, f"no {kind} has key {key!r}", f"没有键为 {key!r} 的 {kind}")]
    )


def _editor(editor: Any) -> str:
    """The staff username; the console has authenticated it (a programming error if not)."""
    if not isinstance(editor, str) or not editor.strip() or len(editor) > EDITOR_MAX_CHARS:
        raise ValueError(f"editor must be a staff username, got {editor!r}")
    return editor.strip()


def _precheck(section: str, changes: Any) -> list[FieldProblem]:
    """Field names and sizes: what the seed never needs to check (its files are trusted)."""
    if not isinstance(changes, dict):
        return [FieldProblem(None, "expected field: value pairs", "应为“字段: 值”的形式")]
    specs = SECTION_FIELDS[section]
    editable = ", ".join(name for name in specs if _editable(section, name))
    problems = []
    for name, value in changes.items():
        if name not in specs:
            problems.append(
                FieldProblem(
                    str(name),
                    f"unknown field (editable: {editable})",
                    f"未知字段（可编辑：{editable}）",
                )
            )
        elif name in FIXED_FIELDS.get(section, ()):
            problems.append(
                FieldProblem(
                    name,
                    "what a record is about is changed in the YAML seed, not here",
                    "记录的主题和范围只能在 YAML 数据文件中修改",
                )
            )
        elif name in NOT_EDITABLE:
            en, zh = (
                ("keys are changed in the YAML seed, not here", "键只能在 YAML 数据文件中修改")
                if name == "key"
                else ("use add_alias / remove_alias", "请使用添加/删除别名功能")
            )
            problems.append(FieldProblem(name, en, zh))
        elif isinstance(value, str) and len(value) > MAX_TEXT_CHARS:
            problems.append(
                FieldProblem(
                    name,
                    f"longer than {MAX_TEXT_CHARS} characters",
                    f"超过 {MAX_TEXT_CHARS} 个字符",
                )
            )
        elif isinstance(value, list) and len(value) > MAX_SOURCES:
            problems.append(
                FieldProblem(name, f"more than {MAX_SOURCES} items", f"超过 {MAX_SOURCES} 项")
            )
    return problems


def _alias_text(alias_text: Any, lang: Any) -> str:
    if lang not in ALIAS_LANGS:
        raise FactEditError(
            [
                FieldProblem(
                    "lang", f"expected zh or en, got {lang!r}", f"应为 zh 或 en，实际为 {lang!r}"
                )
            ]
        )
    try:
        text: str = CONVERTERS["name"](alias_text, FieldSpec("name"))
    except InvalidValue as error:
        raise FactEditError([FieldProblem(ALIASES, str(error), error.zh)]) from None
    if len(fold_alias(text)) < MIN_ALIAS_CHARS:
        raise FactEditError(
            [
                FieldProblem(
                    ALIASES,
                    f"too short: the assistant ignores names under {MIN_ALIAS_CHARS} characters",
                    f"太短：少于 {MIN_ALIAS_CHARS} 个字符的名称不会被识别",
                )
            ]
        )
    chinese = any(_is_cjk(ch) for ch in text)
    if lang == "en" and chinese:
        raise FactEditError(
            [
                FieldProblem(
                    ALIASES,
                    "contains Chinese characters: add it as a zh alias",
                    "含有中文字符：请作为中文（zh）别名添加",
                )
            ]
        )
    if lang == "zh" and not chinese:
        raise FactEditError(
            [
                FieldProblem(
                    ALIASES,
                    "has no Chinese characters: add it as an en alias (e.g. IFF)",
                    "不含中文字符：请作为英文（en）别名添加（如 IFF）",
                )
            ]
        )
    return text


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x2FA1F


def _taken(field_name: str, text: str, owner: tuple[str, str]) -> FieldProblem:
    entity, key = owner
    return FieldProblem(
        field_name,
        f"name {text!r} already means {entity} {key!r}",
        f"名称 {text!r} 已用于 {entity} {key!r}",
    )


def _review(
    section: str,
    old: dict[str, Any],
    changed: dict[str, tuple[Any, Any]],
    requested: dict[str, Any],
) -> tuple[FieldProblem, ...]:
    """Fields worth a second look after an accepted edit: a note written for the old state
    (it may say "start time not announced" after a start_time was added), and a fact that
    became confirmed with the text it had while it was not."""
    hints = []
    touched_note = any(name in requested for name in NOTE_FIELDS)
    other_change = any(name not in NOTE_FIELDS for name in changed)
    if "note_zh" in old and old["note_zh"] and other_change and not touched_note:
        hints.append(
            FieldProblem(
                "note_zh",
                "check that note_zh / note_en still say what is not confirmed",
                "请确认 note_zh / note_en 仍准确说明哪些内容尚未确认",
            )
        )
    if section in ("facts", "logistics") and changed.get("confirmed") == (False, True):
        if not any(name in requested for name in ("text_zh", "text_en")):
            hints.append(
                FieldProblem(
                    "text_zh",
                    "the assistant now states text_zh / text_en as fact: check they are the "
                    "announced facts, not 'not announced yet'",
                    "助手现在会把 text_zh / text_en 当作事实回答：请确认内容是已公布的信息，"
                    "而不是“尚未公布”",
                )
            )
    return tuple(hints)


def _twin(name: str) -> str | None:
    if name.endswith("_zh"):
        return name[:-3] + "_en"
    if name.endswith("_en"):
        return name[:-3] + "_zh"
    return None


def _values(row: Any) -> dict[str, Any]:
    return {name: value for name, value in row._mapping.items() if name not in DERIVED_COLUMNS}


def _change_info(row: Any) -> ChangeInfo:
    return ChangeInfo(
        id=row.id,
        version=row.version,
        when=row.changed_at,
        editor=row.editor,
        kind=row.kind,
        key=row.key,
        field=row.field,
        old=json.loads(row.old_value),
        new=json.loads(row.new_value),
    )
