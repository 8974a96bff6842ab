"""`python -m ops.rasa_entry ARGS` runs `rasa ARGS`, minus three costs of Rasa 3.6.

Every Rasa invocation of the project goes through here; build it with `rasa_command`.

- skops (pinned by Rasa to 0.9, it persists our blend's classifier) is imported before Rasa:
  its import scans `sys.modules` per numpy/scipy ufunc, which is slow after TensorFlow.
- each constant JSON schema is checked once instead of on every call
  (`jsonschema.validate` re-checks the schema against its metaschema each time): training-data
  annotations, and the action server's reply on every custom action call — the latter was more
  than half of a turn's CPU in Rasa. Invalid data still goes to Rasa's own function, so errors
  read the same.
- a trained TensorFlow model's weights are built by an eager fit instead of a traced one
  (`install_fast_model_loading`): most of a cold start went into tracing a training graph.

`rasa test --e2e` also leaves the message's `language` entity out of its entity comparison
(`install_story_test_entity_filter`).

Faults end in an apology (bot/unavailable.py), not in Rasa's silent `[]` or a 300 s wait
(issue #14, README "Production profile"): a custom action call is bounded by
`ACTION_TIMEOUT_S` (`install_bounded_action_calls`); a conversation that cannot be read
fails the turn instead of starting a fresh one (`install_strict_tracker_reads`); a turn that
fails — a store down, a lock not taken — is answered with the apology
(`install_apology_for_failed_turns`). At most `MAX_RUNNING_TURNS` turns run at once and the rest
wait their turn, or hear that the assistant is busy (`install_turn_admission`, bot/admission.py).

Three costs of every turn go (`install_rasa_speedups`, ops/rasa_speedups.py): the trained graph
runs without dask's scheduler, sparse features are joined without scipy's block assembly, and
the domain is not re-serialised per message to learn it is not empty.

`GET /` answers "ok" instead of Rasa's version banner (`install_neutral_root_route`).

A session also ends after `MAX_SESSION_TURNS` visitor messages, not only after an idle hour
(`install_session_turn_bound`), and a new session carries each slot's latest value once
instead of every SlotSet of the last one (`install_compact_slot_carry_over`): what a turn
loads and sends the action server stays bounded.

Rasa's telemetry is switched off for every invocation (stock included): when on, Rasa sends
crash reports to Sentry, and a traceback can hold a visitor's message. An operator who wants it
sets RASA_TELEMETRY_ENABLED=true explicitly.

Request bodies are capped at `bot.limits.MAX_BODY_BYTES` (64 KiB; Sanic's default is 100 MB):
`rasa.core.run.configure_app` creates the one Sanic app that serves every route (channels,
desk console, socket.io, the HTTP API) and Sanic 21.12 reads `SANIC_*` variables when an app
is created, so `SANIC_REQUEST_MAX_SIZE` set here, before Rasa starts, answers a larger body
with 413 before any handler reads it; `SANIC_WEBSOCKET_MAX_SIZE` caps a WebSocket frame alike.
The action server (started by rasa_sdk, not through here) keeps its own limit: Rasa sends it
the whole tracker.

`python -m ops.rasa_entry --stock ARGS` skips the fixes and the caps: Rasa as shipped, for the
evaluation's baseline (Rasa's default pipeline). Measurements: docs/decisions.md.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import sys
from collections.abc import MutableMapping, Reversible, Sequence
from typing import Any

from bot.lang import is_language_entity
from bot.limits import MAX_BODY_BYTES, MAX_SESSION_TURNS
from bot.admission import TurnGate
from bot.unavailable import apology_for, busy_for
from ops.action_entry import ACCESS_LOG_ENV, NO_ACCESS_LOG
from ops.rasa_speedups import install_rasa_speedups

STOCK_FLAG = "--stock"
# Rasa waits up to 300 s (rasa.core.constants.DEFAULT_REQUEST_TIMEOUT) for the action server;
# a visitor must hear back within 3 s, and a healthy action server answers in ~50 ms.
ACTION_TIMEOUT_S = 2.5
# TensorFlow's inter- and intra-op pools (Rasa's rasa.utils.tensorflow.environment reads them)
TENSORFLOW_THREAD_VARIABLES = ("TF_INTER_OP_PARALLELISM_THREADS", "TF_INTRA_OP_PARALLELISM_THREADS")

logger = logging.getLogger(__name__)


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


def _is_valid(instance: Any, schema_json: str) -> bool:
    import jsonschema

    validator = _validator(schema_json)
    return jsonschema.exceptions.best_match(validator.iter_errors(instance)) is None


def install_fast_action_result_validation() -> None:
    """Makes Rasa check action server replies by event type (ops/action_reply.py), built once."""
    from rasa.core.actions.action import RemoteAction

    from ops.action_reply import ActionReplyValidator

    rasa_validate = RemoteAction._validate_action_result
    if getattr(rasa_validate, "checks_schema_once", False):
        return
    # The spec is a constant built by a static method; its validators are built once.
    reply_validator = ActionReplyValidator(RemoteAction.action_response_format_spec())

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        return reply_validator.is_valid(result) or rasa_validate(self, result)  # Rasa's error

    _validate_action_result.checks_schema_once = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


def install_fast_model_loading() -> None:
    """Makes Rasa build a TensorFlow model's weights eagerly when it loads a trained model.

    Rasa's `RasaModel.load` fits the model on one example to create its weights before it
    loads the trained ones, and that fit traces the whole training graph (gradients and
    optimizer included): most of a cold start, only to be thrown away. Here the fit runs
    eagerly (same layers, same variables, no graph). The prediction graph is then traced as
    Rasa does, but without AutoGraph: converting Rasa's layers to graph code took most of the
    remaining load time, and their prediction has no tensor-dependent Python control flow
    (with any, tracing fails loudly rather than computing something else). Rasa's own `load`
    does the work; only its `run_eagerly` setting is changed for the fit.
    """
    import tensorflow as tf
    from rasa.utils.tensorflow.constants import RUN_EAGERLY
    from rasa.utils.tensorflow.models import RasaModel

    rasa_load = RasaModel.load.__func__  # type: ignore[attr-defined]
    if getattr(rasa_load, "fits_eagerly", False):
        return

    def load(
        cls: type[RasaModel],
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        config = kwargs.get("config") or {}
        if finetune_mode or config.get(RUN_EAGERLY):  # training resumes: Rasa's way
            return rasa_load(
                cls, model_file_name, model_data_example, predict_data_example,
                finetune_mode, *args, **kwargs,
            )  # fmt: skip
        kwargs["config"] = {**config, RUN_EAGERLY: True}
        model = rasa_load(cls, model_file_name, model_data_example, None, False, *args, **kwargs)
        model.config[RUN_EAGERLY] = config.get(RUN_EAGERLY, False)
        model.run_eagerly = False  # predictions in a traced graph, as Rasa's
        model.predict_step = tf.autograph.experimental.do_not_convert(model.predict_step)
        if predict_data_example:
            model.run_inference(predict_data_example)  # traces it now, not on a visitor's turn
        return model

    load.fits_eagerly = True  # type: ignore[attr-defined]
    RasaModel.load = classmethod(load)  # type: ignore[method-assign,assignment]


def install_story_test_entity_filter() -> None:
    """Makes `rasa test --e2e` leave the message's `language` entity out of its comparison.

    bot/nlu/language_tagger.py adds it to every message (it fills the `language` slot); test
    stories annotate the entities a visitor names, not the language they wrote in — the same
    rule as evaluation/nlu.py's entity scores.
    """
    import rasa.core.test as story_test

    rasa_clean = story_test._clean_entity_results
    if getattr(rasa_clean, "skips_language", False):
        return

    def _clean_entity_results(text: str, entity_results: list[dict[str, Any]]) -> list[Any]:
        named = [e for e in entity_results if not is_language_entity(e)]
        return rasa_clean(text, named)

    _clean_entity_results.skips_language = True  # type: ignore[attr-defined]
    story_test._clean_entity_results = _clean_entity_results


def install_fast_training_data_validation() -> None:
    """Makes Rasa's `validate_training_data` check each schema once instead of per call."""
    import rasa.shared.utils.validation as validation

    rasa_validate = validation.validate_training_data
    if getattr(rasa_validate, "checks_schema_once", False):
        return

    def validate_training_data(json_data: dict[str, Any], schema: dict[str, Any]) -> None:
        if not _is_valid(json_data, json.dumps(schema, sort_keys=True)):
            rasa_validate(json_data, schema)  # raises Rasa's SchemaValidationError

    validate_training_data.checks_schema_once = True  # type: ignore[attr-defined]
    validation.validate_training_data = validate_training_data


