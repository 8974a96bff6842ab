"""Text clean-up shared by the NLU components, with care for character offsets.

Rasa entities are (start, end) offsets into the message text, so every transformation here is
one of two kinds:

* `fold` is char-for-char: full-width ASCII to half-width, Traditional to Simplified Chinese
  (OpenCC t2s), optional lower-casing. Output index i is input index i, so the date finder and
  the gazetteer can search a folded *view* of a message and report offsets into the original.
* `normalize` also removes control characters, collapses whitespace and truncates. Those change
  the length, so it returns, for every output character, the index it came from; the
  TextNormalizer uses that to carry entity annotations of training examples over.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

# U+FF01..U+FF5E are the full-width forms of ASCII 0x21..0x7E; U+3000 is the ideographic space.
_HALFWIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}
# Invisible characters that only get in the way of matching: controls, format characters
# (zero-width space/joiners, BOM, bidi marks) and lone surrogates from badly decoded bytes,
# which would also make OpenCC's UTF-8 encoding fail.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})

_converter: Any = None
_converter_failed = False
_converter_lock = threading.Lock()


@dataclass(frozen=True)
class Normalized:
    """Normalised text plus, for each of its characters, the index it had in the input."""

    text: str
    origin: tuple[int, ...]
    covered: int  # input characters [0, covered) are represented; the rest was cut off

    def map_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where the input span [start, end) lies in the normalised text; None if it vanished
        or was cut by the length cap (half an entity is worse than none)."""
        if end > self.covered:
            return None
        new_start = bisect_left(self.origin, start)
        new_end = bisect_left(self.origin, end)
        while new_end > new_start and self.text[new_end - 1] == " ":
            new_end -= 1
        while new_start < new_end and self.text[new_start] == " ":
            new_start += 1
        if new_start >= new_end:
            return None
        return new_start, new_end


def _opencc() -> Any:
    """The shared OpenCC t2s converter, created on first use (None if OpenCC is unusable)."""
    global _converter, _converter_failed
    if _converter is None and not _converter_failed:
        with _converter_lock:
            if _converter is None and not _converter_failed:
                try:
                    from opencc import OpenCC

                    _converter = OpenCC("t2s")
                except Exception:  # degrade to no conversion, never crash NLU
                    _converter_failed = True
                    logger.warning("OpenCC t2s is unavailable; Traditional Chinese stays as is")
    return _converter


def _convert_char(converter: Any, char: str) -> str:
    try:
        out = converter.convert(char)
    except Exception:  # e.g. a character OpenCC cannot encode
        return char
    return out if len(out) == 1 else char


def to_simplified(text: str) -> str:
    """Traditional to Simplified Chinese, guaranteed to keep the length.

    OpenCC's t2s maps every single character 1:1 (checked over all CJK blocks), but its phrase
    table is applied first and a NUL ends its C string; when the whole-text result has another
    length we fall back to converting character by character, which cannot shift offsets.
    """
    if not text or text.isascii():
        return text
    converter = _opencc()
    if converter is None:
        return text
    try:
        out = converter.convert(text)
    except Exception:  # unencodable input: go char by char below
        out = None
    if isinstance(out, str) and len(out) == len(text):
        return out
    return "".join(_convert_char(converter, char) for char in text)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and punctuation (and U+3000) to their ASCII forms."""
    return text.translate(_HALFWIDTH)


def lower_same_length(text: str) -> str:
    """Lower-case without changing the length (str.lower turns 'İ' into two code points)."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered
    return "".join(low if len(low := char.lower()) == 1 else char for char in text)


def fold(text: str, lower: bool = False) -> str:
    """The char-for-char matching view of `text`: half-width, Simplified, optionally lower."""
    folded = to_simplified(to_halfwidth(text))
    return lower_same_length(folded) if lower else folded


def _visible_chars(text: str) -> tuple[list[str], list[int]]:
    """Characters kept by normalisation (whitespace runs collapsed to one space) and origins."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                origin.append(index)
            continue
        if unicodedata.category(char) in _DROPPED_CATEGORIES:
            continue
        chars.append(char)
        origin.append(index)
    while chars and chars[-1] == " ":
        chars.pop()
        origin.pop()
    return chars, origin


def normalize(text: str, max_length: int = 500) -> Normalized:
    """Clean untrusted message text for NLU: controls out, whitespace collapsed, folded, capped.

    Only a bounded prefix of the input is looked at, so a megabyte message costs no more than
    a long one.
    """
    scanned = text[: max(max_length, 1) * 4 + 64]
    chars, origin = _visible_chars(scanned)
    folded = fold("".join(chars))
    covered = len(scanned)
    if len(folded) > max_length:
        covered = origin[max_length]  # the first input character that did not make it
        folded = folded[:max_length].rstrip(" ")
        origin = origin[: len(folded)]
    return Normalized(folded, tuple(origin), covered)
