"""Spelling correction against the vocabulary the model was trained on.

Visitors type "how many jobz at the recuitment fair", "exop open wich days", "展绘有啥好完的",
"主论谈发部了什么". The char n-gram features absorb some of that; a word the featurizers have
never seen in any form does not help the classifier at all. So, before tokenization:

* **Latin words** that are neither in the training vocabulary nor in SymSpell's English
  frequency dictionary (82,765 words, shipped with symspellpy), nor pinyin, become the closest
  training word (SymSpell lookup: Damerau-Levenshtein; words of 4-5 letters 1 edit, longer 2;
  ties go to the word the training data uses most). Chat shorthand (tmrw, pls, wats) is a
  short table.
* **Chinese homophone typos** (what a pinyin input method produces: 展绘 for 展会, 主提 for
  主题): a run of 2-4 characters that is neither a training word nor a word of jieba's
  dictionary, and reads (pypinyin, toneless) exactly like a training word, becomes that word.
  Same length, so Chinese corrections never move an offset.

Correction only ever maps unknown text onto known words, so correctly spelled input passes
through unchanged (tests/bot/nlu/test_spelling.py; the held-out effect is in docs/decisions.md).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from symspellpy import SymSpell, Verbosity

from bot.nlu.text import Traced, substitute

# Chat shorthand that no edit distance finds: written as English words.
SHORTHAND: Mapping[str, str] = {
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "tmw": "tomorrow",
    "2moro": "tomorrow",
    "2day": "today",
    "tdy": "today",
    "pls": "please",
    "plz": "please",
    "u": "you",
    "ur": "your",
    "r": "are",
    "wat": "what",
    "wats": "whats",
    "wen": "when",
    "wher": "where",
    "lst": "last",
    "yr": "year",
    "nxt": "next",
    "abt": "about",
    "thx": "thanks",
    "ppl": "people",
    "rn": "right now",
    "b4": "before",
}

_LATIN_WORD = re.compile(r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9]*(?![A-Za-z0-9])")
_HAN_RUN = re.compile(r"[\u3400-\u9fff]+")
_HAN_WORD = re.compile(r"[\u3400-\u9fff]{2,4}")
# Three letters are too few to tell a typo from another word ("doo": do? too? door?); two edits
# only from six letters on ("walet" is one edit from "wallet", two from "talent").
_MIN_LATIN_LENGTH = 4
_TWO_EDITS_FROM = 6
_HAN_WINDOWS = (4, 3, 2)
# jieba's dictionary holds rare junk (论谈, 3 occurrences); only words it has seen this often
# count as "known" and are left alone.
_JIEBA_KNOWN_FREQUENCY = 10
# Question and function characters that sound like others (哪/那, 在/再, 的/地/得): swapping
# them changes the question ("哪天" is not "那天"), and the model knows them in every form.
_GRAMMAR_CHARACTERS = frozenset("哪那的地得在再做作他她它么吗嘛呢吧啊是事几已以")


@functools.cache
def _english_words() -> frozenset[str]:
    """SymSpell's English frequency dictionary, as a set of known words."""
    dictionary = resources.files("symspellpy") / "frequency_dictionary_en_82_765.txt"
    with dictionary.open(encoding="utf-8") as lines:
        return frozenset(line.split(" ", 1)[0] for line in lines if line.strip())


@functools.cache
def _syllables(char: str) -> str:
    """The toneless pinyin of one character (its most common reading)."""
    from pypinyin import Style, lazy_pinyin

    return lazy_pinyin(char, style=Style.NORMAL)[0]


@functools.cache
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (from pypinyin's character table): zhong, lv, ..."""
    from pypinyin.pinyin_dict import pinyin_dict

    syllables = set()
    for readings in pinyin_dict.values():
        for marked in readings.split(","):
            decomposed = unicodedata.normalize("NFD", marked)
            plain = "".join(char for char in decomposed if not unicodedata.combining(char))
            syllables.update({plain, plain.replace("ü", "v"), plain.replace("ü", "u")})
    return frozenset(syllables)


# Visitors' words: bounded, a script sending fresh words must not grow the process (#15).
PINYIN_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=PINYIN_CACHE_SIZE)
def is_pinyin(word: str) -> bool:
    """Whether a lower-case word splits into pinyin syllables ("zenme", "baoming")."""
    syllables = _pinyin_syllables()
    ends = [True] + [False] * len(word)  # ends[i]: word[:i] splits into syllables
    for end in range(1, len(word) + 1):
        ends[end] = any(
            ends[start] and word[start:end] in syllables for start in range(max(0, end - 6), end)
        )
    return ends[len(word)]


def reading(word: str) -> str:
    """The toneless pinyin of a Chinese word, character by character: 展会 -> "zhan hui"."""
    return " ".join(_syllables(char) for char in word)


