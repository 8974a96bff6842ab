"""A WeChat server in a box: pushes follower messages to the channel as WeChat does, and plays
WeChat's customer-service API (a recording fake) for answers that come later.

Signing and AES are wechatpy's (never the channel's code), so a test that passes here talks
the protocol WeChat talks: the query string `signature`/`timestamp`/`nonce` (+ `encrypt_type`,
`msg_signature` in compatible and safe mode), compatible mode's plaintext-plus-ciphertext body,
safe mode's ciphertext-only body, and encrypted, signed passive replies.

Also a command line, to try the channel of a running assistant (`make run`):

    .venv/bin/python -m bot.channels.wechat.simulator --mode safe 开幕式在哪里举行 "Where is the expo?"

It reads WECHAT_TOKEN, WECHAT_APP_ID, WECHAT_APP_SECRET and WECHAT_AES_KEY like the channel;
`--fake-api-port 8088` also serves the customer-service API there (start the assistant with
WECHAT_API_BASE_URL=http://127.0.0.1:8088) and prints answers delivered through it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import xmltodict
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

Mode = Literal["plain", "compatible", "safe"]
DEFAULT_URL = "http://127.0.0.1:5005/webhooks/wechat/webhook"


@dataclass(frozen=True)
class Account:
    """An Official Account as configured in WeChat's console."""

    token: str
    app_id: str
    app_secret: str = ""
    aes_key: str = ""  # EncodingAESKey, 43 characters
    account_id: str = "gh_cyberweek0001"  # the account's own ToUserName

    @classmethod
    def from_env(cls) -> Account:
        missing = [name for name in ("WECHAT_TOKEN", "WECHAT_APP_ID") if not os.environ.get(name)]
        if missing:
            raise SystemExit(f"set {' and '.join(missing)} as for the assistant (docs/wechat.md)")
        return cls(
            token=os.environ["WECHAT_TOKEN"],
            app_id=os.environ["WECHAT_APP_ID"],
            app_secret=os.environ.get("WECHAT_APP_SECRET", ""),
            aes_key=os.environ.get("WECHAT_AES_KEY", ""),
        )

    def crypto(self) -> WeChatCrypto:
        return WeChatCrypto(self.token, self.aes_key, self.app_id)


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def new_msg_id() -> str:
    return str(random.randrange(10**18, 10**19))


def new_openid() -> str:
    """28 URL-safe characters, like WeChat's OpenIDs."""
    return "o" + secrets.token_urlsafe(21)[:27]


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


@dataclass(frozen=True)
class Push:
    """One HTTP POST exactly as WeChat sends it; `send` it again to play a retry."""

    query: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    elapsed_s: float
    text: str | None = None  # the passive reply's Content; None for "success" or an error

    @property
    def is_success_only(self) -> bool:
        return self.status == 200 and self.body.strip() in (b"", b"success")


