"""`cyberweek bench` (`make bench`): our assistant against a `rasa init` bot, same load.

Steps (each prints progress; about 16 minutes with the defaults on 2 cores, plus about 4
minutes the first time, when the `rasa init` bot is built):

1. the baseline: the project `rasa init` writes (build/bench/baseline) trained by
   `rasa train` on the same Rasa, stock, its models seeded; reused on later runs;
2. ours: the action server and `rasa run` of models/cyberweek.tar.gz through `ops.harness`
   (as `cyberweek serve` starts them) on free loopback ports, a freshly seeded event database
   and a fresh SQLite tracker store under build/bench/;
3. the `rasa init` bot: `rasa run --enable-api` on a free loopback port (it has no custom
   actions, so no action server);
4. for each bot: cold start (launch to the first non-empty REST answer), then Locust headless,
   closed loop, at each level of concurrent visitors (1, 20, 100; a warm-up not counted,
   then the measured seconds), then the open loop: short steps at fixed offered rates,
   doubled from 2 msg/s until p95 > 300 ms or an error, then bisected
   (evaluation/bench/open_loop.py); the peak RSS of all its processes sampled all along; the
   bot is stopped before the next one starts;
5. the side-by-side table, printed and written to docs/benchmarks.md with the latency chart
   docs/img/bench-latency.png. Locust's CSVs and the servers' logs stay in build/bench/.

Locust is one of the dev dependencies (pyproject.toml): it installs beside Rasa's pins.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import yaml

from bot import paths
from bot.limits import RATE_LIMITS_SWITCH_ENV
from evaluation.bench import BENCH_DIR, REST_WEBHOOK_PATH
from evaluation.bench import open_loop
from evaluation.bench.results import (
    BASELINE,
    BOT_NAMES,
    OURS,
    AlternatingRounds,
    abba,
    BotResult,
    LevelResult,
    OpenLoopSearch,
    OpenLoopStep,
    bot_from_dict,
    bot_to_dict,
    alternating_from_dict,
    alternating_notes,
    alternating_to_dict,
    RunNotes,
    benchmarks_markdown,
    with_hand_written_part,
    comparison_rows,
    open_loop_notes,
    parse_locust_stats,
    text_table,
    write_latency_chart,
)
from evaluation.progress import quiet_env, say, step
from evaluation.bench.traffic import (
    LANGUAGE_WEIGHTS,
    all_conversations,
    new_sender,
    reply_failure,
)
from ops import harness
from ops.rasa_entry import rasa_command

BASELINE_DIR = BENCH_DIR / "baseline"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
DOC_FILE = paths.REPO_ROOT / "docs" / "benchmarks.md"
CHART_FILE = paths.REPO_ROOT / "docs" / "img" / "bench-latency.png"

DEFAULT_DURATION_S = 60.0
DEFAULT_WARMUP_S = 10.0
HEAVY_LEVEL = 100  # a must-have level (issue #14); --skip-100 leaves it out (~2.5 min shorter)
DEFAULT_LEVELS = (1, 20, HEAVY_LEVEL)
SCALE_OUT_LEVELS = (1, 20)  # `make bench-scale` compares instances at 20 visitors, as before
DEFAULT_OPEN_LOOP_STEP_S = 15.0
OPEN_LOOP_WARMUP_S = 5.0  # per step, not counted; at least the pacing + 2 s (the ramp)
OPEN_LOOP_STOP_TIMEOUT_S = 10.0  # replies still due when a step ends are waited for, and count
IDLE_REPLY_S = 1.0  # a bot answering a probe this fast has worked off a step's backlog
IDLE_TIMEOUT_S = 90.0
PROBE_MESSAGE = "hello"
FIRST_ANSWER_TIMEOUT_S = 180.0
BASELINE_BUILD_TIMEOUT_S = 1800.0
BASELINE_SEED = 2024
SEEDED_COMPONENTS = {"DIETClassifier", "ResponseSelector", "UnexpecTEDIntentPolicy", "TEDPolicy"}
LOCUST_GRACE_S = 60.0  # beyond warm-up + duration before a Locust run is killed
ALTERNATING_LEVEL = 20  # issue #14's throughput target is set at 20 visitors
DEFAULT_ALTERNATING_BLOCKS = 2  # ABBA blocks: 8 rounds, about 4 minutes with the defaults
PAUSE_BETWEEN_LEVELS_S = 3.0  # lets the bot finish the turns Locust abandoned at its end
PROGRESS_EVERY_S = 15.0
RSS_SAMPLE_EVERY_S = 0.5


@dataclass(frozen=True)
class BenchSettings:
    duration_s: float = DEFAULT_DURATION_S
    warmup_s: float = DEFAULT_WARMUP_S
    levels: tuple[int, ...] = DEFAULT_LEVELS
    doc: Path | None = DOC_FILE
    chart: Path = CHART_FILE
    open_loop_step_s: float | None = DEFAULT_OPEN_LOOP_STEP_S  # None: no open loop
    alternating_blocks: int = DEFAULT_ALTERNATING_BLOCKS  # 0: no alternating rounds

    @property
    def round_lengths_s(self) -> tuple[float, float]:
        """An alternating round's warm-up and measured seconds: a third of a level's."""
        return self.warmup_s / 2, self.duration_s / 3


# ------------------------------------------------------------------ memory
class RssSampler:
    """The peak of the summed RSS of this launcher's child process trees, sampled in a thread.

    Children started through `start_unmeasured` (the load generator) are left out, with
    their own children; everything else the launcher starts belongs to the bot under test.
    """

    def __init__(self, every_s: float = RSS_SAMPLE_EVERY_S) -> None:
        self.every_s = every_s
        self.peak_bytes = 0
        self._excluded: set[int] = set()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stopped.wait(self.every_s):
            with self._lock:
                self.peak_bytes = max(self.peak_bytes, self.current_bytes())

    def current_bytes(self) -> int:
        import psutil  # a dev dependency (with Locust): `cyberweek` itself must load without it

        total = 0
        for child in psutil.Process().children():
            if child.pid in self._excluded:
                continue
            with contextlib.suppress(psutil.Error):
                for process in [child, *child.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        total += process.memory_info().rss
        return total

    def start_unmeasured(self, service: harness.Service, log: IO[bytes]) -> None:
        """Starts `service` outside the measurement (the lock: no sample between the two)."""
        with self._lock:
            service.start(log)
            assert service.pid is not None
            self._excluded.add(service.pid)


# ------------------------------------------------------------------ talking to a bot
def ask(base_url: str, text: str, sender: str = "bench-probe", timeout_s: float = 30) -> str | None:
    """Sends one message over REST; None when it was answered, else why not."""
    request = urllib.request.Request(
        base_url + REST_WEBHOOK_PATH,
        data=json.dumps({"sender": sender, "message": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return reply_failure(response.status, response.read().decode("utf-8", "replace"))
    except urllib.error.HTTPError as error:
        return reply_failure(error.code, None)
    except (urllib.error.URLError, OSError) as error:
        return str(error)


def wait_for_first_answer(
    base_url: str, is_alive: Callable[[], bool], timeout_s: float = FIRST_ANSWER_TIMEOUT_S
) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        problem = ask(base_url, PROBE_MESSAGE)
        if problem is None:
            return
        if not is_alive():
            raise harness.ServiceExited("the bot exited before its first answer")
        if time.monotonic() > deadline:
            raise harness.NotReady(f"no answer within {timeout_s:.0f} s (last: {problem})")
        time.sleep(0.25)


@dataclass(frozen=True)
class RunningBot:
    base_url: str
    launched_at: float  # time.monotonic() just before its processes started
    is_alive: Callable[[], bool]


BotLauncher = Callable[[Path], AbstractContextManager[RunningBot]]


# ------------------------------------------------------------------ ours
def bench_endpoints() -> Path:
    """endpoints.yml with the conversations in a fresh SQLite file under build/bench/
    (not var/: the bench's thousands of visitors are not the help desk's)."""
    settings = yaml.safe_load(paths.ENDPOINTS_FILE.read_text(encoding="utf-8")) or {}
    conversations = BENCH_DIR / "conversations.db"
    conversations.unlink(missing_ok=True)
    settings["tracker_store"] = {**(settings.get("tracker_store") or {}), "db": str(conversations)}
    path = BENCH_DIR / "endpoints.yml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return path


@contextlib.contextmanager
def our_assistant(log: Path) -> Iterator[RunningBot]:
    """The action server and `rasa run`, started by the harness as `cyberweek serve` does."""
    from evaluation.e2e import seeded_database

    database = BENCH_DIR / "event.db"
    database.unlink(missing_ok=True)
    env = quiet_env(
        {
            "DATABASE_URL": seeded_database(database),
            "CYBERWEEK_NOW": harness.DEMO_NOW,
            # every simulated visitor comes from one address: the app's per-address limit off
            RATE_LIMITS_SWITCH_ENV: "off",
        }
    )
    launched: list[float] = []
    with harness.running_assistant(
        env,
        paths.MODEL_PATH,
        endpoints=bench_endpoints(),
        log=log,
        on_start=lambda: launched.append(time.monotonic()),
        on_ready=lambda service: say(f"{service.name} is ready"),
    ) as assistant:
        yield RunningBot(
            f"http://{harness.LOOPBACK}:{assistant.rasa_port}",
            launched[0],
            lambda: all(service.is_running() for service in assistant.services),
        )


# ------------------------------------------------------------------ the rasa init bot
def baseline_model() -> Path | None:
    models = sorted((BASELINE_DIR / "models").glob("*.tar.gz"))
    return models[-1] if models else None


def ensure_baseline() -> Path:
    """The `rasa init` bot's model, built (scaffolded and trained) when missing."""
    model = baseline_model()
    if model is not None:
        say(f"reusing {model.relative_to(paths.REPO_ROOT)}")
        return model
    if BASELINE_DIR.exists():  # left half-built by an interrupted run
        shutil.rmtree(BASELINE_DIR)
    scaffold_baseline(BASELINE_DIR)
    say("rasa train of the `rasa init` project (about 4 minutes on 2 cores)")
    log = BENCH_DIR / "baseline-train.log"
    with log.open("wb") as output:
        # stock: the baseline is Rasa as shipped, without ops.rasa_entry's start-up fixes
        result = subprocess.run(
            rasa_command("train", stock=True),
            cwd=BASELINE_DIR,
            env=quiet_env(),
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=BASELINE_BUILD_TIMEOUT_S,
        )
    model = baseline_model()
    if result.returncode != 0 or model is None:
        raise RuntimeError(
            f"training the `rasa init` bot failed (code {result.returncode}); see {log}"
        )
    return model


