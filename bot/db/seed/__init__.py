"""Loading data/event/*.yml into the event database: read, validate, then load.

Organisers change the schedule by editing YAML and running `cyberweek db load`. Each file maps
section names to records: `week` (one mapping) and lists of `venues`, `forum_topics`,
`events`, `theme_days`, `organisers`, `facts`, `logistics`. Venues, forum topics, events and theme days may
carry `aliases: [...]`, the names visitors type; with each record's zh/en name or title they
become the `aliases` table, the NLU gazetteer.
"""

from bot.db.seed.load import LoadReport, load_seed
from bot.db.seed.validate import SeedError, check_seed, collect_names

__all__ = ["LoadReport", "SeedError", "check_seed", "collect_names", "load_seed"]
