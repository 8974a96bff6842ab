"""The WeChat push protocol: who may push, what the XML may contain, how replies are sealed.

Signatures, AES envelopes and message classes are wechatpy's; this module only adds what its
helpers leave to the caller: constant-time comparison, a freshness window against replays,
refusing DTDs before any XML is parsed, and turning every malformed input into a status code
(403 for anything unauthenticated, 400 for anything unreadable) instead of an exception.
"""

from __future__ import annotations

import hmac
import re
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.parsers import expat

import xmltodict
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.messages import BaseMessage
from wechatpy.utils import WeChatSigner

# What WeChat puts in the query string: digits for timestamp and nonce, hex signatures.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_NONCE = re.compile(r"[A-Za-z0-9_-]{1,64}")
# OpenIDs are 28 URL-safe characters; anything else is not from WeChat and must not become
# a tracker key.
_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_DIGITS = re.compile(r"[0-9]{1,20}")
# Characters XML 1.0 cannot carry; a reply containing one would be unreadable for WeChat.
_NOT_XML_CHAR = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

SUBSCRIBE_EVENTS = frozenset({"subscribe", "subscribe_scan", "subscribe_scan_product"})


class Rejected(Exception):
    """A push refused before anything is processed; `status` is what the sender gets."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class PushParams:
    """The query string WeChat adds to every push (and to the URL verification GET)."""

    signature: str
    timestamp: str
    nonce: str
    encrypt_type: str = ""
    msg_signature: str = ""
    echostr: str = ""

    @classmethod
    def from_query(cls, args: Mapping[str, Any]) -> PushParams:
        def first(name: str) -> str:
            value = args.get(name, "")
            if isinstance(value, list):  # Sanic gives lists, urllib-style parsers too
                value = value[0] if value else ""
            return str(value)

        return cls(
            signature=first("signature"),
            timestamp=first("timestamp"),
            nonce=first("nonce"),
            encrypt_type=first("encrypt_type").lower(),
            msg_signature=first("msg_signature"),
            echostr=first("echostr"),
        )

    @property
    def encrypted(self) -> bool:
        return self.encrypt_type == "aes"


@dataclass(frozen=True)
class Inbound:
    """One message or event pushed by WeChat, reduced to what the channel decides on."""

    message: BaseMessage  # wechatpy's, kept to address the passive reply
    openid: str
    kind: str  # wechatpy's type: text, image, voice, location, link, video, event, ...
    event: str  # lower-case event name; "" for messages
    text: str  # the text to understand: Content, or a voice message's Recognition
    dedupe_key: str  # MsgId; FromUserName + CreateTime for events (which have no MsgId)

    @property
    def is_subscribe(self) -> bool:
        return self.event in SUBSCRIBE_EVENTS


def signature_of(*parts: str) -> str:
    """WeChat's SHA-1 over the sorted parts (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _same(expected: str, given: str) -> bool:
    # wechatpy compares with `!=`; a timing-safe comparison costs nothing.
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def authenticate(params: PushParams, token: str, max_skew_s: float, now: float) -> None:
    """The signature over token, timestamp and nonce, and a timestamp close to now.

    The signature does not cover the body, so a captured query string could be replayed
    with another body; the freshness window and the channel's bindings (replay.py) stop that.
    """
    if not (params.signature and _TIMESTAMP.fullmatch(params.timestamp)):
        raise Rejected(403, "missing or malformed signature parameters")
    if not _NONCE.fullmatch(params.nonce):
        raise Rejected(403, "missing or malformed nonce")
    if not _same(signature_of(token, params.timestamp, params.nonce), params.signature):
        raise Rejected(403, "bad signature")
    if abs(now - int(params.timestamp)) > max_skew_s:
        raise Rejected(403, "stale timestamp")


def ensure_safe_xml(document: str) -> None:
    """Well-formed XML without any DTD: no entity expansion (billion laughs), no XXE.

    Runs expat (which wechatpy's xmltodict uses too) with handlers that stop at the first
    DOCTYPE or entity declaration, before anything is expanded.
    """
    parser = expat.ParserCreate()

    def refuse(*_: Any) -> None:
        raise Rejected(400, "XML with a DTD or entity declarations")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        parser.Parse(document, True)
    except expat.ExpatError as error:
        raise Rejected(400, f"malformed XML ({error})") from None


def decode_body(raw: bytes) -> str:
    try:
        document = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "body is not UTF-8") from None
    if not document.strip():
        raise Rejected(400, "empty body")
    ensure_safe_xml(document)
    return document