def scaffold_baseline(directory: Path) -> None:
    """The project `rasa init --no-prompt` writes, with the pipeline and policies it trains
    with (Rasa's default config, which its commented-out config.yml stands for) spelled out
    and seeded: an unseeded model answered `[]` to 60% of the bench's traffic in one build
    and to none in the next, which made runs on different builds incomparable."""
    from rasa.cli.scaffold import create_initial_project
    from rasa.engine.recipes.default_recipe import DefaultV1Recipe

    create_initial_project(str(directory))
    config_path = directory / "config.yml"
    stock = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config = DefaultV1Recipe.complete_config(stock, {"pipeline", "policies"})
    for component in [*config["pipeline"], *config["policies"]]:
        if component["name"] in SEEDED_COMPONENTS:
            component["random_seed"] = BASELINE_SEED
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


def baseline_command(model: Path, port: int) -> list[str]:
    return rasa_command(
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(BASELINE_DIR / "endpoints.yml"),
        "--credentials",
        str(BASELINE_DIR / "credentials.yml"),
        "--enable-api",
        "--interface",
        harness.LOOPBACK,
        "--port",
        str(port),
        stock=True,
    )


def baseline_launcher(model: Path) -> BotLauncher:
    @contextlib.contextmanager
    def launch(log: Path) -> Iterator[RunningBot]:
        port = harness.free_port()
        service = harness.Service(
            "rasa init bot",
            baseline_command(model, port),
            f"http://{harness.LOOPBACK}:{port}/webhooks/rest/",
            quiet_env(),
        )
        with log.open("ab") as output:
            launched_at = time.monotonic()
            with service.running(output):
                say(f"{service.name} is ready")
                yield RunningBot(
                    f"http://{harness.LOOPBACK}:{port}", launched_at, service.is_running
                )

    return launch


