"""`cyberweek bench --scale-out` (`make bench-scale`): the production profile with 1 Rasa
instance against the same profile with 2, under the same closed-loop load through nginx.

Each profile is `cyberweek ops up --instances N` (ops/prod.py: PostgreSQL, Redis, N pairs of
Rasa + action server, nginx) in a fresh directory under build/bench/, measured by the same
code as `make bench` (evaluation/bench/run.py `measure_bot`), then stopped. The table goes to
the terminal and into docs/benchmarks.md between its "scale-out" markers; the rest of the page
is left alone.
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
    BotResult,
    Row,
    bot_to_dict,
    comparison_rows,
    markdown_table,
    text_table,
    with_block,
)
from evaluation.bench.run import (
    BenchSettings,
    BotLauncher,
    RunningBot,
    command_line,
    machine_notes,
    measure_bot,
)
from evaluation.progress import quiet_env, say, step
from ops import harness, prod

INSTANCE_COUNTS = (1, 2)
TARGET_RATIO = 1.6  # issue #14: 2 instances give at least 1.6x the throughput of 1
# Far above what loopback load reaches: the bench measures the instances, not nginx's
# per-IP limit (every simulated visitor shares 127.0.0.1).
UNLIMITED_RATE_PER_IP = "100000"
REST_HEALTH_PATH = REST_WEBHOOK_PATH.rsplit("/", 1)[0] + "/"  # Rasa's REST channel's 200
RUN_FILE = BENCH_DIR / "scale-out.json"
DOC_BLOCK = "scale-out"


def _instances(count: int) -> str:
    return f"{count} instance{'s' if count != 1 else ''}"


def profile_launcher(instances: int) -> BotLauncher:
    """The whole profile as one foreground `cyberweek ops up` process: its launcher stops
    everything it started when the bench stops it."""

    @contextlib.contextmanager
    def launch(log: Path) -> Iterator[RunningBot]:
        profile_dir = BENCH_DIR / f"prod-{instances}"
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


def scale_rows(two: BotResult, one: BotResult) -> tuple[Row, list[Row]]:
    header: Row = ("", two.name, one.name, f"ratio (>1 = {two.name} better)")
    return header, comparison_rows(two, one)


def throughput_ratio(two: BotResult, one: BotResult, users: int) -> float | None:
    mine, theirs = two.levels.get(users), one.levels.get(users)
    if mine is None or theirs is None or not theirs.answers_per_s:
        return None
    return mine.answers_per_s / theirs.answers_per_s


def doc_section(header: Row, rows: list[Row], settings: BenchSettings, verdict: str) -> str:
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = command_line(settings).replace("make bench", "make bench-scale", 1)
    return f"""## Scale-out: the production profile with 1 and 2 Rasa instances

Written by `make bench-scale` (evaluation/bench/scale_out.py); run {date}, `{command}`.
Machine: {machine_notes()}. Each column is `cyberweek ops up --instances N` (PostgreSQL,
Redis, N pairs of Rasa + action server, nginx round-robin for REST), measured as above:
the same traffic and closed loop, through nginx, nginx's per-IP limit lifted (every simulated
visitor comes from 127.0.0.1). Cold start includes creating the PostgreSQL cluster. Load
generator and all processes share the machine's cores.

{markdown_table(rows, header)}

{verdict}
"""


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
    total = len(INSTANCE_COUNTS) + 1
    results: list[BotResult] = []
    for number, count in enumerate(INSTANCE_COUNTS, start=1):
        step(number, total, f"the profile with {_instances(count)}: load at {settings.levels}")
        slug = f"prod-{count}"
        try:
            results.append(measure_bot(_instances(count), slug, profile_launcher(count), settings))
        except harness.HarnessError as error:
            print(f"error: {error}; see {BENCH_DIR}/{slug}-servers.log", file=sys.stderr)
            return 1
    step(total, total, "the side-by-side table")
    one, two = results
    header, rows = scale_rows(two, one)
    print("\n" + text_table(rows, header), flush=True)
    busiest = max(settings.levels)
    ratio = throughput_ratio(two, one, busiest)
    verdict = (
        f"Throughput at {busiest} visitors, 2 instances against 1: "
        f"{'–' if ratio is None else f'{ratio:.2f}x'} (target ≥ {TARGET_RATIO}x)."
    )
    say(verdict)
    RUN_FILE.write_text(json.dumps([bot_to_dict(r) for r in results], indent=1), encoding="utf-8")
    if settings.doc is not None:
        existing = settings.doc.read_text(encoding="utf-8") if settings.doc.exists() else ""
        section = doc_section(header, rows, settings, verdict)
        settings.doc.write_text(with_block(existing, DOC_BLOCK, section), encoding="utf-8")
        say(f"wrote the scale-out table into {settings.doc}")
    return 0
