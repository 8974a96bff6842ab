"""`make bench`'s own logic, without a server: what counts as a failed turn, Locust's CSV,
the ratios and the table. The load itself is never run by the test suite."""

from __future__ import annotations

import contextlib
import json
import random

import pytest

from evaluation.bench.open_loop import (
    P95_LIMIT_MS,
    PacedSchedule,
    paced_visitors,
    search_highest_rate,
    step_problem,
)
from evaluation.bench.results import (
    BASELINE,
    OURS,
    AlternatingRounds,
    abba,
    alternating_from_dict,
    alternating_notes,
    alternating_rows,
    alternating_to_dict,
    HAND_WRITTEN_MARKER,
    with_hand_written_part,
    RATIO_HEADER,
    BotResult,
    LevelResult,
    OpenLoopSearch,
    OpenLoopStep,
    RunNotes,
    StatsError,
    benchmarks_markdown,
    open_loop_notes,
    bot_from_dict,
    bot_to_dict,
    comparison_rows,
    count_empty_replies,
    markdown_table,
    parse_locust_stats,
    ratio_higher_better,
    ratio_lower_better,
    text_table,
    with_block,
)
from evaluation.bench.scale_out import scale_rows, scale_verdict, throughput_ratio
from evaluation.bench.run import (
    DEFAULT_ALTERNATING_BLOCKS,
    DEFAULT_LEVELS,
    HEAVY_LEVEL,
    BenchSettings,
    RunningBot,
    add_arguments,
    alternating_load_notes,
    command_line,
    settings_from_args,
)
from evaluation.bench.traffic import (
    FOLLOW_UPS,
    LANGUAGE_WEIGHTS,
    SINGLE_QUESTIONS,
    new_sender,
    pick_conversation,
    reply_failure,
    turn_names,
)

# The shape Locust 2.39 writes with --csv (header and rows of *_stats.csv).
LOCUST_STATS_CSV = """\
Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
POST,follow-up,40,0,120,131.2,88.1,402.3,310.5,0.66,0.0,120,130,140,150,170,190,220,260,400,400,400
POST,question,160,4,130,140.9,80.0,910.7,288.0,2.66,0.07,130,140,150,160,180,210,300,480,910,910,910
,Aggregated,200,4,130,139.0,80.0,910.7,292.4,3.33,0.07,130,140,150,160,180,200,290,450,910,910,910
"""


# ------------------------------------------------------------------ failed turns
@pytest.mark.parametrize(
    ("status", "body", "failed"),
    [
        (200, '[{"recipient_id": "v", "text": "开幕式在…"}]', False),
        (200, "[]", True),  # Rasa's REST channel on an internal failure
        (500, '[{"text": "x"}]', True),
        (400, '{"error": "bad body"}', True),
        (200, '{"text": "not a list"}', True),
        (200, "<html>proxy error</html>", True),
        (200, None, True),
        (0, None, True),  # connection refused / reset, as Locust reports it
        (None, None, True),
    ],
)
def test_an_empty_or_non_200_reply_is_a_failure(
    status: int | None, body: str | None, failed: bool
) -> None:
    assert (reply_failure(status, body) is not None) is failed


def test_the_failure_says_why() -> None:
    assert reply_failure(200, "[]") == "empty reply []"
    assert reply_failure(503, "") == "HTTP 503"


def test_an_apology_for_a_failed_turn_is_a_failure() -> None:
    from actions.messages import DATABASE_UNAVAILABLE
    from bot.unavailable import TURN_FAILED

    for text in (TURN_FAILED["zh"], TURN_FAILED["en"], DATABASE_UNAVAILABLE["en"]):
        body = json.dumps([{"recipient_id": "v", "text": text}])
        assert reply_failure(200, body) == "apology: the turn failed"
    assert reply_failure(200, json.dumps([{"text": "开幕式在南沙举行"}])) is None


def test_a_turn_turned_away_as_busy_is_a_failure() -> None:
    from bot.unavailable import BUSY

    for text in BUSY.values():
        body = json.dumps([{"recipient_id": "v", "text": text}])
        assert reply_failure(200, body) == "busy: the turn waited too long for a place"


# ------------------------------------------------------------------ the traffic
def test_the_mix_covers_every_language_and_follow_ups() -> None:
    rng = random.Random(7)
    drawn = [pick_conversation(rng) for _ in range(2000)]
    kinds = set()
    for conversation in drawn:
        if len(conversation) == 2:
            kinds.add("follow-up")
        else:
            kinds |= {k for k, texts in SINGLE_QUESTIONS.items() if conversation[0] in texts}
    assert kinds == set(LANGUAGE_WEIGHTS)
    share = sum(len(c) == 2 for c in drawn) / len(drawn)
    assert share == pytest.approx(LANGUAGE_WEIGHTS["follow-up"] / 100, abs=0.04)


