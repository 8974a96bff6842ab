"""Handing a conversation to a person: the queue, the visitor's place in it, and the pause.

Three roads lead here — the visitor asks (intent request_human), presses "Talk to staff" under
a clarification (the same intent, as a payload), or is misunderstood twice (the fallback) — and
all end in `hand_over()`: the conversation joins the desk's queue (SQL, bot.db.desk), the
visitor is told their place and the desk's hours, and Rasa pauses the conversation, so the bot
stays silent while staff answer in the console (bot.desk.console) until they return it.
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import messages
from actions.common import conversation_language
from bot.clock import now
from bot.db.desk import shared_desk_store
from bot.db.desk.store import utc_now
from bot.desk.auth import SESSION_IDLE
from bot.desk.hours import DeskHours, load_hours
from bot.lang import Lang

logger = logging.getLogger(__name__)

# Rasa's input channel names -> the desk's channel names. Others (rasa shell) cannot be handed over.
DESK_CHANNELS = {"socketio": "webchat", "rest": "rest", "wechat": "wechat"}

QUEUED: dict[Lang, str] = {
    "zh": "好的，正在为您转接人工客服。您目前排在第 {position} 位。服务台服务时间：{hours}。"
    "请留在这里，工作人员会在这个对话里回复您；等待期间您发来的消息他们都能看到。",
    "en": "I'm passing you to a member of staff. You are number {position} in the queue. "
    "The help desk answers {hours}. Please stay here: staff will reply in this chat, and they "
    "will see anything you write while you wait.",
}
DESK_AWAY: dict[Lang, str] = {
    "zh": "现在{why}。您的对话已进入人工队列（第 {position} 位），请直接留言说明您的问题，"
    "工作人员上线后会在这个对话里回复您。服务台服务时间：{hours}。",
    "en": "{why}. Your conversation is in the staff queue (number {position}): leave your "
    "question here and staff will reply in this chat when they are back. The help desk "
    "answers {hours}.",
}
CLOSED_NOW: dict[Lang, str] = {"zh": "不在服务台的服务时间内", "en": "The help desk is closed now"}
NOBODY_ON_DUTY: dict[Lang, str] = {
    "zh": "暂时没有工作人员在线",
    "en": "No member of staff is online at the moment",
}
NO_DESK_HERE: dict[Lang, str] = {
    "zh": "这个入口无法转接人工客服。请通过活动网站的在线客服或微信公众号联系我们，"
    "或到活动现场的服务台咨询。",
    "en": "This chat cannot be passed to staff. Please use the chat on the event website or "
    "the WeChat Official Account, or ask the help desk at the venue.",
}


@lru_cache(maxsize=1)
def desk_hours() -> DeskHours:
    return load_hours()


def queue_message(lang: Lang, position: int, desk_open: bool, anyone_on_duty: bool) -> str:
    hours = desk_hours().describe(lang)
    if desk_open and anyone_on_duty:
        return QUEUED[lang].format(position=position, hours=hours)
    why = (NOBODY_ON_DUTY if desk_open else CLOSED_NOW)[lang]
    return DESK_AWAY[lang].format(why=why, position=position, hours=hours)


def _enqueue(conversation_id: str, channel: str, lang: Lang, reason: str, text: str) -> str:
    store = shared_desk_store()
    handoff = store.request_handoff(conversation_id, channel, lang, reason, text)
    position = store.queue_position(handoff.id) or 1
    # sessions are kept in real UTC; the desk's hours follow the assistant's clock (a demo pins it)
    on_duty = store.staff_on_duty(utc_now() - SESSION_IDLE) > 0
    return queue_message(lang, position, desk_hours().is_open(now()), on_duty)


def visitor_text(tracker: Tracker) -> str:
    """The visitor's last message as written: `latest_message` holds the NLU's normalised
    text (markup stripped, a long message cut to its question), the user event the original."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("text") or "")
    return tracker.latest_message.get("text") or ""


async def hand_over(
    dispatcher: CollectingDispatcher, tracker: Tracker, reason: str
) -> list[EventType]:
    """Queues the conversation, tells the visitor, and pauses the bot for it."""
    lang = conversation_language(tracker)
    channel = DESK_CHANNELS.get(tracker.get_latest_input_channel() or "")
    if channel is None:
        dispatcher.utter_message(text=NO_DESK_HERE[lang])
        return []
    text = visitor_text(tracker)
    try:
        reply = await asyncio.to_thread(_enqueue, tracker.sender_id, channel, lang, reason, text)
    except Exception:  # the desk's database is down: say so, and keep the bot answering
        logger.exception("could not queue conversation %s for the help desk", tracker.sender_id)
        dispatcher.utter_message(text=messages.INTERNAL_ERROR[lang])
        return []
    dispatcher.utter_message(text=reply, json_message={"handoff": {"status": "waiting"}})
    return [ConversationPaused()]


class ActionRequestHuman(Action):
    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        typed = tracker.latest_message.get("text") or ""
        reason = "button" if typed.startswith("/") else "asked"
        return await hand_over(dispatcher, tracker, reason)
