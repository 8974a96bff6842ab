"""Scores a trained model on the held-out NLU set: intents, entities, confusions, worst cases.

Run in its own process per model (`python -m evaluation.nlu --model M --json OUT`), so two
TensorFlow models never share memory and each sees the clock and database it is given in the
environment (CYBERWEEK_NOW, DATABASE_URL). `cyberweek eval` does this for both pipelines.

What is scored is what the assistant acts on:

* the intent is the pipeline's final one, after the FallbackClassifier: a held-out question
  answered with `nlu_fallback` counts as an error (a clarifying question is better than a
  wrong answer, so "confidently wrong" is reported separately);
* entities are the pipeline's final output, all extractors together (DIET, synonym mapper,
  DateExtractor, DatabaseGazetteer), compared with the gold annotations as (entity, value)
  pairs per message — the value after synonym mapping is the database key or ISO date the
  action uses, so a span tagged with the right type but an unmapped value ("开幕试") is wrong.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from bot.lang import is_language_entity

FALLBACK_INTENT = "nlu_fallback"


@dataclass(frozen=True)
class GoldExample:
    text: str
    intent: str
    entities: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Prediction:
    text: str
    gold_intent: str
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]
    gold_entities: tuple[tuple[str, str], ...]
    entities: tuple[tuple[str, str], ...]

    @property
    def intent_ok(self) -> bool:
        return self.intent == self.gold_intent

    @property
    def entities_ok(self) -> bool:
        return Counter(self.entities) == Counter(self.gold_entities)


@dataclass
class EntityScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def support(self) -> int:
        return self.tp + self.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def add(self, other: EntityScore) -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn


@dataclass
class NluReport:
    """Everything `cyberweek eval` prints and writes, for one model."""

    model: str
    examples: int
    intent_accuracy: float
    intent_macro_f1: float
    fallbacks: int  # held-out questions answered with nlu_fallback (a clarifying question)
    confident_errors: int  # wrong intent and no fallback: the visitor gets a wrong answer
    entity_scores: dict[str, dict[str, float]]
    entity_f1: float  # micro over every annotated entity type
    entity_f1_names: float  # micro over the database-name types (DIET + gazetteer)
    confusions: list[tuple[str, str, int]]
    intent_errors: list[dict[str, Any]]
    entity_errors: list[dict[str, Any]]
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    # every held-out question: text, expected intent, top of the ranking (for threshold studies)
    predictions: list[dict[str, Any]] = field(default_factory=list)


DATE_TYPES = ("date", "day_offset")


def load_holdout(path: Path) -> list[GoldExample]:
    """The held-out examples with their gold (entity, value) pairs."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = []
    for message in load_data(str(path)).intent_examples:
        entities = tuple((str(e["entity"]), str(e["value"])) for e in message.get("entities") or [])
        examples.append(GoldExample(message.get("text"), message.get("intent"), entities))
    return examples