def test_follow_ups_are_two_turns_named_apart() -> None:
    assert all(len(conversation) == 2 for conversation in FOLLOW_UPS)
    assert ("主论坛在哪", "几号？") in FOLLOW_UPS
    assert turn_names(("a", "b")) == ["question", "follow-up"]


def test_every_visitor_is_a_sender_of_its_own() -> None:
    senders = {new_sender() for _ in range(1000)}
    assert len(senders) == 1000
    assert all(0 < len(sender) <= 128 for sender in senders)  # the REST channel's limit


# ------------------------------------------------------------------ Locust's CSV
def test_reads_the_aggregated_row_of_locusts_csv() -> None:
    level = parse_locust_stats(LOCUST_STATS_CSV, users=20)
    assert level == LevelResult(
        users=20,
        requests=200,
        failures=4,
        requests_per_s=3.33,
        p50_ms=130.0,
        p95_ms=200.0,
        p99_ms=450.0,
    )
    # failed turns are not throughput: 3.33 req/s × 196/200
    assert level.answers_per_s == pytest.approx(3.2634)
    assert level.error_rate == pytest.approx(0.02)


def test_empty_replies_are_errors_but_turns_done() -> None:
    failures = (
        "Method,Name,Error,Occurrences\n"
        "POST,question,CatchResponseError('empty reply []'),30\n"
        "POST,follow-up,CatchResponseError('empty reply []'),10\n"
        "POST,question,CatchResponseError('HTTP 0'),5\n"
    )
    level = parse_locust_stats(
        LOCUST_STATS_CSV.replace(",200,4,", ",200,45,"), users=20, failures_csv_text=failures
    )
    assert (level.failures, level.empty_replies) == (45, 40)
    assert level.answers_per_s == pytest.approx(3.33 * 155 / 200)
    assert level.turns_per_s == pytest.approx(3.33 * 195 / 200)  # the time-outs are not turns
    assert count_empty_replies("") == 0


def test_a_level_without_requests_has_no_percentiles() -> None:
    header = LOCUST_STATS_CSV.splitlines()[0]
    empty = header + "\n,Aggregated,0,0,0,0,0,0,0,0,0" + ",N/A" * 11 + "\n"
    level = parse_locust_stats(empty, users=1)
    assert (level.requests, level.p95_ms, level.answers_per_s) == (0, None, 0.0)


def test_a_csv_without_the_aggregated_row_is_an_error() -> None:
    without_total = "\n".join(LOCUST_STATS_CSV.splitlines()[:-1])
    with pytest.raises(StatsError, match="Aggregated"):
        parse_locust_stats(without_total, users=1)
    with pytest.raises(StatsError, match="Request Count"):
        parse_locust_stats("Name,Requests/s\nAggregated,1\n", users=1)


# ------------------------------------------------------------------ ratios and the table
def test_ratios_are_oriented_so_that_above_one_means_ours_is_better() -> None:
    assert ratio_higher_better(20.0, 10.0) == 2.0  # twice the throughput
    assert ratio_lower_better(50.0, 100.0) == 2.0  # half the latency
    assert ratio_lower_better(200.0, 100.0) == 0.5
    assert ratio_higher_better(1.0, 0.0) is None
    assert ratio_lower_better(None, 100.0) is None


def _level(users: int, rate: float, p50: float, p95: float, p99: float, fails: int = 0):
    return LevelResult(users, 100, fails, rate, p50, p95, p99)


