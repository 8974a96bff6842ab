"""Models, seed field specs and info classes name the same columns.

Adding a column is: the model, the seed spec, the info class (if the table has one) — and this
file fails until all three agree. The only differences allowed are written down here.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import pytest

from bot.db import info
from bot.db.models import (
    DERIVED_COLUMNS,
    SEED_TABLES,
    Alias,
    Event,
    Fact,
    Logistics,
    ThemeDay,
    Venue,
)
from bot.db.seed.load import SECTION_MODELS
from bot.db.seed.read import SECTIONS, SINGLE_RECORD_SECTIONS
from bot.db.seed.validate import ALIASES, NAMED_SECTIONS, SECTION_FIELDS

# Tables that actions read as rows. forum_topics and organisers have none: nothing answers
# from their rows (topics reach visitors through events.topic and the aliases).
INFO_CLASSES: dict[Any, type] = {
    Event: info.EventInfo,
    Venue: info.VenueInfo,
    ThemeDay: info.ThemeDayInfo,
    Fact: info.FactInfo,
    Logistics: info.LogisticsInfo,
}


def columns(model: Any) -> dict[str, Any]:
    return {column.name: column for column in model.__table__.columns}


def stored_columns(model: Any) -> dict[str, Any]:
    """The columns a seed record and an info object spell (all but DERIVED_COLUMNS)."""
    return {name: c for name, c in columns(model).items() if name not in DERIVED_COLUMNS}


def test_sections_models_and_tables_are_the_same_set() -> None:
    assert set(SECTIONS) == set(SECTION_FIELDS) == set(SECTION_MODELS)
    assert set(SECTION_MODELS.values()) | {Alias} == set(SEED_TABLES)


@pytest.mark.parametrize("section", SECTIONS)
def test_seed_fields_are_the_model_columns(section: str) -> None:
    specs = SECTION_FIELDS[section]
    model_columns = stored_columns(SECTION_MODELS[section])
    assert set(specs) - {ALIASES} == set(model_columns)
    required = {name for name, spec in specs.items() if spec.required}
    assert required == {name for name, c in model_columns.items() if not c.nullable}


@pytest.mark.parametrize("section", SECTIONS)
def test_derived_columns_are_what_the_loader_fills(section: str) -> None:
    derived = set(columns(SECTION_MODELS[section])) & DERIVED_COLUMNS
    has_position = section not in SINGLE_RECORD_SECTIONS  # list order -> `position`
    assert derived == ({"id", "position"} if has_position else {"id"})


def test_aliases_belong_to_the_named_sections() -> None:
    assert {s for s in SECTIONS if ALIASES in SECTION_FIELDS[s]} == set(NAMED_SECTIONS)


@pytest.mark.parametrize("section", SECTIONS)
def test_every_zh_field_has_an_en_twin(section: str) -> None:
    specs = SECTION_FIELDS[section]
    for name in (n for n in specs if n.endswith("_zh")):
        twin = name.removesuffix("_zh") + "_en"
        assert specs.get(twin) == specs[name], (section, name)


@pytest.mark.parametrize("model", INFO_CLASSES, ids=lambda m: m.__tablename__)
def test_info_fields_are_the_model_columns(model: Any) -> None:
    fields = {f.name: f for f in dataclasses.fields(INFO_CLASSES[model])}
    model_columns = stored_columns(model)
    assert set(fields) == set(model_columns)
    optional = {name for name, f in fields.items() if "None" in str(f.type)}
    assert optional == {name for name, c in model_columns.items() if c.nullable}


def test_every_info_class_is_checked_here() -> None:
    sourced = {
        cls
        for _, cls in inspect.getmembers(info, inspect.isclass)
        if issubclass(cls, info._Sourced) and cls is not info._Sourced
    }
    assert sourced == set(INFO_CLASSES.values())


def test_name_entries_are_alias_rows() -> None:
    fields = {f.name for f in dataclasses.fields(info.NameEntry)}
    assert fields == set(columns(Alias)) - {"id"}