def predict(
    model_path: Path, examples: Sequence[GoldExample], progress: bool = True
) -> list[Prediction]:
    """Parses every example with the model, in process."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model_path))

    async def parse_all() -> list[Prediction]:
        out = []
        for number, example in enumerate(examples, 1):
            parsed = await agent.parse_message(example.text)
            out.append(_prediction(example, parsed))
            if progress and (number % 50 == 0 or number == len(examples)):
                print(f"    parsed {number}/{len(examples)}", flush=True)
        return out

    return asyncio.run(parse_all())


def _prediction(example: GoldExample, parsed: dict[str, Any]) -> Prediction:
    intent = parsed.get("intent") or {}
    ranking = tuple(
        (str(r.get("name")), round(float(r.get("confidence") or 0.0), 4))
        for r in (parsed.get("intent_ranking") or [])[:4]
    )
    # The message's language (bot/nlu/language_tagger.py) is not an annotated entity.
    entities = tuple(
        (str(e.get("entity")), str(e.get("value")))
        for e in parsed.get("entities") or []
        if not is_language_entity(e)
    )
    return Prediction(
        text=example.text,
        gold_intent=example.intent,
        intent=str(intent.get("name")),
        confidence=round(float(intent.get("confidence") or 0.0), 4),
        ranking=ranking,
        gold_entities=example.entities,
        entities=entities,
    )


def score(model: str, predictions: Sequence[Prediction], worst: int = 20) -> NluReport:
    """Intent accuracy and macro-F1, entity P/R/F1 per type, confusion pairs, worst examples."""
    total = len(predictions)
    correct = sum(p.intent_ok for p in predictions)
    per_intent = _per_intent_f1(predictions)
    by_type: dict[str, EntityScore] = {}
    for p in predictions:
        gold, found = Counter(p.gold_entities), Counter(p.entities)
        for pair in gold | found:
            entity_score = by_type.setdefault(pair[0], EntityScore())
            hit = min(gold[pair], found[pair])
            entity_score.tp += hit
            entity_score.fn += gold[pair] - hit
            entity_score.fp += found[pair] - hit
    overall, names = EntityScore(), EntityScore()
    for entity_type, entity_score in by_type.items():
        overall.add(entity_score)
        if entity_type not in DATE_TYPES:
            names.add(entity_score)
    errors = [p for p in predictions if not p.intent_ok]
    confusions = Counter((p.gold_intent, p.intent) for p in errors)
    return NluReport(
        model=model,
        examples=total,
        intent_accuracy=correct / total if total else 0.0,
        intent_macro_f1=sum(per_intent.values()) / len(per_intent) if per_intent else 0.0,
        fallbacks=sum(p.intent == FALLBACK_INTENT for p in predictions),
        confident_errors=sum(p.intent != FALLBACK_INTENT for p in errors),
        entity_scores={
            t: {
                "precision": s.precision,
                "recall": s.recall,
                "f1": s.f1,
                "support": s.support,
                "tp": s.tp,
                "fp": s.fp,
                "fn": s.fn,
            }
            for t, s in sorted(by_type.items())
        },
        entity_f1=overall.f1,
        entity_f1_names=names.f1,
        confusions=[(g, p, n) for (g, p), n in confusions.most_common()],
        intent_errors=[
            {
                "text": p.text,
                "expected": p.gold_intent,
                "predicted": p.intent,
                "confidence": p.confidence,
                "ranking": p.ranking,
            }
            for p in sorted(errors, key=lambda p: (p.intent == FALLBACK_INTENT, -p.confidence))
        ][: worst * 3],
        entity_errors=[
            {
                "text": p.text,
                "missing": sorted((Counter(p.gold_entities) - Counter(p.entities)).elements()),
                "spurious": sorted((Counter(p.entities) - Counter(p.gold_entities)).elements()),
            }
            for p in predictions
            if not p.entities_ok
        ],
        per_intent_f1=per_intent,
        predictions=[
            {"text": p.text, "expected": p.gold_intent, "predicted": p.intent, "ranking": p.ranking}
            for p in predictions
        ],
    )


def _per_intent_f1(predictions: Sequence[Prediction]) -> dict[str, float]:
    """F1 of every intent that has held-out examples (a prediction of nlu_fallback is a miss
    for the expected intent and is not a class of its own)."""
    intents = sorted({p.gold_intent for p in predictions})
    f1 = {}
    for intent in intents:
        tp = sum(p.gold_intent == intent and p.intent == intent for p in predictions)
        fp = sum(p.gold_intent != intent and p.intent == intent for p in predictions)
        fn = sum(p.gold_intent == intent and p.intent != intent for p in predictions)
        f1[intent] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return f1


def evaluate_model(model_path: Path, holdout: Path, progress: bool = True) -> NluReport:
    started = time.monotonic()
    examples = load_holdout(holdout)
    predictions = predict(model_path, examples, progress)
    report = score(model_path.name, predictions)
    report.seconds = time.monotonic() - started
    return report


def report_to_json(report: NluReport) -> str:
    return json.dumps(asdict(report), ensure_ascii=False, indent=1)


def report_from_json(text: str) -> NluReport:
    data = json.loads(text)
    data["confusions"] = [tuple(c) for c in data["confusions"]]
    return NluReport(**data)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a model on the held-out NLU set.")
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--holdout", type=Path, default=_default_holdout())
    parser.add_argument("--json", type=Path, help="write the report here")
    parser.add_argument("--quiet", action="store_true", help="no progress output")
    args = parser.parse_args(argv)
    from ops.harness import DEMO_NOW

    os.environ.setdefault("CYBERWEEK_NOW", DEMO_NOW)
    _quiet_rasa()
    report = evaluate_model(args.model, args.holdout, progress=not args.quiet)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(report_to_json(report), encoding="utf-8")
    print(summary_line(report))
    return 0


def _quiet_rasa() -> None:
    """Warnings only: Rasa logs every parsed message at debug level by default."""
    import warnings

    from rasa.utils.common import configure_logging_and_warnings
    from rasa.utils.log_utils import configure_structlog

    warnings.filterwarnings("ignore")
    configure_logging_and_warnings(logging.WARNING)
    configure_structlog(logging.WARNING)


def summary_line(report: NluReport) -> str:
    return (
        f"{report.model}: intent accuracy {report.intent_accuracy:.3f}, macro-F1 "
        f"{report.intent_macro_f1:.3f}, entity F1 {report.entity_f1:.3f} (names "
        f"{report.entity_f1_names:.3f}), {report.confident_errors} confident errors, "
        f"{report.fallbacks} fallbacks, {report.examples} examples"
    )


def _default_holdout() -> Path:
    from evaluation import HOLDOUT_DIR

    return HOLDOUT_DIR


if __name__ == "__main__":
    sys.exit(main())
