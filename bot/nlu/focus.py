"""The question inside a long message.

Visitors write a paragraph of context before they ask: 我是澳门的大学生，下周想带十几个同学一起
去广州……请问开幕式在哪里举行？ The classifier sees a bag of words and character n-grams, so the
context (澳门, 同学, 广州) outweighs the question and the message lands on another intent or out
of scope. A message longer than a threshold is therefore reduced to its question: the last
sentence that asks something, with the sentence before it when that is short (it often names the
thing asked about) or when the question is too short to stand alone (请问在哪里？). A question
sentence that is itself too long is reduced the same way at the level of its clauses.

This runs on normalised text (Simplified Mandarin, half-width punctuation), so the markers need
no Traditional or Cantonese forms: 請問 / 幾 / 點解 / 邊度 have become 请问 / 几 / 为什么 / 哪里.
The threshold and its measurements are in docs/decisions.md.
"""

from __future__ import annotations

import re

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A Chinese character is one unit, a Latin word or a number two: an English word carries about
# as much as two characters, so one threshold serves both languages.
_UNIT = re.compile(rf"[{_CJK}]|[A-Za-z0-9]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"[。!?…\n\r\u2028\u2029]+|\.(?![0-9A-Za-z])")
_CLAUSE_END = re.compile(rf"[,，;；:：]+|{_SENTENCE_END.pattern}")
# Words that make a sentence a question (a "?" makes it one for sure). 几 not after 十/两/好 (十几个
# 同学 is "a dozen"), 么 not in 这么/那么, English auxiliaries only where a question starts.
_ASKING = re.compile(
    r"吗|呢|(?<![这那要多])么|哪|(?<![十两一好数])几|什么|啥|怎|如何|何时|何地|何处|为何|多少|多久"
    r"|多大|多远|多长|是否|请问|能否|可否|能不能|可不可以|有没有|是不是|谁|想知道|想问|想了解"
    r"|告诉我|介绍一下"
    r"|\b(?:where|when|what|whats|how|which|who|whom|whose|why|tell me|wondering"
    r"|want to know|like to know)\b",
    re.IGNORECASE,
)
_ASKING_START = re.compile(
    r"\s*(?:(?:so|and|but|also|btw|please|hi|hello|ok|okay|then|sorry)\W+)*"
    r"(?:can|could|is|are|am|do|does|did|will|would|should|shall|may|was|were|have|has)\b",
    re.IGNORECASE,
)
# Sentences that are only courtesy ("谢谢！", "thanks a lot") never stand for the question.
_COURTESY = re.compile(
    r"\s*(?:谢谢|多谢|感谢|非常感谢|谢谢你|谢谢您|麻烦了|麻烦你了|辛苦了|你好|您好|hi|hello|thanks?"
    r"(?: a lot| so much)?|thank you(?: very much| so much)?|thx|cheers|many thanks)"
    r"[\s.!?。…~,，]*",
    re.IGNORECASE,
)
# The sentence before the question is kept when the question needs it: always when the question
# is too short to stand alone (请问在哪里？, 有什么活动？), and when it refers back (那天, there)
# if that sentence is short. Otherwise context is noise: "We are all very excited about it. When
# is Campus Day?" was nlu_fallback with the sentence before, ask_theme_day without
# (docs/decisions.md).
SHORT_CONTEXT = 16  # units
TINY_QUESTION = 5  # units
_REFERS_BACK = re.compile(
    r"那天|当天|那里|那儿|那边|那个|这个|它|其|该|那时|那次|这些|那些"
    r"|\b(?:then|there|that day|that|it|they|this|these|those)\b",
    re.IGNORECASE,
)

# Questions that name nothing and only point back at the context: "是真的吗？具体是什么样的
# 活动？", "能介绍一下吗？", "is that true? tell me more". Such a question takes in the segments
# before it until one names something.
_VAGUE = re.compile(
    r"是真的吗|真的假的|真的吗|是不是真的|具体是什么样的?|具体有什么|具体怎么样|具体是什么"
    r"|能不能介绍一下|能否介绍一下|能介绍一下|可以介绍一下|介绍一下|详细说说|说说看|什么样的"
    r"|怎么回事|\b(?:is (?:that|it|this) (?:true|right|real)|tell me more|more details?"
    r"|what is it (?:like|about)|what's it (?:like|about)|can you (?:tell me|explain) more)\b",
    re.IGNORECASE,
)
_FILLER = re.compile(
    r"[吗呢吧啊呀哦嘛了的请问那这个它活动\s?!。,，…~]|\b(?:so|and|please|it|that|this|about)\b",
    re.IGNORECASE,
)
VAGUE_REST = 2  # units left once the vague phrases and fillers are gone


def is_vague(piece: str) -> bool:
    """Whether a question names nothing of its own ("具体是什么样的活动？", "能介绍一下吗")."""
    if not _VAGUE.search(piece):
        return False
    rest = _FILLER.sub(" ", _VAGUE.sub(" ", piece))
    return size_units(rest) <= VAGUE_REST


def size_units(text: str, start: int = 0, end: int | None = None) -> int:
    """Length in units: Chinese characters count one, Latin words and numbers two."""
    end = len(text) if end is None else end
    return len(_CJK_CHAR.findall(text, start, end)) + 2 * len(_WORD.findall(text, start, end))


def _segments(text: str, start: int, end: int, boundary: re.Pattern[str]) -> list[tuple[int, int]]:
    """[start, end) cut after each boundary; segments without a word are left out."""
    cuts = [match.end() for match in boundary.finditer(text, start, end)]
    spans = zip([start, *cuts], [*cuts, end])
    return [(a, b) for a, b in spans if b > a and _UNIT.search(text, a, b)]


def _question_index(text: str, segments: list[tuple[int, int]]) -> int:
    """The last segment with a "?", else the last with a question word, else the last that is
    not mere courtesy (else the last)."""
    pieces = [text[a:b] for a, b in segments]
    for is_question in (
        lambda piece: "?" in piece,
        lambda piece: _ASKING.search(piece) is not None or _ASKING_START.match(piece) is not None,
        lambda piece: _COURTESY.fullmatch(piece) is None,
    ):
        for index in range(len(pieces) - 1, -1, -1):
            if is_question(pieces[index]):
                return index
    return len(pieces) - 1


def _needs_context(text: str, before: tuple[int, int], question: tuple[int, int]) -> bool:
    question_size = size_units(text, *question)
    if question_size <= TINY_QUESTION:
        return True
    refers_back = _REFERS_BACK.search(text, *question) is not None
    return refers_back and size_units(text, *before) <= SHORT_CONTEXT


def _pick(text: str, start: int, end: int, boundary: re.Pattern[str]) -> tuple[int, int]:
    segments = _segments(text, start, end, boundary)
    if len(segments) < 2:
        return start, end
    index = _question_index(text, segments)
    first = index
    if index > 0 and _needs_context(text, segments[index - 1], segments[index]):
        first = index - 1
    while first > 0 and is_vague(text[slice(*segments[first])]):
        first -= 1
    return segments[first][0], segments[index][1]


def question_span(text: str, focus_over: int) -> tuple[int, int]:
    """[start, end) of `text` to classify: all of it up to `focus_over` units, else its question
    (by sentences, then by clauses if the chosen sentences are still too long)."""
    if 2 * len(text) <= focus_over or size_units(text) <= focus_over:  # <= 2 units a char
        return 0, len(text)
    start, end = _pick(text, 0, len(text), _SENTENCE_END)
    if size_units(text, start, end) > focus_over:
        start, end = _pick(text, start, end, _CLAUSE_END)
    return start, end