class TrackerStoreUnavailable(RuntimeError):
    """The conversation could not be read: the turn fails rather than start a fresh one."""


def install_bounded_action_calls() -> None:
    """Makes a custom action call give up after ACTION_TIMEOUT_S and apologise when it fails.

    Rasa's `RemoteAction.run` waits up to 300 s, and when the call fails (refused, timed out,
    not 200) Rasa logs "Bot will continue, but the actions events are lost" and the visitor
    gets nothing. Here the call is bounded and a failure becomes the apology (a `BotUttered`,
    sent and stored as any reply); a rejection (`ActionExecutionRejection`) is Rasa's to
    handle, as before.
    """
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core.events import BotUttered

    rasa_run = RemoteAction.run
    if getattr(rasa_run, "bounded", False):
        return

    async def run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        call = rasa_run(self, output_channel, nlg, tracker, domain)
        try:
            return list(await asyncio.wait_for(call, ACTION_TIMEOUT_S))
        except ActionExecutionRejection:
            raise
        except Exception as error:  # refused, timed out (asyncio.TimeoutError), not 200
            logger.error(
                "custom action %s failed (%s); the visitor gets an apology",
                self.name(),
                repr(error),
            )
            text = (tracker.latest_message.text if tracker.latest_message else None) or ""
            return [BotUttered(apology_for(text, tracker.get_slot("language")))]

    run.bounded = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]


