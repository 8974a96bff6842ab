"""`cyberweek bench --event-queries`: the event queries of a visitor's turn on a database of
100,000 events, side by side with the same queries on the plain seed (issue #14: p95 ≤ 5 ms).

Both databases are SQLite files built in build/bench/event-queries/: the seed as `cyberweek db
load` makes it, and the seed plus generated events (evaluation/bench/event_data.py). Each
query is called as the actions call it (through `EventDB`, a session per call), with
arguments drawn at random from what visitors ask (days mostly around the week, the seed's
events, venues, kinds and topics), after a warm-up. The old path, `all_events()` filtered in
Python, is timed once on each database to show why the turns no longer take it. The table goes
to the terminal and into docs/benchmarks.md between its "event-queries" markers.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bot.db import EventDB
from bot.db.models import EVENT_KINDS
from evaluation.bench import BENCH_DIR
from evaluation.bench.event_data import DEFAULT_EVENT_COUNT, build_database
from evaluation.bench.results import with_block
from evaluation.progress import say, step

WORK_DIR = BENCH_DIR / "event-queries"
DOC_BLOCK = "event-queries"
TARGET_P95_MS = 5.0
RUNS = 400  # calls per query and database, measured
WARMUP_RUNS = 40
WEEK = date(2024, 9, 9)
AROUND_THE_WEEK = [WEEK + timedelta(days=offset) for offset in range(-10, 15)]

Call = Callable[[], object]


@dataclass(frozen=True)
class Timing:
    p50_ms: float
    p95_ms: float
    max_ms: float


def _pick_day(rng: random.Random) -> date:
    """Mostly the days visitors ask about; sometimes any day of the generated years."""
    if rng.random() < 0.8:
        return rng.choice(AROUND_THE_WEEK)
    return date(2000, 1, 1) + timedelta(days=rng.randrange(35 * 365))


def per_turn_calls(db: EventDB, rng: random.Random) -> dict[str, Callable[[], Call]]:
    """Each query an action asks during a turn (and who asks it): a maker of one call with
    freshly drawn arguments, so that no two timed calls need be the same question."""
    seed_events = [e.key for e in db.all_events() if not e.key.startswith("gen_")]
    venues = ["iff_nansha", "jiaomen_park", "beijing"]
    topics = ["governance", "personal_info", "connected_cars", "youth_protection", "egov"]
    year = db.week_span()[0].year

    def day_call(query: Callable[[date], object]) -> Callable[[], Call]:
        return lambda: (lambda day=_pick_day(rng): query(day))

    def key_call(query: Callable[[str], object], keys: list[str]) -> Callable[[], Call]:
        return lambda: (lambda key=rng.choice(keys): query(key))

    return {
        "event(key) — every answer": key_call(db.event, seed_events),
        "venue_of_event(key) — where, logistics": key_call(db.venue_of_event, seed_events),
        "events_on(day) — a day's listing, now/next": day_call(db.events_on),
        "any_event_on(day) — now/next: next day": day_call(db.any_event_on),
        "first_start_after(day) — now/next: next day": day_call(db.first_start_after),
        "theme_day_on(day) — listings": day_call(db.theme_day_on),
        "top_level_events_between(year) — week overview": lambda: lambda: (
            db.top_level_events_between(date(year, 1, 1), date(year, 12, 31))
        ),
        "undated_top_level_events — now/next": lambda: lambda: db.undated_top_level_events(
            limit=11
        ),
        "top_level_events(venue, 2) — a bare “when?”": key_call(
            lambda venue: db.top_level_events(venue=venue, limit=2), venues
        ),
        "top_level_events(kind, 7) — “the other one?”": key_call(
            lambda kind: db.top_level_events(kind=kind, limit=7), list(EVENT_KINDS)
        ),
        "venues_in_event_order — “the other one?”": lambda: db.venues_in_event_order,
        "sub_forums — the forum list": lambda: db.sub_forums,
        "sub_forum_by_topic(topic) — a sub-forum": key_call(db.sub_forum_by_topic, topics),
        "week_span — several answers": lambda: db.week_span,
    }


def time_calls(make_call: Callable[[], Call], runs: int = RUNS) -> Timing:
    for _ in range(WARMUP_RUNS):
        make_call()()
    samples = []
    for _ in range(runs):
        call = make_call()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return timing(samples)


def timing(samples: list[float]) -> Timing:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Timing(statistics.median(ordered), p95, ordered[-1])


def old_path_ms(db: EventDB) -> tuple[float, int]:
    """One read of the whole table, as the week overview, now/next and the follow-ups did
    before (their Python filtering after it costs little beside it); milliseconds, rows."""
    started = time.perf_counter()
    count = len(db.all_events())
    return (time.perf_counter() - started) * 1000, count


# ------------------------------------------------------------------ the report
def _cell(value: Timing) -> str:
    return f"{value.p50_ms:.2f} / {value.p95_ms:.2f} / {value.max_ms:.2f}"


def table_rows(
    names: list[str], seed: dict[str, Timing], big: dict[str, Timing]
) -> list[tuple[str, str, str, str]]:
    return [
        (
            name,
            _cell(seed[name]),
            _cell(big[name]),
            "yes" if big[name].p95_ms <= TARGET_P95_MS else "**no**",
        )
        for name in names
    ]


def doc_section(
    rows: list[tuple[str, str, str, str]],
    count: int,
    old: dict[str, tuple[float, int]],
    verdict: str,
) -> str:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## Event queries with {count:,} events",
        "",
        f"Written by `cyberweek bench --event-queries` (evaluation/bench/event_queries.py); run "
        f"{stamp}. SQLite, {RUNS} calls per query and database after {WARMUP_RUNS} warm-up "
        "calls, each through `EventDB` as an action makes it (a session per call), arguments "
        "drawn at random (days mostly around the week, the seed's events, venues, kinds, "
        "topics). The seed column is the real seed alone (`cyberweek db load`); the other adds "
        "generated events over 35 years (evaluation/bench/event_data.py, test data only). "
        "Milliseconds, p50 / p95 / max; the machine was shared with other work.",
        "",
        f"| query — who asks | seed ({old['seed'][1]} events) | {count:,} events "
        f"| p95 ≤ {TARGET_P95_MS:g} ms |",
        "|---|---|---|---|",
        *[f"| {name} | {seed} | {big} | {met} |" for name, seed, big, met in rows],
        "",
        f"The path the turns took before, `all_events()` then filtering in Python (week "
        f"overview, now/next, follow-ups): {old['seed'][0]:.1f} ms on the seed, "
        f"{old['big'][0]:,.0f} ms on {old['big'][1]:,} events (one call).",
        "",
        verdict,
    ]
    return "\n".join(lines) + "\n"


def print_table(rows: list[tuple[str, str, str, str]]) -> None:
    header = ("query", "seed p50/p95/max ms", "large p50/p95/max ms", "p95 ok")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)), flush=True)


# ------------------------------------------------------------------ the command
def measure(db: EventDB) -> dict[str, Timing]:
    calls = per_turn_calls(db, random.Random(14))
    return {name: time_calls(make_call) for name, make_call in calls.items()}


def run(count: int = DEFAULT_EVENT_COUNT, doc: Path | None = None) -> int:
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    total = 4
    step(1, total, "the plain seed database (the baseline)")
    seed = EventDB(build_database(WORK_DIR / "seed.db", 0))
    step(2, total, f"the seed plus {count:,} generated events")
    started = time.monotonic()
    big = EventDB(build_database(WORK_DIR / f"events-{count}.db", count))
    say(f"built in {time.monotonic() - started:.0f} s")
    try:
        step(3, total, f"each per-turn query {RUNS} times on each database")
        seed_timings = measure(seed)
        big_timings = measure(big)
        old = {"seed": old_path_ms(seed), "big": old_path_ms(big)}
    finally:
        seed.dispose()
        big.dispose()
    step(4, total, "the table")
    names = list(seed_timings)
    rows = table_rows(names, seed_timings, big_timings)
    print_table(rows)
    worst = max(big_timings.values(), key=lambda t: t.p95_ms)
    met = all(t.p95_ms <= TARGET_P95_MS for t in big_timings.values())
    verdict = (
        f"Target p95 ≤ {TARGET_P95_MS:g} ms with {old['big'][1]:,} events: "
        f"{'met' if met else 'NOT met'} (worst p95 {worst.p95_ms:.2f} ms); the old whole-table "
        f"path took {old['big'][0]:,.0f} ms once."
    )
    say(verdict)
    if doc is not None:
        existing = doc.read_text(encoding="utf-8") if doc.exists() else ""
        section = doc_section(rows, count, old, verdict)
        doc.write_text(with_block(existing, DOC_BLOCK, section), encoding="utf-8")
        say(f"wrote the event-queries table into {doc}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> int:
    count = int((argv or sys.argv[1:] or [DEFAULT_EVENT_COUNT])[0])
    return run(count, None)


if __name__ == "__main__":
    sys.exit(main())
