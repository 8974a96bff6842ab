"""The event database: models, engine, seed loader and queries — the only code that speaks SQL.

Actions use `EventDB`; `cyberweek db load|check` uses `load_seed` / `check_seed`.
"""

from bot.db.engine import database_url, make_engine
from bot.db.info import EventInfo, FactInfo, LogisticsInfo, NameEntry, ThemeDayInfo, VenueInfo
from bot.db.queries import DatabaseNotReady, EventDB
from bot.db.seed import LoadReport, SeedError, check_seed, collect_names, load_seed
from bot.db.tz import china_date

__all__ = [
    "DatabaseNotReady",
    "EventDB",
    "EventInfo",
    "FactInfo",
    "LoadReport",
    "LogisticsInfo",
    "NameEntry",
    "SeedError",
    "ThemeDayInfo",
    "VenueInfo",
    "check_seed",
    "china_date",
    "collect_names",
    "database_url",
    "load_seed",
    "make_engine",
]
