"""`cyberweek` — the one command behind the Makefile: database, training, serving, evaluation."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence

from bot import paths


def _db_load(args: argparse.Namespace) -> int:
    from bot.db.seed import SeedError, load_seed

    if not args.discard_edits and _unexported_edits(args):
        return 1
    print(f"==> validating and loading the event database from {args.seed}", flush=True)
    try:
        report = load_seed(Path(args.seed), url=args.url)
    except SeedError as error:
        print(f"error: {error}\nNothing was loaded.", file=sys.stderr)
        return 1
    print(f"    loaded: {report}", flush=True)
    return 0


def _unexported_edits(args: argparse.Namespace) -> bool:
    """Whether staff edits would be lost by loading `args.seed` (said on stderr)."""
    from bot.db.edits import FactEditor

    editor = FactEditor(args.url)
    try:
        pending = editor.unexported_changes(Path(args.seed))
    finally:
        editor.dispose()
    if not pending:
        return False
    print(
        f"error: {len(pending)} change(s) made in the staff console since the last load are "
        f"not in {args.seed}; loading it would replace them:",
        file=sys.stderr,
    )
    for change in pending[-10:]:
        when = change.when.strftime("%Y-%m-%d %H:%M UTC")
        print(
            f"    {when} {change.editor}: {change.kind} {change.key} {change.field}",
            file=sys.stderr,
        )
    print(
        f"Run `cyberweek db export --out {args.seed}` first (and commit the files), or load "
        "with --discard-edits to replace them. Nothing was loaded.",
        file=sys.stderr,
    )
    return True


def _db_export(args: argparse.Namespace) -> int:
    from bot.db.seed.export import ExportError, export_seed

    print(f"==> exporting the event database to {args.out}", flush=True)
    try:
        report = export_seed(Path(args.out), url=args.url)
    except ExportError as error:
        print(f"error: {error}\nNothing was written.", file=sys.stderr)
        return 1
    print(f"    exported: {report}", flush=True)
    return 0


def _db_check(args: argparse.Namespace) -> int:
    from bot.db.seed import check_seed

    problems = check_seed(Path(args.seed))
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.seed}: all records valid")
    return 1 if problems else 0


def _train(args: argparse.Namespace) -> int:
    from ops.training import train_model

    return train_model(force=args.force)


def _eval(args: argparse.Namespace) -> int:
    from evaluation.run import run_from_args

    return run_from_args(args)


def _bench(args: argparse.Namespace) -> int:
    from evaluation.bench.run import run_from_args

    return run_from_args(args)


def _serve(args: argparse.Namespace) -> int:
    from ops.serve import serve

    return serve(rasa_port=args.port, host=args.host, actions_port=args.actions_port)


def _ops(args: argparse.Namespace) -> int:
    from ops import prod

    dirs = prod.ProfileDirs(Path(args.dir))
    try:
        if args.ops_command == "down":
            return prod.down(dirs)
        if args.ops_command == "status":
            return prod.status(dirs)
        if args.detach:
            return prod.up_detached(dirs, args.instances, args.port, not args.no_db_load)
        return prod.up(dirs, args.instances, args.port, load_db=not args.no_db_load)
    except prod.ProfileError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _add_ops_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ops.prod import DEFAULT_DIR, DEFAULT_PORT

    ops = commands.add_parser(
        "ops",
        help="the production profile: PostgreSQL, Redis, N Rasa instances behind nginx",
        description="The production profile on this machine, on loopback (README, "
        '"Production profile"): PostgreSQL, Redis, N pairs of action server + Rasa, nginx '
        "in front. Data and logs in --dir.",
    )
    ops_commands = ops.add_subparsers(dest="ops_command", required=True, metavar="ACTION")
    up = ops_commands.add_parser(
        "up", help="start the profile in the foreground (Ctrl-C or SIGTERM stops everything)"
    )
    up.add_argument("--instances", type=int, default=2, help="Rasa instances (default 2)")
    up.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"nginx's port (default {DEFAULT_PORT})"
    )
    up.add_argument(
        "--detach",
        action="store_true",
        help="run the launcher in the background; return once the profile answers",
    )
    up.add_argument(
        "--no-db-load",
        action="store_true",
        help="keep the event database as it is (default: `cyberweek db load` into PostgreSQL)",
    )
    down = ops_commands.add_parser("down", help="stop the profile; nothing of it is left running")
    status = ops_commands.add_parser("status", help="what runs, on which ports (exit 1: not all)")
    for sub in (up, down, status):
        sub.add_argument(
            "--dir", default=str(DEFAULT_DIR), help="the profile's data and logs (build/prod)"
        )
    ops.set_defaults(handler=_ops)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cyberweek",
        description="Cyber Security Week Assistant: event database, training, serving, help-desk staff.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="event database: load, check or export the seed data")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    load = db_commands.add_parser(
        "load", help="validate data/event/*.yml and load it in one transaction (idempotent)"
    )
    load.add_argument(
        "--discard-edits",
        action="store_true",
        help="load even though edits made in the staff console were not exported to the seed "
        "(they are replaced; the change log keeps them)",
    )
    check = db_commands.add_parser("check", help="validate the seed files without loading them")
    for sub in (load, check):
        sub.add_argument("--seed", default=str(paths.SEED_DIR), help="seed directory")
    export = db_commands.add_parser(
        "export",
        help="write the database (with the staff's edits) back to seed YAML files",
        description="Write every record of the event database to the seed files in --out, in "
        "the shape `cyberweek db load` reads (each section to the file holding it, sources "
        "kept), after checking they load. Comments are lost, except each file's opening "
        "comment block, which is kept under a line saying when the file was exported.",
    )
    export.add_argument(
        "--out", default=str(paths.SEED_DIR), help="seed directory to write (default: data/event)"
    )
    for sub in (load, export):
        sub.add_argument(
            "--url", help="SQLAlchemy URL (default: $DATABASE_URL or var/cyberweek.db)"
        )
    load.set_defaults(handler=_db_load)
    check.set_defaults(handler=_db_check)
    export.set_defaults(handler=_db_export)

    train = commands.add_parser("train", help="train the Rasa model into models/")
    train.add_argument("--force", action="store_true", help="train even if the model is current")
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "eval",
        help="score our pipeline and Rasa's default on the held-out set, plus end-to-end answers",
    )
    from evaluation.run import add_arguments as add_eval_arguments

    add_eval_arguments(evaluate)
    evaluate.set_defaults(handler=_eval)

    bench = commands.add_parser(
        "bench",
        help="load-test ours and a `rasa init` bot side by side -> docs/benchmarks.md",
    )
    from evaluation.bench.run import DESCRIPTION as BENCH_DESCRIPTION
    from evaluation.bench.run import add_arguments as add_bench_arguments

    bench.description = BENCH_DESCRIPTION
    add_bench_arguments(bench)
    bench.set_defaults(handler=_bench)

    serve = commands.add_parser(
        "serve", help="run the action server and Rasa (REST, website widget, WeChat) until Ctrl-C"
    )
    serve.add_argument("--port", type=int, default=5005, help="Rasa port (default 5005)")
    serve.add_argument(
        "--host", default="127.0.0.1", help="interface Rasa listens on (default loopback)"
    )
    serve.add_argument(
        "--actions-port",
        type=int,
        default=5055,
        help="action server port, on loopback (default 5055, as in endpoints.yml; another "
        "port makes Rasa use a temporary copy of endpoints.yml)",
    )
    serve.set_defaults(handler=_serve)

    _add_ops_parser(commands)

    staff = commands.add_parser("staff", help="help-desk staff accounts: add, list, disable")
    from ops.staff import add_arguments as add_staff_arguments

    add_staff_arguments(staff)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    started = time.monotonic()
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"\ninterrupted after {time.monotonic() - started:.0f} s", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
