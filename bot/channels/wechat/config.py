"""Settings of the WeChat Official Account channel: credentials.yml, overridden by environment.

Rasa's credentials.yml can expand `${VAR}`, but it refuses to start when such a variable is
unset, which would break `make run` on every machine without WeChat secrets. So the file holds
only non-secret defaults and the secrets come from the environment (WECHAT_TOKEN, ...); with no
token at all the channel stays registered but switched off.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, get_args
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bot.limits import MAX_BODY_BYTES

Mode = Literal["plain", "compatible", "safe"]
MODES: tuple[str, ...] = get_args(Mode)

DEFAULT_API_BASE_URL = "https://api.weixin.qq.com"
# WeChat's console takes a Token of 3-32 letters and digits; anything shorter than the most it
# takes can be guessed offline from one captured signature (SHA-1 over token, timestamp, nonce).
MIN_TOKEN_CHARS = 32
# Tokens and EncodingAESKeys printed in documentation and sample code: public, so whoever reads
# them can sign (and decrypt) pushes. Sources: WeChat's message-encryption sample (WXBizMsgCrypt,
# Official Accounts: token "spamtest", appid wx2c2769f8efd9abc2); WeCom's callback example
# (developer.work.weixin.qq.com/document/path/90968: token "QDG6eK", corpid
# wx5823bf96d3bd56c7); wechatpy's tests/test_crypto.py (token "123456", wx49f0ab532d5d035a).
DOCUMENTED_EXAMPLE_SECRETS = frozenset(
    {
        "spamtest",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        "QDG6eK",
        "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
        "123456",
        "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",
    }
)
# Plain HTTP is refused for the API base URL (it carries the AppSecret and access tokens),
# except on this machine's loopback, where nothing crosses a network (tests, a fake API).
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# WeChat gives up on a passive reply after 5 s and retries; leave room for the network.
DEFAULT_REPLY_BUDGET_S = 3.0
MAX_REPLY_BUDGET_S = 4.5

# credentials.yml key -> environment variable that overrides it.
ENV_OVERRIDES: dict[str, str] = {
    "token": "WECHAT_TOKEN",
    "app_id": "WECHAT_APP_ID",
    "app_secret": "WECHAT_APP_SECRET",
    "encoding_aes_key": "WECHAT_AES_KEY",
    "mode": "WECHAT_MODE",
    "api_base_url": "WECHAT_API_BASE_URL",
    "reply_budget_s": "WECHAT_REPLY_BUDGET_S",
    "redis_url": "REDIS_URL",
}


class SettingsError(ValueError):
    """A WeChat setting that would make the channel misbehave; raised at start-up, not later."""


@dataclass(frozen=True)
class WeChatSettings:
    token: str = ""
    app_id: str = ""
    app_secret: str = ""
    encoding_aes_key: str = ""
    # plain: unencrypted pushes only. safe: encrypted only. compatible: both (WeChat's
    # compatible mode sends encrypted pushes; accepting plain ones eases switching modes).
    mode: Mode = "plain"
    api_base_url: str = DEFAULT_API_BASE_URL
    reply_budget_s: float = DEFAULT_REPLY_BUDGET_S
    max_timestamp_skew_s: float = 300.0
    # The webhook streams its body, which lifts Sanic's cap: the channel reads at most this (413).
    max_body_bytes: int = MAX_BODY_BYTES
    reply_limit_bytes: int = 2048  # WeChat's limit for one text message
    redis_url: str = ""
    api_timeout_s: float = 5.0
    api_attempts: int = 3
    api_backoff_s: float = 0.5
    welcome_payload: str = "/greet"

    @property
    def enabled(self) -> bool:
        """Without a token no signature can be checked, so nothing may be accepted."""
        return bool(self.token)

    @property
    def accepts_plain(self) -> bool:
        return self.mode in ("plain", "compatible")

    @property
    def accepts_encrypted(self) -> bool:
        return self.mode in ("compatible", "safe")

    @property
    def can_push(self) -> bool:
        """The customer-service API (slow answers) needs the app id and secret."""
        return bool(self.app_id and self.app_secret)


def load_settings(
    credentials: Mapping[str, Any] | None, environ: Mapping[str, str] = os.environ
) -> WeChatSettings:
    """Merge credentials.yml with the environment (which wins) and validate the result."""
    merged: dict[str, Any] = {k: v for k, v in (credentials or {}).items() if v is not None}
    unknown = sorted(set(merged) - {f.name for f in fields(WeChatSettings)})
    if unknown:
        raise SettingsError(f"unknown WeChat channel settings in credentials.yml: {unknown}")
    for key, variable in ENV_OVERRIDES.items():
        if environ.get(variable, "").strip():
            merged[key] = environ[variable].strip()
    if "mode" not in merged or not str(merged["mode"]).strip():
        # An AES key means the account is in an encrypted mode; default to the strict one.
        merged["mode"] = "safe" if merged.get("encoding_aes_key") else "plain"
    settings = WeChatSettings(**_coerced(merged))
    _validate(settings)
    return settings


CHANNEL_KEY = "bot.channels.wechat.channel.WeChatInput"  # its key in credentials.yml


def check_credentials_file(path: Path, environ: Mapping[str, str] = os.environ) -> None:
    """Raises SettingsError as Rasa's start would, before anything starts (`cyberweek serve`)."""
    channels = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if CHANNEL_KEY in channels:
        load_settings(channels[CHANNEL_KEY], environ)


