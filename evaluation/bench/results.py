"""What a benchmark run measured, and how it is compared and written down.

No servers here: Locust's CSV in, tables, docs/benchmarks.md and the chart out.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evaluation.bench.traffic import EMPTY_REPLY

AGGREGATED_ROW = "Aggregated"  # Locust's name for the all-requests row of *_stats.csv
RATIO_HEADER = "ratio (>1 = ours better)"


class StatsError(ValueError):
    """A Locust stats CSV without the row or columns the benchmark reads."""


@dataclass(frozen=True)
class LevelResult:
    """One load level: `users` visitors in a closed loop for the measured seconds."""

    users: int
    requests: int
    failures: int
    requests_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    empty_replies: int = 0  # of the failures: 200 `[]` (results saved before: not counted)

    @property
    def answers_per_s(self) -> float:
        """Throughput in answered turns: failed turns (fast `[]`s included) do not count."""
        return self._rate_of(self.requests - self.failures)

    @property
    def turns_per_s(self) -> float:
        """Turns the bot completed, its empty replies included: the work done by a bot whose
        model leaves questions unanswered (the `rasa init` bot), which answers_per_s hides."""
        return self._rate_of(self.requests - self.failures + self.empty_replies)

    def _rate_of(self, count: int) -> float:
        return self.requests_per_s * count / self.requests if self.requests else 0.0

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass(frozen=True)
class OpenLoopStep:
    """One open-loop step: `offered_per_s` messages a second from `level.users` paced
    visitors, whatever the replies; `problem` says why it failed (None: the bot held it)."""

    offered_per_s: float
    level: LevelResult
    problem: str | None = None

    @property
    def held(self) -> bool:
        return self.problem is None


@dataclass
class OpenLoopSearch:
    """The steps of the search for the highest rate at which p95 stays ≤ `p95_limit_ms`."""

    p95_limit_ms: float
    steps: list[OpenLoopStep] = field(default_factory=list)

    @property
    def highest_held(self) -> OpenLoopStep | None:
        held = [step for step in self.steps if step.held]
        return max(held, key=lambda step: step.offered_per_s) if held else None

    @property
    def first_failed_above(self) -> OpenLoopStep | None:
        """The lowest failed rate above the highest one held: where the limit lies."""
        best = self.highest_held
        floor = 0.0 if best is None else best.offered_per_s
        failed = [s for s in self.steps if not s.held and s.offered_per_s > floor]
        return min(failed, key=lambda step: step.offered_per_s) if failed else None

    @property
    def highest_rate_per_s(self) -> float | None:
        best = self.highest_held
        return None if best is None else best.offered_per_s


@dataclass
class BotResult:
    """Everything measured for one bot."""

    name: str
    cold_start_s: float | None = None
    peak_rss_bytes: int = 0
    levels: dict[int, LevelResult] = field(default_factory=dict)
    open_loop: OpenLoopSearch | None = None  # None: not measured (runs before it existed)


OURS, BASELINE = "ours", "baseline"  # who ran a round of make bench's alternating rounds
BOT_NAMES = {OURS: "ours", BASELINE: "rasa init bot"}  # as the table's columns name them
BENCH_KEYS = (OURS, BASELINE)  # make bench's contenders, ours first: >1 = ours better
BENCH_NAMES = (BOT_NAMES[OURS], BOT_NAMES[BASELINE])


def abba(first: str, second: str) -> tuple[str, str, str, str]:
    """One block of alternating rounds: each contender runs first once and last once."""
    return (first, second, second, first)


@dataclass(frozen=True)
class AlternatingRounds:
    """One closed-loop level run on two contenders in turn while both are up, in rounds ordered
    A, B, B, A (ABBA, repeated): a machine that slows down or speeds up during the run weighs
    on both alike, which two levels minutes apart do not ensure."""

    users: int
    rounds: tuple[tuple[str, LevelResult], ...]  # (a key of `keys`, the round), as run
    # A then B: A's rates are compared over B's (>1 = A better), A's column comes first
    keys: tuple[str, str] = BENCH_KEYS
    names: tuple[str, str] = BENCH_NAMES  # the keys' display names, in the same order

    def name_of(self, key: str) -> str:
        return self.names[self.keys.index(key)]

    def of(self, key: str) -> list[LevelResult]:
        return [level for who, level in self.rounds if who == key]

    def mean_turns_per_s(self, key: str) -> float | None:
        return self._mean(key, lambda level: level.turns_per_s)

    def mean_answers_per_s(self, key: str) -> float | None:
        return self._mean(key, lambda level: level.answers_per_s)

    def _mean(self, key: str, rate: Callable[[LevelResult], float]) -> float | None:
        rates = [rate(level) for level in self.of(key)]
        return sum(rates) / len(rates) if rates else None

    @property
    def answers_ratio(self) -> float | None:
        """A's mean answers/s over B's: the throughput ratio the rounds measured."""
        first, second = self.keys
        return ratio_higher_better(self.mean_answers_per_s(first), self.mean_answers_per_s(second))

    def failures_of(self, key: str) -> tuple[int, int]:
        """Errors and requests over the contender's rounds."""
        levels = self.of(key)
        return sum(lv.failures for lv in levels), sum(lv.requests for lv in levels)


