"""Evaluation: held-out NLU scores and end-to-end answers, read from a running assistant.

Reads the runtime; the runtime never imports it.
"""

from bot.paths import EVALUATION_DATA_DIR

# Held-out NLU questions, one file per batch; never used for training.
HOLDOUT_DIR = EVALUATION_DATA_DIR / "holdout"
# End-to-end questions with the facts each answer must state, one file per category.
E2E_QUESTIONS_DIR = EVALUATION_DATA_DIR / "e2e"