def test_the_side_by_side_table() -> None:
    ours = BotResult("ours", 25.0, 900 * 2**20, {1: _level(1, 20.0, 40, 80, 90)})
    ours.levels[20] = _level(20, 30.0, 500, 900, 1200)
    baseline = BotResult("rasa init bot", 50.0, 1100 * 2**20)
    baseline.levels = {1: _level(1, 10.0, 80, 160, 200), 20: _level(20, 15.0, 1000, 1800, 2400, 5)}
    rows = {
        label: (mine, theirs, ratio)
        for label, mine, theirs, ratio in comparison_rows(ours, baseline)
    }
    assert rows["1 visitor: throughput"] == ("20.0 answers/s", "10.0 answers/s", "2.00×")
    assert rows["1 visitor: p95"] == ("80 ms", "160 ms", "2.00×")
    assert rows["20 visitors: throughput"] == ("30.0 answers/s", "14.2 answers/s", "2.11×")
    turns = ("30.0 turns/s", "14.2 turns/s", "2.11×")  # the baseline's failures are not `[]`s
    assert rows["20 visitors: turns, empty replies included"] == turns
    assert rows["20 visitors: p99"] == ("1,200 ms", "2,400 ms", "2.00×")
    assert rows["20 visitors: errors"] == ("0 / 100 (0.0%)", "5 / 100 (5.0%)", "")
    assert rows["cold start to first answer"] == ("25.0 s", "50.0 s", "2.00×")
    assert rows["peak RSS, all processes"] == ("900 MB", "1,100 MB", "1.22×")

    table = text_table(comparison_rows(ours, baseline)).splitlines()
    assert RATIO_HEADER in table[0] and "rasa init bot" in table[0]
    assert len({len(line) for line in table[:3]}) == 1  # columns aligned
    markdown = markdown_table(comparison_rows(ours, baseline))
    assert markdown.splitlines()[2].startswith("| 1 visitor: throughput | 20.0 answers/s |")


def test_a_level_measured_for_one_bot_only_shows_a_dash() -> None:
    ours = BotResult("ours", None, 0, {100: _level(100, 5.0, 1, 2, 3)})
    rows = comparison_rows(ours, BotResult("rasa init bot"))
    assert rows[0] == ("100 visitors: throughput", "5.0 answers/s", "–", "–")
    assert rows[-1] == ("peak RSS, all processes", "–", "–", "–")


def test_the_command_to_repeat_a_run() -> None:
    assert command_line(BenchSettings()) == "make bench"
    short = BenchSettings(duration_s=30, warmup_s=5, levels=(1, 20), open_loop_step_s=10)
    assert command_line(short) == (
        'make bench BENCH_ARGS="--duration 30 --warmup 5 --skip-100 --open-loop-step 10"'
    )
    assert command_line(BenchSettings(open_loop_step_s=None)).endswith('"--no-open-loop"')


def _settings(*argv: str) -> BenchSettings:
    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return settings_from_args(parser.parse_args(list(argv)))


def test_100_visitors_and_the_open_loop_are_measured_by_default() -> None:
    default = _settings()
    assert HEAVY_LEVEL in default.levels == DEFAULT_LEVELS
    assert default.open_loop_step_s is not None
    assert _settings("--with-100").levels == default.levels  # the old opt-in still parses
    short = _settings("--skip-100", "--no-open-loop")
    assert short.levels == (1, 20) and short.open_loop_step_s is None
    assert _settings("--open-loop-step", "20").open_loop_step_s == 20


# ------------------------------------------------------------------ the open loop
def _step(
    rate: float,
    p95: float | None = 100.0,
    fails: int = 0,
    sent: float | None = None,
    empty: int = 0,
):
    level = LevelResult(8, 150, fails, rate if sent is None else sent, 50.0, p95, p95, empty)
    return OpenLoopStep(rate, level)


def _bot_that_holds_up_to(limit_per_s: float, on_failure: str = "slow"):
    """A fake measurement: steps up to `limit_per_s` held, above it slow (or in error)."""
    asked: list[float] = []

    def measure(rate: float) -> OpenLoopStep:
        asked.append(rate)
        if rate <= limit_per_s:
            return _step(rate, p95=120.0)
        return _step(rate, fails=3) if on_failure == "errors" else _step(rate, p95=900.0)

    return measure, asked


def test_the_search_doubles_then_bisects_between_the_last_held_and_the_first_failed() -> None:
    measure, asked = _bot_that_holds_up_to(11.0)
    search = search_highest_rate(measure)
    assert asked == [2, 4, 8, 16, 12, 10, 11]
    assert search.highest_rate_per_s == 11
    assert search.first_failed_above is not None
    assert search.first_failed_above.offered_per_s == 12
    assert [step.held for step in search.steps] == [True, True, True, False, False, True, True]
    assert search.steps[3].problem == f"p95 900 ms > {P95_LIMIT_MS:.0f} ms"


def test_errors_fail_a_step_even_when_it_is_fast() -> None:
    measure, asked = _bot_that_holds_up_to(5.0, on_failure="errors")
    search = search_highest_rate(measure)
    assert asked == [2, 4, 8, 6, 5, 5.5]
    assert search.highest_rate_per_s == 5
    assert search.first_failed_above is not None
    assert search.first_failed_above.problem == "3 errors"


def test_the_search_is_bounded_when_the_bot_never_fails() -> None:
    measure, asked = _bot_that_holds_up_to(float("inf"))
    search = search_highest_rate(measure, max_per_s=64)
    assert asked == [2, 4, 8, 16, 32, 64]
    assert search.highest_rate_per_s == 64 and search.first_failed_above is None