@dataclass
class WeChatSimulator:
    webhook_url: str
    account: Account
    mode: Mode = "plain"
    timeout_s: float = 30.0

    # -- message XML, as WeChat builds it --------------------------------------------------

    def text_xml(self, openid: str, content: str, msg_id: str | None = None) -> str:
        return self._xml(openid, "text", Content=content, MsgId=msg_id or new_msg_id())

    def event_xml(self, openid: str, event: str, create_time: int | None = None) -> str:
        return self._xml(openid, "event", create_time, Event=event, EventKey="")

    def media_xml(self, openid: str, msg_type: str, **fields: str) -> str:
        return self._xml(openid, msg_type, MsgId=new_msg_id(), **fields)

    def _xml(
        self, openid: str, msg_type: str, create_time: int | None = None, **fields: str
    ) -> str:
        nodes = {
            "ToUserName": _cdata(self.account.account_id),
            "FromUserName": _cdata(openid),
            "CreateTime": str(create_time or int(time.time())),
            "MsgType": _cdata(msg_type),
            **{name: value if name == "MsgId" else _cdata(value) for name, value in fields.items()},
        }
        return "<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in nodes.items()) + "</xml>"

    # -- signing and encryption ------------------------------------------------------------

    def push(self, xml: str, *, timestamp: int | None = None, nonce: str | None = None) -> Push:
        """Sign (and in compatible/safe mode encrypt) `xml` for delivery."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        nonce = nonce or str(random.randrange(10**9, 10**10))
        query = {
            "signature": sign(self.account.token, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "openid": _sender_of(xml),
        }
        if self.mode == "plain":
            return Push(query, xml.encode())
        envelope = xmltodict.parse(self.account.crypto().encrypt_message(xml, nonce, stamp))["xml"]
        query.update(encrypt_type="aes", msg_signature=envelope["MsgSignature"])
        encrypted = f"<Encrypt>{_cdata(envelope['Encrypt'])}</Encrypt>"
        if self.mode == "compatible":  # the plaintext fields and the ciphertext side by side
            body = xml.replace("</xml>", encrypted + "</xml>")
        else:
            body = (
                f"<xml><ToUserName>{_cdata(self.account.account_id)}</ToUserName>{encrypted}</xml>"
            )
        return Push(query, body.encode())

    # -- HTTP ------------------------------------------------------------------------------

    def send(self, push: Push) -> Reply:
        url = f"{self.webhook_url}?{urllib.parse.urlencode(push.query)}"
        request = urllib.request.Request(
            url, data=push.body, headers={"Content-Type": "text/xml"}, method="POST"
        )
        started = time.monotonic()
        status, body = _http(request, self.timeout_s)
        elapsed = time.monotonic() - started
        text = self.read_reply(body, push) if status == 200 else None
        return Reply(status, body, elapsed, text)

    def send_concurrently(self, pushes: list[Push]) -> list[Reply]:
        with ThreadPoolExecutor(max_workers=len(pushes)) as pool:
            return list(pool.map(self.send, pushes))

    def ask(self, openid: str, content: str, msg_id: str | None = None) -> Reply:
        return self.send(self.push(self.text_xml(openid, content, msg_id)))

    def verify_url(self, echostr: str, signature: str | None = None) -> tuple[int, str]:
        """The GET WeChat sends when the server URL is saved in its console."""
        stamp, nonce = str(int(time.time())), str(random.randrange(10**9, 10**10))
        query = {
            "signature": signature or sign(self.account.token, stamp, nonce),
            "timestamp": stamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        request = urllib.request.Request(f"{self.webhook_url}?{urllib.parse.urlencode(query)}")
        status, body = _http(request, self.timeout_s)
        return status, body.decode("utf-8", "replace")

    def read_reply(self, body: bytes, push: Push) -> str | None:
        """The passive reply's text, checking what WeChat checks: signature, app id, addresses."""
        if body.strip() in (b"", b"success"):
            return None
        document = body.decode("utf-8")
        if push.query.get("encrypt_type") == "aes":
            envelope = xmltodict.parse(document)["xml"]
            document = self.account.crypto().decrypt_message(
                envelope, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        reply = parse_message(document)
        if reply.target != push.query["openid"]:
            raise AssertionError(f"reply addressed to {reply.target}, not the sender")
        if reply.source != self.account.account_id:
            raise AssertionError(f"reply sent as {reply.source}, not the account")
        if reply.type != "text":
            raise AssertionError(f"reply of type {reply.type}, expected text")
        return str(reply.content)


def _sender_of(xml: str) -> str:
    # A regex, not a parser: hostile test documents (entities, ...) must be pushable too.
    found = re.search(r"<FromUserName>(?:<!\[CDATA\[)?(.*?)(?:\]\]>)?</FromUserName>", xml)
    return found.group(1) if found else ""


def _http(request: urllib.request.Request, timeout_s: float) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


# -- the customer-service API ---------------------------------------------------------------


@dataclass
class SentMessage:
    openid: str
    content: str
    raw_body: bytes


@dataclass
class FakeCustomerServiceApi:
    """WeChat's /cgi-bin/token and /cgi-bin/message/custom/send on a loopback port, recording
    every message and able to fail on request (system busy, expired token, 45015, ...)."""

    app_id: str
    app_secret: str
    port: int = 0
    sent: list[SentMessage] = field(default_factory=list)
    token_requests: int = 0
    send_requests: int = 0  # every call of message/custom/send, refused ones included
    _valid_tokens: set[str] = field(default_factory=set)
    _failures: list[int] = field(default_factory=list)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeCustomerServiceApi:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(fake._token(self._query()))

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer(fake._send(self._query(), body))

            def _query(self) -> dict[str, str]:
                parsed = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parsed.query))
                return {**query, "path": parsed.path}

            def _answer(self, result: dict[str, Any]) -> None:
                data = json.dumps(result).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def fail_next_sends(self, *errcodes: int) -> None:
        """The next sends answer these WeChat error codes, in order."""
        with self._changed:
            self._failures.extend(errcodes)

    def expire_tokens(self) -> None:
        with self._changed:
            self._valid_tokens.clear()

    def messages_to(self, openid: str) -> list[SentMessage]:
        with self._changed:
            return [message for message in self.sent if message.openid == openid]

    def wait_for(self, openid: str, count: int = 1, timeout_s: float = 20) -> list[SentMessage]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages_to(openid)) >= count, timeout_s)
            return self.messages_to(openid)

    def wait_until_quiet(
        self, openid: str, quiet_s: float = 1.0, timeout_s: float = 20
    ) -> list[SentMessage]:
        """Every message of an answer sent in several parts: wait until none has come for
        `quiet_s`."""
        count = len(self.wait_for(openid, 1, timeout_s))
        while True:
            messages = self.wait_for(openid, count + 1, quiet_s)
            if len(messages) == count:
                return messages
            count = len(messages)

    def _token(self, query: dict[str, str]) -> dict[str, Any]:
        if query["path"] != "/cgi-bin/token" or query.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if (query.get("appid"), query.get("secret")) != (self.app_id, self.app_secret):
            return {"errcode": 40013, "errmsg": "invalid appid or secret"}
        with self._changed:
            self.token_requests += 1
            token = f"token-{self.token_requests}-{secrets.token_hex(4)}"
            self._valid_tokens.add(token)
        return {"access_token": token, "expires_in": 7200}

    def _send(self, query: dict[str, str], body: bytes) -> dict[str, Any]:
        with self._changed:
            self.send_requests += 1
            if query["path"] != "/cgi-bin/message/custom/send":
                return {"errcode": 40066, "errmsg": "invalid url"}
            if query.get("access_token") not in self._valid_tokens:
                return {"errcode": 42001, "errmsg": "access_token expired"}
            if self._failures:
                return {"errcode": self._failures.pop(0), "errmsg": "injected failure"}
            payload = json.loads(body.decode("utf-8"))
            self.sent.append(SentMessage(payload["touser"], payload["text"]["content"], body))
            self._changed.notify_all()
        return {"errcode": 0, "errmsg": "ok"}


