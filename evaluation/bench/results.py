"""What a benchmark run measured, and how it is compared and written down.

No servers here: Locust's CSV in, tables, docs/benchmarks.md and the chart out.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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

    @property
    def answers_per_s(self) -> float:
        """Throughput in answered turns: failed turns (fast `[]`s included) do not count."""
        if self.requests == 0:
            return 0.0
        return self.requests_per_s * (self.requests - self.failures) / self.requests

    @property
    def error_rate(self) -> float:
        return self.failures / self.requests if self.requests else 0.0


@dataclass
class BotResult:
    """Everything measured for one bot."""

    name: str
    cold_start_s: float | None = None
    peak_rss_bytes: int = 0
    levels: dict[int, LevelResult] = field(default_factory=dict)


def _percentile(value: str) -> float | None:
    """Locust writes N/A for a percentile of no requests."""
    try:
        number = float(value)
    except ValueError:
        return None
    return None if math.isnan(number) else number


def parse_locust_stats(csv_text: str, users: int) -> LevelResult:
    """The Aggregated row of a Locust `*_stats.csv`."""
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
            )
        except KeyError as missing:
            raise StatsError(f"Locust stats CSV has no column {missing}") from None
    raise StatsError(f"Locust stats CSV has no {AGGREGATED_ROW!r} row")


def bot_to_dict(bot: BotResult) -> dict[str, object]:
    """A JSON-ready copy (build/bench/results.json), read back by `bot_from_dict`."""
    return {
        "name": bot.name,
        "cold_start_s": bot.cold_start_s,
        "peak_rss_bytes": bot.peak_rss_bytes,
        "levels": [level.__dict__ for _, level in sorted(bot.levels.items())],
    }


def bot_from_dict(data: dict[str, Any]) -> BotResult:
    levels = [LevelResult(**level) for level in data["levels"]]
    return BotResult(
        name=data["name"],
        cold_start_s=data["cold_start_s"],
        peak_rss_bytes=data["peak_rss_bytes"],
        levels={level.users: level for level in levels},
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


Row = tuple[str, str, str, str]  # label, ours, baseline, ratio


def comparison_rows(ours: BotResult, baseline: BotResult) -> list[Row]:
    """The side-by-side table: one row per measure, the ratio oriented so >1 = ours better."""
    rows: list[Row] = []
    for users in sorted(set(ours.levels) | set(baseline.levels)):
        mine, theirs = ours.levels.get(users), baseline.levels.get(users)
        label = f"{users} visitor{'s' if users != 1 else ''}"
        mine_rate = None if mine is None else mine.answers_per_s
        their_rate = None if theirs is None else theirs.answers_per_s
        rows.append(
            (
                f"{label}: throughput",
                "–" if mine_rate is None else f"{mine_rate:.1f} answers/s",
                "–" if their_rate is None else f"{their_rate:.1f} answers/s",
                format_ratio(ratio_higher_better(mine_rate, their_rate)),
            )
        )
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


TABLE_HEADER: Row = ("", "ours", "rasa init bot", RATIO_HEADER)


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
def write_latency_chart(path: Path, bots: Sequence[BotResult]) -> None:
    """p95 (solid) and p50 (dashed) latency against concurrent visitors, one colour per bot."""
    import matplotlib

    matplotlib.use("Agg")  # no display here
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=120)
    for bot, colour in zip(bots, ("tab:blue", "tab:orange", "tab:green")):
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


@dataclass(frozen=True)
class RunNotes:
    """How the numbers were obtained, written above the table."""

    date: str
    command: str
    machine: str
    duration_s: float
    warmup_s: float
    traffic: str


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
- **Traffic:** {notes.traffic}
- **Errors:** a non-200 reply, a 200 with an empty JSON list (Rasa's REST channel answers
  `[]` when a turn fails inside Rasa) or with our apology for a failed turn (a store or the
  action server down, an action call over 2.5 s). Throughput counts answered turns only.
- **Bots:** *ours* is `cyberweek serve`'s pair of processes (`ops.harness`: `rasa run` with
  models/cyberweek.tar.gz and the action server), conversations in a fresh SQLite tracker
  store, a freshly seeded event database. The *rasa init bot* is `rasa init --no-prompt` on the
  same Rasa (3.6.21, stock), `rasa run --enable-api`, in-memory tracker store, no action server
  (it has no custom actions); it answers the same traffic with its own responses.
- **Cold start:** seconds from launching the processes to the first non-empty REST answer.
- **Memory:** the highest sum of RSS over all the bot's processes, sampled every 0.5 s from
  launch to stop (psutil).

## Results

Ratios are oriented so that **>1 means ours is better**: ours/baseline for throughput,
baseline/ours for latency, cold start and memory.

{markdown_table(rows)}

![p95 and p50 latency against concurrent visitors, ours vs the rasa init bot]({chart})

Not measured yet (issue #14): the open-loop rate at which p95 stays ≤ 300 ms.
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