def test_when_even_the_first_step_fails_the_search_bisects_towards_zero() -> None:
    measure, asked = _bot_that_holds_up_to(0.6)
    search = search_highest_rate(measure)
    assert asked == [2, 1, 0.5, 0.75]
    assert search.highest_rate_per_s == 0.5
    never, _ = _bot_that_holds_up_to(0.0)
    assert search_highest_rate(never).highest_rate_per_s is None


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        (_step(8, p95=300.0), None),  # the limit itself holds
        (_step(8, p95=310.0), "p95 310 ms > 300 ms"),
        (_step(8, fails=1), "1 error"),
        (_step(8, fails=40, empty=40), None),  # its model's `[]`s, not load
        (_step(8, fails=43, empty=40), "3 errors"),
        (_step(8, sent=7.3), None),  # ≥ 90% of the offered rate sent
        (_step(8, sent=7.0), "sent only 7.0 of 8 msg/s"),  # visitors fell behind their slots
        (_step(8, p95=None), "no request answered"),
    ],
)
def test_what_fails_a_step(step: OpenLoopStep, problem: str | None) -> None:
    assert step_problem(step) == problem


@pytest.mark.parametrize(
    ("rate", "visitors", "pacing"),
    [(2, 4, 2.0), (8, 16, 2.0), (12.5, 25, 2.0), (0.25, 1, 4.0), (3.3, 7, 7 / 3.3)],
)
def test_paced_visitors_offer_the_rate_never_faster_than_the_base_pacing(
    rate: float, visitors: int, pacing: float
) -> None:
    assert paced_visitors(rate) == (visitors, pytest.approx(pacing))
    assert visitors / pacing == pytest.approx(rate)


def test_paced_visitors_share_one_schedule_evenly() -> None:
    schedules = [PacedSchedule.for_visitor(i, 4, 2.0, start_at=100.0) for i in range(4)]
    assert [s.next_at for s in schedules] == [100.0, 100.5, 101.0, 101.5]
    first = schedules[0]
    assert first.wait_s(now=100.2) == pytest.approx(1.8)  # a 200 ms reply: on the slot at 102
    assert first.wait_s(now=104.5) == 0.0  # a reply 2.5 s late: sent at once…
    assert first.next_at == 104.0  # …on the slot it missed, the slot at 106 kept
    assert first.wait_s(now=109.1) == 0.0  # slots at 106 and 108 missed: 108 sent late
    assert first.next_at == 108.0


# ------------------------------------------------------------------ open loop in the report
def _search(*steps: OpenLoopStep) -> OpenLoopSearch:
    return OpenLoopSearch(
        300.0, [OpenLoopStep(s.offered_per_s, s.level, step_problem(s)) for s in steps]
    )


def test_the_table_carries_the_open_loop_rate_and_its_ratio() -> None:
    ours = BotResult("ours", open_loop=_search(_step(2), _step(4), _step(8, p95=500), _step(6)))
    baseline = BotResult("rasa init bot", open_loop=_search(_step(2), _step(4, fails=2)))
    rows = {row[0]: row[1:] for row in comparison_rows(ours, baseline)}
    assert rows["open loop: highest rate with p95 ≤ 300 ms"] == ("6 msg/s", "2 msg/s", "3.00×")
    assert rows["open loop: p95, errors at that rate"] == (
        "100 ms, 0 errors",
        "100 ms, 0 errors",
        "",
    )
    assert rows["open loop: first rate that failed"] == (
        "8 msg/s: p95 500 ms > 300 ms",
        "4 msg/s: 2 errors",
        "",
    )
    table = text_table(comparison_rows(ours, baseline))
    assert "open loop: highest rate" in table
    notes = open_loop_notes([ours, baseline])
    assert notes.splitlines()[1].startswith("- *rasa init bot*: 2 msg/s ✓ (p95 100 ms")
    assert "4 msg/s ✗ (p95 100 ms, 4.0 sent/s, 2 errors)" in notes
    assert "8 msg/s ✗ (p95 500 ms > 300 ms, 8.0 sent/s)" in notes


def test_a_bot_that_failed_every_step_shows_below_the_lowest_rate() -> None:
    failing = BotResult("ours", open_loop=_search(_step(2, p95=800), _step(1, p95=700)))
    rows = {row[0]: row[1:] for row in comparison_rows(failing, BotResult("rasa init bot"))}
    assert rows["open loop: highest rate with p95 ≤ 300 ms"] == ("< 1 msg/s", "–", "–")


