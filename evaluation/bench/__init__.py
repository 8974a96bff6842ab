"""`make bench`: our assistant and a `rasa init` bot under the same REST load, side by side.

Reads the runtime through `ops.harness` and the REST channel, like the rest of the evaluation;
never imported by the runtime. Generated run data (Locust CSVs, server logs, the baseline bot)
goes to build/bench/.
"""

from bot.paths import BUILD_DIR

BENCH_DIR = BUILD_DIR / "bench"
REST_WEBHOOK_PATH = "/webhooks/rest/webhook"
