"""DateExtractor: Rasa entity extractor for `date` (ISO), `day_offset` ("+1"/"-1") and `year`.

Dates are resolved at parse time against `bot.clock.now()`, so "明天" means tomorrow for the
visitor asking now (or for the pinned CYBERWEEK_NOW in demos), never the day the model was
trained. Nothing is learned: the component is not trainable and is absent from the training
graph. It owns the three entity types: a `date`/`day_offset`/`year` predicted by another
extractor (e.g. DIET copying the raw text "9月10日") is replaced, because actions expect ISO
values. A `year` (2022年, 去年, in 2023: bot.nlu.years) is only looked for outside the dates
found, so 2024年9月10日 is a date and not also a year.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_CONFIDENCE,
    ENTITY_ATTRIBUTE_END,
    ENTITY_ATTRIBUTE_START,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from bot import clock
from bot.nlu.dates import DateMention, find_dates, warm_up
from bot.nlu.years import YearMention, find_years

logger = logging.getLogger(__name__)

DATE_ENTITY = "date"
OFFSET_ENTITY = "day_offset"
YEAR_ENTITY = "year"
OWN_ENTITIES = (DATE_ENTITY, OFFSET_ENTITY, YEAR_ENTITY)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class DateExtractor(GraphComponent, EntityExtractorMixin):
    """Adds `date` and `day_offset` entities found by `bot.nlu.dates.find_dates`, and `year`
    entities found by `bot.nlu.years.find_years`."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """No options: entity names and resolution rules are the shared data keys."""
        return {}

    # No required_packages(): Rasa checks them by importing, and importing jionlp prints a
    # banner to stdout; bot.nlu.dates imports it quietly and logs an error if it is missing.

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DateExtractor:
        """Creates the extractor, failing fast on a malformed CYBERWEEK_NOW and loading
        jionlp now rather than on the first visitor's message."""
        clock.now()
        warm_up()
        return cls(config)

    def __init__(self, config: dict[str, Any]) -> None:
        """Keeps the config (there are no options)."""
        self._config = {**self.get_default_config(), **config}

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds date entities to each message, replacing other extractors' date entities."""
        try:
            now = clock.now()
        except ValueError:
            logger.error("CYBERWEEK_NOW became invalid; dates are not extracted", exc_info=True)
            return messages
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text:
                continue
            dates = find_dates(text, now)
            years = find_years(text, now, [(d.start, d.end) for d in dates])
            found = self.add_extractor_name(
                [_entity(m) for m in dates] + [_year_entity(m) for m in years]
            )
            kept = [e for e in message.get(ENTITIES, []) if not _is_foreign_date(e, self.name)]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages


def _entity(mention: DateMention) -> dict[str, Any]:
    if mention.value is not None:
        entity_type, value = DATE_ENTITY, mention.value.isoformat()
    else:
        entity_type, value = OFFSET_ENTITY, f"{mention.day_offset:+d}"
    return {
        ENTITY_ATTRIBUTE_TYPE: entity_type,
        ENTITY_ATTRIBUTE_START: mention.start,
        ENTITY_ATTRIBUTE_END: mention.end,
        ENTITY_ATTRIBUTE_VALUE: value,
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
    }


def _year_entity(mention: YearMention) -> dict[str, Any]:
    return {
        ENTITY_ATTRIBUTE_TYPE: YEAR_ENTITY,
        ENTITY_ATTRIBUTE_START: mention.start,
        ENTITY_ATTRIBUTE_END: mention.end,
        ENTITY_ATTRIBUTE_VALUE: str(mention.year),
        ENTITY_ATTRIBUTE_CONFIDENCE: 1.0,
    }


def _is_foreign_date(entity: dict[str, Any], own_name: str) -> bool:
    return entity.get(ENTITY_ATTRIBUTE_TYPE) in OWN_ENTITIES and entity.get(EXTRACTOR) != own_name