def _coerced(values: Mapping[str, Any]) -> dict[str, Any]:
    """Environment values are strings; give every field the type its default has."""
    result: dict[str, Any] = {}
    for field in fields(WeChatSettings):
        if field.name in values:
            result[field.name] = _coerce(field.name, values[field.name], type(field.default))
    return result


def _coerce(name: str, value: Any, kind: type) -> Any:
    if kind is str:
        return str(value).strip()
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise SettingsError(f"WeChat setting {name}={value!r} is not a {kind.__name__}") from None


def _validate(settings: WeChatSettings) -> None:
    if settings.mode not in MODES:
        raise SettingsError(f"WeChat mode {settings.mode!r} is not one of {', '.join(MODES)}")
    if not 0 < settings.max_body_bytes <= MAX_BODY_BYTES:
        raise SettingsError(f"max_body_bytes must be between 1 and {MAX_BODY_BYTES} (64 KiB)")
    if not 0 <= settings.reply_budget_s <= MAX_REPLY_BUDGET_S:
        raise SettingsError(
            f"reply_budget_s must be between 0 and {MAX_REPLY_BUDGET_S} s (WeChat waits 5 s)"
        )
    if settings.enabled and settings.accepts_encrypted:
        if not settings.app_id:
            raise SettingsError(f"WeChat {settings.mode} mode needs the app id (WECHAT_APP_ID)")
        _validate_aes_key(settings.encoding_aes_key)
    if not settings.api_base_url.startswith(("https://", "http://")):
        raise SettingsError(f"api_base_url {settings.api_base_url!r} is not an http(s) URL")
    if settings.enabled:
        _refuse_weak(settings)


def _refuse_weak(settings: WeChatSettings) -> None:
    """A configured channel whose secrets or API address would let others in: stop at start-up."""
    fix_token = (
        "In the WeChat console (设置与开发 → 基本配置 → 服务器配置) set a Token of 32 random "
        "letters and digits, e.g. the output of `python -c 'import secrets; "
        "print(secrets.token_hex(16))'`, and give the assistant the same value in WECHAT_TOKEN."
    )
    if settings.token in DOCUMENTED_EXAMPLE_SECRETS:
        raise SettingsError(
            "WECHAT_TOKEN is an example token printed in WeChat's or wechatpy's documentation, "
            f"so anyone can sign pushes to this channel. {fix_token}"
        )
    if len(settings.token) < MIN_TOKEN_CHARS:
        raise SettingsError(
            f"WECHAT_TOKEN has {len(settings.token)} characters; at least {MIN_TOKEN_CHARS} are "
            "needed, because a short token can be guessed offline from one captured "
            f"signature. {fix_token}"
        )
    if settings.encoding_aes_key in DOCUMENTED_EXAMPLE_SECRETS:
        raise SettingsError(
            "WECHAT_AES_KEY is an example EncodingAESKey printed in WeChat's or wechatpy's "
            "documentation, so anyone can decrypt and forge encrypted pushes. Press 随机生成 "
            "next to EncodingAESKey in the WeChat console (设置与开发 → 基本配置 → 服务器配置), "
            "save, and give the assistant the new 43 characters in WECHAT_AES_KEY."
        )
    url = urlsplit(settings.api_base_url)
    if url.scheme == "http" and url.hostname not in LOOPBACK_HOSTS:
        raise SettingsError(
            f"WECHAT_API_BASE_URL (api_base_url) is {settings.api_base_url!r}: plain HTTP would "
            "send the AppSecret and access tokens readable to anyone on the way. Unset it to "
            f"use {DEFAULT_API_BASE_URL}, or give an https:// address (plain http:// is "
            "accepted only on this machine's loopback, for a test API)."
        )


def _validate_aes_key(key: str) -> None:
    """The EncodingAESKey is 43 base64 characters that decode (with '=') to a 32-byte key."""
    try:
        decoded = base64.b64decode(key + "=", validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(key) != 43 or len(decoded) != 32:
        raise SettingsError(
            "the EncodingAESKey (WECHAT_AES_KEY) must be the 43 characters shown in the "
            "WeChat console; an encrypted mode cannot work without it"
        )
