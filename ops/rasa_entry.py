"""`python -m ops.rasa_entry ARGS` runs `rasa ARGS`, minus two start-up costs of Rasa 3.6.

Both were found with py-spy in `rasa train` and together cost ~20 s of a ~3-minute training:

- skops (pinned by Rasa to 0.9) persists and loads the LogisticRegressionClassifier under our
  blend. Importing `skops.io` scans `sys.modules` once for every numpy/scipy ufunc; after Rasa
  has imported TensorFlow (~4,500 modules) that import takes 7.5 s, imported first 1.7 s.
  Training and every server start pay it, so both go through here.
- Rasa checks every `{"entity": ..., "value": ...}` annotation of the training data with
  `jsonschema.validate`, which also re-validates the (constant) schema against jsonschema's
  meta-schema on every call: 5.8 s per load of our training data, which `rasa train` loads
  more than once. The replacement below checks each schema once and validates with the same
  validator; any invalid annotation still goes to Rasa's own function, so errors read the same.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any

#: The command prefix that replaces `python -m rasa`.
RASA_COMMAND = [sys.executable, "-m", "ops.rasa_entry"]


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


def main() -> None:
    import skops.io  # noqa: F401  -- must precede Rasa's imports, see above

    install_fast_training_data_validation()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