def open_push(
    raw: bytes, params: PushParams, accepts_plain: bool, crypto: WeChatCrypto | None
) -> str:
    """The push's message XML: the body itself, or in compatible/safe mode its decrypted
    `Encrypt` element (whose msg_signature is checked first; plaintext fields that
    compatible mode sends alongside are ignored because nothing signs them)."""
    document = decode_body(raw)
    if params.encrypt_type not in ("", "raw", "aes"):
        raise Rejected(400, f"unknown encrypt_type {params.encrypt_type!r}")
    if not params.encrypted:
        if not accepts_plain:
            raise Rejected(403, "unencrypted push refused in safe mode")
        return document
    if crypto is None:
        raise Rejected(400, "encrypted push, but the channel is configured for plain mode")
    encrypted = _field(document, "Encrypt")
    expected = signature_of(crypto.token, params.timestamp, params.nonce, encrypted)
    if not _same(expected, params.msg_signature):
        raise Rejected(403, "bad msg_signature")
    try:
        inner = crypto.decrypt_message(
            {"Encrypt": encrypted}, params.msg_signature, params.timestamp, params.nonce
        )
    except InvalidSignatureException:
        raise Rejected(403, "bad msg_signature") from None
    except InvalidAppIdException:
        raise Rejected(403, "encrypted for another app id") from None
    except (ValueError, TypeError, IndexError, struct.error):
        raise Rejected(400, "undecryptable Encrypt element") from None
    ensure_safe_xml(inner)
    return inner


def _field(document: str, name: str) -> str:
    value = _root_fields(document).get(name)
    if not isinstance(value, str) or not value:
        raise Rejected(400, f"no {name} element")
    return value


def parse_inbound(document: str) -> Inbound:
    """wechatpy's message object plus the fields every later decision needs, validated.

    The raw fields are read too, because wechatpy maps an event it does not know to an
    `UnknownMessage` that no longer says it was an event.
    """
    fields = _root_fields(document)
    if not fields.get("MsgType"):
        raise Rejected(400, "no MsgType element")
    try:
        message = parse_message(document)
    except (KeyError, TypeError, ValueError, AttributeError, expat.ExpatError):
        raise Rejected(400, "not a WeChat message") from None
    openid, msg_id, created = (
        str(fields.get(name) or "") for name in ("FromUserName", "MsgId", "CreateTime")
    )
    if not _OPENID.fullmatch(openid):
        raise Rejected(400, "missing or malformed FromUserName")
    if not (_DIGITS.fullmatch(msg_id) or _DIGITS.fullmatch(created)):
        raise Rejected(400, "neither a MsgId nor a CreateTime")
    is_event = str(fields.get("MsgType") or "").lower() == "event"
    event = str(fields.get("Event") or "").lower()
    return Inbound(
        message=message,
        openid=openid,
        kind="event" if is_event else message.type,
        event=event if is_event else "",
        text=_text_of(message),
        dedupe_key=_dedupe_key(openid, msg_id, created, event if is_event else None),
    )


def _dedupe_key(openid: str, msg_id: str, created: str, event: str | None) -> str:
    """MsgId; for events (which have none) FromUserName + CreateTime, as WeChat advises, plus
    the event name, so that e.g. subscribe and a menu click in the same second stay two."""
    if event is None and _DIGITS.fullmatch(msg_id):
        return msg_id
    return f"{openid}:{created}:{event or ''}"


def _root_fields(document: str) -> dict[str, Any]:
    try:
        fields = xmltodict.parse(document).get("xml")
    except (ValueError, expat.ExpatError):
        fields = None
    if not isinstance(fields, dict):
        raise Rejected(400, "not a WeChat <xml> document")
    return fields


def _text_of(message: BaseMessage) -> str:
    if message.type == "text":
        return str(message.content or "")
    if message.type == "voice":  # WeChat's speech recognition, when the account enables it
        return str(message.recognition or "")
    return ""


def text_reply(content: str, inbound: Inbound) -> str:
    """The passive text reply's XML (wechatpy), safe for CDATA and XML 1.0."""
    cleaned = _NOT_XML_CHAR.sub("", content).replace("]]>", "]]]]><![CDATA[>")
    return create_reply(cleaned, inbound.message).render()


def seal(reply_xml: str, crypto: WeChatCrypto | None, nonce: str) -> str:
    """Encrypt and sign the reply when the push was encrypted (crypto given)."""
    if crypto is None:
        return reply_xml
    return crypto.encrypt_message(reply_xml, nonce, str(int(time.time())))
