"""`python -m ops.action_entry ARGS` runs rasa-sdk's action server (`python -m rasa_sdk ARGS`),
on loopback and, when a shared secret is set, only for the Rasa that knows it.

Every action server of the project goes through here; build its command and environment with
`action_server_command` and `action_server_env` (ops.harness does, for `cyberweek serve`, the
tests and the production profile).

- **Loopback.** rasa-sdk 3.6 has no `--host` option; its `run()` binds to `SANIC_HOST`, else
  0.0.0.0 (every interface). It is forced to 127.0.0.1 here: only the Rasa beside it calls it
  (README "Production profile": each Rasa and its action server run in pairs).
- **Shared secret.** With `CYBERWEEK_ACTION_SECRET` set (the production profile generates it
  once, ops/prod.py), a request without the header `X-Cyberweek-Action-Secret` carrying it
  gets 401 before rasa-sdk reads it; Rasa sends the header (`action_endpoint.headers` in
  deploy/endpoints.prod.yml). `GET /health` stays open: it tells nothing and the harness polls
  it. The middleware is attached through rasa-sdk's own plugin hook
  (`attach_sanic_app_extensions`), which `rasa_sdk.endpoint.run` calls on the app it creates.
- **Kept answers.** The actions' event database keeps its answers between turns while its
  data version stands (bot/db/kept_reads.py), unless `CYBERWEEK_KEEP_ANSWERS=0`.
- **No access log.** Sanic builds an access record for every request even when rasa-sdk's
  library log level (ERROR) then drops it: ~5% of the action server's CPU at 20 visitors
  (py-spy, #14), for a server only the Rasa beside it calls. `SANIC_ACCESS_LOG=true` in the
  operator's environment turns it back on.
- **Only the environment it needs.** `action_server_env` keeps the database URL, the demo
  clock, the secret and the system's basics; no WeChat secrets, no widget-session key, no
  store passwords of Rasa's.
"""

from __future__ import annotations

import hmac
import os
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pluggy

from bot.db.kept_reads import KEEP_ANSWERS_ENV

if TYPE_CHECKING:  # Sanic is imported by the server only; ops.harness imports this module
    from sanic import Sanic
    from sanic.request import Request
    from sanic.response import HTTPResponse

LOOPBACK = "127.0.0.1"
SECRET_ENV = "CYBERWEEK_ACTION_SECRET"
SECRET_HEADER = "X-Cyberweek-Action-Secret"
OPEN_PATHS = frozenset({"/health"})
# Sanic reads it when the app is created (sanic.config: SANIC_ prefix, "false" -> False)
ACCESS_LOG_ENV = "SANIC_ACCESS_LOG"
NO_ACCESS_LOG = "false"

# What the actions read (bot.db: DATABASE_URL; bot.clock: CYBERWEEK_NOW), what rasa-sdk reads,
# the secret, and what any Python process needs from its system.
NEEDED_ENV = frozenset(
    {
        "DATABASE_URL",
        "CYBERWEEK_NOW",
        KEEP_ANSWERS_ENV,
        SECRET_ENV,
        "ACTION_SERVER_SANIC_WORKERS",
        ACCESS_LOG_ENV,
        "LOG_LEVEL_LIBRARIES",
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "VIRTUAL_ENV",
        "PYTHONPATH",
        "PYTHONHASHSEED",
        "PYTHONUNBUFFERED",
        "PYTHONDONTWRITEBYTECODE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)
NEEDED_PREFIXES = ("LC_",)

hookimpl = pluggy.HookimplMarker("rasa_sdk")


def action_server_command(port: int) -> list[str]:
    return [sys.executable, "-m", "ops.action_entry", "--actions", "actions", "--port", str(port)]


def action_server_env(env: Mapping[str, str]) -> dict[str, str]:
    """The part of `env` the action server may see (a whitelist: a secret added to the
    operator's environment later stays out by default)."""
    kept = {
        name: value
        for name, value in env.items()
        if name in NEEDED_ENV or name.startswith(NEEDED_PREFIXES)
    }
    return {
        ACCESS_LOG_ENV: NO_ACCESS_LOG,  # unless the operator set it (kept overrides)
        **kept,
        "SANIC_HOST": LOOPBACK,
        "RASA_TELEMETRY_ENABLED": "false",
    }


def require_shared_secret(app: Sanic, secret: str) -> None:
    """Answers 401 to any request but GET /health whose header does not carry `secret`."""
    from sanic import response

    expected = secret.encode()

    @app.middleware("request")
    async def check_shared_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if hmac.compare_digest(given, expected):
            return None
        return response.json({"error": "unauthorized"}, status=401)


class SharedSecretPlugin:
    """rasa-sdk's plugin hook, called with the app its `run()` creates."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    @hookimpl
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        require_shared_secret(app, self.secret)


def main(argv: Sequence[str] | None = None) -> None:
    from rasa_sdk.__main__ import main as rasa_sdk_main
    from rasa_sdk.plugin import plugin_manager

    args = sys.argv[1:] if argv is None else list(argv)
    os.environ["SANIC_HOST"] = LOOPBACK  # forced: whatever the environment says
    os.environ.setdefault(KEEP_ANSWERS_ENV, "1")  # bot/db/kept_reads.py, unless the operator says
    os.environ.setdefault(ACCESS_LOG_ENV, NO_ACCESS_LOG)
    secret = os.environ.get(SECRET_ENV, "").strip()
    if secret:
        plugin_manager().register(SharedSecretPlugin(secret))
    sys.argv = [sys.argv[0], *args]  # rasa-sdk's parser reads sys.argv
    rasa_sdk_main()


if __name__ == "__main__":
    main()
