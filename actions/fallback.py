"""Graceful misunderstanding: Rasa's TwoStageFallback, in the visitor's language, with buttons.

When the NLU is unsure (the FallbackClassifier's `nlu_fallback`: top intent below the threshold
or the two likeliest too close), the rule in data/rules runs Rasa's `action_two_stage_fallback`
loop, which calls the three default actions overridden here:

1. action_default_ask_affirmation: instead of Rasa's "Did you mean 'ask_venue'?", a clarifying
   question with the two or three likeliest topics as buttons, carrying the entities already
   understood (so "活动地点" after an unclear question naming 开幕式 answers for the opening
   ceremony), plus "something else"; with no likely topic at all, the four main topics.
2. action_default_ask_rephrase: after "something else" (Rasa takes `/out_of_scope` as a no).
3. action_default_fallback: a second miss (and Rasa's core fallback): a person (the help
   desk's queue, actions/handoff.py) — never a guessed answer. Like Rasa's own, it reverts
   the message it could not understand. Every clarification also offers "Talk to staff".

The sentences live here rather than in domain.yml because Rasa's validator cannot see that the
default actions use them and would report them as unused responses.
"""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import conversation_language
from actions.handoff import hand_over
from bot.lang import Lang, visitor_entities

FALLBACK_INTENT = "nlu_fallback"
DENY_INTENT = "out_of_scope"  # what Rasa's TwoStageFallback takes as "none of these"
MAX_OPTIONS = 3
THIRD_OPTION_MIN_CONFIDENCE = 0.1  # a third button only when it is a real candidate
PAYLOAD_ENTITIES = ("event", "venue", "theme_day", "forum_topic", "date", "day_offset")

# The topics a button may offer; chit-chat, follow-ups and out_of_scope are never offered.
TOPICS: dict[str, dict[Lang, str]] = {
    "ask_schedule": {"zh": "日程安排", "en": "Schedule"},
    "ask_venue": {"zh": "活动地点", "en": "Venues"},
    "ask_theme_day": {"zh": "主题日", "en": "Theme days"},
    "ask_recruitment": {"zh": "人才招聘", "en": "Job fair"},
    "ask_recruitment_jobs": {"zh": "招聘岗位", "en": "Jobs on offer"},
    "ask_recruitment_audience": {"zh": "谁能参加招聘", "en": "Who can attend the job fair"},
    "ask_recruitment_location": {"zh": "招聘会地点", "en": "Where the job fair is"},
    "ask_recruitment_apply": {"zh": "招聘报名方式", "en": "How to apply"},
    "ask_recruitment_employers": {"zh": "招聘单位", "en": "Employers"},
    "ask_forum_list": {"zh": "论坛列表", "en": "List of forums"},
    "ask_forum_topic": {"zh": "分论坛主题", "en": "Sub-forum topics"},
    "ask_forum_releases": {"zh": "主论坛发布成果", "en": "Main forum releases"},
    "ask_expo_size": {"zh": "博览会规模", "en": "Expo size"},
    "ask_expo_areas": {"zh": "博览会展区", "en": "Expo areas"},
    "ask_expo_dates": {"zh": "博览会开放日期", "en": "Expo dates"},
    "ask_expo_highlights": {"zh": "博览会亮点", "en": "Expo highlights"},
    "ask_week_theme": {"zh": "宣传周主题", "en": "Theme of the week"},
    "ask_week_organisers": {"zh": "主办单位", "en": "Organisers"},
    "ask_week_dates": {"zh": "宣传周日期", "en": "Dates of the week"},
    "ask_why_guangzhou": {"zh": "为什么在广州", "en": "Why Guangzhou"},
    "ask_hk_macao": {"zh": "港澳参与", "en": "Hong Kong and Macao"},
    "ask_bay_area_cities": {"zh": "大湾区城市", "en": "Bay Area cities"},
    "ask_guangzhou_figures": {"zh": "广州数字经济数据", "en": "Guangzhou in figures"},
    "ask_past_editions": {"zh": "往届宣传周", "en": "Past editions"},
    "ask_admission": {"zh": "门票和入场", "en": "Tickets and admission"},
    "ask_opening_hours": {"zh": "开放时间", "en": "Opening hours"},
    "ask_transport": {"zh": "交通方式", "en": "Getting there"},
    "ask_parking": {"zh": "停车", "en": "Parking"},
    "ask_registration": {"zh": "报名参会", "en": "Registration"},
    "ask_room": {"zh": "会议室和展厅", "en": "Rooms and halls"},
    "ask_accessibility": {"zh": "无障碍设施", "en": "Accessibility"},
    "ask_wifi": {"zh": "无线网络", "en": "Wi-Fi"},
    "ask_luggage": {"zh": "行李寄存", "en": "Luggage"},
    "ask_lost_property": {"zh": "失物招领", "en": "Lost property"},
    "ask_now": {"zh": "现在有什么活动", "en": "What's on now"},
    "ask_next": {"zh": "接下来的活动", "en": "What's next"},
    "ask_event_status": {"zh": "活动是否开始", "en": "Has it started?"},
    "ask_countdown": {"zh": "还有几天", "en": "How many days to go"},
    "ask_capabilities": {"zh": "我能回答什么", "en": "What I can answer"},
    "request_human": {"zh": "人工服务", "en": "Talk to staff"},
}
QUESTION: dict[Lang, str] = {
    "zh": "抱歉，我不太确定您的意思。您是想了解：",
    "en": "Sorry, I'm not sure what you mean. Are you asking about:",
}
SOMETHING_ELSE: dict[Lang, str] = {"zh": "都不是", "en": "Something else"}
# No likely topic at all (an emoji, a payload): the four main topics.
NOT_UNDERSTOOD: dict[Lang, str] = {
    "zh": "抱歉，我没有理解您的意思。您可以换个说法再问一次，或者选择下面的话题：",
    "en": "Sorry, I didn't quite understand. Could you rephrase, or pick one of these topics?",
}
MAIN_TOPICS: tuple[tuple[str, dict[Lang, str]], ...] = (
    ("ask_schedule", {"zh": "日程", "en": "Schedule"}),
    ("ask_venue", {"zh": "场馆", "en": "Venues"}),
    ("ask_theme_day", {"zh": "主题日", "en": "Theme days"}),
    ("ask_recruitment", {"zh": "招聘", "en": "Jobs"}),
)
REPHRASE: dict[Lang, str] = {
    "zh": "好的。能换个说法再描述一下您的问题吗？例如“开幕式在哪里”“明天是什么主题日”“招聘会怎么报名”。",
    "en": "All right. Could you put your question another way? For example “Where is the opening "
    "ceremony?”, “Which theme day is tomorrow?” or “How do I apply for the job fair?”",
}
STILL_UNCLEAR: dict[Lang, str] = {
    "zh": "抱歉，我还是没能理解您的问题，我请工作人员来帮您。",
    "en": "Sorry, I still can't work out what you need, so I'm asking a member of staff to help.",
}
HANDOFF_INTENT = "request_human"


