"""Cantonese and colloquial words rewritten as Mandarin, after Traditional->Simplified.

Visitors from Hong Kong and Macao write as they speak: 今日有咩活動, 開幕式喺邊度, 幾時開始.
OpenCC's HK/TW variants convert characters and phrasing, not Cantonese vocabulary (咩, 喺, 冇
stay as they are), hence this table. It is applied to text that OpenCC t2s has already turned
Simplified, so its keys are Simplified (邊度 arrives as 边度, 係 as 系, 嗰 as 𠮶).

Each row is one of three kinds:

* ``cantonese`` — written only in Cantonese (咩, 喺, 冇, 嘅, 佢 …): always rewritten, and its
  presence marks the message as Cantonese.
* ``colloquial`` — also (rarely) Mandarin with the same meaning (几时, 几多): always rewritten,
  but no evidence that the message is Cantonese.
* ``context`` — ordinary Mandarin elsewhere (系 in 计算机系 / 系统, 边 in 旁边, 点 in 几点 /
  地点, 今日 in 今日头条): rewritten only in a message that shows a ``cantonese`` row.

``after`` / ``before`` are regular-expression classes the characters just before / after the
word must NOT match (系 is no copula in 系统, 边 is no "which" in 旁边). At one position the
longest word wins (系唔系 before 系 and 唔). tests/bot/nlu/test_cantonese.py holds the false
positives each guard is for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Kind = Literal["cantonese", "colloquial", "context"]

# Characters that end a 点 / 边 compound when they come first: 几点, 地点, 重点 …; 旁边, 这边 …
_NOT_BEFORE_DIAN = (
    r"[0-9零一二三四五六七八九十两几半钟地重要观难焦景亮特优缺弱起终站据热论考知节基疑盲痛标原"
    r"检看卖试落顶极拐早晚差甜整识污斑雨快慢多少有好诊监测网]"
)
_NOT_BEFORE_BIAN = (
    r"[旁这那左右身海路两一里外上下前后东西南北周岸床窗河江湖手耳嘴天桥无半另单沿侧双边𠮶呢]"
)
# Characters that make 系 a department or a relation: 计算机系, 联系, 体系
_NOT_BEFORE_XI = "[联关体派维星水父母谱世直院学科菜语旁嫡机专本文理工医法商史哲艺化物]"
# Not preceded by a word character: at the start of the message or of a clause.
_NOT_AT_START = r"[^\s,，。!?、:：;；]"
# Followed only by a final particle and the end of the question.
_AT_QUESTION_END = r"[呀啊]?(?:[?!。]|$)"
# Characters that make 紧 "tight / urgent" rather than "-ing": 要紧, 赶紧, 抓紧 …
_NOT_AFTER_JIN = "[要赶抓加绷收拉捏吃扎松勒]"


@dataclass(frozen=True)
class Rewrite:
    """One row of the table: `source` (Simplified) becomes `target` under the row's guards."""

    source: str
    target: str
    kind: Kind = "cantonese"
    not_after: str = ""  # class of characters that must not precede `source`
    not_before: str = ""  # class of characters that must not follow `source`
    only_before: str = ""  # if set, `source` must be followed by one of these (lookahead)


