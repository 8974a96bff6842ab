"""Where the project's files live, resolved from the repository root."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT / "data"
SEED_DIR = DATA_DIR / "event"
JIEBA_DIR = DATA_DIR / "jieba"
BUILD_DIR = REPO_ROOT / "build"
# Local state: the SQLite event database and conversations (endpoints.yml) on a laptop.
VAR_DIR = REPO_ROOT / "var"
MODELS_DIR = REPO_ROOT / "models"
MODEL_NAME = "cyberweek"
MODEL_PATH = MODELS_DIR / f"{MODEL_NAME}.tar.gz"
CONFIG_FILE = REPO_ROOT / "config.yml"
DOMAIN_FILE = REPO_ROOT / "domain.yml"
ENDPOINTS_FILE = REPO_ROOT / "endpoints.yml"
CREDENTIALS_FILE = REPO_ROOT / "credentials.yml"
# What `make eval` reads (held-out NLU batches, end-to-end questions); never used for training.
EVALUATION_DATA_DIR = DATA_DIR / "evaluation"
# The help desk's opening hours (data, not code: the organisers set them).
DESK_HOURS_FILE = DATA_DIR / "desk" / "hours.yml"