def with_staff_button(buttons: list[dict[str, str]], lang: Lang) -> list[dict[str, str]]:
    """Every clarification offers a person, once."""
    staff = {"title": TOPICS[HANDOFF_INTENT][lang], "payload": f"/{HANDOFF_INTENT}"}
    if any(b["payload"].startswith(staff["payload"]) for b in buttons):
        return buttons
    return [*buttons, staff]


def likeliest_topics(ranking: list[dict[str, Any]]) -> list[str]:
    """The two or three likeliest topics of an intent ranking, best first."""
    topics: list[str] = []
    for candidate in ranking:
        name = candidate.get("name")
        if name not in TOPICS or name in topics:
            continue
        if (
            len(topics) >= 2
            and float(candidate.get("confidence") or 0) < THIRD_OPTION_MIN_CONFIDENCE
        ):
            break
        topics.append(str(name))
        if len(topics) == MAX_OPTIONS:
            break
    return topics


def payload(intent: str, entities: list[dict[str, Any]]) -> str:
    """`/intent{"event": "opening_ceremony"}`: the chosen topic with what was understood."""
    values: dict[str, str] = {}
    for entity in entities:
        name, value = entity.get("entity"), entity.get("value")
        if name in PAYLOAD_ENTITIES and name not in values and value not in (None, ""):
            values[str(name)] = str(value)
    return f"/{intent}{json.dumps(values)}" if values else f"/{intent}"


class ActionAskAffirmation(Action):
    """Replaces Rasa's action_default_ask_affirmation (the TwoStageFallback's first step)."""

    def name(self) -> str:
        return "action_default_ask_affirmation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        topics = likeliest_topics(message.get("intent_ranking") or [])
        lang = conversation_language(tracker)
        if not topics:
            buttons = [{"title": titles[lang], "payload": f"/{t}"} for t, titles in MAIN_TOPICS]
            buttons = with_staff_button(buttons, lang)
            dispatcher.utter_message(text=NOT_UNDERSTOOD[lang], buttons=buttons)
            return []
        entities = visitor_entities(message.get("entities"))
        buttons = [{"title": TOPICS[t][lang], "payload": payload(t, entities)} for t in topics]
        buttons.append({"title": SOMETHING_ELSE[lang], "payload": f"/{DENY_INTENT}"})
        buttons = with_staff_button(buttons, lang)
        dispatcher.utter_message(text=QUESTION[lang], buttons=buttons)
        return []


class ActionAskRephrase(Action):
    """Replaces Rasa's action_default_ask_rephrase (after "something else")."""

    def name(self) -> str:
        return "action_default_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        lang = conversation_language(tracker)
        dispatcher.utter_message(text=REPHRASE[lang], buttons=with_staff_button([], lang))
        return []


class ActionHelpDesk(Action):
    """Replaces Rasa's action_default_fallback: the second miss goes to a person."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=STILL_UNCLEAR[conversation_language(tracker)])
        return [UserUtteranceReverted(), *await hand_over(dispatcher, tracker, "fallback")]