def test_a_run_without_open_loop_has_no_open_loop_rows() -> None:
    rows = comparison_rows(BotResult("ours"), BotResult("rasa init bot"))
    assert not [row for row in rows if row[0].startswith("open loop")]


def test_the_page_lists_the_steps_or_says_the_open_loop_was_not_measured() -> None:
    notes = RunNotes("2026-12-02", "make bench", "2 cores", 60, 10, "mix")
    page = benchmarks_markdown([], notes, "img/x.png")
    assert "Not measured yet" not in page
    assert "The open loop was not measured in this run." in page
    measured = RunNotes(**{**notes.__dict__, "open_loop_steps": "- *ours*: 2 msg/s ✓"})
    assert "- *ours*: 2 msg/s ✓" in benchmarks_markdown([], measured, "img/x.png")


def test_a_saved_run_reads_back_the_same() -> None:
    bot = BotResult(
        "ours", 31.5, 2**30, {20: _level(20, 9.0, 1, 2, 3, 1), 1: _level(1, 4, 5, 6, 7)}
    )
    bot.open_loop = _search(_step(2), _step(4, p95=450))
    saved = json.loads(json.dumps(bot_to_dict(bot)))  # as build/bench/results.json holds it
    assert bot_from_dict(saved) == bot
    assert bot_from_dict(saved).open_loop.highest_rate_per_s == 2  # type: ignore[union-attr]


def test_a_run_saved_before_the_open_loop_still_loads(tmp_path, monkeypatch) -> None:
    from evaluation.bench import run

    old_bot = {"name": "ours", "cold_start_s": 20.2, "peak_rss_bytes": 2**30}
    old_bot["levels"] = [_level(1, 16.2, 59, 84, 100).__dict__]
    old_run = {"date": "2026-12-01 22:35 UTC", "duration_s": 40.0, "warmup_s": 10.0}
    old_run |= {"levels": [1, 20], "bots": [old_bot, {**old_bot, "name": "rasa init bot"}]}
    saved = tmp_path / "results.json"
    saved.write_text(json.dumps(old_run), encoding="utf-8")
    monkeypatch.setattr(run, "RUN_FILE", saved)
    doc, chart = tmp_path / "benchmarks.md", tmp_path / "img" / "chart.png"
    monkeypatch.setattr(run, "machine_notes", lambda: "a test machine")
    assert bot_from_dict(old_bot).open_loop is None
    assert run.report_only(doc, chart) == 0
    page = doc.read_text(encoding="utf-8")
    assert "| 1 visitor: p95 | 84 ms | 84 ms | 1.00× |" in page
    assert "open loop: highest" not in page and "not measured in this run" in page
    assert chart.exists()


# ------------------------------------------------------------------ alternating rounds
def _round(rate: float, failures: int = 0, empty: int = 0) -> LevelResult:
    return LevelResult(20, 1000, failures, rate, 300.0, 400.0, 450.0, empty)


def _abba(ours: list[float], baseline: list[float]) -> AlternatingRounds:
    rates = {OURS: iter(ours), BASELINE: iter(baseline)}
    return AlternatingRounds(
        20, tuple((who, _round(next(rates[who]))) for who in abba(OURS, BASELINE) * 2)
    )


def test_alternating_rounds_compare_each_bots_mean_turns() -> None:
    rounds = _abba([60.0, 50.0, 70.0, 60.0], [40.0, 20.0, 30.0, 30.0])
    assert [who for who, _ in rounds.rounds] == [OURS, BASELINE, BASELINE, OURS] * 2
    rows = {row[0]: row[1:] for row in comparison_rows(BotResult("ours"), BotResult("b"), rounds)}
    turns = rows["20 visitors, alternating rounds: turns, empty replies included"]
    assert turns == ("60.0 turns/s", "30.0 turns/s", "2.00×")
    assert rows["20 visitors, alternating rounds: errors"] == ("0 / 4000", "0 / 4000", "")


def test_alternating_rounds_count_a_baselines_empty_replies_as_turns() -> None:
    empty = AlternatingRounds(20, ((OURS, _round(50.0)), (BASELINE, _round(50.0, 600, 600))))
    assert empty.mean_turns_per_s(BASELINE) == 50.0
    assert empty.failures_of(BASELINE) == (600, 1000)


def test_alternating_rounds_read_back_the_same() -> None:
    rounds = _abba([60.0, 50.0, 70.0, 60.0], [40.0, 20.0, 30.0, 30.0])
    assert alternating_from_dict(json.loads(json.dumps(alternating_to_dict(rounds)))) == rounds


