"""No deep copies for Rasa's debug log lines when debug logging is off.

Rasa's processor and its rule and memoization policies pass `copy.deepcopy(...)` of events,
states and entities to `structlogger.debug(...)` several times a turn. Python evaluates the
arguments before structlog drops the line, so the copies were made and thrown away on every
turn (~2% of a turn's GIL at 20 visitors, #14). In those modules `copy` now stands for an
object whose `deepcopy` copies only while Rasa logs at debug level; a test checks that every
`copy.` use in them is such a log argument.
"""

from __future__ import annotations

import copy
import importlib
import logging
from typing import Any

# Modules whose every use of `copy` is `copy.deepcopy(...)` as an argument of a debug log line.
MODULES = (
    "rasa.core.processor",
    "rasa.core.policies.memoization",
    "rasa.core.policies.rule_policy",
)
# Rasa sets its `logging` level and its structlog filter from the same --log-level / LOG_LEVEL.
RASA_LOGGER = "rasa"


class CopyForDebugLogs:
    """Stands for the `copy` module where Rasa deep-copies only what it logs at debug level."""

    @staticmethod
    def deepcopy(value: Any) -> Any:
        if logging.getLogger(RASA_LOGGER).isEnabledFor(logging.DEBUG):
            return copy.deepcopy(value)
        return value


def install_copies_for_debug_logs_only() -> None:
    for name in MODULES:
        importlib.import_module(name).copy = CopyForDebugLogs  # type: ignore[attr-defined]