# ------------------------------------------------------------------ load
@dataclass(frozen=True)
class LoadRun:
    """One Locust run: `users` visitors, closed loop, or open loop with `pacing_s` > 0."""

    users: int
    warmup_s: float
    duration_s: float
    pacing_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.warmup_s + self.duration_s


def locust_command(base_url: str, load: LoadRun, csv_prefix: Path) -> list[str]:
    open_loop_args = []
    if load.pacing_s > 0:
        open_loop_args = [
            "--pacing-s",
            f"{load.pacing_s:.6f}",
            "--stop-timeout",
            f"{OPEN_LOOP_STOP_TIMEOUT_S:g}",
        ]
    return [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--only-summary",
        "--host",
        base_url,
        "--users",
        str(load.users),
        "--spawn-rate",
        str(load.users),  # all at once: the warm-up absorbs the ramp (paced: slots set the rate)
        "--run-time",
        f"{math.ceil(load.total_s)}s",
        "--warmup-s",
        str(load.warmup_s),
        *open_loop_args,
        "--csv",
        str(csv_prefix),
        "--exit-code-on-error",
        "0",  # failed turns are results, not a broken run
    ]


def run_locust(
    bot: RunningBot, load: LoadRun, csv_prefix: Path, slug: str, sampler: RssSampler
) -> LevelResult:
    """One Locust run against `bot`; its stats, read from Locust's CSV."""
    stats_file, failures_file = (Path(f"{csv_prefix}_{kind}.csv") for kind in ("stats", "failures"))
    stats_file.unlink(missing_ok=True)
    failures_file.unlink(missing_ok=True)
    locust = harness.Service(
        "Locust",
        locust_command(bot.base_url, load, csv_prefix),
        "",  # never asked: Locust serves nothing in headless mode
        {**os.environ, "PYTHONPATH": str(paths.REPO_ROOT)},
    )
    started = time.monotonic()
    with (BENCH_DIR / f"{slug}-locust.log").open("ab") as log:
        sampler.start_unmeasured(locust, log)
        try:
            wait_with_progress(locust, started, load.total_s)
        finally:
            locust.stop()
    assert locust.process is not None
    if locust.process.returncode != 0 or not stats_file.exists():
        raise RuntimeError(
            f"Locust failed (code {locust.process.returncode}); see {BENCH_DIR}/{slug}-locust.log"
        )
    failures = failures_file.read_text(encoding="utf-8") if failures_file.exists() else ""
    return parse_locust_stats(stats_file.read_text(encoding="utf-8"), load.users, failures)


