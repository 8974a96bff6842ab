"""The event database: models, engine, seed loader and queries — the only code that speaks SQL.

Actions use `EventDB`; `cyberweek db load|check` uses `load_seed` / `check_seed`.
"""

from bot.db.engine import database_url, make_engine, session_scope
from bot.db.info import (
    EventInfo,
    FactInfo,
    ForumTopicInfo,
    NameEntry,
    OrganiserInfo,
    ThemeDayInfo,
    VenueInfo,
    WeekInfo,
)
from bot.db.queries import DatabaseNotReady, EventDB
from bot.db.seed import LoadReport, SeedError, check_seed, collect_names, load_seed
from bot.db.tz import CHINA_TZ, china_date, local_datetime

__all__ = [
    "CHINA_TZ",
    "DatabaseNotReady",
    "EventDB",
    "EventInfo",
    "FactInfo",
    "ForumTopicInfo",
    "LoadReport",
    "NameEntry",
    "OrganiserInfo",
    "SeedError",
    "ThemeDayInfo",
    "VenueInfo",
    "WeekInfo",
    "check_seed",
    "china_date",
    "collect_names",
    "database_url",
    "load_seed",
    "local_datetime",
    "make_engine",
    "session_scope",
]
