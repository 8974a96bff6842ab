"""`cyberweek eval`: our pipeline against Rasa's default, on questions neither was trained on.

Steps (each prints progress; the whole run takes roughly 5-10 minutes on 2 cores):

1. a freshly seeded copy of the event database for the evaluation (build/eval/event.db);
2. our model: `ops.training.train_model()`, which skips training when the model is current;
   the training time is the one it recorded when it last trained (models/cyberweek.train.json);
3. Rasa's default pipeline, NLU only, on the same training data (data/nlu + the generated
   lookup tables) into build/eval/default/, retrained only when its inputs changed. "Default"
   is the config `rasa init` writes: `recipe: default.v1`, no pipeline, no policies, so Rasa
   auto-configures them. `language: en` as `rasa init` writes it, because with `language: zh`
   Rasa refuses the auto-configured pipeline ("The component 'WhitespaceTokenizer' does not
   support the currently specified language 'zh'");
4. both models scored on data/evaluation/holdout/ (evaluation.nlu, one process per model);
5. end-to-end answers: data/evaluation/e2e/*.yml through the REST channel (evaluation.e2e);
6. one table with both rows, printed and written to docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bot import paths
from evaluation import HOLDOUT_DIR
from evaluation.e2e import E2EReport, seeded_database
from evaluation.progress import quiet_env, say, step
from evaluation.nlu import NluReport, load_holdout, report_from_json, report_to_json
from evaluation.report import PipelineRow, write_report
from ops.harness import DEMO_NOW
from ops.rasa_entry import rasa_command
from ops.training import TRAIN_INFO_FILE

EVAL_DIR = paths.BUILD_DIR / "eval"
DEFAULT_DIR = EVAL_DIR / "default"
OURS_DESCRIPTION = (
    "config.yml (`bot/nlu` components, jieba, DIET blended with a logistic regression)"
)
DOC_FILE = paths.REPO_ROOT / "docs" / "evaluation.md"

DEFAULT_CONFIG = """\
# Rasa's default pipeline, as `rasa init` writes config.yml: no pipeline and no policies, so
# Rasa auto-configures them (Rasa writes the chosen pipeline below as comments when training).
# language: zh is not possible: Rasa rejects its auto-configured WhitespaceTokenizer for zh.
recipe: default.v1
language: en
assistant_id: default-pipeline-baseline
pipeline:
policies:
"""


def _env(db_url: str) -> dict[str, str]:
    return quiet_env({"DATABASE_URL": db_url, "CYBERWEEK_NOW": DEMO_NOW})


# ------------------------------------------------------------------ training
def our_training_seconds() -> tuple[float | None, str]:
    """The time `cyberweek train` took when it last trained the current model."""
    from ops.training import fingerprint, training_inputs

    if not TRAIN_INFO_FILE.exists():
        return None, "not recorded (trained before timing was kept; `cyberweek train --force`)"
    info = json.loads(TRAIN_INFO_FILE.read_text())
    if info.get("fingerprint") != fingerprint(training_inputs()):
        return None, "not recorded for the current inputs"
    return float(info["seconds"]), f"full `rasa train` (NLU + dialogue), {info.get('cpus')} CPUs"


def train_candidate(out_dir: Path, db_url: str) -> tuple[Path, float]:
    """Our config and data trained into `out_dir` (full `rasa train`, timed), leaving the
    served model in models/ alone: for trying a change before committing to it."""
    from ops.training import rasa_train_command, uncached_env

    out_dir.mkdir(parents=True, exist_ok=True)
    say(f"training a candidate model into {out_dir} (full `rasa train`)")
    started = time.monotonic()
    command = rasa_train_command(out_dir, "candidate")
    result = subprocess.run(command, cwd=paths.REPO_ROOT, env=uncached_env(_env(db_url)))
    if result.returncode != 0:
        raise RuntimeError("training the candidate failed (see the output above)")
    seconds = time.monotonic() - started
    (out_dir / "train.json").write_text(json.dumps({"seconds": seconds, "cpus": os.cpu_count()}))
    return out_dir / "candidate.tar.gz", seconds


def train_default(db_url: str) -> tuple[Path, float | None]:
    """Rasa's default pipeline, NLU only, on our training data; reused when current."""
    from ops.training import uncached_env, write_lookup_tables

    lookups = write_lookup_tables()
    data_dir = DEFAULT_DIR / "data"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    sources = sorted((paths.DATA_DIR / "nlu").glob("*.yml")) + [lookups]
    for source in sources:
        shutil.copyfile(source, data_dir / source.name)
    digest = hashlib.sha256(DEFAULT_CONFIG.encode())
    for source in sources:
        digest.update(source.name.encode() + source.read_bytes())
    current = digest.hexdigest()
    model = DEFAULT_DIR / "default.tar.gz"
    info_file = DEFAULT_DIR / "train.json"
    info = json.loads(info_file.read_text()) if info_file.exists() else {}
    if model.exists() and info.get("fingerprint") == current:
        say(f"default model is current ({model}); skipping training")
        return model, info.get("seconds")
    config = DEFAULT_DIR / "config.yml"
    config.write_text(DEFAULT_CONFIG)
    print(
        "    training Rasa's default pipeline (NLU only, 100 epochs: about 8-12 minutes on 2 cores)",
        flush=True,
    )
    started = time.monotonic()
    # Rasa as shipped (--stock: without ops.rasa_entry's start-up fixes): it is the baseline.
    command = rasa_command(
        "train",
        "nlu",
        "--config",
        str(config),
        "--nlu",
        str(data_dir),
        "--out",
        str(DEFAULT_DIR),
        "--fixed-model-name",
        "default",
        stock=True,
    )
    result = subprocess.run(command, cwd=paths.REPO_ROOT, env=uncached_env(_env(db_url)))
    if result.returncode != 0:
        raise RuntimeError("training the default pipeline failed (see the output above)")
    seconds = time.monotonic() - started
    info_file.write_text(json.dumps({"fingerprint": current, "seconds": seconds}))
    return model, seconds