def run_level(
    bot: RunningBot, users: int, settings: BenchSettings, slug: str, sampler: RssSampler
) -> LevelResult:
    """One closed-loop level: `users` visitors for the warm-up and the measured seconds."""
    say(
        f"{users} concurrent visitor(s): {settings.warmup_s:.0f} s warm-up + "
        f"{settings.duration_s:.0f} s measured"
    )
    load = LoadRun(users, settings.warmup_s, settings.duration_s)
    return run_locust(bot, load, BENCH_DIR / f"{slug}-{users}u", slug, sampler)


def run_open_loop_step(
    bot: RunningBot, rate_per_s: float, step_s: float, slug: str, sampler: RssSampler
) -> OpenLoopStep:
    """`rate_per_s` messages a second from paced visitors for a warm-up and `step_s`."""
    users, pacing_s = open_loop.paced_visitors(rate_per_s)
    warmup_s = max(OPEN_LOOP_WARMUP_S, pacing_s + 2)
    say(
        f"open loop {rate_per_s:g} msg/s ({users} visitors, a message each every "
        f"{pacing_s:.2f} s): {warmup_s:.0f} s warm-up + {step_s:.0f} s measured"
    )
    load = LoadRun(users, warmup_s, step_s, pacing_s)
    csv_prefix = BENCH_DIR / f"{slug}-open-{rate_per_s:g}"
    level = run_locust(bot, load, csv_prefix, slug, sampler)
    return OpenLoopStep(rate_per_s, level)


def wait_until_idle(bot: RunningBot) -> None:
    """Until the bot answers a probe promptly: an overloaded step leaves a backlog of turns
    that would otherwise slow the next step down."""
    time.sleep(PAUSE_BETWEEN_LEVELS_S)
    deadline = time.monotonic() + IDLE_TIMEOUT_S
    while time.monotonic() < deadline:
        asked = time.monotonic()
        if ask(bot.base_url, PROBE_MESSAGE, new_sender(), IDLE_TIMEOUT_S) is None:
            if time.monotonic() - asked < IDLE_REPLY_S:
                return
        time.sleep(1.0)
    say(f"  (still slow to answer after {IDLE_TIMEOUT_S:.0f} s; going on)")


def search_open_loop(
    bot: RunningBot, step_s: float, slug: str, sampler: RssSampler
) -> OpenLoopSearch:
    """The highest offered rate with p95 ≤ 300 ms and no error (open_loop.py's search)."""

    def measure(rate_per_s: float) -> OpenLoopStep:
        wait_until_idle(bot)
        measured = run_open_loop_step(bot, rate_per_s, step_s, slug, sampler)
        problem = open_loop.step_problem(measured)
        verdict = "held" if problem is None else f"failed: {problem}"
        say(
            f"{level_summary(measured.level)}, {measured.level.requests_per_s:.1f} sent/s; {verdict}"
        )
        return measured

    search = open_loop.search_highest_rate(measure)
    best = search.highest_rate_per_s
    say(
        f"open loop: highest rate with p95 ≤ {search.p95_limit_ms:.0f} ms: "
        f"{'none of the steps' if best is None else f'{best:g} msg/s'}"
    )
    return search


