"""`cyberweek bench --scale-out` (`make bench-scale`): the production profile with 1 Rasa
instance against the same profile with 2, under the same closed-loop load through nginx.

Each profile is `cyberweek ops up --instances N` (ops/prod.py: PostgreSQL, Redis, N pairs of
Rasa + action server, nginx) in a fresh directory under build/bench/, measured by the same
code as `make bench` (evaluation/bench/run.py `measure_bot`: cold start, the levels, RSS),
then stopped. Then, unless --alternating-blocks 0, both profiles up at once (each `ops up`
has its own directory and ports) take make bench's alternating rounds (`measure_alternating`,
2 instances as A): their ratio is the one checked against the target, since the two profiles
measured minutes apart see the shared machine at different speeds. The table goes to the
terminal and into docs/benchmarks.md between its "scale-out" markers; the rest of the page is
left alone.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from bot import paths
from bot.limits import RATE_LIMITS_SWITCH_ENV
from evaluation.bench import BENCH_DIR, REST_WEBHOOK_PATH
from evaluation.bench.results import (
    AlternatingRounds,
    BotResult,
    Row,
    alternating_notes,
    alternating_to_dict,
    bot_to_dict,
    comparison_rows,
    markdown_table,
    rounds_in_order,
    text_table,
    with_block,
)
from evaluation.bench.run import (
    ALTERNATING_LEVEL,
    BenchSettings,
    BotLauncher,
    RunningBot,
    alternating_load_notes,
    command_line,
    machine_notes,
    measure_alternating,
    measure_bot,
)
from evaluation.progress import quiet_env, say, step
from ops import harness, prod

INSTANCE_COUNTS = (1, 2)  # measured one after the other, in this order
ROUNDS_ORDER = (2, 1)  # the alternating rounds' A and B: the ratio is 2 instances over 1
TARGET_RATIO = 1.6  # issue #14: 2 instances give at least 1.6x the throughput of 1
# Far above what loopback load reaches: the bench measures the instances, not nginx's
# per-IP limit (every simulated visitor shares 127.0.0.1).
UNLIMITED_RATE_PER_IP = "100000"
REST_HEALTH_PATH = REST_WEBHOOK_PATH.rsplit("/", 1)[0] + "/"  # Rasa's REST channel's 200
RUN_FILE = BENCH_DIR / "scale-out.json"
DOC_BLOCK = "scale-out"


def _instances(count: int) -> str:
    return f"{count} instance{'s' if count != 1 else ''}"


def _slug(count: int) -> str:
    """The profile's key: its directory, its logs' and its rounds' names."""
    return f"prod-{count}"


def profile_launcher(instances: int) -> BotLauncher:
    """The whole profile as one foreground `cyberweek ops up` process: its launcher stops
    everything it started when the bench stops it."""

    @contextlib.contextmanager
    def launch(log: Path) -> Iterator[RunningBot]:
        profile_dir = BENCH_DIR / _slug(instances)
        shutil.rmtree(profile_dir, ignore_errors=True)  # a fresh cluster for every run
        port = harness.free_port()
        env = quiet_env(
            {
                "CYBERWEEK_NOW": harness.DEMO_NOW,
                "CYBERWEEK_RATE_PER_IP": UNLIMITED_RATE_PER_IP,
                RATE_LIMITS_SWITCH_ENV: "off",  # the app's limits too (bot/rate_limits.py)
            }
        )
        command = [sys.executable, "-m", "ops.cli", "ops", "up", "--instances", str(instances)]
        command += ["--port", str(port), "--dir", str(profile_dir)]
        url = f"http://{harness.LOOPBACK}:{port}"
        health = f"{url}{REST_HEALTH_PATH}"  # through nginx: `/` itself is not served
        service = harness.Service(f"profile ({_instances(instances)})", command, health, env)
        with log.open("ab") as output:
            launched_at = time.monotonic()
            service.start(output)
            try:
                service.wait_ready()
                say(f"{service.name} is ready behind nginx at {url}")
                yield RunningBot(url, launched_at, service.is_running)
            finally:
                service.stop(timeout_s=prod.DOWN_TIMEOUT_S)

    return launch


def measure_both_at_once(settings: BenchSettings) -> AlternatingRounds:
    """Both profiles up at once, in alternating rounds, 2 instances as A."""
    launchers = {_slug(count): profile_launcher(count) for count in ROUNDS_ORDER}
    names = {_slug(count): _instances(count) for count in ROUNDS_ORDER}
    return measure_alternating(launchers, settings, names)


def scale_rows(
    two: BotResult, one: BotResult, rounds: AlternatingRounds | None = None
) -> tuple[Row, list[Row]]:
    header: Row = ("", two.name, one.name, f"ratio (>1 = {two.name} better)")
    return header, comparison_rows(two, one, rounds)


