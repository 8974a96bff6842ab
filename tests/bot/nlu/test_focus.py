"""The question inside a long message (bot/nlu/focus.py, through `normalize(focus_over=…)`)."""

from __future__ import annotations

import pytest

from bot.nlu.focus import SHORT_CONTEXT, is_vague, question_span, size_units
from bot.nlu.normalizer import TextNormalizer
from bot.nlu.text import normalize

FOCUS_OVER = TextNormalizer.get_default_config()["focus_over"]


def focused(text: str) -> str:
    return normalize(text, focus_over=FOCUS_OVER).text


def test_size_counts_characters_and_words() -> None:
    assert size_units("开幕式在哪里") == 6
    assert size_units("where is the expo") == 8
    assert size_units("IFF会址在9月10日") == 2 + 3 + 2 + 1 + 2 + 1  # IFF 会址在 9 月 10 日
    assert size_units("！？ ,") == 0


def test_short_messages_stay_whole() -> None:
    text = "您好，请问能告诉我网络安全博览会的具体地址吗？我想提前规划路线"
    assert size_units(text) <= FOCUS_OVER
    assert focused(text) == "您好,请问能告诉我网络安全博览会的具体地址吗?我想提前规划路线"
    assert question_span(text, FOCUS_OVER) == (0, len(text))


@pytest.mark.parametrize(
    ("message", "question"),
    [
        (  # the student from Macao: long context, question last
            "我是澳门的大学生，下周想带十几个同学一起去广州参观网络安全宣传周，"
            "大家都很期待，也准备了很多问题想请教专家。请问开幕式在哪里举行？",
            "请问开幕式在哪里举行?",
        ),
        (  # courtesy after the question is not the question
            "我是从北京飞过来的工程师，周二上午落地白云机场，之后会直接去南沙那边，"
            "公司安排了两天的行程。主论坛是哪一天？谢谢！",
            "主论坛是哪一天?",
        ),
        (  # no question mark: the last sentence with a question word
            "我们学校组织了一批学生报名了这次活动，老师让我负责联系，大家都是第一次参加，"
            "有点紧张。想问一下招聘会怎么报名。辛苦了。",
            "想问一下招聘会怎么报名。",
        ),
        (  # a question too short to stand alone keeps the sentence before (the clause level)
            "我是澳门的大学生，下周想带十几个同学一起去广州参观，顺便看看网络安全宣传周的"
            "开幕式。请问在哪里？",
            "顺便看看网络安全宣传周的开幕式。请问在哪里?",
        ),
        (  # one run-on sentence: the question clause
            "hello there, my name is Li and I am an engineer from Shanghai, I will fly to "
            "Guangzhou next week with three colleagues from my security team, where is the expo",
            "where is the expo",
        ),
        (
            "Hi! My colleagues and I are travelling from Hong Kong for the week and we booked a "
            "hotel in Nansha for three nights. We are very excited. When is Campus Day? Thanks a lot!",
            "When is Campus Day?",
        ),
        (  # Cantonese is already Mandarin when the question is looked for
            "我同幾個舊同學約咗下個禮拜一齊去廣州，佢哋都係做網絡安全嘅，想睇下有咩新嘢，"
            "順便食餐飯。聽日有咩活動？",
            "听日有什么活动?".replace("听日", "明天"),
        ),
    ],
)
def test_long_messages_keep_their_question(message: str, question: str) -> None:
    assert size_units(message) > FOCUS_OVER
    assert focused(message) == question


def test_short_context_sentence_is_kept_with_the_question() -> None:
    context = "我下周二到广州。"
    assert size_units(context) <= SHORT_CONTEXT
    message = "你好，我是一名在深圳工作的网络安全工程师，公司派我去参加这次宣传周的活动。" + (
        context + "那天有什么活动？"
    )
    assert focused(message) == "我下周二到广州。那天有什么活动?"


@pytest.mark.parametrize(
    ("last_two", "question"),
    [
        ("我周四到南沙。有什么活动？", "我周四到南沙。有什么活动?"),  # too short to stand alone
        (
            "I arrive on Thursday. What is on that day?",
            "I arrive on Thursday. What is on that day?",
        ),
        ("一直想去看看。博览会有多大？", "博览会有多大?"),  # stands alone: context is noise
        ("We are all very excited about it. When is Campus Day?", "When is Campus Day?"),
    ],
)
def test_the_sentence_before_is_kept_only_when_the_question_needs_it(
    last_two: str, question: str
) -> None:
    context = "你好，我是一名在深圳工作的网络安全工程师，公司派我去参加这次宣传周的活动。"
    assert focused(context + last_two) == question


def test_focus_is_off_by_default() -> None:
    message = "我是澳门的大学生，下周想带十几个同学一起去广州参观网络安全宣传周，大家都很期待。" * 2
    assert normalize(message).text == normalize(message, focus_over=0).text
    assert len(normalize(message).text) > len(focused(message + "请问开幕式在哪里？"))


def test_entities_outside_the_question_vanish_inside_move() -> None:
    message = (
        "我是澳门的大学生，去年参加过在上海举办的开幕式，这次想带十几个同学一起去广州参观，"
        "大家都很期待。请问今年的开幕式在哪里举行？"
    )
    normalized = normalize(message, focus_over=FOCUS_OVER)
    first = message.index("开幕式")
    second = message.rindex("开幕式")
    assert normalized.map_span(first, first + 3) is None
    span = normalized.map_span(second, second + 3)
    assert span is not None
    assert normalized.text[span[0] : span[1]] == "开幕式"


@pytest.mark.parametrize(
    ("message", "question"),
    [
        (  # two questions that name nothing: back to the clause that names the job fair
            "我今年刚毕业，投了很多简历都没有回音，家里人也着急，"
            "听说这次宣传周有面向网安方向的人才招聘，是真的吗？具体是什么样的活动？",
            "听说这次宣传周有面向网安方向的人才招聘,是真的吗?具体是什么样的活动?",
        ),
        (
            "A friend who works in Shenzhen told me over dinner that there is a big exhibition "
            "about network security in Nansha this week with lots of companies. Is that true?",
            "A friend who works in Shenzhen told me over dinner that there is a big exhibition "
            "about network security in Nansha this week with lots of companies. Is that true?",
        ),
    ],
)
def test_a_question_that_names_nothing_takes_in_what_it_refers_to(
    message: str, question: str
) -> None:
    assert size_units(message) > FOCUS_OVER
    assert focused(message) == question


@pytest.mark.parametrize(
    ("piece", "vague"),
    [
        ("能介绍一下吗？", True),
        ("具体是什么样的活动？", True),
        ("Is that true?", True),
        ("能介绍一下主论坛吗", False),
        ("tell me more about the expo", False),
        ("开幕式在哪里？", False),
    ],
)
def test_vague_questions(piece: str, vague: bool) -> None:
    assert is_vague(piece) is vague