# ------------------------------------------------------------------ scoring
def score(model: Path, name: str, db_url: str) -> NluReport:
    """evaluation.nlu in a process of its own (one TensorFlow model per process)."""
    out = EVAL_DIR / f"{name}.nlu.json"
    command = [
        sys.executable,
        "-m",
        "evaluation.nlu",
        "--model",
        str(model),
        "--holdout",
        str(HOLDOUT_DIR),
        "--json",
        str(out),
    ]
    result = subprocess.run(command, cwd=paths.REPO_ROOT, env=_env(db_url))
    if result.returncode != 0:
        raise RuntimeError(f"scoring {model} failed (see the output above)")
    return report_from_json(out.read_text(encoding="utf-8"))


# ------------------------------------------------------------------ the command
def run(
    model: Path | None = None,
    skip_default: bool = False,
    skip_e2e: bool = False,
    doc: Path | None = DOC_FILE,
    candidate: bool = False,
) -> int:
    from evaluation.e2e import evaluate as evaluate_e2e
    from evaluation.e2e import print_report
    from evaluation.nlu import summary_line
    from ops.training import train_model

    started = time.monotonic()
    total = 6
    EVAL_DIR.mkdir(parents=True, exist_ok=True)
    step(1, total, "a fresh copy of the event database for the evaluation")
    db_url = seeded_database(EVAL_DIR / "event.db")
    step(
        2,
        total,
        "our pipeline (config.yml): "
        + ("train a candidate model" if candidate else "train if its inputs changed"),
    )
    if candidate:
        model, seconds = train_candidate(EVAL_DIR / "candidate", db_url)
        note = f"full `rasa train` (NLU + dialogue) of a candidate, {os.cpu_count()} CPUs"
    elif model is None:
        if train_model() != 0:
            return 1
        model = paths.MODEL_PATH
        seconds, note = our_training_seconds()
    else:
        seconds, note = None, f"not measured (given model {model})"
    rows_in: list[tuple[str, str, Path, float | None, str]] = [
        ("ours", OURS_DESCRIPTION, model, seconds, note)
    ]
    step(3, total, "Rasa's default pipeline (NLU only) on the same training data")
    if skip_default:
        print("    skipped (--skip-default)")
    else:
        default_model, default_seconds = train_default(db_url)
        rows_in.append(
            (
                "Rasa default",
                "`recipe: default.v1`, auto-configured pipeline (as `rasa init`)",
                default_model,
                default_seconds,
                "`rasa train nlu`",
            )
        )
    step(4, total, f"scoring on the held-out set ({HOLDOUT_DIR.name}/)")
    rows = []
    for name, description, path, train_s, train_note in rows_in:
        say(f"{name}: {path}")
        report = score(path, name.split()[-1].lower(), db_url)
        print("    " + summary_line(report), flush=True)
        rows.append(PipelineRow(name, description, report, train_s, train_note))
    step(5, total, "end-to-end answers through the REST channel")
    e2e = None
    if skip_e2e:
        print("    skipped (--skip-e2e)")
    else:
        e2e = evaluate_e2e(model, db_url)
        print_report(e2e)
        (EVAL_DIR / "e2e.json").write_text(json.dumps(e2e.__dict__, ensure_ascii=False, indent=1))
    step(6, total, "the report")
    save_run(rows, e2e)
    write_report(rows, e2e, len(load_holdout(HOLDOUT_DIR)), doc)
    say(f"({time.monotonic() - started:.0f} s in all)")
    return 0


