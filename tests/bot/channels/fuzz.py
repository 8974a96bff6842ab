"""What the fuzz tests send and what they check (issue #15, item 7), shared by the fast layer
(tests/bot/channels/test_fuzz.py: the channels with a stand-in agent) and the one against the
real assistant (tests/bot/channels/test_fuzz_live.py, wechat/test_channel.py).

Inputs: random Unicode (controls, lone surrogates, RTL and zero-width marks, emoji, 10,000
character lines), JSON of the wrong types, huge and empty bodies, hostile XML and random
`/intent{...}` payloads. Properties: never a 5xx, never an ERROR record or a traceback in the
log, a reply or a clear 4xx.

The budget is fixed and the examples derandomized (the same ones every run, so CI is
reproducible and no example database is written into the tree). More, and new ones:

    CYBERWEEK_FUZZ_EXAMPLES=2000 CYBERWEEK_FUZZ_RANDOM=1 .venv/bin/python -m pytest \
        tests/bot/channels/test_fuzz.py
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import queue
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import socketio
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from bot.channels.inbound import payload_rules
from bot.limits import MAX_BODY_BYTES, MAX_MESSAGE_CHARS

EXAMPLES_ENV = "CYBERWEEK_FUZZ_EXAMPLES"
RANDOM_ENV = "CYBERWEEK_FUZZ_RANDOM"


def fuzz_settings(examples: int) -> settings:
    """`examples` per property (CYBERWEEK_FUZZ_EXAMPLES overrides), the same ones every run
    unless CYBERWEEK_FUZZ_RANDOM is set."""
    budget = int(os.environ.get(EXAMPLES_ENV, "") or examples)
    return settings(
        max_examples=budget,
        deadline=None,
        database=None,
        derandomize=not os.environ.get(RANDOM_ENV),
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


# -- text ---------------------------------------------------------------------------------
# Pieces that broke chat systems before: controls, NUL, lone surrogates, bidi overrides, zero
# width joiners and BOMs, combining marks, emoji sequences, fullwidth digits, CDATA ends.
NASTY_PIECES = [
    "\x00",
    "\x1b[31m",
    "\x7f",
    "\r\n",
    "\t",
    "\u0085",
    "\u2028",
    "\ud800",
    "\udfff",
    "\ud83d",
    "\u202e",
    "\u200f",
    "\u061c",
    "\u200b",
    "\u200d",
    "\ufeff",
    "\u0301\u0301\u0301",
    "👍🏽",
    "👨\u200d👩\u200d👧",
    "🇨🇳",
    "１２３",
    "²",
    "]]>",
    "<![CDATA[",
    "&amp;",
    "%s%n",
    "{}",
    "\\",
    "'\"",
    "开幕式在哪里",
    "開幕式在哪裡",
    "where is the expo",
]
LONG_LINES = [
    "A" * 10_000,
    "测" * 10_000,
    "\u200b" * 10_000,
    "👍" * 3_000,
    "开" * MAX_MESSAGE_CHARS,
    "开" * (MAX_MESSAGE_CHARS + 1),
]
# every code point, surrogates included (hypothesis leaves them out of text() by default)
any_character = st.characters(codec=None, categories=None, exclude_categories=())


def hostile_text(surrogates: bool = True) -> st.SearchStrategy[str]:
    """Strings a hostile visitor types or a script sends; without lone surrogates where the
    transport cannot carry them (UTF-8 bodies)."""
    characters = any_character if surrogates else st.characters(codec="utf-8")
    pieces = NASTY_PIECES if surrogates else [p for p in NASTY_PIECES if _utf8_safe(p)]
    chunks = st.text(characters, max_size=12) | st.sampled_from(pieces)
    if surrogates:  # lone ones, often: a JSON "\ud800" escape is one line of a script away
        chunks |= st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3)
    return st.one_of(
        st.lists(chunks, max_size=8).map("".join),
        st.sampled_from(LONG_LINES),
        typed_payloads(surrogates),
    )


def _utf8_safe(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# JSON as a hostile client sends it
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=6,
)


def typed_payloads(surrogates: bool = True) -> st.SearchStrategy[str]:
    """Rasa's `/intent@confidence{entities}` syntax: the domain's intents and entities and
    random ones, values of every JSON type, huge day offsets, text around it."""
    rules = payload_rules()
    entity_keys = st.sampled_from(sorted(rules.entities | {"slot", "__proto__", "requested_slot"}))
    values = json_values | st.sampled_from(
        ["999999999", "+1", "-32", "1e9", "2024-02-30", "9999-12-31", "en", "fr", "expo", ""]
    )
    text = st.text(any_character if surrogates else st.characters(codec="utf-8"), max_size=8)
    return st.builds(
        lambda lead, intent, confidence, entities, rest: (
            f"{lead}/{intent}{confidence}{json.dumps(entities, ensure_ascii=False)}{rest}"
        ),
        st.sampled_from(["", " ", "/ ", "\n", "//"]),
        st.sampled_from(sorted(rules.intents)) | text,
        st.sampled_from(["", "@0.2", "@9", "@.", "@-1"]),
        st.dictionaries(entity_keys | text, values, max_size=4),
        st.sampled_from(["", " ", "}", '"}', "\n{}", "{" * 50]) | text,
    )


# -- bodies -------------------------------------------------------------------------------
def rest_bodies() -> st.SearchStrategy[bytes]:
    """A REST webhook body: right shapes with wrong types, random JSON, raw bytes, empty and
    huge ones, lone surrogates as JSON escapes (the one way JSON carries them)."""
    field_values = hostile_text() | json_values
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "sender": st.text(st.characters(codec="utf-8"), min_size=1, max_size=20) | field_values,
            "message": hostile_text() | json_values,
            "metadata": json_values
            | st.dictionaries(st.sampled_from(["language", "x"]), field_values, max_size=3),
            "input_channel": st.sampled_from(["wechat", "socketio", "rest"]) | json_values,
        },
    )
    well_formed = st.fixed_dictionaries(
        {
            "sender": st.text(st.characters(codec="utf-8"), min_size=1, max_size=20),
            "message": hostile_text(),
        },
        optional={"metadata": shaped.map(lambda body: body.get("metadata"))},
    )
    as_json = st.one_of(well_formed, well_formed, shaped, json_values).map(
        lambda body: json.dumps(body).encode()
    )
    return st.one_of(
        as_json,
        as_json,
        as_json,
        st.binary(max_size=200),
        st.sampled_from(
            [
                b"",
                b"{",
                b"null",
                b'{"sender": "a", "message": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}',
                b'{"sender": "a", "message": "\\ud800"}',
                b'{"sender": "\\udfff", "message": "hi"}',
                b'{"sender": "a", "message": "hi", "metadata": '
                + b"[" * 10_000
                + b"]" * 10_000
                + b"}",
                '{"sender": "a", "message": "开幕式"}'.encode("utf-16"),
                b'{"sender": "a", "message": "\xff\xfe"}',
            ]
        ),
    )


# -- WeChat XML ---------------------------------------------------------------------------
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    '<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]><xml><ToUserName>gh</ToUserName>'
    "<FromUserName>oAbC</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<Content>&d;</Content><MsgId>1</MsgId></xml>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    "<xml><FromUserName>oAbC</FromUserName><CreateTime>1</CreateTime>"
    "<MsgType>text</MsgType><Content>&x;</Content><MsgId>2</MsgId></xml>"
)
HOSTILE_XML = [
    BILLION_LAUGHS,
    EXTERNAL_ENTITY,
    '<!DOCTYPE xml SYSTEM "http://127.0.0.1:1/x.dtd"><xml/>',
    "<xml>" + "<a>" * 5_000 + "</a>" * 5_000 + "</xml>",
    "<xml><Content><![CDATA[a]]>]]></Content></xml>",
    "<xml><FromUserName><![CDATA[o]]><![CDATA[x]]></FromUserName></xml>",
    "<xml><MsgType>text</MsgType><MsgType>event</MsgType></xml>",
    "<xml><FromUserName><a>1</a></FromUserName><MsgType>text</MsgType><MsgId>1</MsgId></xml>",
    '<?xml version="1.0" encoding="GB2312"?><xml><Content>开</Content></xml>',
    '<?xml version="1.0" encoding="UTF-16"?><xml/>',
    "<?xml-stylesheet href='x'?><xml/>",
    "<xml",
    "<xml></xml>",
    "<html/>",
    "",
    " ",
]


_msg_ids = itertools.count(int(time.time() * 1000) * 1000)


def fresh_msg_id() -> str:
    """A MsgId no earlier example used (the simulator's come from `random`, which hypothesis
    seeds alike for every example): a seen one is a retry, from another OpenID a replay."""
    return str(next(_msg_ids))


def wechat_bodies(sim: Any) -> st.SearchStrategy[bytes]:
    """A WeChat push body: a text message of random content (and random OpenID, MsgId,
    MsgType) as the simulator builds it, hostile XML, or random bytes."""
    openids = st.sampled_from(["oAbC123_-", "o" * 28]) | st.text(max_size=70)
    message = st.builds(
        lambda openid, content, msg_id: sim.text_xml(openid, content, msg_id),
        st.sampled_from(["oAbC123_-", "o" * 28]),
        hostile_text(surrogates=False).map(xml_chars_only),
        st.builds(fresh_msg_id),
    )
    odd_message = st.builds(
        lambda openid, content, msg_id: sim.text_xml(openid, content, msg_id),
        openids,
        hostile_text(surrogates=False),
        st.sampled_from(["0", "x", "1" * 25, "-1"]) | st.integers(0, 10**19).map(str),
    )
    typed = st.builds(
        lambda openid, msg_type, field: sim.text_xml(openid, "", fresh_msg_id()).replace(
            "<MsgType><![CDATA[text]]>",
            f"<MsgType><![CDATA[{msg_type}]]>"
            + "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in field.items()),
        ),
        openids,
        st.sampled_from(["image", "voice", "event", "location", "link", "shortvideo", "x"]),
        st.dictionaries(
            st.sampled_from(["Event", "Recognition", "PicUrl", "MediaId", "EventKey"]),
            hostile_text(surrogates=False),
            max_size=2,
        ),
    )
    as_text = st.one_of(message, message, message, odd_message, typed, st.sampled_from(HOSTILE_XML))
    encodings = st.sampled_from(["utf-8"] * 6 + ["gb18030", "utf-16", "latin-1"])
    return st.one_of(
        st.builds(lambda doc, enc: doc.encode(enc, "replace"), as_text, encodings),
        st.builds(lambda doc, enc: doc.encode(enc, "replace"), as_text, encodings),
        st.builds(lambda doc, enc: doc.encode(enc, "replace"), as_text, encodings),
        st.binary(max_size=300),
        st.just(b"<xml>" + b"a" * (MAX_BODY_BYTES + 1) + b"</xml>"),
    )


_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_chars_only(text: str) -> str:
    """`text` without what XML 1.0 cannot carry (WeChat never sends it; the raw kind is sent
    too, and must get a 400)."""
    return _NOT_XML_CHAR.sub("", text)


# -- the log ------------------------------------------------------------------------------
class LogTrap(logging.Handler):
    """Every ERROR record, and every record carrying a traceback, of any logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info or record.stack_info:
            self.records.append(record)

    def report(self) -> str:
        return "\n".join(f"{r.name} {r.levelname} {r.getMessage()}" for r in self.records)