def install_strict_tracker_reads() -> None:
    """Makes a failed read of a conversation fail the turn instead of starting a fresh one.

    Rasa wraps every tracker store in `FailSafeTrackerStore`, whose `retrieve` returns None
    when the store raises: Rasa then answers as if the conversation were new (its context
    lost: "when?" about nothing) and, the store still down, saves that turn in memory where
    nothing reads it. Here the error is raised again (`TrackerStoreUnavailable`), so the
    turn ends in the apology of `install_apology_for_failed_turns` and the stored
    conversation is left as it is. A failed save is tried again for about 2 s
    (`DeskTrackerStore`), then keeps Rasa's fallback (to memory).
    """
    from rasa.core.tracker_store import FailSafeTrackerStore

    rasa_on_error = FailSafeTrackerStore.on_tracker_store_retrieve_error
    if getattr(rasa_on_error, "raises", False):
        return

    def raise_on_read_error(self: FailSafeTrackerStore, error: Exception) -> None:
        logger.error("could not read a conversation from the tracker store: %r", error)
        raise TrackerStoreUnavailable(str(error)) from error

    raise_on_read_error.raises = True  # type: ignore[attr-defined]
    store = FailSafeTrackerStore
    store.on_tracker_store_retrieve_error = raise_on_read_error  # type: ignore[method-assign]


def install_apology_for_failed_turns() -> None:
    """Makes a turn that fails (a store down, a lock not taken) answer with an apology.

    Every channel hands its messages to `Agent.handle_message`, which takes the
    conversation's lock (Redis in production) and runs the turn; when either raises, Rasa's
    channels log it and answer nothing (REST: 200 `[]`). Here the visitor gets the apology
    through the message's own output channel (REST's reply, the widget's socket, WeChat's
    reply) and the error goes to the log.
    """
    from rasa.core.agent import Agent

    rasa_handle = Agent.handle_message
    if getattr(rasa_handle, "apologises", False):
        return

    async def handle_message(self: Agent, message: Any) -> Any:
        try:
            return await rasa_handle(self, message)
        except Exception:
            logger.exception(
                "the turn of %s failed; the visitor gets an apology", message.sender_id
            )
            await _apologise(message)
            return None

    handle_message.apologises = True  # type: ignore[attr-defined]
    Agent.handle_message = handle_message  # type: ignore[method-assign]


