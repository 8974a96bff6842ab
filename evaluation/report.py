"""The evaluation report: one table of both pipelines, targets, slices and errors, in markdown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot import paths
from bot.lang import CJK_CHAR, LATIN_LETTER
from evaluation import HOLDOUT_DIR
from evaluation.e2e import E2EReport
from evaluation.nlu import NluReport, load_holdout
from ops.harness import DEMO_NOW

TARGETS = {
    "intent_accuracy": 0.97,
    "entity_f1": 0.95,
    "margin": 0.05,
    "training_seconds": 180,
    "e2e": 0.95,
    "final_blind": 0.93,  # the newest blind batch, scored once and never tuned on (#13)
}


@dataclass
class PipelineRow:
    name: str
    description: str
    report: NluReport
    training_seconds: float | None
    training_note: str


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def secs(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f} s"


def render(rows: list[PipelineRow], e2e: E2EReport | None, holdout_size: int) -> str:
    ours = rows[0]
    default = rows[-1] if len(rows) > 1 else None  # --skip-default: no comparison row
    out = [
        "# NLU evaluation",
        "",
        f"Written by `make eval` (`cyberweek eval`) on {datetime.now():%Y-%m-%d %H:%M}. Held-out "
        f"set: `data/evaluation/holdout/`, {holdout_size} questions never used for training "
        "(`tests/evaluation/test_holdout_disjoint.py`); clock fixed at "
        f"`CYBERWEEK_NOW={DEMO_NOW}` (Tuesday).",
        "",
        "| pipeline | intent accuracy | intent macro-F1 | entity F1 (all) | entity F1 "
        "(names) | wrong answers | clarifications | training |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.report
        out.append(
            f"| {row.name} | {pct(r.intent_accuracy)} | {pct(r.intent_macro_f1)} | "
            f"{pct(r.entity_f1)} | {pct(r.entity_f1_names)} | {r.confident_errors} | "
            f"{r.fallbacks} | {secs(row.training_seconds)} |"
        )
    out += [
        "",
        *(f"- **{row.name}**: {row.description}; training: {row.training_note}." for row in rows),
    ]
    out += [
        "- *wrong answers*: held-out questions given a wrong intent with enough confidence to be "
        "answered; *clarifications*: questions the FallbackClassifier turned into `nlu_fallback` "
        "(the assistant asks back with buttons). Both count as errors in the accuracy.",
        "- *entity F1 (names)*: event / venue / theme_day / forum_topic only; *all* adds "
        "date / day_offset.",
    ]
    if e2e is not None:
        out += [
            "",
            f"**End-to-end answer accuracy** (`data/evaluation/e2e/` through the REST channel, "
            f"our model): **{e2e.passed}/{e2e.total} = {pct(e2e.accuracy)}**.",
        ]
        if len(e2e.by_category) > 1:
            out += ["", "| end-to-end category | answered right |", "|---|---|"]
            out += [
                f"| {category} | {passed}/{total} = {pct(passed / total)} |"
                for category, (passed, total) in e2e.by_category.items()
            ]
    out += ["", "## Targets", "", "| target | value | met |", "|---|---|---|"]
    out += [
        f"| {name} | {value} | {'✓' if met else '✗'} |"
        for name, value, met in _targets(ours, default, e2e)
    ]
    out += [
        "",
        "## Entities per type",
        "",
        "| entity | support | " + " | ".join(f"{row.name} P / R / F1" for row in rows) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    types = sorted({t for row in rows for t in row.report.entity_scores})
    for entity_type in types:
        cells = []
        for row in rows:
            s = row.report.entity_scores.get(entity_type)
            cells.append(
                "–"
                if s is None
                else f"{pct(s['precision'])} / {pct(s['recall'])} / **{pct(s['f1'])}**"
            )
        support = ours.report.entity_scores.get(entity_type, {}).get("support", 0)
        out.append(f"| {entity_type} | {support} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Intent accuracy by how the question is written",
        "",
        "| written in | questions | " + " | ".join(row.name for row in rows) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    slices = [by_script(row.report) for row in rows]
    for script in SCRIPTS:
        total = slices[0].get(script, (0, 0))[1]
        cells = [pct(ok / n) if n else "–" for ok, n in (s.get(script, (0, 0)) for s in slices)]
        out.append(f"| {script} | {total} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Intent accuracy by held-out batch",
        "",
        "Each file in `data/evaluation/holdout/` is a batch written at one time; a `blind_*` batch "
        "was written without sight of the model's errors, and its header records the score "
        "it got before any tuning on it.",
        "",
        "| batch | questions | " + " | ".join(row.name for row in rows) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    batches = batch_texts(HOLDOUT_DIR)
    for batch, texts in batches.items():
        cells = [
            pct(ok / n) if n else "–" for ok, n in (_accuracy_on(row.report, texts) for row in rows)
        ]
        out.append(f"| {batch} | {len(texts)} | " + " | ".join(cells) + " |")
    for batch_dir in sorted(path for path in HOLDOUT_DIR.iterdir() if path.is_dir()):
        out += [
            "",
            f"Batch `{batch_dir.name}` by category:",
            "",
            "| category | questions | " + " | ".join(row.name for row in rows) + " |",
            "|---|---|" + "---|" * len(rows),
        ]
        for category, texts in category_texts(batch_dir).items():
            cells = [
                pct(ok / n) if n else "–"
                for ok, n in (_accuracy_on(row.report, texts) for row in rows)
            ]
            out.append(f"| {category} | {len(texts)} | " + " | ".join(cells) + " |")
    for row in rows:
        out += _errors_section(row, 15 if row is ours else 8)
    if e2e is not None and e2e.failures:
        out += ["", "## End-to-end failures", ""]
        for failure in e2e.failures:
            out.append(f"- {' → '.join(failure['ask'])}: {'; '.join(failure['problems'])}  ")
            out.append(f"  reply: {failure['reply'][:200]!r}")
    out += ["", "## Method", "", *_METHOD]
    return "\n".join(out) + "\n"


_METHOD = [
    "- Intent: the pipeline's final intent (after the FallbackClassifier); accuracy over all "
    "held-out questions, macro-F1 averaged over the intents of the held-out set.",
    "- Entities: the pipeline's final output, all extractors together (DIET, synonym mapper, "
    "EntityResolver, "
    "DateExtractor, DatabaseGazetteer), compared with the gold annotations as (entity, value) "
    "pairs per question; the value is what the actions use (database key, ISO date, +1/-1), so "
    "a right span with an unmapped value counts as wrong. Dates are annotated in the held-out "
    "set, resolved against the fixed clock.",
    "- Rasa's default pipeline cannot extract dates (no date component) and, with its "
    "WhitespaceTokenizer, no entity inside Chinese text without spaces; that is part of what "
    "the comparison shows.",
    "- The training data was improved by error analysis on earlier batches (never by copying "
    "their examples), which flatters their numbers. The honest figure for phrasings nobody has "
    "looked at is the newest `blind_*` batch's score before tuning (in its header): add a new "
    "blind batch before each round of tuning.",
    "- Training times are wall-clock on the machine that ran `make eval`, shared with other "
    "work; ours is the full `rasa train` (NLU and dialogue), the default's NLU only.",
]


SCRIPTS = ("Simplified Chinese", "Traditional Chinese", "English", "mixed zh/en", "other")


def script_of(text: str) -> str:
    """How a question is written: the held-out set's slices by script."""
    from bot.nlu.text import to_simplified

    cjk, latin = bool(CJK_CHAR.search(text)), bool(LATIN_LETTER.search(text))
    if cjk and latin:
        return "mixed zh/en"
    if cjk:
        return "Traditional Chinese" if to_simplified(text) != text else "Simplified Chinese"
    return "English" if latin else "other"


