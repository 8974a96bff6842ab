"""Text clean-up shared by the NLU components, with care for character offsets.

Rasa entities are (start, end) offsets into the message text, so every transformation here is
one of two kinds:

* `fold` is char-for-char: full-width ASCII to half-width, Traditional to Simplified Chinese
  (OpenCC t2s), optional lower-casing. Output index i is input index i, so the date finder and
  the gazetteer can search a folded *view* of a message and report offsets into the original.
* `normalize` also strips markup (HTML/XML tags, `<script>` bodies, entities), removes control
  characters, emoji and decorative symbols, rewrites Cantonese words as Mandarin
  (bot.nlu.cantonese), folds repeated punctuation, optionally keeps only the question of a long
  message (`focus_question`), collapses whitespace and truncates. Those change the length, so it
  returns, for every output character, the index it came from; the TextNormalizer uses that to
  carry entity annotations of training examples over.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.nlu.cantonese import mandarin_pattern, target_of
from bot.nlu.focus import question_span

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


# A message being cleaned: its text and, for each character, the input index it came from.
Traced = tuple[str, list[int]]

# <script>/<style> with their content, comments, and tags (HTML or XML) with well-formed attributes.
_MARKUP = re.compile(
    r"<(?P<body>script|style)\b[^>]*>.*?</(?P=body)\s*>"
    r"|<!--.*?(?:-->|$)"
    r"|<(?:!|\?)[A-Za-z][^<>]*>"
    r"|</?(?P<tag>[A-Za-z][A-Za-z0-9:_-]*)"
    r"(?:\s+[A-Za-z_:][\w:.-]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>]+))?)*\s*/?>",
    re.IGNORECASE | re.DOTALL,
)
# Tags that break a line: what they separate are different sentences.
_BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt footer form h1 h2 h3 h4 h5 h6 header hr li "
    "main nav ol p pre section table tbody td tfoot th thead tr ul".split()
)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Emoji, pictographs and decorative marks: other symbols, modifier symbols (skin tones),
# enclosing marks (keycaps), private use; ASCII (^, `) and number/letter characters stay.
_SYMBOL_CATEGORIES = frozenset({"So", "Sk", "Me", "Co"})
_ARROWS = re.compile(r"[\u2190-\u21ff\u27f0-\u27ff\u2900-\u297f\u2b00-\u2bff]")
# A run of sentence-final marks ("？？？！！！", "。。。。", "……") and a repeated mark (",,,", "~~~").
_TERMINAL_RUN = re.compile(r"[?!。.…]{2,}")
_REPEATED_MARK = re.compile(r"([,，、~;；:：\-—_*#=+])\1+")
_WHITESPACE_RUN = re.compile(r"\s+")
# Text that certainly holds no noise (the common case): printable ASCII, CJK, CJK punctuation.
_PLAIN = re.compile(
    r"[ -~\u3001-\u3003\u3005-\u3011\u4e00-\u9fff\uff01-\uff5e\u2018-\u201d\u2026]*"
)


def substitute(
    traced: Traced, pattern: re.Pattern[str], replace: Callable[[re.Match[str]], str | None]
) -> Traced:
    """`traced` with every match of `pattern` replaced (None keeps the match). Output character
    j of a replacement comes from input character j of the match (the last one if longer), so
    origins stay ascending and an entity's span maps onto its replacement."""
    text, origin = traced
    pieces: list[str] = []
    new_origin: list[int] = []
    last = 0
    for match in pattern.finditer(text):
        start, end = match.span()
        out = replace(match)
        if out is None or end == start:
            continue
        pieces.append(text[last:start])
        new_origin.extend(origin[last:start])
        pieces.append(out)
        new_origin.extend(origin[start + min(j, end - start - 1)] for j in range(len(out)))
        last = end
    if last == 0:
        return traced
    pieces.append(text[last:])
    new_origin.extend(origin[last:])
    return "".join(pieces), new_origin


def _markup_replacement(match: re.Match[str]) -> str:
    """A block tag becomes a line break, anything else nothing (a space between two words)."""
    tag = (match.group("tag") or "").lower()
    if tag in _BLOCK_TAGS:
        return "\n"
    text, start, end = match.string, match.start(), match.end()
    between_words = 0 < start and end < len(text) and _is_latin(text[start - 1] + text[end])
    return " " if between_words else ""


def _is_latin(chars: str) -> bool:
    return chars.isascii() and chars.isalnum()


def _entity_replacement(match: re.Match[str]) -> str | None:
    decoded = html.unescape(match.group())
    return None if decoded == match.group() else decoded