def test_the_page_describes_the_alternating_rounds_or_says_they_were_not_run() -> None:
    notes = RunNotes("2026-12-02", "make bench", "2 cores", 60, 10, "mix")
    assert "**Alternating rounds:** not measured in this run." in benchmarks_markdown(
        [], notes, "img/x.png"
    )
    measured = RunNotes(
        **{**notes.__dict__, "alternating_load": "both up", "alternating_rounds": "ours 60.0"}
    )
    page = benchmarks_markdown([], measured, "img/x.png")
    assert "**Alternating rounds:** both up" in page
    assert "turns/s in the order run: ours 60.0." in page


def test_alternating_rounds_are_run_by_default_and_can_be_left_out() -> None:
    assert _settings().alternating_blocks == DEFAULT_ALTERNATING_BLOCKS > 0
    assert _settings("--alternating-blocks", "0").alternating_blocks == 0
    assert command_line(BenchSettings(alternating_blocks=0)) == (
        'make bench BENCH_ARGS="--alternating-blocks 0"'
    )
    assert BenchSettings(duration_s=60, warmup_s=10).round_lengths_s == (5, 20)


def test_the_hand_written_part_survives_a_new_report() -> None:
    existing = f"# old table\n| 1 | 2 |\n\n{HAND_WRITTEN_MARKER}\n\n## Where a turn goes\nprofile\n"
    report = with_hand_written_part("# new table\n| 3 | 4 |\n", existing)
    assert report.startswith("# new table") and "old table" not in report
    assert report.endswith(f"{HAND_WRITTEN_MARKER}\n\n## Where a turn goes\nprofile\n")


@pytest.mark.parametrize("existing", [None, "# a report without a hand-written part\n"])
def test_without_a_hand_written_part_the_report_is_all_generated(existing: str | None) -> None:
    assert with_hand_written_part("# new\n", existing) == "# new\n"


def test_a_block_inside_the_hand_written_part_is_replaced_and_the_rest_kept() -> None:
    existing = f"# table\n{HAND_WRITTEN_MARKER}\nbefore\n<!-- begin scale -->\nold\n<!-- end scale -->\nafter\n"
    updated = with_block(existing, "scale", "new rows\n")
    assert updated == existing.replace("\nold\n", "\nnew rows\n")
    # the block lives in the hand-written part, so `make bench` keeps it
    assert "new rows" in with_hand_written_part("# fresh table\n", updated)


def test_a_missing_block_is_appended() -> None:
    assert with_block("# page\n", "scale", "rows") == (
        "# page\n\n<!-- begin scale -->\nrows\n<!-- end scale -->\n"
    )


def test_the_scale_out_table_puts_two_instances_against_one() -> None:
    one = BotResult("1 instance", 30.0, 2**30, {20: _level(20, 10.0, 900, 1800, 2000)})
    two = BotResult("2 instances", 32.0, 2**31, {20: _level(20, 17.0, 500, 1000, 1500)})
    header, rows = scale_rows(two, one)
    assert header[1:3] == ("2 instances", "1 instance")
    assert rows[0] == ("20 visitors: throughput", "17.0 answers/s", "10.0 answers/s", "1.70×")
    assert throughput_ratio(two, one, 20) == pytest.approx(1.7)
    assert throughput_ratio(two, BotResult("1 instance"), 20) is None


# ------------------------------------------------------------------ rounds of other contenders
TWO, ONE = "prod-2", "prod-1"
INSTANCE_NAMES = ("2 instances", "1 instance")


def _scale_rounds(two: list[float], one: list[float]) -> AlternatingRounds:
    rates = {TWO: iter(two), ONE: iter(one)}
    order = (TWO, ONE, ONE, TWO) * 2
    rounds = tuple((who, _round(next(rates[who]))) for who in order)
    return AlternatingRounds(20, rounds, (TWO, ONE), INSTANCE_NAMES)


def test_make_benchs_rounds_render_and_save_as_before() -> None:
    """The text make bench wrote before the rounds took other contenders, pinned."""
    rounds = _abba([45.3, 39.9, 43.7, 40.3], [30.9, 28.2, 28.2, 25.9])
    assert markdown_table(alternating_rows(rounds)).splitlines()[2:] == [
        "| 20 visitors, alternating rounds: turns, empty replies included | 42.3 turns/s "
        "| 28.3 turns/s | 1.49× |",
        "| 20 visitors, alternating rounds: errors | 0 / 4000 | 0 / 4000 |  |",
    ]
    assert alternating_notes(rounds) == (
        "ours 45.3, rasa init bot 30.9, rasa init bot 28.2, ours 39.9, "
        "ours 43.7, rasa init bot 28.2, rasa init bot 25.9, ours 40.3"
    )
    assert alternating_load_notes(BenchSettings(), rounds) == (
        "both bots up at once, 20 visitors on one of them at a time, in rounds ordered ours, "
        "rasa init bot, rasa init bot, ours (2 × 4 rounds), each a warm-up of 5 s and 20 s "
        "measured; the row gives each bot's mean over its rounds. Levels measured minutes "
        "apart leave the ratio to whatever else the shared machine did meanwhile; alternating "
        "rounds do not."
    )
    assert set(alternating_to_dict(rounds)) == {"users", "rounds"}  # results.json as before


