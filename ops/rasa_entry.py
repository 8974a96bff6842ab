"""`python -m ops.rasa_entry ARGS` runs `rasa ARGS`, minus two start-up costs of Rasa 3.6.

Every Rasa invocation of the project goes through here; build it with `rasa_command`.

- skops (pinned by Rasa to 0.9, it persists our blend's classifier) is imported before Rasa:
  its import scans `sys.modules` per numpy/scipy ufunc, which is slow after TensorFlow.
- each training-data schema is checked once instead of on every entity annotation
  (`jsonschema.validate` re-checks the constant schema per call); invalid annotations still
  go to Rasa's own function, so errors read the same.

Rasa's telemetry is switched off for every invocation (stock included): when on, Rasa sends
crash reports to Sentry, and a traceback can hold a visitor's message. An operator who wants it
sets RASA_TELEMETRY_ENABLED=true explicitly.

`python -m ops.rasa_entry --stock ARGS` skips both fixes: Rasa as shipped, for the evaluation's
baseline (Rasa's default pipeline). Measurements: docs/decisions.md.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

STOCK_FLAG = "--stock"


def rasa_command(*args: str, stock: bool = False) -> list[str]:
    """The command line of `rasa ARGS` (through this module; `stock`: without the fixes)."""
    return [sys.executable, "-m", "ops.rasa_entry", *([STOCK_FLAG] if stock else []), *args]


@functools.lru_cache(maxsize=32)
def _validator(schema_json: str) -> Any:
    import jsonschema

    schema = json.loads(schema_json)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install_fast_training_data_validation() -> None:
    """Makes Rasa's `validate_training_data` check each schema once instead of per call."""
    import jsonschema
    import rasa.shared.utils.validation as validation

    rasa_validate = validation.validate_training_data
    if getattr(rasa_validate, "checks_schema_once", False):
        return

    def validate_training_data(json_data: dict[str, Any], schema: dict[str, Any]) -> None:
        validator = _validator(json.dumps(schema, sort_keys=True))
        if jsonschema.exceptions.best_match(validator.iter_errors(json_data)) is not None:
            rasa_validate(json_data, schema)  # raises Rasa's SchemaValidationError

    validate_training_data.checks_schema_once = True  # type: ignore[attr-defined]
    validation.validate_training_data = validate_training_data


def main(argv: list[str] | None = None) -> None:
    """Runs Rasa's command line with `argv` (default: ours, minus --stock)."""
    args = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    stock = bool(args) and args[0] == STOCK_FLAG
    if stock:
        args = args[1:]
    else:
        import skops.io  # noqa: F401  -- must precede Rasa's imports, see above

        install_fast_training_data_validation()
    from rasa.__main__ import main as rasa_main

    sys.argv = [sys.argv[0], *args]  # Rasa's parser reads sys.argv
    rasa_main()


if __name__ == "__main__":
    main()