def alternating_to_dict(rounds: AlternatingRounds) -> dict[str, object]:
    data: dict[str, object] = {
        "users": rounds.users,
        "rounds": [[who, lv.__dict__] for who, lv in rounds.rounds],
    }
    if (rounds.keys, rounds.names) != (BENCH_KEYS, BENCH_NAMES):
        # written only for other contenders: make bench's file stays as it was
        data |= {"keys": list(rounds.keys), "names": list(rounds.names)}
    return data


def alternating_from_dict(data: dict[str, Any]) -> AlternatingRounds:
    """Saved rounds; without "keys" and "names" they are make bench's (ours, baseline)."""
    return AlternatingRounds(
        data["users"],
        tuple((who, LevelResult(**level)) for who, level in data["rounds"]),
        _pair(data.get("keys", BENCH_KEYS)),
        _pair(data.get("names", BENCH_NAMES)),
    )


def _pair(values: Sequence[str]) -> tuple[str, str]:
    first, second = values  # two contenders, no more
    return first, second


def alternating_rows(rounds: AlternatingRounds) -> list[Row]:
    """The rounds' rows of the table: A's column, then B's."""
    first, second = rounds.keys
    label = f"{rounds.users} visitors, alternating rounds"
    errors = ["{} / {}".format(*rounds.failures_of(key)) for key in rounds.keys]
    return [
        _rate_row(
            f"{label}: turns, empty replies included",
            rounds.mean_turns_per_s(first),
            rounds.mean_turns_per_s(second),
        ),
        (f"{label}: errors", errors[0], errors[1], ""),
    ]


def alternating_notes(rounds: AlternatingRounds) -> str:
    """Each round's turns/s in the order run."""
    return ", ".join(f"{rounds.name_of(who)} {lv.turns_per_s:.1f}" for who, lv in rounds.rounds)


def rounds_in_order(notes: str) -> str:
    """The sentence that lists `alternating_notes` under a table."""
    return f"Alternating rounds, turns/s in the order run: {notes}."


def _percentile(value: str) -> float | None:
    """Locust writes N/A for a percentile of no requests."""
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def parse_locust_stats(csv_text: str, users: int, failures_csv_text: str = "") -> LevelResult:
    """The Aggregated row of a Locust `*_stats.csv`, with the empty replies counted in its
    `*_failures.csv`."""
    for row in csv.DictReader(io.StringIO(csv_text)):
        if row.get("Name") != AGGREGATED_ROW:
            continue
        try:
            return LevelResult(
                users=users,
                requests=int(row["Request Count"]),
                failures=int(row["Failure Count"]),
                requests_per_s=float(row["Requests/s"]),
                p50_ms=_percentile(row["50%"]),
                p95_ms=_percentile(row["95%"]),
                p99_ms=_percentile(row["99%"]),
                empty_replies=count_empty_replies(failures_csv_text),
            )
        except KeyError as missing:
            raise StatsError(f"Locust stats CSV has no column {missing}") from None
    raise StatsError(f"Locust stats CSV has no {AGGREGATED_ROW!r} row")