@contextmanager
def running_fake_api(
    app_id: str, app_secret: str, port: int = 0
) -> Iterator[FakeCustomerServiceApi]:
    fake = FakeCustomerServiceApi(app_id, app_secret, port).start()
    try:
        yield fake
    finally:
        fake.stop()


# -- command line ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("messages", nargs="+", help="what the follower types")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the channel (default {DEFAULT_URL})")
    parser.add_argument("--mode", choices=["plain", "compatible", "safe"], default="plain")
    parser.add_argument("--openid", default=None, help="the follower (default: a new one)")
    parser.add_argument("--retries", type=int, default=0, help="also send each push N more times")
    parser.add_argument("--fake-api-port", type=int, default=0, help="serve the fake API here")
    args = parser.parse_args(argv)
    account = Account.from_env()
    simulator = WeChatSimulator(args.url, account, args.mode)
    openid = args.openid or new_openid()
    status, echoed = simulator.verify_url("hello-wechat")
    print(f"URL verification: HTTP {status}, echoed {echoed!r}")
    with _maybe_fake_api(account, args.fake_api_port) as fake:
        for message in args.messages:
            push = simulator.push(simulator.text_xml(openid, message))
            already = len(fake.messages_to(openid)) if fake else 0
            replies = simulator.send_concurrently([push] * (1 + args.retries))
            print(f"\n> {message}")
            for reply in replies:
                shown = reply.text if reply.text is not None else reply.body.decode()[:200]
                print(f"< HTTP {reply.status} in {reply.elapsed_s:.2f} s: {shown}")
            if fake is not None and all(reply.is_success_only for reply in replies):
                for sent in fake.wait_for(openid, already + 1)[already:]:
                    print(f"< (customer-service API) {sent.content}")
    return 0


@contextmanager
def _maybe_fake_api(account: Account, port: int) -> Iterator[FakeCustomerServiceApi | None]:
    if not port:
        yield None
        return
    with running_fake_api(account.app_id, account.app_secret, port) as fake:
        print(f"fake customer-service API at {fake.base_url}")
        yield fake


if __name__ == "__main__":
    sys.exit(main())