def strip_markup(traced: Traced) -> Traced:
    """HTML/XML tags out (script and style bodies too), entities decoded (&amp; &#x5f00;)."""
    text = traced[0]
    if "<" in text:
        traced = substitute(traced, _MARKUP, _markup_replacement)
    if "&" in traced[0]:
        traced = substitute(traced, _ENTITY, _entity_replacement)
    return traced


def _is_noise(char: str, symbols: bool = True) -> bool:
    """Invisible characters and (`symbols`) emoji / decorative symbols, judged on the
    half-width form."""
    if char.isascii():
        return not char.isprintable() and not char.isspace()
    if char.isspace():
        return False
    category = unicodedata.category(chr(_HALFWIDTH.get(ord(char), ord(char))))
    if category in _DROPPED_CATEGORIES:
        return True
    if not symbols:
        return False
    if category in _SYMBOL_CATEGORIES:
        return True
    # variation selectors (the emoji presentation U+FE0F among them) and arrows (Sm)
    return (
        "\ufe00" <= char <= "\ufe0f"
        or "\U000e0100" <= char <= "\U000e01ef"
        or (_ARROWS.match(char) is not None)
    )


def drop_noise(traced: Traced, symbols: bool = True) -> Traced:
    """Controls, zero-width and bidi characters and (`symbols`) emoji and decorative symbols
    removed."""
    text, origin = traced
    if _PLAIN.fullmatch(text):
        return traced
    kept = [i for i, char in enumerate(text) if not _is_noise(char, symbols)]
    if len(kept) == len(text):
        return traced
    return "".join(text[i] for i in kept), [origin[i] for i in kept]


def _terminal_replacement(match: re.Match[str]) -> str:
    run = match.group()
    return "?" if "?" in run else "!" if "!" in run else run[0]


def fold_punctuation(traced: Traced) -> Traced:
    """ "？？？！！！" -> "?", "!!!" -> "!", "。。。" -> "。", "……" -> "…", ",,," -> ","
    (after half-width folding, so ？ is already ?)."""
    traced = substitute(traced, _TERMINAL_RUN, _terminal_replacement)
    return substitute(traced, _REPEATED_MARK, lambda match: match.group(1))


def to_mandarin_traced(traced: Traced) -> Traced:
    """Cantonese words as Mandarin (bot.nlu.cantonese), origins carried along."""
    return substitute(traced, mandarin_pattern(traced[0]), target_of)


def focus_question(traced: Traced, focus_over: int) -> Traced:
    """Only the question of a message longer than `focus_over` units (bot.nlu.focus)."""
    text, origin = traced
    start, end = question_span(text, focus_over)
    if (start, end) == (0, len(text)):
        return traced
    return text[start:end], origin[start:end]


def collapse_whitespace(traced: Traced) -> Traced:
    """Every whitespace run one space; none at either end."""
    text, origin = traced
    stripped = text.strip()
    if not stripped:
        return "", []
    lead = len(text) - len(text.lstrip())
    traced = stripped, origin[lead : lead + len(stripped)]
    return substitute(traced, _WHITESPACE_RUN, lambda m: None if m.group() == " " else " ")


def normalize(text: str, max_length: int = 500, focus_over: int = 0) -> Normalized:
    """Clean untrusted message text for NLU: markup, controls and emoji out, Traditional and
    Cantonese folded to Simplified Mandarin, punctuation folded, whitespace collapsed, capped.

    focus_over > 0: a message longer than that (in `size_units`) is reduced to its question
    (see `focus_question`). Only a bounded prefix of the input is looked at, so a megabyte
    message costs no more than a long one.
    """
    scanned = text[: max(max_length, 1) * 8 + 64]
    raw: Traced = scanned, list(range(len(scanned)))
    traced = drop_noise(strip_markup(raw))
    traced = fold(traced[0]), traced[1]
    traced = to_mandarin_traced(traced)
    traced = fold_punctuation(traced)
    if focus_over > 0:
        traced = focus_question(traced, focus_over)
    folded, origin = collapse_whitespace(traced)
    if not folded:
        # Only markup or emoji ("👍", "<script>…</script>"): an empty message would reach the
        # classifier as nothing at all; the characters themselves (controls out) are better.
        traced = drop_noise(raw, symbols=False)
        folded, origin = collapse_whitespace((fold(traced[0]), traced[1]))
    covered = len(scanned)
    if len(folded) > max_length:
        covered = origin[max_length]  # the first input character that did not make it
        folded = folded[:max_length].rstrip(" ")
        origin = origin[: len(folded)]
    return Normalized(folded, tuple(origin), covered)