def count_empty_replies(failures_csv_text: str) -> int:
    """Occurrences of the empty reply in a Locust `*_failures.csv` (Error reads
    "CatchResponseError('empty reply []')")."""
    return sum(
        int(row.get("Occurrences") or 0)
        for row in csv.DictReader(io.StringIO(failures_csv_text))
        if EMPTY_REPLY in (row.get("Error") or "")
    )


def bot_to_dict(bot: BotResult) -> dict[str, object]:
    """A JSON-ready copy (build/bench/results.json), read back by `bot_from_dict`."""
    data: dict[str, object] = {
        "name": bot.name,
        "cold_start_s": bot.cold_start_s,
        "peak_rss_bytes": bot.peak_rss_bytes,
        "levels": [level.__dict__ for _, level in sorted(bot.levels.items())],
    }
    if bot.open_loop is not None:
        data["open_loop"] = {
            "p95_limit_ms": bot.open_loop.p95_limit_ms,
            "steps": [
                {"offered_per_s": s.offered_per_s, "level": s.level.__dict__, "problem": s.problem}
                for s in bot.open_loop.steps
            ],
        }
    return data


def bot_from_dict(data: dict[str, Any]) -> BotResult:
    """A saved bot; files written before the open loop was measured have no "open_loop"."""
    levels = [LevelResult(**level) for level in data["levels"]]
    open_loop = None
    if data.get("open_loop") is not None:
        saved = data["open_loop"]
        steps = [
            OpenLoopStep(step["offered_per_s"], LevelResult(**step["level"]), step.get("problem"))
            for step in saved["steps"]
        ]
        open_loop = OpenLoopSearch(saved["p95_limit_ms"], steps)
    return BotResult(
        name=data["name"],
        cold_start_s=data["cold_start_s"],
        peak_rss_bytes=data["peak_rss_bytes"],
        levels={level.users: level for level in levels},
        open_loop=open_loop,
    )


# ------------------------------------------------------------------ ratios and the table
def ratio_higher_better(ours: float | None, baseline: float | None) -> float | None:
    """ours / baseline, for throughput: >1 means ours does more."""
    if ours is None or baseline is None or baseline <= 0:
        return None
    return ours / baseline


def ratio_lower_better(ours: float | None, baseline: float | None) -> float | None:
    """baseline / ours, for latency, memory and start-up: >1 means ours needs less."""
    if ours is None or baseline is None or ours <= 0:
        return None
    return baseline / ours


def format_ratio(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}×"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def _seconds(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} s"


def _megabytes(value: int) -> str:
    return "–" if value <= 0 else f"{value / 2**20:,.0f} MB"


def _errors(level: LevelResult | None) -> str:
    if level is None:
        return "–"
    return f"{level.failures} / {level.requests} ({level.error_rate:.1%})"


def _rate(value: float) -> str:
    return f"{value:g} msg/s"


def _highest_rate(search: OpenLoopSearch | None) -> str:
    if search is None or not search.steps:
        return "–"
    if search.highest_rate_per_s is None:  # even the lowest step failed
        return f"< {_rate(min(step.offered_per_s for step in search.steps))}"
    return _rate(search.highest_rate_per_s)


def _held_step(search: OpenLoopSearch | None) -> str:
    best = None if search is None else search.highest_held
    if best is None:
        return "–"
    return f"{_ms(best.level.p95_ms)}, {best.level.failures} errors"


def _failed_step(search: OpenLoopSearch | None) -> str:
    failed = None if search is None else search.first_failed_above
    if failed is None:
        return "–" if search is None else "none failed"
    return f"{_rate(failed.offered_per_s)}: {failed.problem}"