async def _apologise(message: Any) -> None:
    await _say(message, apology_for(message.text))


async def _say(message: Any, text: str) -> None:
    """Sends `text` to the message's sender through its own output channel, as a reply."""
    try:
        await message.output_channel.send_text_message(message.sender_id, text)
    except Exception:  # e.g. the widget's push needs the Redis that is down
        logger.exception("could not send %r to %s", text[:40], message.sender_id)


def install_turn_admission(gate: TurnGate | None = None) -> None:
    """Makes `Agent.handle_message` run at most MAX_RUNNING_TURNS turns at once (bot/admission.py).

    A turn waits for a place before Rasa reads anything; one that would wait too long is
    answered with the "busy" reply and leaves the conversation untouched.
    """
    from rasa.core.agent import Agent

    rasa_handle = Agent.handle_message
    if getattr(rasa_handle, "admits", False):
        return
    turns = gate or TurnGate()

    async def handle_message(self: Agent, message: Any) -> Any:
        async with turns.place() as admitted:
            if admitted:
                return await rasa_handle(self, message)
        logger.warning("turn of %s turned away: %d turns waiting", message.sender_id, turns.waiting)
        await _say(message, busy_for(message.text))
        return None

    handle_message.admits = True  # type: ignore[attr-defined]
    Agent.handle_message = handle_message  # type: ignore[method-assign]


def session_is_full(events: Reversible[Any], max_turns: int = MAX_SESSION_TURNS) -> bool:
    """Whether the latest session of `events` (a tracker's, oldest first) holds `max_turns`
    visitor messages; reads at most that many turns back."""
    from rasa.shared.core.events import SessionStarted, UserUttered

    turns = 0
    for event in reversed(events):
        if isinstance(event, SessionStarted):
            return False
        if isinstance(event, UserUttered):
            turns += 1
            if turns >= max_turns:
                return True
    return False


def install_session_turn_bound() -> None:
    """Ends a session after MAX_SESSION_TURNS visitor messages, as Rasa ends one after
    `session_expiration_time` idle minutes (bot/limits.py says why).

    Rasa asks `_has_session_expired` before every message, under the conversation's lock;
    when it says yes, Rasa runs its own `action_session_start` (slots carried over as
    domain.yml's session_config says) and its SQL tracker store loads only the events since
    that start from then on, while the stored transcript keeps every session. A conversation
    that never pauses for an hour now restarts its session like one that did. A conversation
    paused for the help desk is left as it is (Rasa runs no prediction for it meanwhile).
    """
    from rasa.core.processor import MessageProcessor

    rasa_expired = MessageProcessor._has_session_expired
    if getattr(rasa_expired, "counts_turns", False):
        return

    def has_session_expired(self: MessageProcessor, tracker: Any) -> bool:
        if rasa_expired(self, tracker):
            return True
        # not while staff have it: a new session un-pauses, the bot would talk over them
        if not tracker.is_paused() and session_is_full(tracker.events):
            logger.info(
                "session of %s full (%d turns): a new one", tracker.sender_id, MAX_SESSION_TURNS
            )
            return True
        return False

    has_session_expired.counts_turns = True  # type: ignore[attr-defined]
    MessageProcessor._has_session_expired = has_session_expired  # type: ignore[method-assign]


def install_compact_slot_carry_over() -> None:
    """Makes a new session carry over each slot's latest value once, not every SlotSet.

    Rasa's `ActionSessionStart` copies every SlotSet event of the ending session, those it
    carried into that session included, so each session of a conversation started with its
    whole slot history: after 100 messages a new session began with 525 SlotSet events, and
    every turn of it loaded them again. One SlotSet per slot, the last one, leaves the same
    slots (a SlotSet only sets its value) and a session start of at most one event per slot.
    """
    from rasa.core.actions.action import ActionSessionStart
    from rasa.shared.core.events import SlotSet

    if getattr(ActionSessionStart._slot_set_events_from_tracker, "compact", False):
        return

    def latest_slot_sets(tracker: Any) -> list[SlotSet]:
        latest: dict[str, SlotSet] = {}
        for event in tracker.applied_events():
            if isinstance(event, SlotSet):
                latest.pop(event.key, None)  # re-inserted: the order of the last settings
                latest[event.key] = event
        return [SlotSet(key=e.key, value=e.value, metadata=e.metadata) for e in latest.values()]

    latest_slot_sets.compact = True  # type: ignore[attr-defined]
    ActionSessionStart._slot_set_events_from_tracker = staticmethod(latest_slot_sets)  # type: ignore[method-assign, assignment]


