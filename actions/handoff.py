"""Asking for a person. The help-desk console is not built yet, so say how to reach people now."""

from __future__ import annotations

from actions.common import Answer, DatabaseAction, Request

TOPIC = "handoff"
HANDOFF_REPLY = {
    "zh": "目前还不能在这里直接转接人工客服。请到活动现场的服务台咨询，或通过国家网络安全宣传周官方渠道联系主办方。"
    "我可以继续为您解答日程、场馆、主题日、论坛、博览会和招聘的问题。",
    "en": "I can't hand this chat over to a person yet. Please ask the help desk at the venue, "
    "or contact the organisers through the official Cyber Security Week channels. I can keep "
    "answering questions about the schedule, venues, theme days, forums, the expo and jobs.",
}


class ActionRequestHuman(DatabaseAction):
    action_name = "action_request_human"

    def answer(self, request: Request) -> Answer:
        return Answer(HANDOFF_REPLY[request.lang], TOPIC)