def open_loop_rows(ours: BotResult, baseline: BotResult) -> list[Row]:
    """The open-loop rows; none when neither bot was measured open loop (older runs)."""
    if ours.open_loop is None and baseline.open_loop is None:
        return []
    mine, theirs = ours.open_loop, baseline.open_loop
    limit = (mine or theirs).p95_limit_ms  # type: ignore[union-attr]  # one is set (above)
    ratio = ratio_higher_better(
        None if mine is None else mine.highest_rate_per_s,
        None if theirs is None else theirs.highest_rate_per_s,
    )
    return [
        (
            f"open loop: highest rate with p95 ≤ {limit:.0f} ms",
            _highest_rate(mine),
            _highest_rate(theirs),
            format_ratio(ratio),
        ),
        ("open loop: p95, errors at that rate", _held_step(mine), _held_step(theirs), ""),
        ("open loop: first rate that failed", _failed_step(mine), _failed_step(theirs), ""),
    ]


Row = tuple[str, str, str, str]  # label, ours, baseline, ratio


def comparison_rows(
    ours: BotResult, baseline: BotResult, alternating: AlternatingRounds | None = None
) -> list[Row]:
    """The side-by-side table: one row per measure, the ratio oriented so >1 = ours better."""
    rows: list[Row] = []
    for users in sorted(set(ours.levels) | set(baseline.levels)):
        mine, theirs = ours.levels.get(users), baseline.levels.get(users)
        label = f"{users} visitor{'s' if users != 1 else ''}"
        mine_rate = None if mine is None else mine.answers_per_s
        their_rate = None if theirs is None else theirs.answers_per_s
        rows.append(_rate_row(f"{label}: throughput", mine_rate, their_rate, "answers/s"))
        mine_turns = None if mine is None else mine.turns_per_s
        their_turns = None if theirs is None else theirs.turns_per_s
        rows.append(_rate_row(f"{label}: turns, empty replies included", mine_turns, their_turns))
        for percentile in ("p50", "p95", "p99"):
            mine_ms = None if mine is None else getattr(mine, f"{percentile}_ms")
            their_ms = None if theirs is None else getattr(theirs, f"{percentile}_ms")
            rows.append(
                (
                    f"{label}: {percentile}",
                    _ms(mine_ms),
                    _ms(their_ms),
                    format_ratio(ratio_lower_better(mine_ms, their_ms)),
                )
            )
        rows.append((f"{label}: errors", _errors(mine), _errors(theirs), ""))
    if alternating is not None:
        rows += alternating_rows(alternating)
    rows += open_loop_rows(ours, baseline)
    rows.append(
        (
            "cold start to first answer",
            _seconds(ours.cold_start_s),
            _seconds(baseline.cold_start_s),
            format_ratio(ratio_lower_better(ours.cold_start_s, baseline.cold_start_s)),
        )
    )
    rows.append(
        (
            "peak RSS, all processes",
            _megabytes(ours.peak_rss_bytes),
            _megabytes(baseline.peak_rss_bytes),
            format_ratio(
                ratio_lower_better(ours.peak_rss_bytes or None, baseline.peak_rss_bytes or None)
            ),
        )
    )
    return rows


def _rate_row(label: str, mine: float | None, theirs: float | None, unit: str = "turns/s") -> Row:
    return (
        label,
        "–" if mine is None else f"{mine:.1f} {unit}",
        "–" if theirs is None else f"{theirs:.1f} {unit}",
        format_ratio(ratio_higher_better(mine, theirs)),
    )


TABLE_HEADER: Row = ("", BOT_NAMES[OURS], BOT_NAMES[BASELINE], RATIO_HEADER)


def text_table(rows: Sequence[Row], header: Row = TABLE_HEADER) -> str:
    """The table for the terminal, columns aligned."""
    lines = [header, *rows]
    widths = [max(len(line[column]) for line in lines) for column in range(4)]
    rendered = [
        "  ".join(
            cell.ljust(width) if column == 0 else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(line, widths))
        ).rstrip()
        for line in lines
    ]
    rendered.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def markdown_table(rows: Sequence[Row], header: Row = TABLE_HEADER) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ the chart and the page
COLOURS = ("tab:blue", "tab:orange", "tab:green")