def wait_with_progress(locust: harness.Service, started: float, total_s: float) -> None:
    assert locust.process is not None
    deadline = started + total_s + OPEN_LOOP_STOP_TIMEOUT_S + LOCUST_GRACE_S
    next_report = started + PROGRESS_EVERY_S
    while locust.process.poll() is None:
        now = time.monotonic()
        if now > deadline:
            raise RuntimeError(f"Locust did not stop within {total_s + LOCUST_GRACE_S:.0f} s")
        if now >= next_report:
            say(f"  … {now - started:.0f} of {total_s:.0f} s")
            next_report += PROGRESS_EVERY_S
        time.sleep(0.5)


def elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.0f} s"


def level_summary(level: LevelResult) -> str:
    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value:.0f}"

    return (
        f"  {level.answers_per_s:.1f} answers/s, p50/p95/p99 {ms(level.p50_ms)}/"
        f"{ms(level.p95_ms)}/{ms(level.p99_ms)} ms, {level.failures} errors "
        f"of {level.requests}"
    )


def measure_bot(name: str, slug: str, launcher: BotLauncher, settings: BenchSettings) -> BotResult:
    """Cold start, then every load level, with the peak RSS over the bot's whole life."""
    result = BotResult(name)
    log = BENCH_DIR / f"{slug}-servers.log"
    log.unlink(missing_ok=True)
    say(f"starting (server output: {log.relative_to(paths.REPO_ROOT)})")
    with RssSampler() as sampler:
        with launcher(log) as bot:
            wait_for_first_answer(bot.base_url, bot.is_alive)
            result.cold_start_s = time.monotonic() - bot.launched_at
            say(f"first answer {result.cold_start_s:.1f} s after launch")
            for index, users in enumerate(settings.levels):
                if index:
                    time.sleep(PAUSE_BETWEEN_LEVELS_S)
                level_started = time.monotonic()
                result.levels[users] = run_level(bot, users, settings, slug, sampler)
                say(f"{level_summary(result.levels[users])} ({elapsed(level_started)})")
            if settings.open_loop_step_s is not None:
                search_started = time.monotonic()
                result.open_loop = search_open_loop(bot, settings.open_loop_step_s, slug, sampler)
                say(f"open loop: {len(result.open_loop.steps)} steps ({elapsed(search_started)})")
            say("stopping")
    result.peak_rss_bytes = sampler.peak_bytes
    say(f"peak RSS {result.peak_rss_bytes / 2**20:,.0f} MB (all processes)")
    return result


def measure_alternating(
    launchers: Mapping[str, BotLauncher],
    settings: BenchSettings,
    names: Mapping[str, str] = BOT_NAMES,
) -> AlternatingRounds:
    """Both contenders up at once, ALTERNATING_LEVEL visitors on one of them at a time, in
    ABBA blocks (A: the launchers' first key, whose rates the ratio puts over B's): what the
    machine's speed does during the run falls on both alike. `names`: the keys' display names."""
    first, second = launchers  # two contenders, A then B
    order = abba(first, second) * settings.alternating_blocks
    warmup_s, measured_s = settings.round_lengths_s
    load = LoadRun(ALTERNATING_LEVEL, warmup_s, measured_s)
    rounds: list[tuple[str, LevelResult]] = []
    with contextlib.ExitStack() as running, RssSampler() as sampler:
        bots: dict[str, RunningBot] = {}
        for who, launcher in launchers.items():  # one after the other: no shared cold start
            log = BENCH_DIR / f"{who}-alternating-servers.log"
            log.unlink(missing_ok=True)
            bots[who] = running.enter_context(launcher(log))
            wait_for_first_answer(bots[who].base_url, bots[who].is_alive)
        for who in order:
            time.sleep(PAUSE_BETWEEN_LEVELS_S)
            say(f"round {len(rounds) + 1} of {len(order)}: {who}")
            csv_prefix = BENCH_DIR / f"{who}-alternating-{len(rounds) + 1}"
            level = run_locust(bots[who], load, csv_prefix, f"{who}-alternating", sampler)
            say(f"{level_summary(level)}; {level.turns_per_s:.1f} turns/s")
            rounds.append((who, level))
        say("stopping both")
    keys = (first, second)
    return AlternatingRounds(ALTERNATING_LEVEL, tuple(rounds), keys, (names[first], names[second]))


# ------------------------------------------------------------------ the report
def machine_notes() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import psutil

    memory_gb = psutil.virtual_memory().total / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory_gb:.0f} GB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}, Rasa {importlib.metadata.version('rasa')}, "
        f"Locust {importlib.metadata.version('locust')}"
    )