def test_rounds_saved_before_they_had_names_are_ours_against_the_baseline() -> None:
    old = {
        "users": 20,
        "rounds": [[OURS, _round(60.0).__dict__], [BASELINE, _round(30.0).__dict__]],
    }
    rounds = alternating_from_dict(old)
    assert rounds.keys == (OURS, BASELINE)
    assert rounds.names == ("ours", "rasa init bot")
    assert rounds.name_of(BASELINE) == "rasa init bot"


def test_rounds_of_other_contenders_read_back_with_their_names() -> None:
    rounds = _scale_rounds([40.0, 44.0, 42.0, 46.0], [22.0, 20.0, 21.0, 21.0])
    saved = json.loads(json.dumps(alternating_to_dict(rounds)))
    assert saved["keys"] == [TWO, ONE] and saved["names"] == list(INSTANCE_NAMES)
    assert alternating_from_dict(saved) == rounds


def test_rows_and_notes_name_the_contenders_of_the_rounds() -> None:
    rounds = _scale_rounds([40.0, 44.0, 42.0, 46.0], [22.0, 20.0, 21.0, 21.0])
    rows = {row[0]: row[1:] for row in alternating_rows(rounds)}
    turns = rows["20 visitors, alternating rounds: turns, empty replies included"]
    assert turns == ("43.0 turns/s", "21.0 turns/s", "2.05×")  # A's column first
    assert alternating_notes(rounds).startswith(
        "2 instances 40.0, 1 instance 22.0, 1 instance 20.0, 2 instances 44.0, "
    )
    notes = alternating_load_notes(BenchSettings(), rounds, contender="profile")
    assert notes.startswith("both profiles up at once, 20 visitors on one of them")
    assert "ordered 2 instances, 1 instance, 1 instance, 2 instances (2 × 4 rounds)" in notes
    assert "each profile's mean" in notes
    assert rounds.answers_ratio == pytest.approx(43.0 / 21.0)


def _fake_launcher(key: str, up: list[str]):
    @contextlib.contextmanager
    def launch(log):
        up.append(key)
        try:
            yield RunningBot(f"http://{key}", 0.0, lambda: True)
        finally:
            up.remove(key)

    return launch


@pytest.mark.parametrize("order", [(TWO, ONE), (ONE, TWO)])
def test_the_rounds_run_abba_in_the_launchers_order_with_both_up(
    order: tuple[str, str], tmp_path, monkeypatch
) -> None:
    from evaluation.bench import run

    up: list[str] = []
    ran: list[tuple[str, list[str]]] = []  # who ran a round, and who was up meanwhile
    rates = {f"http://{TWO}": 40.0, f"http://{ONE}": 20.0}

    def fake_locust(bot, load, csv_prefix, slug, sampler):
        ran.append((bot.base_url.removeprefix("http://"), sorted(up)))
        return LevelResult(load.users, 100, 0, rates[bot.base_url], 1.0, 2.0, 3.0)

    monkeypatch.setattr(run, "BENCH_DIR", tmp_path)
    monkeypatch.setattr(run, "PAUSE_BETWEEN_LEVELS_S", 0.0)
    monkeypatch.setattr(run, "wait_for_first_answer", lambda *args, **kwargs: None)
    monkeypatch.setattr(run, "run_locust", fake_locust)
    launchers = {key: _fake_launcher(key, up) for key in order}
    names = dict(zip((TWO, ONE), INSTANCE_NAMES))
    rounds = run.measure_alternating(launchers, BenchSettings(alternating_blocks=2), names)

    first, second = order
    assert [who for who, _ in ran] == [first, second, second, first] * 2
    assert all(both == sorted(order) for _, both in ran)  # both up in every round
    assert up == []  # both stopped after the rounds
    assert rounds.keys == order and [who for who, _ in rounds.rounds] == [who for who, _ in ran]
    assert rounds.names == tuple(names[key] for key in order)
    assert rounds.users == run.ALTERNATING_LEVEL