NEUTRAL_ROOT_TEXT = "ok"


def install_neutral_root_route() -> None:
    """Makes Rasa's `GET /` answer a neutral 200 "ok" instead of "Hello from Rasa: 3.6.21".

    A version banner tells whoever scans the internet which advisories to try; the route stays
    (a proxy's or monitor's probe of `/` keeps working). Rasa adds it in `add_root_route`, which
    both its app builders (`configure_app` without the API and `server.create_app`) look up in
    `rasa.server` when called. `GET /version` exists only in Rasa's HTTP API (`--enable-api`,
    which the tests use and the profiles do not): without it, 404.
    """
    import rasa.server
    from sanic import Sanic, response
    from sanic.request import Request
    from sanic.response import HTTPResponse

    if getattr(rasa.server.add_root_route, "is_neutral", False):
        return

    def add_root_route(app: Sanic) -> None:
        @app.get("/")
        async def hello(_: Request) -> HTTPResponse:
            return response.text(NEUTRAL_ROOT_TEXT)

    add_root_route.is_neutral = True  # type: ignore[attr-defined]
    rasa.server.add_root_route = add_root_route


def cap_request_sizes(environ: MutableMapping[str, str]) -> None:
    """Sanic's body and WebSocket frame caps for the app Rasa is about to create (forced: an
    inherited larger value would reopen the memory attack of issue #15)."""
    environ["SANIC_REQUEST_MAX_SIZE"] = str(MAX_BODY_BYTES)
    environ["SANIC_WEBSOCKET_MAX_SIZE"] = str(MAX_BODY_BYTES)


def serve_with_one_tensorflow_thread(
    args: Sequence[str], environ: MutableMapping[str, str]
) -> None:
    """One TensorFlow thread per pool for a serving Rasa (`run`), unless set otherwise.

    A served message is one short sentence: DIET's graph gains nothing from parallel kernels,
    and TensorFlow's idle pool threads took CPU from the loop on this 2-core machine (about
    +9% turns at 20 visitors, the same single-visitor latency; docs/decisions.md). Rasa reads
    both variables itself. Training keeps TensorFlow's defaults: it does use the threads.
    """
    if args and args[0] == "run":
        for name in TENSORFLOW_THREAD_VARIABLES:
            environ.setdefault(name, "1")


def serve_without_access_log(args: Sequence[str], environ: MutableMapping[str, str]) -> None:
    """No Sanic access records for a serving Rasa (`run`), unless set otherwise: Sanic builds
    one per request even when the library log level drops it, and the production profile's
    nginx logs every request already (ops.action_entry does the same for the action server)."""
    if args and args[0] == "run":
        environ.setdefault(ACCESS_LOG_ENV, NO_ACCESS_LOG)


def main(argv: list[str] | None = None) -> None:
    """Runs Rasa's command line with `argv` (default: ours, minus --stock)."""
    args = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    stock = bool(args) and args[0] == STOCK_FLAG
    if stock:
        args = args[1:]
    else:
        import skops.io  # noqa: F401  -- must precede Rasa's imports, see above

        cap_request_sizes(os.environ)
        serve_with_one_tensorflow_thread(args, os.environ)
        serve_without_access_log(args, os.environ)
        install_fast_training_data_validation()
        install_fast_action_result_validation()
        install_fast_model_loading()
        install_story_test_entity_filter()
        install_bounded_action_calls()
        install_strict_tracker_reads()
        install_apology_for_failed_turns()
        install_turn_admission()
        install_session_turn_bound()
        install_compact_slot_carry_over()
        install_neutral_root_route()
        install_rasa_speedups()
    from rasa.__main__ import main as rasa_main

    sys.argv = [sys.argv[0], *args]  # Rasa's parser reads sys.argv
    rasa_main()


if __name__ == "__main__":
    main()