def batch_texts(holdout_dir: Path) -> dict[str, set[str]]:
    """The question texts of each held-out batch, by name: a file, or a directory whose files
    are the batch's categories."""
    return {
        path.name: {example.text for example in load_holdout(path)}
        for path in sorted(holdout_dir.iterdir())
        if path.suffix == ".yml" or path.is_dir()
    }


def newest_blind_batch(holdout_dir: Path) -> str | None:
    """The name of the last blind batch written (blind_6 after blind_5; by number)."""
    numbered = [
        (int(path.stem.split("_")[1]), path.name)
        for path in holdout_dir.iterdir()
        if path.stem.startswith("blind_") and path.stem.split("_")[1].isdigit()
    ]
    return max(numbered)[1] if numbered else None


def category_texts(batch_dir: Path) -> dict[str, set[str]]:
    """The question texts of a directory batch, by category (file name without .yml)."""
    return {
        path.stem: {example.text for example in load_holdout(path)}
        for path in sorted(batch_dir.glob("*.yml"))
    }


def _accuracy_on(report: NluReport, texts: set[str]) -> tuple[int, int]:
    """(correct, total) intents over the held-out questions in `texts`."""
    chosen = [p for p in report.predictions if p["text"] in texts]
    return sum(p["expected"] == p["predicted"] for p in chosen), len(chosen)