@contextmanager
def trapped_errors() -> Iterator[LogTrap]:
    """A LogTrap on the root logger for the block (the loggers that do not propagate, none
    of ours or Rasa's, are out of its reach)."""
    trap = LogTrap()
    root = logging.getLogger()
    root.addHandler(trap)
    try:
        yield trap
    finally:
        root.removeHandler(trap)


TRACEBACK_MARKERS = ("Traceback (most recent call last)", " ERROR ", "[ERROR]", "Exception in ")


def traceback_lines(log_text: str) -> list[str]:
    """The lines of a server's log that show a traceback or an ERROR record."""
    return [line for line in log_text.splitlines() if any(m in line for m in TRACEBACK_MARKERS)]


# -- the event database -------------------------------------------------------------------
# The desk's own tables change by design (a 👍 is stored, a paused conversation's queue row);
# the event data must not.
DESK_TABLE_PREFIX = "desk_"


def event_tables_digest(database_url: str) -> str:
    """SHA-256 over every row of the event database's tables (the desk's aside)."""
    path = database_url.removeprefix("sqlite:///")
    digest = hashlib.sha256()
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if not name.startswith(DESK_TABLE_PREFIX)
        ]
        for table in tables:
            digest.update(table.encode())
            for row in connection.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                digest.update(repr(row).encode())
    return digest.hexdigest()


