"""Which web origins may embed the chat widget: CYBERWEEK_CORS_ORIGINS, read by serve and channel.

Unset or empty means "the assistant's own origin only" — enough for the demo page, which Rasa
serves itself. A site that embeds the widget lists its origins, separated by spaces or commas:
`CYBERWEEK_CORS_ORIGINS="https://www.example.cn https://example.cn"`; `*` allows every origin.
Kept free of Rasa imports so `cyberweek serve` can read it without loading Rasa.
"""

from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

ENV_VAR = "CYBERWEEK_CORS_ORIGINS"


class OriginError(ValueError):
    pass


def allowed_origins(environ: dict[str, str] | None = None) -> list[str] | None:
    """The configured origins, `["*"]` for any, or None for the same origin only."""
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