def by_script(report: NluReport) -> dict[str, tuple[int, int]]:
    """(correct, total) intents per script."""
    counts: dict[str, list[int]] = {}
    for p in report.predictions:
        entry = counts.setdefault(script_of(p["text"]), [0, 0])
        entry[0] += p["expected"] == p["predicted"]
        entry[1] += 1
    return {script: (ok, n) for script, (ok, n) in counts.items()}


def _targets(
    ours: PipelineRow, default: PipelineRow | None, e2e: E2EReport | None
) -> list[tuple[str, str, bool]]:
    o = ours.report
    rows = [
        (
            "intent accuracy ≥ 97%",
            pct(o.intent_accuracy),
            o.intent_accuracy >= TARGETS["intent_accuracy"],
        ),
        ("entity F1 ≥ 95%", pct(o.entity_f1), o.entity_f1 >= TARGETS["entity_f1"]),
    ]
    newest = newest_blind_batch(HOLDOUT_DIR)
    if newest is not None:
        ok, n = _accuracy_on(o, batch_texts(HOLDOUT_DIR)[newest])
        if n:
            rows.append(
                (
                    f"{newest} (newest blind batch) ≥ 93%",
                    pct(ok / n),
                    ok / n >= TARGETS["final_blind"],
                )
            )
    if default is not None:
        d = default.report
        for name, ours_value, default_value in (
            ("intent accuracy", o.intent_accuracy, d.intent_accuracy),
            ("entity F1", o.entity_f1, d.entity_f1),
        ):
            gain = ours_value - default_value
            met = gain >= TARGETS["margin"]
            rows.append((f"{name} ≥ default + 5 points", f"{100 * gain:+.1f} points", met))
    seconds = ours.training_seconds
    rows.append(
        (
            "full training ≤ 3 min",
            secs(seconds),
            seconds is not None and seconds <= TARGETS["training_seconds"],
        )
    )
    if e2e is not None:
        rows.append(("end-to-end answers ≥ 95%", pct(e2e.accuracy), e2e.accuracy >= TARGETS["e2e"]))
    return rows


def _errors_section(row: PipelineRow, limit: int) -> list[str]:
    r = row.report
    out = ["", f"## {row.name}: confusions and worst examples", ""]
    if r.confusions:
        out.append(
            "Confusion pairs (expected → predicted, count): "
            + "; ".join(f"{g} → {p} ({n})" for g, p, n in r.confusions[:10])
            + "."
        )
    out += ["", "Intent errors, most confident first:", ""]
    out += [
        f"- `{e['text']}`: expected {e['expected']}, got {e['predicted']} ({e['confidence']:.2f})"
        for e in r.intent_errors[:limit]
    ] or ["- none"]
    out += ["", f"Entity errors ({len(r.entity_errors)} questions):", ""]
    out += [
        f"- `{e['text']}`: missing {_pairs(e['missing'])}, spurious {_pairs(e['spurious'])}"
        for e in r.entity_errors[:limit]
    ] or ["- none"]
    return out


def _pairs(pairs: list[list[str]]) -> str:
    return ", ".join(f"{t}={v}" for t, v in pairs) if pairs else "–"


def write_report(
    rows: list[PipelineRow], e2e: E2EReport | None, holdout_size: int, doc: Path | None
) -> None:
    text = render(rows, e2e, holdout_size)
    print("\n" + text.split("\n## Entities per type")[0], flush=True)
    if doc is not None:
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(text, encoding="utf-8")
        shown = doc.relative_to(paths.REPO_ROOT) if doc.is_relative_to(paths.REPO_ROOT) else doc
        print(f"==> written to {shown}", flush=True)