RUN_FILE = EVAL_DIR / "run.json"


def save_run(rows: list[PipelineRow], e2e: E2EReport | None) -> None:
    """What the report is made of, so that `--report-only` can write it again."""
    data = {
        "rows": [
            {
                "name": row.name,
                "description": row.description,
                "training_seconds": row.training_seconds,
                "training_note": row.training_note,
                "report": json.loads(report_to_json(row.report)),
            }
            for row in rows
        ],
        "e2e": None if e2e is None else e2e.__dict__,
    }
    RUN_FILE.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


def report_only(doc: Path | None) -> int:
    """The report again from the last run's results (no training, no scoring)."""
    if not RUN_FILE.exists():
        print(f"error: no saved run ({RUN_FILE}); run `cyberweek eval` first", file=sys.stderr)
        return 1
    data = json.loads(RUN_FILE.read_text(encoding="utf-8"))
    rows = [
        PipelineRow(
            row["name"],
            row["description"],
            report_from_json(json.dumps(row["report"])),
            row["training_seconds"],
            row["training_note"],
        )
        for row in data["rows"]
    ]
    e2e = E2EReport(**data["e2e"]) if data["e2e"] else None
    write_report(rows, e2e, rows[0].report.examples, doc)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cyberweek eval")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", type=Path, help="score this model instead of training ours")
    parser.add_argument(
        "--candidate",
        action="store_true",
        help="train config.yml + data into build/eval/candidate (models/ untouched) and score it",
    )
    parser.add_argument("--skip-default", action="store_true", help="no default-pipeline row")
    parser.add_argument("--skip-e2e", action="store_true", help="no end-to-end answer check")
    parser.add_argument("--doc", type=Path, default=DOC_FILE, help="markdown report file")
    parser.add_argument("--no-doc", action="store_true", help="print only, write no report")
    parser.add_argument(
        "--report-only", action="store_true", help="write the report of the last run again"
    )


def run_from_args(args: argparse.Namespace) -> int:
    if args.report_only:
        return report_only(None if args.no_doc else args.doc)
    return run(
        model=args.model,
        skip_default=args.skip_default,
        skip_e2e=args.skip_e2e,
        doc=None if args.no_doc else args.doc,
        candidate=args.candidate,
    )


if __name__ == "__main__":
    sys.exit(main())