def throughput_ratio(two: BotResult, one: BotResult, users: int) -> float | None:
    mine, theirs = two.levels.get(users), one.levels.get(users)
    if mine is None or theirs is None or not theirs.answers_per_s:
        return None
    return mine.answers_per_s / theirs.answers_per_s


def _times(ratio: float | None) -> str:
    return "–" if ratio is None else f"{ratio:.2f}x"


def scale_verdict(sequential: float | None, busiest: int, rounds: AlternatingRounds | None) -> str:
    """The ratio checked against TARGET_RATIO: the rounds' when they ran (the sequential one,
    measured minutes apart, shown beside it), else the sequential one as before the rounds."""
    target = f"(target ≥ {TARGET_RATIO}x)"
    if rounds is None:
        ratio = _times(sequential)
        return f"Throughput at {busiest} visitors, 2 instances against 1: {ratio} {target}."
    return (
        f"Throughput at {rounds.users} visitors, 2 instances against 1, in alternating rounds "
        f"(both profiles up at once): {_times(rounds.answers_ratio)} {target}. Sequential, "
        f"one profile minutes after the other: {_times(sequential)} at {busiest} visitors."
    )


def doc_section(
    header: Row,
    rows: list[Row],
    settings: BenchSettings,
    verdict: str,
    rounds: AlternatingRounds | None = None,
) -> str:
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = command_line(settings).replace("make bench", "make bench-scale", 1)
    how, listing = "", ""  # how the rounds ran, above the table; their rates, below it
    if rounds is not None:
        how = f"\nAlternating rounds: {alternating_load_notes(settings, rounds, 'profile')}\n"
        listing = f"{rounds_in_order(alternating_notes(rounds))}\n\n"
    return f"""## Scale-out: the production profile with 1 and 2 Rasa instances

Written by `make bench-scale` (evaluation/bench/scale_out.py); run {date}, `{command}`.
Machine: {machine_notes()}. Each column is `cyberweek ops up --instances N` (PostgreSQL,
Redis, N pairs of Rasa + action server, nginx round-robin for REST), measured as above:
the same traffic and closed loop, through nginx, nginx's per-IP limit lifted (every simulated
visitor comes from 127.0.0.1). Cold start includes creating the PostgreSQL cluster. Load
generator and all processes share the machine's cores.
{how}
{markdown_table(rows, header)}

{listing}{verdict}
"""


def save_run(results: list[BotResult], rounds: AlternatingRounds | None) -> None:
    data = {
        "bots": [bot_to_dict(result) for result in results],
        "alternating": None if rounds is None else alternating_to_dict(rounds),
    }
    RUN_FILE.write_text(json.dumps(data, indent=1), encoding="utf-8")


def run(settings: BenchSettings) -> int:
    if not paths.MODEL_PATH.exists():
        print("error: no trained model; run `make bench-scale` (it trains first)", file=sys.stderr)
        return 1
    try:
        prod.find_programs()
    except prod.ProfileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    total = len(INSTANCE_COUNTS) + (2 if settings.alternating_blocks else 1)
    results: list[BotResult] = []
    for number, count in enumerate(INSTANCE_COUNTS, start=1):
        step(number, total, f"the profile with {_instances(count)}: load at {settings.levels}")
        slug = _slug(count)
        try:
            results.append(measure_bot(_instances(count), slug, profile_launcher(count), settings))
        except harness.HarnessError as error:
            print(f"error: {error}; see {BENCH_DIR}/{slug}-servers.log", file=sys.stderr)
            return 1
    rounds = None
    if settings.alternating_blocks:
        step(
            total - 1,
            total,
            f"both profiles up at once, {ALTERNATING_LEVEL} visitors on one at a time "
            "(ABBA rounds, 2 instances first)",
        )
        try:
            rounds = measure_both_at_once(settings)
        except harness.HarnessError as error:
            log = f"{BENCH_DIR}/prod-*-alternating-servers.log"
            print(f"error: {error}; see {log}", file=sys.stderr)
            return 1
    step(total, total, "the side-by-side table")
    one, two = results
    header, rows = scale_rows(two, one, rounds)
    print("\n" + text_table(rows, header), flush=True)
    busiest = max(settings.levels)
    verdict = scale_verdict(throughput_ratio(two, one, busiest), busiest, rounds)
    say(verdict)
    save_run(results, rounds)
    if settings.doc is not None:
        existing = settings.doc.read_text(encoding="utf-8") if settings.doc.exists() else ""
        section = doc_section(header, rows, settings, verdict, rounds)
        settings.doc.write_text(with_block(existing, DOC_BLOCK, section), encoding="utf-8")
        say(f"wrote the scale-out table into {settings.doc}")
    return 0