def _jieba_frequency() -> Mapping[str, int]:
    """jieba's dictionary (the tokenizer initialises it anyway; this makes sure it is)."""
    import jieba

    jieba.dt.check_initialized()
    return jieba.dt.FREQ


def count_words(texts: Iterable[str]) -> tuple[Counter[str], Counter[str]]:
    """Latin words (lower-case) and Chinese words (jieba) of `texts`, with their counts."""
    import jieba

    latin: Counter[str] = Counter()
    han: Counter[str] = Counter()
    for text in texts:
        latin.update(match.group().lower() for match in _LATIN_WORD.finditer(text))
        for run in _HAN_RUN.findall(text):
            # HMM off: only dictionary words, not the guesses jieba makes of unknown runs
            han.update(word for word in jieba.lcut(run, HMM=False) if _HAN_WORD.fullmatch(word))
    return latin, han


@dataclass
class Lexicon:
    """The training vocabulary and what it takes to correct towards it."""

    latin: Mapping[str, int]
    han: Mapping[str, int]
    min_count: int = 2
    _symspell: Any = field(default=None, init=False, repr=False)
    _by_reading: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self._symspell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for word, count in self.latin.items():
            if count >= self.min_count and len(word) >= _MIN_LATIN_LENGTH:
                self._symspell.create_dictionary_entry(word, count)
        ranked = sorted(self.han.items(), key=lambda item: (-item[1], item[0]))
        for word, count in ranked:
            if count >= self.min_count:
                self._by_reading.setdefault(reading(word), word)

    def to_json(self) -> dict[str, Any]:
        return {"latin": dict(self.latin), "han": dict(self.han), "min_count": self.min_count}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Lexicon:
        return cls(dict(data["latin"]), dict(data["han"]), int(data.get("min_count", 2)))

    def correct(self, traced: Traced) -> Traced:
        """`traced` with Latin typos and shorthand, then Chinese homophone typos, corrected."""
        text = traced[0]
        if _LATIN_WORD.search(text):
            traced = substitute(traced, _LATIN_WORD, self._latin_replacement)
        if _HAN_RUN.search(traced[0]):
            traced = self._correct_han(traced)
        return traced

    def latin_word(self, word: str) -> str | None:
        """The correction of one Latin word, or None to keep it."""
        lower = word.lower()
        if lower in SHORTHAND:
            return SHORTHAND[lower]
        if (
            len(lower) < _MIN_LATIN_LENGTH
            or not lower.isalpha()
            or lower in self.latin
            or lower in _english_words()
        ):
            return None
        if is_pinyin(lower):  # "zenme baoming" is Chinese typed without the input method
            return None
        allowed = 2 if len(lower) >= _TWO_EDITS_FROM else 1
        found = self._symspell.lookup(lower, Verbosity.CLOSEST, max_edit_distance=allowed)
        return found[0].term if found else None

    def _latin_replacement(self, match: re.Match[str]) -> str | None:
        return self.latin_word(match.group())

    def _is_known(self, word: str) -> bool:
        return word in self.han or _jieba_frequency().get(word, 0) >= _JIEBA_KNOWN_FREQUENCY

    def han_word(self, text: str, start: int, end: int) -> str | None:
        """The training word that text[start:end] is a homophone typo of, or None.

        A typo keeps some characters of the word (展绘 for 展会), so a replacement sharing none
        is a coincidence of sounds across words (13号是 is not 13好食); and a window whose edge
        character forms a word with its neighbour (换城|市) cuts through a real word."""
        window = text[start:end]
        found = self._by_reading.get(reading(window))
        if not found or found == window:
            return None
        if not any(typed == meant for typed, meant in zip(window, found)):
            return None
        if any(typed in _GRAMMAR_CHARACTERS for typed in set(window) - set(found)):
            return None
        if start > 0 and self._is_known(text[start - 1 : start + 1]):
            return None
        if end < len(text) and self._is_known(text[end - 1 : end + 1]):
            return None
        return found

    def _correct_han(self, traced: Traced) -> Traced:
        """Scans left to right: a known word is skipped whole, an unknown window that reads
        like a training word is replaced (longest window first)."""
        text, origin = traced
        corrected = text
        position = 0
        while position < len(corrected):
            step = 1
            for size in _HAN_WINDOWS:
                end = position + size
                window = corrected[position:end]
                if len(window) < size or not _HAN_WORD.fullmatch(window):
                    continue
                if self._is_known(window):
                    step = size
                    break
                replacement = self.han_word(corrected, position, end)
                if replacement:
                    corrected = corrected[:position] + replacement + corrected[end:]
                    step = size
                    break
            position += step
        return traced if corrected == text else (corrected, origin)