def write_latency_chart(path: Path, bots: Sequence[BotResult]) -> None:
    """p95 (solid) and p50 (dashed) latency against concurrent visitors, one colour per bot;
    beside it, when measured, p95 against the open loop's offered rate."""
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    open_loop = any(bot.open_loop is not None and bot.open_loop.steps for bot in bots)
    if open_loop:
        figure, (axes, rate_axes) = plt.subplots(1, 2, figsize=(11.5, 4.0), dpi=120)
        _plot_open_loop(rate_axes, bots)
    else:
        figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for bot, colour in zip(bots, COLOURS):
        users = sorted(bot.levels)
        for percentile, style in (("p95", "-"), ("p50", "--")):
            values = [getattr(bot.levels[u], f"{percentile}_ms") for u in users]
            points = [(u, v) for u, v in zip(users, values) if v is not None]
            if points:
                axes.plot(
                    [u for u, _ in points],
                    [v for _, v in points],
                    style,
                    marker="o",
                    color=colour,
                    label=f"{bot.name} {percentile}",
                )
    levels = sorted({users for bot in bots for users in bot.levels})
    axes.set_xscale("log")  # 1, 20 and 100 visitors spread evenly
    axes.set_xticks(levels, [str(users) for users in levels])
    axes.minorticks_off()
    axes.set_xlabel("concurrent visitors (closed loop)")
    axes.set_ylabel("latency per turn (ms)")
    axes.set_yscale("log")
    axes.set_title("REST latency against load (lower is better)")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)


def _plot_open_loop(axes: Any, bots: Sequence[BotResult]) -> None:
    """p95 of each open-loop step against its offered rate: dots held, crosses failed."""
    limit = None
    for bot, colour in zip(bots, COLOURS):
        if bot.open_loop is None:
            continue
        limit = bot.open_loop.p95_limit_ms
        steps = sorted(
            (s for s in bot.open_loop.steps if s.level.p95_ms is not None),
            key=lambda s: s.offered_per_s,
        )
        rates = [s.offered_per_s for s in steps]
        axes.plot(rates, [s.level.p95_ms for s in steps], "-", color=colour, label=bot.name)
        for held, marker in ((True, "o"), (False, "x")):
            chosen = [s for s in steps if s.held is held]
            axes.plot(
                [s.offered_per_s for s in chosen],
                [s.level.p95_ms for s in chosen],
                marker,
                color=colour,
            )
    if limit is not None:
        axes.axhline(limit, color="grey", linestyle=":", label=f"p95 limit {limit:.0f} ms")
    axes.set_xscale("log", base=2)  # the search doubles the rate
    axes.xaxis.set_major_formatter("{x:g}")
    axes.set_yscale("log")
    axes.set_xlabel("offered rate, msg/s (open loop; x = step failed)")
    axes.set_ylabel("p95 latency per turn (ms)")
    axes.set_title("Open loop: p95 against offered rate")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()


def open_loop_notes(bots: Sequence[BotResult]) -> str:
    """One line per bot: every open-loop step in the order run, held (✓) or failed (✗)."""
    lines = []
    for bot in bots:
        if bot.open_loop is not None:
            steps = ", ".join(_step_note(step) for step in bot.open_loop.steps)
            lines.append(f"- *{bot.name}*: {steps}")
    return "\n".join(lines)


def _step_note(step: OpenLoopStep) -> str:
    """ "8 msg/s ✓ (p95 91 ms, 8.0 sent/s)"; a failure replaces the measure it is about."""
    parts = [f"p95 {_ms(step.level.p95_ms)}", f"{step.level.requests_per_s:.1f} sent/s"]
    if step.problem is not None:
        about = 0 if step.problem.startswith("p95") else 1 if "sent" in step.problem else None
        if about is None:
            parts.append(step.problem)
        else:
            parts[about] = step.problem
    return f"{_rate(step.offered_per_s)} {'✓' if step.held else '✗'} ({', '.join(parts)})"


@dataclass(frozen=True)
class RunNotes:
    """How the numbers were obtained, written above the table."""

    date: str
    command: str
    machine: str
    duration_s: float
    warmup_s: float
    traffic: str
    open_loop_steps: str = ""  # open_loop_notes(); empty when the run had no open loop
    open_loop_load: str = ""  # how the open-loop steps were run
    alternating_load: str = ""  # how the alternating rounds were run; empty: not in this run
    alternating_rounds: str = ""  # alternating_notes()