REWRITES: tuple[Rewrite, ...] = (
    # --- what / which / where / who / when / how many
    Rewrite("乜嘢", "什么"),
    Rewrite("咩嘢", "什么"),
    Rewrite("乜", "什么"),
    Rewrite("咩嚟", "什么"),  # 系咩嚟㗎 = what is it
    Rewrite("咩", "什么"),
    Rewrite("边度", "哪里", "cantonese", not_after=_NOT_BEFORE_BIAN, not_before="[假过日数]"),
    # 边个论坛 = which forum, 边个主办 = who organises
    Rewrite(
        "边个",
        "哪个",
        "cantonese",
        not_after=_NOT_BEFORE_BIAN,
        only_before="[论分展活会场馆日城公单企部地区环节比题讲]",
    ),
    Rewrite("边个", "谁", "cantonese", not_after=_NOT_BEFORE_BIAN),
    Rewrite("𠮶边", "那边"),
    Rewrite("呢边", "这边", "context"),
    Rewrite("边", "哪", "context", not_after=_NOT_BEFORE_BIAN, not_before="[界缘境际疆防框]"),
    Rewrite("几时", "什么时候", "colloquial", not_after=r"[0-9十点]", not_before="[辰分]"),
    Rewrite("几多", "多少", "colloquial"),
    # 有几大 = how big; not 十几大 or 几大展区 (several major …)
    Rewrite("几大", "多大", "colloquial", not_after="[0-9十百千万]", not_before="[\u3400-\u9fff]"),
    Rewrite("边几", "哪几", "cantonese", not_after=_NOT_BEFORE_BIAN),
    Rewrite("几耐", "多久"),
    Rewrite("几钱", "多少钱", "colloquial", not_after=r"[0-9]"),
    # --- how / why (点 only where it cannot be 几点 / 地点 / 重点)
    Rewrite("点解", "为什么", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点样", "怎么样", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点去", "怎么去", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点行", "怎么走", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点走", "怎么走", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点搞", "怎么办", "context", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点算", "怎么办", "context", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点报名", "怎么报名", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点买", "怎么买", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点知", "怎么知道", "cantonese", not_after=_NOT_BEFORE_DIAN),
    Rewrite("点揾", "怎么找", "context", not_after=_NOT_BEFORE_DIAN),
    Rewrite("又点", "又怎么样", "context", not_before=r"[\u3400-\u9fff]"),
    # --- yes/no questions and negation
    Rewrite("系唔系", "是不是"),
    Rewrite("系咪", "是不是"),
    Rewrite("有冇", "有没有"),
    Rewrite("使唔使", "需不需要"),
    Rewrite("要唔要", "要不要"),
    Rewrite("得唔得", "行不行"),
    Rewrite("可唔可以", "可不可以"),
    Rewrite("识唔识", "会不会"),
    Rewrite("知唔知", "知不知道"),
    Rewrite("唔好意思", "不好意思"),
    Rewrite("好唔好", "好不好"),
    Rewrite("喺唔喺度", "在不在"),
    Rewrite("唔该晒", "非常感谢"),
    # 唔该(，)问下 = excuse me, may I ask; 唔该！ = thank you
    Rewrite("唔该", "麻烦", only_before="[,，]?[\u3400-\u9fff]"),
    Rewrite("唔该", "谢谢"),
    Rewrite("唔使", "不用"),
    Rewrite("唔好", "不要"),
    Rewrite("唔知", "不知道"),
    Rewrite("唔系", "不是"),
    Rewrite("唔", "不"),
    Rewrite("冇", "没有"),
    # 系 as the copula: after a pronoun or adverb, or before a question word; never 系统, 体系
    Rewrite("定系", "还是", "context", not_before="[统列数谱]"),
    # 系几号 / 系边度: before a question word 系 can only be the copula
    Rewrite("系", "是", "cantonese", not_after=_NOT_BEFORE_XI, only_before="[几边咩乜]"),
    Rewrite(
        "系",
        "是",
        "context",
        not_after=_NOT_BEFORE_XI,
        not_before="[统列数谱]",
    ),
    # --- pronouns, particles, verbs
    Rewrite("佢哋", "他们"),
    Rewrite("我哋", "我们"),
    Rewrite("你哋", "你们"),
    Rewrite("哋", "们"),
    Rewrite("佢", "他"),
    Rewrite("喺度", "在这里"),
    Rewrite("喺", "在"),
    Rewrite("嘅", "的"),
    Rewrite("咗未", "了没有"),  # 开始咗未 = has it started yet
    # 未 ending a question: 开完未 = is it over yet; never 未来 / 还未 / 尚未
    Rewrite("完未", "完了没有", only_before=_AT_QUESTION_END),
    Rewrite("未", "了没有", "context", not_after="[还尚从并]", only_before=_AT_QUESTION_END),
    # 緊 marks an action going on: 仲开紧咩 = is it still on; never 紧张 / 要紧 / 赶紧
    # … only when 咩 ends the question and no verb wants an object: 做紧咩(活动) = doing what
    Rewrite("紧咩", "着吗", not_after="[做搞讲睇玩食讲写]", only_before=_AT_QUESTION_END),
    Rewrite("紧", "着", "context", not_after=_NOT_AFTER_JIN, not_before="[张急密迫接跟要贴凑缩]"),
    Rewrite("咗", "了"),
    Rewrite("揾", "找"),
    Rewrite("做嘢", "工作"),
    Rewrite("识", "会", "context", not_after="[知认意常见学共标胆赏辨结熟相]", not_before="[别字]"),
    Rewrite("仲有", "还有", "context"),
    Rewrite("仲", "还", "context", not_after="[伯昆]", not_before="[裁秋夏春冬介]"),
    Rewrite("入面", "里面", "context", not_after="[进加输收投录导转引深切]", not_before="[试]"),
    Rewrite("下昼", "下午"),
    # 宜家 = now; never 宜家居 / 宜家家居 (the furniture shop)
    Rewrite("宜家", "现在", not_before="[家居]"),
    Rewrite("旧年", "去年", "colloquial"),
    Rewrite("今次", "这次", "colloquial"),
    Rewrite("买飞", "买票", "colloquial", not_before="[机行]"),
    Rewrite("睇下", "看看"),
    Rewrite("睇吓", "看看"),
    Rewrite("睇", "看"),
    Rewrite("嘢", "东西"),
    Rewrite("呢啲", "这些", "context"),
    Rewrite("呢度", "这里", "context"),
    Rewrite("呢个", "这个", "context"),
    Rewrite("呢几日", "这几天", "context"),
    Rewrite("𠮶度", "那里"),
    Rewrite("𠮶个", "那个"),
    Rewrite("𠮶啲", "那些"),
    Rewrite("𠮶日", "那天"),
    Rewrite("𠮶", "那"),
    Rewrite("啲", "些"),
    Rewrite("畀", "给"),
    Rewrite("俾", "给", "context"),
    Rewrite("攞", "拿"),
    Rewrite("啱啱", "刚刚"),
    Rewrite("啱", "对"),
    Rewrite("嚟", "来"),
    Rewrite("黎", "来", "context", not_before="[明巴]"),
    # 个 opening a question is "the": 個展有幾大 = how big is the expo (个展 is not a solo show)
    Rewrite("个", "这个", "colloquial", not_after=_NOT_AT_START, only_before="[展论会活]"),
    Rewrite("咁样", "这样"),
    Rewrite("咁", "那", not_after=_NOT_AT_START),  # 咁开幕式呢 = then what about …
    Rewrite("咁", "这么"),
    Rewrite("噉", "这样"),
    Rewrite("㗎", ""),
    Rewrite("㖞", ""),  # 喎 after t2s
    Rewrite("啩", ""),
    # --- days and "now" (the date extractor knows 今天 / 明天 / 昨天 / 后天)
    Rewrite("今日", "今天", "context"),
    Rewrite("听日", "明天", "context", not_before="[语本文剧]"),
    Rewrite("琴日", "昨天", "cantonese", not_after="[钢提古弹口竖扬胡]"),
    Rewrite("寻日", "昨天", "context", not_before="[本语]"),
    Rewrite("后日", "后天", "context", not_after="[最今以前往之日然]", not_before="[期程]"),
    Rewrite("而家", "现在", "context", not_after="[然因从进故而继反]"),
    Rewrite("依家", "现在", "context"),
)


def _row_pattern(row: Rewrite) -> str:
    pattern = re.escape(row.source)
    if row.not_after:
        pattern = f"(?<!{row.not_after}){pattern}"
    if row.not_before:
        pattern += f"(?!{row.not_before})"
    if row.only_before:
        pattern += f"(?={row.only_before})"
    return pattern


def _compile(rows: Iterable[tuple[int, Rewrite]]) -> re.Pattern[str]:
    """One alternation, longest source first so 系唔系 wins over 系 at the same position; the
    group name says which row matched (the same source may have rows with other guards)."""
    ordered = sorted(rows, key=lambda item: -len(item[1].source))
    alternation = "|".join(f"(?P<r{index}>{_row_pattern(row)})" for index, row in ordered)
    # The leading class lets the engine skip, in one test, the positions no word starts at
    # (an alternation with lookbehinds is otherwise tried row by row everywhere).
    first = "".join(sorted({re.escape(row.source[0]) for _, row in ordered}))
    return re.compile(f"(?=[{first}])(?:{alternation})")


_ALWAYS = _compile((i, row) for i, row in enumerate(REWRITES) if row.kind != "context")
_ALL = _compile(enumerate(REWRITES))
_MARKER = _compile((i, row) for i, row in enumerate(REWRITES) if row.kind == "cantonese")


def is_cantonese(text: str) -> bool:
    """Whether `text` (Simplified) uses a word only Cantonese writes."""
    return _MARKER.search(text) is not None


def mandarin_pattern(text: str) -> re.Pattern[str]:
    """The rewrite pattern that applies to `text`: every row in a Cantonese message, else the
    rows that are safe anywhere."""
    return _ALL if is_cantonese(text) else _ALWAYS


def target_of(match: re.Match[str]) -> str:
    """The Mandarin for a match of `mandarin_pattern`."""
    return REWRITES[int(match.lastgroup[1:])].target  # type: ignore[index]
