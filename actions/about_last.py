"""Follow-ups about the last answer: "in English please", "确定吗？", "what about the other one?".

Each rebuilds the visitor's last answered question from the tracker's events (actions/history.py)
and answers it again through the capability that answered it (actions/registry.py) — so the
words around the facts, the facts and their hedges are the same as the first time:

* switch_language: the same answer in the language the visitor names ("请用中文", "can you
  answer in Chinese" -> zh: the words decide, not the script of the message);
* ask_confirm: whether what it stated is confirmed, from the records the answer read
  (`confirmed`, `date_confirmed`, the notes of what is not announced, the sources);
* ask_other_one: when the question named two things of a kind, or the answer named exactly two,
  the one not answered; otherwise a question with buttons.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, cast

from actions import history, messages
from actions.common import Answer, DatabaseAction, Request
from actions.context import answer_question, last_question
from actions.fallback import with_staff_button
from bot.db import EventDB, EventInfo, FactInfo, ThemeDayInfo, VenueInfo
from bot.lang import Lang

TOPIC = "about_last"
MAX_CHOICES = 6
MAX_SOURCES = 2
SEED_SOURCE = {"zh": "《广州日报》对宣传周的报道", "en": "the Guangzhou Daily report on the week"}

# ----------------------------------------------------------------------------- the records
Info = EventInfo | VenueInfo | ThemeDayInfo | FactInfo


class RecordingDB:
    """The event database, noting every record a query hands out: what an answer used."""

    def __init__(self, db: EventDB) -> None:
        self._db = db
        self.read: list[Info] = []

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._db, name)
        if not callable(attribute):
            return attribute

        def recorded(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            for item in result if isinstance(result, tuple) else (result,):
                if isinstance(item, (EventInfo, VenueInfo, ThemeDayInfo, FactInfo)):
                    self.read.append(item)
            return result

        return recorded


@dataclass(frozen=True)
class Record:
    """One record an answer stated, and how sure the database is of it."""

    kind: str  # event | venue | theme_day | fact
    key: str
    name: str
    confirmed: bool
    note: str | None
    sources: tuple[str, ...]


def record_of(info: Info, lang: Lang) -> Record:
    if isinstance(info, EventInfo):
        return Record(
            "event", info.key, info.title(lang), info.confirmed, info.note(lang), info.sources
        )
    if isinstance(info, VenueInfo):
        note = info.note_zh if lang == "zh" else info.note_en
        return Record("venue", info.key, info.name(lang), info.confirmed, note, info.sources)
    if isinstance(info, ThemeDayInfo):
        note = info.note_zh if lang == "zh" else info.note_en
        confirmed = info.date is not None and info.date_confirmed
        return Record("theme_day", info.key, info.name(lang), confirmed, note, info.sources)
    note = info.note_zh if lang == "zh" else info.note_en
    return Record("fact", info.key, info.subject(lang), info.confirmed, note, info.sources)


def stated_records(read: list[Info], text: str, lang: Lang) -> list[Record]:
    """The records an answer read and shows: a fact when its text (or, unconfirmed, its
    subject) is in the answer, an event, venue or theme day when its name is (a listing reads
    more than it shows, e.g. each sub-forum of a group)."""
    records: dict[tuple[str, str], Record] = {}
    for info in read:
        record = record_of(info, lang)
        shown = isinstance(info, FactInfo) and info.text(lang) in text
        if shown or record.name in text:
            records.setdefault((record.kind, record.key), record)
    return list(records.values())


def answer_with_records(
    question: history.Question, request: Request, lang: Lang
) -> tuple[Answer, list[Record]] | None:
    recording = RecordingDB(request.db)
    answered = answer_question(question, replace(request, db=cast(EventDB, recording)), lang)
    if answered is None:
        return None
    return answered, stated_records(recording.read, answered.text, lang)


def answered_again(answer: Answer, text: str) -> Answer:
    """A reply about the last answer keeps what that answer was about (its slots, its topic),
    so that "几号？" or "再后一天呢" after it still refer to the same thing."""
    return Answer(text, answer.topic, dict(answer.slots))


def nothing_to_go_on(request: Request) -> Answer:
    lang = request.lang
    text = {
        "zh": "抱歉，我不确定您指的是哪一个回答。请把问题完整地再问一次，例如“开幕式在哪里”。",
        "en": "Sorry, I'm not sure which answer you mean. Could you ask the whole question "
        "again? For example “Where is the opening ceremony?”",
    }[lang]
    return Answer(text, TOPIC, buttons=with_staff_button([], lang))


# ---------------------------------------------------------------------- switch_language
_LANGUAGE_WORDS: tuple[tuple[Lang, re.Pattern[str]], ...] = (
    (
        "en",
        re.compile(r"english|(?<![a-z])eng(?![a-z])|英文|英语|英語|英国话|英文版", re.IGNORECASE),
    ),
    (
        "zh",
        re.compile(
            r"chinese|mandarin|cantonese|putonghua|中文|汉语|漢語|华语|華語|普通话|普通話|国语|國語"
            r"|简体|簡體|繁体|繁體|粤语|粵語|广东话|廣東話|中国话|中國話",
            re.IGNORECASE,
        ),
    ),
)
# "不要英文", "not in Chinese", "instead of English": the language named is the one NOT wanted.
_REFUSED = re.compile(
    r"(?:不要|别|不用|不是|唔好|唔要|not|no|don't|dont|instead\s+of|rather\s+than)"
    r"\s*(?:用|说|讲|講|講|回答|in|with)?\s*$",
    re.IGNORECASE,
)


def requested_language(text: str, previous: Lang) -> Lang:
    """The language the visitor asks for, from the words; a bare "switch language" means
    the one not used so far."""
    wanted: list[tuple[int, Lang]] = []
    refused: list[Lang] = []
    for lang, pattern in _LANGUAGE_WORDS:
        for match in pattern.finditer(text):
            before = text[max(0, match.start() - 14) : match.start()]
            if _REFUSED.search(before):
                refused.append(lang)
            else:
                wanted.append((match.start(), lang))
    if wanted:
        return max(wanted)[1]  # the last named: "不要英文，用中文"
    if refused:
        return other_language(refused[-1])
    return other_language(previous)


def other_language(lang: Lang) -> Lang:
    return "en" if lang == "zh" else "zh"


def previous_language(request: Request) -> Lang:
    """The language the conversation was in before this message (whose script set the slot)."""
    events = request.tracker.events or []
    turns = history.user_turns(events)
    slots = history.slots_before(events, turns[-1]) if turns else {}
    return (
        "en" if slots.get("language") == "en" else "zh" if slots.get("language") else request.lang
    )


def switch_language(request: Request) -> Answer:
    lang = requested_language(
        request.tracker.latest_message.get("text") or "", previous_language(request)
    )
    question = last_question(request)
    answered = answer_question(question, request, lang) if question else None
    if answered is None:
        text = {
            "zh": "好的，我会用中文回答。请问您想了解什么？",
            "en": "Sure, I'll answer in English. What would you like to know?",
        }[lang]
        return Answer(text, TOPIC, {"language": lang})
    return replace(answered, slots={**answered.slots, "language": lang})


# --------------------------------------------------------------------------- ask_confirm
def confirm(request: Request) -> Answer:
    lang = request.lang
    question = last_question(request)
    found = answer_with_records(question, request, lang) if question else None
    if found is None:
        return nothing_to_go_on(request)
    answered, records = found
    return answered_again(answered, confirmation_text(records, answered.text, lang))


def confirmation_text(records: list[Record], stated: str, lang: Lang) -> str:
    """Yes (what was stated, with the sources), or which part is not confirmed and why, or
    that there was nothing to confirm."""
    if not records:
        head = (
            "刚才的回答里没有可以确认的具体信息：相关内容尚未正式公布。"
            if lang == "zh"
            else "The last answer had nothing to confirm: that detail is not officially announced yet."
        )
        return messages.sentence([head, messages.NEXT_STEP[lang]], lang)
    unconfirmed = [r for r in records if not r.confirmed]
    if unconfirmed:
        head = "不能完全确定：" if lang == "zh" else "Not entirely:"
        lines = [_unconfirmed_line(r, lang) for r in unconfirmed]
        lines += [_confirmed_line(r, lang) for r in records if r.confirmed]
        return f"{head}\n{messages.bullet_lines(lines)}\n{messages.NEXT_STEP[lang]}"
    head = (
        "是的，以下信息有公开来源：" if lang == "zh" else "Yes, this comes from published sources:"
    )
    lines = [_confirmed_line(r, lang) for r in records]
    return f"{head}\n{stated}\n{messages.bullet_lines(lines)}"


def _unconfirmed_line(record: Record, lang: Lang) -> str:
    status = "尚未正式确认" if lang == "zh" else "not officially confirmed"
    detail = f"{status}。{record.note or ''}" if lang == "zh" else f"{status}. {record.note or ''}"
    return messages.labelled(record.name, detail.strip(), lang)


def _confirmed_line(record: Record, lang: Lang) -> str:
    sources = messages.join_list([_source(s, lang) for s in record.sources[:MAX_SOURCES]], lang)
    if lang == "zh":
        text = f"已确认（来源：{sources}）。" if sources else "已确认。"
        if record.note:
            text += f"但{record.note}"
    else:
        text = f"confirmed (source: {sources})." if sources else "confirmed."
        if record.note:
            text += f" But: {record.note}"
    return messages.labelled(record.name, text, lang)


def _source(source: str, lang: Lang) -> str:
    return SEED_SOURCE[lang] if source == "seed" else source


# ------------------------------------------------------------------------- ask_other_one
_KIND_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("theme_day", re.compile(r"theme\s*day|主题日|主題日", re.IGNORECASE)),
    (
        "venue",
        re.compile(
            r"venue|place|location|site|场馆|場館|会场|會場|场地|場地|地点|地點|会址|會址|地方",
            re.IGNORECASE,
        ),
    ),
    ("forum", re.compile(r"forum|论坛|論壇", re.IGNORECASE)),
    ("event", re.compile(r"event|activit|活动|活動", re.IGNORECASE)),
)
# A button re-asks the question; an elliptic one (inform) is asked in full instead.
DEFAULT_INTENT = {
    "theme_day": "ask_theme_day",
    "venue": "ask_venue",
    "event": "ask_schedule",
    "forum_topic": "ask_forum_topic",
}


def kind_asked(text: str, question: history.Question) -> str | None:
    """Which kind of thing "the other one" is: named ("the other venue"), else the kind the
    last question named."""
    named = next((kind for kind, pattern in _KIND_WORDS if pattern.search(text)), None)
    if named == "forum":
        return "forum_topic" if question.values("forum_topic") else "event"
    if named:
        return named
    return next((kind for kind in history.SWAPPABLE if question.values(kind)), None)


def other_one(request: Request) -> Answer:
    question = last_question(request)
    if question is None:
        return nothing_to_go_on(request)
    kind = kind_asked(request.tracker.latest_message.get("text") or "", question)
    if kind is None:
        return nothing_to_go_on(request)
    named = question.values(kind)
    if len(named) >= 2:  # "电信日和法治日是几号" answered the first
        return _the_other(request, question, kind, named[1:])
    found = answer_with_records(question, request, request.lang)
    if found is None:
        return nothing_to_go_on(request)
    answered, records = found
    asked = named[0] if named else answered.slots.get(kind)
    stated = [r.key for r in records if r.kind == _record_kind(kind)]
    if kind == "forum_topic":
        stated = [topic for topic in (_topic_of(request, key) for key in stated) if topic]
    if len(stated) == 2 and asked in stated:
        return _the_other(request, question, kind, [k for k in stated if k != asked])
    choices = (
        stated
        if len(stated) == 2
        else [k for k in _all_of_kind(request, kind, asked) if k != asked]
    )
    return _which_one(request, question, kind, choices)


def _record_kind(kind: str) -> str:
    return "event" if kind == "forum_topic" else kind


def _topic_of(request: Request, event_key: str) -> str | None:
    event = request.db.event(event_key)
    return event.topic if event else None


def _the_other(
    request: Request, question: history.Question, kind: str, others: list[str]
) -> Answer:
    if len(others) != 1:
        return _which_one(request, question, kind, others)
    answered = answer_question(question.with_values(kind, others), request)
    return answered or nothing_to_go_on(request)


def _all_of_kind(request: Request, kind: str, asked: object) -> list[str]:
    db = request.db
    if kind == "theme_day":
        return [t.key for t in db.theme_days()]
    if kind == "forum_topic":
        return [s.topic for s in db.sub_forums() if s.topic]
    if kind == "venue":
        return list(db.venues_in_event_order())
    same = db.event(str(asked)) if asked else None
    # one more than the buttons shown: the caller drops the one asked about
    events = db.top_level_events(kind=same.kind if same else None, limit=MAX_CHOICES + 1)
    return [e.key for e in events]


def _display_name(request: Request, kind: str, key: str) -> str | None:
    db, lang = request.db, request.lang
    if kind == "theme_day":
        theme_day = db.theme_day(key)
        return theme_day.name(lang) if theme_day else None
    if kind == "venue":
        venue = db.venue(key)
        return venue.name(lang) if venue else None
    event = db.sub_forum_by_topic(key) if kind == "forum_topic" else db.event(key)
    return event.title(lang) if event else None


def _which_one(request: Request, question: history.Question, kind: str, keys: list[str]) -> Answer:
    lang = request.lang
    intent = (
        question.intent if question.intent != history.FOLLOW_UP_INTENT else DEFAULT_INTENT[kind]
    )
    buttons = []
    for key in keys[:MAX_CHOICES]:
        title = _display_name(request, kind, key)
        if title:
            buttons.append({"title": title, "payload": f"/{intent}{json.dumps({kind: key})}"})
    text = "您指的是哪一个？" if lang == "zh" else "Which one do you mean?"
    return Answer(text, TOPIC, buttons=with_staff_button(buttons, lang))


# ------------------------------------------------------------------------------ the action
ANSWERS: dict[str, Callable[[Request], Answer]] = {
    "switch_language": switch_language,
    "ask_confirm": confirm,
    "ask_other_one": other_one,
}


def answer_about_last(request: Request) -> Answer:
    return ANSWERS.get(request.intent, confirm)(request)


class ActionAnswerAboutLast(DatabaseAction):
    action_name = "action_answer_about_last"
    reads_context = False  # it replays the last question, which is answered in context

    def answer(self, request: Request) -> Answer:
        return answer_about_last(request)
