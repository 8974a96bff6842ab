"""`cyberweek serve`: the action server and Rasa in the foreground; Ctrl-C stops both.

The processes are ops.harness's; this module only talks to the operator.
"""

from __future__ import annotations

import os
import signal
import sys

from bot import paths
from bot.channels.cors import OriginError, allowed_origins
from bot.channels.wechat.config import SettingsError, check_credentials_file
from ops import harness

WIDGET_DEMO_PATH = "/webhooks/socketio/demo/"  # served by bot/channels/webchat.py
CONSOLE_PATH = "/webhooks/desk/"  # the staff console, bot/desk/console/


def print_usage(host: str, port: int) -> None:
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    url = f"{base}/webhooks/rest/webhook"
    print(
        f"""
The assistant is running. Open the event site's demo page and chat with the widget:

  {base}{WIDGET_DEMO_PATH}          (English page: add ?lang=en)

Help-desk staff log in to the console (accounts: `cyberweek staff add NAME --role agent`):

  {base}{CONSOLE_PATH}

or talk to it over the REST channel:

  curl -s {url} \\
       -H 'Content-Type: application/json' \\
       -d '{{"sender": "visitor-1", "message": "开幕式在哪里举行"}}'

Set CYBERWEEK_NOW={harness.DEMO_NOW} before `make run` to fix "today" for a demo.
Press Ctrl-C to stop both servers.
""",
        flush=True,
    )


def port_in_use_message(error: harness.PortInUse) -> str:
    option = "--actions-port" if error.what == "action server" else "--port"
    return (
        f"error: another assistant (or another server) is still running on :{error.port} — "
        f"stop it (e.g. `fuser -k {error.port}/tcp`) or choose {option}"
    )


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _report_start() -> None:
    print("==> starting the action server and Rasa (loading the model takes ~30 s)", flush=True)


def _report_ready(service: harness.Service) -> None:
    print(f"    {service.name} is ready", flush=True)


def serve(rasa_port: int, host: str, actions_port: int = harness.ACTIONS_PORT) -> int:
    if not paths.MODEL_PATH.exists():
        print("error: no trained model; run `make run` (it trains first)", file=sys.stderr)
        return 1
    try:
        allowed_origins()  # the widget's channel reads it too: a bad value stops us here
        # a weak or wrong WeChat setting would stop Rasa after ~30 s of loading; say it now
        check_credentials_file(paths.CREDENTIALS_FILE)
    except (OriginError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    # `kill <pid>` (or a supervisor's stop) must stop the children too, as Ctrl-C does.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        with harness.running_assistant(
            dict(os.environ),
            paths.MODEL_PATH,
            rasa_port=rasa_port,
            actions_port=actions_port,
            host=host,
            on_start=_report_start,
            on_ready=_report_ready,
        ) as assistant:
            print_usage(host, rasa_port)
            try:
                stopped = harness.wait_for_exit(assistant.services)
            except KeyboardInterrupt:
                print("\n==> stopping", flush=True)
                return 0
            print(f"error: the {stopped.name} stopped unexpectedly; shutting down", file=sys.stderr)
            return 1
    except harness.PortInUse as error:
        print(port_in_use_message(error), file=sys.stderr)
        return 1
    except harness.HarnessError as error:
        print(f"error: {error}; see the log above", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\n==> stopped during start-up", flush=True)
        return 0