def traffic_notes() -> str:
    kinds = {"zh": "Simplified Chinese", "zh-Hant": "Traditional Chinese", "en": "English"}
    kinds |= {"mixed": "mixed zh-en", "follow-up": "two-turn follow-ups"}
    shares = ", ".join(f"{kinds[k]} {w}%" for k, w in LANGUAGE_WEIGHTS.items())
    return (
        f"{len(all_conversations())} conversations about the event (schedule, venues, theme "
        f"days, expo, recruitment, logistics) drawn at random: {shares} "
        "(evaluation/bench/traffic.py); each conversation is a new sender."
    )


def command_line(settings: BenchSettings) -> str:
    """How to repeat the run: `make bench`, with BENCH_ARGS for settings off the defaults."""
    extra = []
    if settings.duration_s != DEFAULT_DURATION_S:
        extra.append(f"--duration {settings.duration_s:g}")
    if settings.warmup_s != DEFAULT_WARMUP_S:
        extra.append(f"--warmup {settings.warmup_s:g}")
    if HEAVY_LEVEL not in settings.levels:
        extra.append("--skip-100")
    if settings.open_loop_step_s is None:
        extra.append("--no-open-loop")
    elif settings.open_loop_step_s != DEFAULT_OPEN_LOOP_STEP_S:
        extra.append(f"--open-loop-step {settings.open_loop_step_s:g}")
    if settings.alternating_blocks != DEFAULT_ALTERNATING_BLOCKS:
        extra.append(f"--alternating-blocks {settings.alternating_blocks}")
    return "make bench" + (f' BENCH_ARGS="{" ".join(extra)}"' if extra else "")


RUN_FILE = BENCH_DIR / "results.json"


def save_run(
    results: Sequence[BotResult],
    settings: BenchSettings,
    date: str,
    alternating: AlternatingRounds | None = None,
) -> None:
    """What the report is made of, so that `--report-only` can write it again."""
    data = {
        "date": date,
        "duration_s": settings.duration_s,
        "warmup_s": settings.warmup_s,
        "levels": list(settings.levels),
        "open_loop_step_s": settings.open_loop_step_s,
        "alternating_blocks": settings.alternating_blocks,
        "bots": [bot_to_dict(result) for result in results],
        "alternating": None if alternating is None else alternating_to_dict(alternating),
    }
    RUN_FILE.write_text(json.dumps(data, indent=1), encoding="utf-8")


def open_loop_load_notes(settings: BenchSettings, results: Sequence[BotResult]) -> str:
    """How the open loop was run; empty when no bot was measured open loop."""
    if settings.open_loop_step_s is None or all(r.open_loop is None for r in results):
        return ""
    return (
        f"messages arrive at a fixed offered rate whatever the replies: visitor i of N "
        f"sends one message (a new conversation's question, or its follow-up) every "
        f"N/rate ≥ {open_loop.BASE_PACING_S:g} s on its own slot, i/rate after a shared "
        f"start (evaluation/bench/open_loop.py). Steps of {settings.open_loop_step_s:.0f} s "
        f"measured after a warm-up of {OPEN_LOOP_WARMUP_S:.0f} s or more (the ramp), replies "
        f"still due at a step's end waited for ({OPEN_LOOP_STOP_TIMEOUT_S:.0f} s at most); "
        f"the rate doubles from {open_loop.START_RATE_PER_S:g} msg/s until a step fails, "
        f"then {open_loop.BISECTIONS} bisections. A step fails on p95 > "
        f"{open_loop.P95_LIMIT_MS:.0f} ms (Locust rounds times above 100 ms to 10 ms), "
        f"any error, or less than {open_loop.MIN_DELIVERED_SHARE:.0%} of the offered rate "
        "sent (visitors late on their slots)."
    )


def alternating_load_notes(
    settings: BenchSettings, rounds: AlternatingRounds, contender: str = "bot"
) -> str:
    """How the rounds were run; `contender` names what each column is (a bot, a profile)."""
    warmup_s, measured_s = settings.round_lengths_s
    block = abba(*rounds.keys)
    return (
        f"both {contender}s up at once, {rounds.users} visitors on one of them at a time, in "
        f"rounds ordered {', '.join(rounds.name_of(who) for who in block)} "
        f"({settings.alternating_blocks} × {len(block)} rounds), each a warm-up of "
        f"{warmup_s:.0f} s and {measured_s:.0f} s measured; the "
        f"row gives each {contender}'s mean over its rounds. Levels measured minutes apart "
        "leave the ratio to whatever else the shared machine did meanwhile; alternating "
        "rounds do not."
    )