# -- the widget's socket ------------------------------------------------------------------
class Widget:
    """A synchronous python-socketio client (its own threads) playing the widget: one
    conversation, its session confirmed on connecting. `reply_timeout_s`: how long it waits
    for the server (the real assistant's turns are slower than the stand-in agent's)."""

    def __init__(
        self,
        url: str,
        reply_timeout_s: float = 10,
        headers: dict[str, str] | None = None,
        join: bool = True,
    ) -> None:
        self.reply_timeout_s = reply_timeout_s
        self.client = socketio.Client(reconnection=False)
        self.confirmed: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self.replies: queue.Queue[Any] = queue.Queue()
        self.client.on("session_confirm", lambda sid, token=None: self.confirmed.put((sid, token)))
        self.client.on("bot_uttered", self.replies.put)
        self.client.connect(url, headers=headers or {}, transports=["websocket"])
        self.session = ""
        if join:
            self.join()
        self._probes = itertools.count()

    def join(self, session_id: Any = None, token: Any = None) -> tuple[str, str | None]:
        """Asks for a session (naming one, with its token, if given); (session, token) issued."""
        asked = {} if session_id is None else {"session_id": session_id, "token": token}
        self.client.emit("session_request", asked)
        self.session, issued = self.confirmed.get(timeout=self.reply_timeout_s)
        return self.session, issued

    def send(self, name: str, data: Any) -> None:
        """Emits event `name` with `data` as its argument (a tuple: several; None: none)."""
        if data is None:
            self.client.emit(name)
        else:
            self.client.emit(name, data)

    def answered(self) -> Any:
        """The next bot message this socket receives."""
        return self.replies.get(timeout=self.reply_timeout_s)

    def still_answers(self) -> None:
        """A plain message after whatever came before still gets its own answer (from the
        stand-in agent, which echoes "<conversation>|<text>")."""
        text = f"probe {next(self._probes)}"
        self.client.emit("user_uttered", {"message": text})
        expected = f"web:{self.session}|{text}"
        while True:
            reply = self.answered()
            if isinstance(reply, dict) and reply.get("text") == expected:
                return

    def drain(self) -> None:
        while not self.replies.empty():
            self.replies.get_nowait()

    def close(self) -> None:
        self.client.disconnect()