def test_the_scale_out_verdict_checks_the_rounds_ratio_when_they_ran() -> None:
    rounds = _scale_rounds([35.0, 35.0, 35.0, 35.0], [20.0, 20.0, 20.0, 20.0])
    assert scale_verdict(1.9, 20, rounds) == (
        "Throughput at 20 visitors, 2 instances against 1, in alternating rounds (both "
        "profiles up at once): 1.75x (target ≥ 1.6x). Sequential, one profile minutes after "
        "the other: 1.90x at 20 visitors."
    )
    assert scale_verdict(1.9, 20, None) == (
        "Throughput at 20 visitors, 2 instances against 1: 1.90x (target ≥ 1.6x)."
    )
    assert scale_verdict(None, 100, None).endswith(": – (target ≥ 1.6x).")


def test_the_scale_out_table_and_page_carry_the_rounds(monkeypatch) -> None:
    from evaluation.bench import scale_out

    monkeypatch.setattr(scale_out, "machine_notes", lambda: "a test machine")
    rounds = _scale_rounds([40.0, 44.0, 42.0, 46.0], [22.0, 20.0, 21.0, 21.0])
    one = BotResult("1 instance", 30.0, 2**30, {20: _level(20, 10.0, 900, 1800, 2000)})
    two = BotResult("2 instances", 32.0, 2**31, {20: _level(20, 17.0, 500, 1000, 1500)})
    header, rows = scale_rows(two, one, rounds)
    labels = [row[0] for row in rows]
    assert "20 visitors, alternating rounds: turns, empty replies included" in labels
    page = scale_out.doc_section(header, rows, BenchSettings(levels=(1, 20)), "the verdict", rounds)
    assert "Alternating rounds: both profiles up at once" in page
    listing = "Alternating rounds, turns/s in the order run: 2 instances 40.0, 1 instance 22.0"
    assert listing in page
    assert page.rstrip().endswith("the verdict")
    without = scale_out.doc_section(header, scale_rows(two, one)[1], BenchSettings(), "v")
    assert "Alternating rounds" not in without


def test_the_scale_out_run_file_keeps_the_rounds(tmp_path, monkeypatch) -> None:
    from evaluation.bench import scale_out

    monkeypatch.setattr(scale_out, "RUN_FILE", tmp_path / "scale-out.json")
    one = BotResult("1 instance", 30.0, 2**30, {20: _level(20, 10.0, 900, 1800, 2000)})
    two = BotResult("2 instances", 32.0, 2**31, {20: _level(20, 17.0, 500, 1000, 1500)})
    rounds = _scale_rounds([40.0, 44.0, 42.0, 46.0], [22.0, 20.0, 21.0, 21.0])
    scale_out.save_run([one, two], rounds)
    saved = json.loads(scale_out.RUN_FILE.read_text(encoding="utf-8"))
    assert [bot_from_dict(bot) for bot in saved["bots"]] == [one, two]
    assert alternating_from_dict(saved["alternating"]) == rounds


@pytest.mark.parametrize(
    ("argv", "blocks"), [((), DEFAULT_ALTERNATING_BLOCKS), (("--alternating-blocks", "0"), 0)]
)
def test_bench_scale_runs_the_rounds_unless_told_not_to(argv, blocks, monkeypatch) -> None:
    from evaluation.bench import run, scale_out

    given: list[BenchSettings] = []
    monkeypatch.setattr(scale_out, "run", lambda settings: given.append(settings) or 0)
    assert run.main(["--scale-out", *argv]) == 0
    assert given[0].alternating_blocks == blocks
    assert given[0].open_loop_step_s is None


def test_the_baseline_is_rasa_inits_project_with_its_default_models_seeded(tmp_path) -> None:
    import yaml

    from evaluation.bench.run import BASELINE_SEED, SEEDED_COMPONENTS, scaffold_baseline

    scaffold_baseline(tmp_path)

    assert (tmp_path / "data" / "stories.yml").is_file()
    assert (tmp_path / "domain.yml").is_file()
    config = yaml.safe_load((tmp_path / "config.yml").read_text(encoding="utf-8"))
    components = [*config["pipeline"], *config["policies"]]
    names = [component["name"] for component in components]
    assert names[0] == "WhitespaceTokenizer" and "RulePolicy" in names
    seeds = {c["name"]: c.get("random_seed") for c in components if c["name"] in SEEDED_COMPONENTS}
    assert seeds == {name: BASELINE_SEED for name in SEEDED_COMPONENTS}
    diet = next(c for c in components if c["name"] == "DIETClassifier")
    assert diet["epochs"] == 100  # Rasa's default, not ours