def write_report(
    results: Sequence[BotResult],
    settings: BenchSettings,
    date: str,
    alternating: AlternatingRounds | None = None,
) -> None:
    ours, baseline = results
    rows = comparison_rows(ours, baseline, alternating)
    print("\n" + text_table(rows), flush=True)
    if settings.doc is None:
        return
    write_latency_chart(settings.chart, results)
    notes = RunNotes(
        date=date,
        command=command_line(settings),
        machine=machine_notes(),
        duration_s=settings.duration_s,
        warmup_s=settings.warmup_s,
        traffic=traffic_notes(),
        open_loop_steps=open_loop_notes(results),
        open_loop_load=open_loop_load_notes(settings, results),
        alternating_load=alternating_load_notes(settings, alternating) if alternating else "",
        alternating_rounds=alternating_notes(alternating) if alternating else "",
    )
    chart = os.path.relpath(settings.chart, settings.doc.parent)
    existing = settings.doc.read_text(encoding="utf-8") if settings.doc.exists() else None
    report = with_hand_written_part(benchmarks_markdown(rows, notes, chart), existing)
    settings.doc.write_text(report, encoding="utf-8")
    say(f"wrote {settings.doc} and {settings.chart}")


def report_only(doc: Path | None, chart: Path = CHART_FILE) -> int:
    """The table (and docs/benchmarks.md) again from the last run's results, no load."""
    if not RUN_FILE.exists():
        print(f"error: no saved run ({RUN_FILE}); run `make bench` first", file=sys.stderr)
        return 1
    data = json.loads(RUN_FILE.read_text(encoding="utf-8"))
    settings = BenchSettings(
        duration_s=data["duration_s"],
        warmup_s=data["warmup_s"],
        levels=tuple(data["levels"]),
        doc=doc,
        chart=chart,
        open_loop_step_s=data.get("open_loop_step_s"),  # absent from runs before the open loop
        alternating_blocks=data.get("alternating_blocks", 0),  # absent from runs before them
    )
    saved = data.get("alternating")
    alternating = None if saved is None else alternating_from_dict(saved)
    bots = [bot_from_dict(bot) for bot in data["bots"]]
    write_report(bots, settings, data["date"], alternating)
    return 0


# ------------------------------------------------------------------ the command
def run(settings: BenchSettings) -> int:
    if not paths.MODEL_PATH.exists():
        print("error: no trained model; run `make bench` (it trains first)", file=sys.stderr)
        return 1
    started = time.monotonic()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    total = 5 if settings.alternating_blocks else 4
    step(1, total, "the `rasa init` bot (built once into build/bench/baseline, then reused)")
    if HEAVY_LEVEL in settings.levels:
        say(f"{HEAVY_LEVEL} visitors included: --skip-100 leaves them out (~2.5 min shorter)")
    model = ensure_baseline()
    results = []
    bots: list[tuple[str, str, BotLauncher]] = [
        ("ours", "ours", our_assistant),
        ("rasa init bot", "baseline", baseline_launcher(model)),
    ]
    for number, (name, slug, launcher) in enumerate(bots, start=2):
        open_part = "" if settings.open_loop_step_s is None else ", then the open loop"
        step(number, total, f"{name}: cold start, load at {settings.levels} visitors{open_part}")
        try:
            results.append(measure_bot(name, slug, launcher, settings))
        except harness.HarnessError as error:
            print(f"error: {error}; see {BENCH_DIR}/{slug}-servers.log", file=sys.stderr)
            return 1
    alternating = None
    if settings.alternating_blocks:
        step(4, total, f"both bots, {ALTERNATING_LEVEL} visitors on one at a time (ABBA rounds)")
        launchers = {OURS: our_assistant, BASELINE: baseline_launcher(model)}
        try:
            alternating = measure_alternating(launchers, settings)
        except harness.HarnessError as error:
            print(f"error: {error}; see {BENCH_DIR}/*-alternating-servers.log", file=sys.stderr)
            return 1
    step(total, total, "the side-by-side table")
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    save_run(results, settings, date, alternating)
    write_report(results, settings, date, alternating)
    say(f"({time.monotonic() - started:.0f} s in all)")
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--duration",
        type=float,
        default=DEFAULT_DURATION_S,
        metavar="S",
        help=f"measured seconds per load level (default {DEFAULT_DURATION_S:g})",
    )
    parser.add_argument(
        "--warmup",
        type=float,
        default=DEFAULT_WARMUP_S,
        metavar="S",
        help=f"seconds of load before each level's measurement, not counted "
        f"(default {DEFAULT_WARMUP_S:g})",
    )
    parser.add_argument(
        "--skip-100",
        action="store_true",
        help=f"leave out the {HEAVY_LEVEL}-visitor level (measured by default; about "
        f"warm-up + duration + 3 s less per bot, ~2.5 min with the defaults)",
    )
    parser.add_argument(  # the level used to be opt-in: old BENCH_ARGS keep working
        "--with-100", action="store_true", help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--open-loop-step",
        type=float,
        default=DEFAULT_OPEN_LOOP_STEP_S,
        metavar="S",
        help="measured seconds per open-loop step (the search for the highest offered rate "
        f"with p95 ≤ {open_loop.P95_LIMIT_MS:.0f} ms: about 7 steps per bot, each with a "
        f"warm-up of {OPEN_LOOP_WARMUP_S:g} s or more; default {DEFAULT_OPEN_LOOP_STEP_S:g})",
    )
    parser.add_argument(
        "--no-open-loop",
        action="store_true",
        help="skip the open-loop search (closed-loop levels only)",
    )
    parser.add_argument(
        "--alternating-blocks",
        type=int,
        default=DEFAULT_ALTERNATING_BLOCKS,
        metavar="N",
        help=f"then both bots up at once, {ALTERNATING_LEVEL} visitors on one at a time in N "
        "blocks of four rounds (ours, rasa init bot, rasa init bot, ours; with --scale-out: "
        "both profiles, 2 instances, 1, 1, 2): a ratio the machine's changing speed cannot "
        "tilt; each round a third of --duration (default "
        f"{DEFAULT_ALTERNATING_BLOCKS}, 0 leaves them out)",
    )
    parser.add_argument(
        "--scale-out",
        action="store_true",
        help="instead: the production profile (PostgreSQL, Redis, nginx) with 1 and then 2 Rasa "
        "instances under the same load, side by side, then both profiles up at once in "
        "alternating rounds (--alternating-blocks), whose ratio is the one checked: about 4 "
        "minutes more with the defaults, plus starting both (needs `make services`)",
    )
    parser.add_argument(
        "--event-queries",
        action="store_true",
        help="instead: the event database's per-turn queries on a generated database of "
        "--events events against the plain seed, p50/p95/max (no servers, no model)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=100_000,
        metavar="N",
        help="generated events for --event-queries (default 100000)",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="no load: print the table of the last run again and rewrite its report",
    )
    parser.add_argument(
        "--no-doc",
        action="store_true",
        help="print the table only; leave docs/benchmarks.md and the chart alone",
    )


