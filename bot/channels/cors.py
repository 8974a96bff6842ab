"""Which other web origins may embed the chat widget: CYBERWEEK_CORS_ORIGINS.

The assistant's own origin (its demo page) is always allowed; that is all when the variable is
unset. A site that embeds the widget lists its origins, separated by spaces or commas:
`CYBERWEEK_CORS_ORIGINS="https://www.example.cn https://example.cn"`; `*` allows every origin.
Read by the widget's channel (bot/channels/webchat.py) and checked early by `cyberweek serve`,
so this module imports nothing of Rasa.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

ENV_VAR = "CYBERWEEK_CORS_ORIGINS"


class OriginError(ValueError):
    pass


def allowed_origins(environ: dict[str, str] | None = None) -> list[str] | None:
    """The listed origins, `["*"]` for any, or None for none besides the assistant's own."""
    raw = (os.environ if environ is None else environ).get(ENV_VAR, "")
    origins = [_normalise(item) for item in re.split(r"[\s,]+", raw) if item]
    if "*" in origins:
        return ["*"]
    return origins or None


def _normalise(origin: str) -> str:
    if origin == "*":
        return origin
    parts = urlsplit(origin.rstrip("/"))
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise OriginError(
            f"{ENV_VAR}: {origin!r} is not an origin; write scheme://host[:port], "
            "e.g. https://www.example.cn"
        )
    return f"{parts.scheme}://{parts.netloc.lower()}"