def _open_loop_section(notes: RunNotes) -> str:
    if not notes.open_loop_steps:
        return "The open loop was not measured in this run."
    return f"""Open-loop steps, in the order run (✓ held: p95 within the limit, no error, the
offered rate sent; ✗ failed):

{notes.open_loop_steps}"""


def _alternating_section(notes: RunNotes) -> str:
    if not notes.alternating_rounds:
        return ""
    return f"""
{rounds_in_order(notes.alternating_rounds)}
"""


def benchmarks_markdown(rows: Sequence[Row], notes: RunNotes, chart: str) -> str:
    return f"""# Benchmarks

Written by `make bench` (evaluation/bench/run.py) down to the line that says where the
hand-written part starts; that part (the profile of a turn, levers tried) is kept as it is.

- **Run:** {notes.date}, `{notes.command}`
- **Machine:** {notes.machine}
- **Load:** Locust (headless, `FastHttpUser`) on the same machine, closed loop: each simulated
  visitor sends its next message as soon as the reply arrives; per level a warm-up of
  {notes.warmup_s:.0f} s (not counted), then {notes.duration_s:.0f} s measured. The load generator shares the CPUs
  with the bot under test, one bot at a time.
- **Alternating rounds:** {notes.alternating_load or "not measured in this run."}
- **Open loop:** {notes.open_loop_load or "not measured in this run."}
- **Traffic:** {notes.traffic}
- **Errors:** a non-200 reply, a 200 with an empty JSON list (Rasa's REST channel answers
  `[]` when a turn fails inside Rasa) or with our apology for a failed turn (a store or the
  action server down, an action call over 2.5 s). Throughput counts answered turns only;
  the *turns* row also counts the empty replies as turns done. The seeded *rasa init bot*
  answers all of this traffic, so both rows agree; a build that answers `[]` to most of it
  does about half a turn's work for each of those (one prediction, no response), which
  neither row shows fairly (docs/decisions.md, 2026-12-03).
- **Bots:** *ours* is `cyberweek serve`'s pair of processes (`ops.harness`: `rasa run` with
  models/cyberweek.tar.gz and the action server), conversations in a fresh SQLite tracker
  store, a freshly seeded event database. The *rasa init bot* is the project `rasa init`
  writes, trained with the pipeline and policies `rasa init` fills in (Rasa's default
  config) and a random seed on its four neural models (unseeded, one build answered `[]` to
  60% of this traffic and the next to none), on the same Rasa (3.6.21, stock), `rasa run
  --enable-api`, in-memory tracker store, no action server (it has no custom actions); it
  answers the same traffic with its own responses.
- **Cold start:** seconds from launching the processes to the first non-empty REST answer.
- **Memory:** the highest sum of RSS over all the bot's processes, sampled every 0.5 s from
  launch to stop (psutil).

## Results

Ratios are oriented so that **>1 means ours is better**: ours/baseline for throughput and
the open-loop rate, baseline/ours for latency, cold start and memory.

{markdown_table(rows)}

![p95/p50 latency against concurrent visitors and p95 against the open loop's rate]({chart})

{_alternating_section(notes)}
{_open_loop_section(notes)}
"""


# Everything after this line in docs/benchmarks.md is written by hand and kept by `make bench`.
HAND_WRITTEN_MARKER = "<!-- written by hand below: make bench keeps this part -->"


def with_block(document: str, name: str, content: str) -> str:
    """`document` with the block between `name`'s begin/end markers replaced by `content`
    (appended at the end when the markers are missing): a generated table inside the
    hand-written part, rewritten by its own command."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n{content.strip()}\n{end}"
    if begin in document and end in document:
        before, rest = document.split(begin, 1)
        return before + block + rest.split(end, 1)[1]
    return f"{document.rstrip()}\n\n{block}\n"


def with_hand_written_part(generated: str, existing: str | None) -> str:
    """The generated report followed by the hand-written part of the `existing` document."""
    if existing is None or HAND_WRITTEN_MARKER not in existing:
        return generated
    kept = existing.split(HAND_WRITTEN_MARKER, 1)[1]
    return f"{generated.rstrip()}\n\n{HAND_WRITTEN_MARKER}{kept}"