def settings_from_args(args: argparse.Namespace) -> BenchSettings:
    skipped = (HEAVY_LEVEL,) if args.skip_100 else ()
    return BenchSettings(
        duration_s=args.duration,
        warmup_s=args.warmup,
        levels=tuple(users for users in DEFAULT_LEVELS if users not in skipped),
        doc=None if args.no_doc else DOC_FILE,
        open_loop_step_s=None if args.no_open_loop else args.open_loop_step,
        alternating_blocks=args.alternating_blocks,
    )


def run_from_args(args: argparse.Namespace) -> int:
    if args.event_queries:
        from evaluation.bench import event_queries

        return event_queries.run(args.events, None if args.no_doc else DOC_FILE)
    if args.report_only:
        return report_only(None if args.no_doc else DOC_FILE)
    if args.duration <= 0 or args.warmup < 0 or args.open_loop_step <= 0:
        print("error: --duration and --open-loop-step must be > 0, --warmup ≥ 0", file=sys.stderr)
        return 2
    if args.alternating_blocks < 0:
        print("error: --alternating-blocks must be ≥ 0", file=sys.stderr)
        return 2
    if args.scale_out:
        from evaluation.bench import scale_out

        # bench-scale compares instances as before: closed loop at 1 and 20 (100 with --with-100),
        # then the alternating rounds unless --alternating-blocks 0
        levels = SCALE_OUT_LEVELS + ((HEAVY_LEVEL,) if args.with_100 else ())
        settings = replace(settings_from_args(args), levels=levels, open_loop_step_s=None)
        return scale_out.run(settings)
    return run(settings_from_args(args))


DESCRIPTION = (
    "Our assistant and a `rasa init` bot on the same Rasa under the same REST load (Locust, "
    "loopback only): cold start, throughput, p50/p95/p99, errors and peak RSS at 1, 20 and 100 "
    "concurrent visitors (closed loop), and the highest offered rate (open loop) at which p95 "
    "stays ≤ 300 ms, side by side; the table and a latency chart go to docs/benchmarks.md, run "
    "data to build/bench/; then both bots up at once in alternating rounds at 20 visitors, "
    "for a ratio the machine's changing speed cannot tilt. About 20 minutes with the defaults "
    "(--skip-100: ~2.5 min less)."
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cyberweek bench", description=DESCRIPTION)
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
