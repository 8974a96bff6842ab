"""What the bot could not answer, and how the desk is doing: computed from the conversations.

Every visitor message gets one outcome from the actions that followed it in the tracker:
answered, clarified (the bot asked back), out_of_scope, handoff (to a person), or staff (sent
while staff had the conversation: not the bot's to answer). Nothing is recorded per turn for
this, so reports cost nothing while visitors chat; they read Rasa's event log when asked.

Unanswered messages are grouped by similar wording (character bigrams of the normalised text)
so the team fixing the data sees "开幕式地址 ×14" rather than fourteen lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.clock import CHINA_TZ
from bot.db.desk import DeskStore
from bot.db.desk.conversations import ConversationLog, LoggedEvent
from bot.db.desk.store import FeedbackInfo
from bot.nlu.text import normalize

# Rasa's TwoStageFallback is one loop action: its asking back is logged under the loop's name.
CLARIFYING = frozenset(
    {"action_two_stage_fallback", "action_default_ask_affirmation", "action_default_ask_rephrase"}
)
HANDING_OVER = frozenset({"action_request_human", "action_default_fallback"})
OUT_OF_SCOPE = frozenset({"utter_out_of_scope"})
UNANSWERED = ("clarified", "out_of_scope", "handoff", "unhelpful")
NOT_A_TOPIC = frozenset({"nlu_fallback", "out_of_scope", "request_human", "greet", "goodbye"})
SIMILARITY = 0.5  # Jaccard of character bigrams: "开幕式地址" ~ "开幕式的地址在哪"
MAX_GROUPED = 2000  # the newest unanswered messages that are grouped (grouping is quadratic)
EXAMPLES = 3


@dataclass(frozen=True)
class Turn:
    conversation_id: str
    at: dt.datetime
    text: str
    intent: str | None
    outcome: str


def _outcome(actions: list[str], paused: bool) -> str:
    if paused:
        return "staff"
    done = set(actions)
    if done & HANDING_OVER:
        return "handoff"
    if done & CLARIFYING:
        return "clarified"
    if done & OUT_OF_SCOPE:
        return "out_of_scope"
    return "answered"


def turns(events: Iterable[LoggedEvent]) -> Iterator[Turn]:
    """Each visitor message with its outcome (events grouped by conversation, in order)."""
    current: LoggedEvent | None = None
    actions: list[str] = []
    paused = paused_at_message = False  # now / when the current message arrived
    conversation = None

    def finished() -> Turn | None:
        if current is None:
            return None
        at = dt.datetime.fromtimestamp(current.timestamp, dt.timezone.utc)
        outcome = _outcome(actions, paused_at_message)
        return Turn(current.conversation_id, at, current.text or "", current.intent, outcome)

    for event in events:
        if event.conversation_id != conversation:
            if (turn := finished()) is not None:
                yield turn
            conversation, current, actions, paused = event.conversation_id, None, [], False
        if event.type_name == "user":
            if (turn := finished()) is not None:
                yield turn
            current, actions, paused_at_message = event, [], paused
        elif event.type_name == "action" and event.action and event.action != "action_listen":
            actions.append(event.action)
        elif event.type_name in ("pause", "resume"):
            paused = event.type_name == "pause"
            if paused and current is not None and not paused_at_message:
                actions.append("action_request_human")  # handed over inside a loop action
    if (turn := finished()) is not None:
        yield turn


def _bigrams(text: str) -> frozenset[str]:
    folded = normalize(text).text.replace(" ", "")
    return frozenset(folded[i : i + 2] for i in range(len(folded) - 1)) or frozenset({folded})


def _similar(a: frozenset[str], b: frozenset[str]) -> bool:
    return len(a & b) / max(1, len(a | b)) >= SIMILARITY


@dataclass
class Group:
    text: str
    count: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    latest: list[Turn] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "count": self.count,
            "outcomes": dict(self.outcomes),
            "latest": [
                {
                    "conversation_id": t.conversation_id,
                    "text": t.text,
                    "at": t.at.isoformat(),
                    "outcome": t.outcome,
                    "intent": t.intent,
                }
                for t in self.latest
            ],
        }


def unanswered_groups(unanswered: list[Turn]) -> list[Group]:
    """Similar messages together, the most frequent first; each with its latest examples."""
    newest_first = sorted(unanswered, key=lambda t: t.at, reverse=True)[:MAX_GROUPED]
    groups: list[tuple[frozenset[str], Group]] = []
    for turn in newest_first:
        grams = _bigrams(turn.text)
        group = next((g for shape, g in groups if _similar(shape, grams)), None)
        if group is None:
            group = Group(turn.text)
            groups.append((grams, group))
        group.count += 1
        group.outcomes[turn.outcome] += 1
        if len(group.latest) < EXAMPLES:
            group.latest.append(turn)
    return sorted((g for _, g in groups), key=lambda g: (-g.count, g.text))


def unanswered_csv(groups: list[Group]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["group", "count", *UNANSWERED, "latest_text", "latest_at", "conversation"])
    for group in groups:
        latest = group.latest[0]
        writer.writerow(
            [
                group.text,
                group.count,
                *(group.outcomes.get(o, 0) for o in UNANSWERED),
                latest.text,
                latest.at.isoformat(),
                latest.conversation_id,
            ]
        )
    return out.getvalue()


def _local_day(at: dt.datetime) -> str:
    return at.astimezone(CHINA_TZ).date().isoformat()


def daily(visitor_turns: list[Turn], days: list[str]) -> list[dict[str, Any]]:
    """Answered vs unanswered messages per day (China time), every day listed even if empty;
    answers marked unhelpful are counted apart (their message also counts as answered)."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for turn in visitor_turns:
        if turn.outcome == "unhelpful":
            counts[_local_day(turn.at)]["unhelpful"] += 1
        elif turn.outcome != "staff":
            kind = "unanswered" if turn.outcome in UNANSWERED else "answered"
            counts[_local_day(turn.at)][kind] += 1
    return [
        {"day": d, **{k: counts[d][k] for k in ("answered", "unanswered", "unhelpful")}}
        for d in days
    ]


def dashboard(
    visitor_turns: list[Turn], hours: list[dt.datetime], waits_s: list[float]
) -> dict[str, Any]:
    """Messages and conversations per hour, outcome shares, top topics, median wait."""
    per_hour: dict[dt.datetime, list[Turn]] = defaultdict(list)
    for turn in visitor_turns:
        hour = turn.at.astimezone(CHINA_TZ).replace(minute=0, second=0, microsecond=0)
        per_hour[hour].append(turn)
    outcomes = Counter(t.outcome for t in visitor_turns if t.outcome != "staff")
    topics = Counter(
        t.intent for t in visitor_turns if t.outcome == "answered" and t.intent not in NOT_A_TOPIC
    )
    return {
        "per_hour": [
            {
                "hour": hour.isoformat(),
                "messages": len(per_hour[hour]),
                "conversations": len({t.conversation_id for t in per_hour[hour]}),
            }
            for hour in hours
        ],
        "outcomes": {o: outcomes.get(o, 0) for o in ("answered", *UNANSWERED[:-1])},
        "top_topics": [{"intent": i, "count": n} for i, n in topics.most_common(8) if i],
        "median_wait_s": round(statistics.median(waits_s)) if waits_s else None,
        "handoffs": len(waits_s),
    }


def _unhelpful(feedback: list[FeedbackInfo]) -> list[Turn]:
    return [
        Turn(f.conversation_id, f.at, f.question or f.answer, None, "unhelpful")
        for f in feedback
        if not f.helpful
    ]


def unanswered_report(
    log: ConversationLog, store: DeskStore, days: int, now: dt.datetime
) -> dict[str, Any]:
    """Grouped unanswered messages of the last `days` days and the daily answered/unanswered."""
    today = now.astimezone(CHINA_TZ).date()
    first_day = today - dt.timedelta(days=days - 1)
    since = dt.datetime.combine(first_day, dt.time(), CHINA_TZ)  # whole days, as charted
    visitor_turns = list(turns(log.events_since(since.timestamp())))
    unhelpful = _unhelpful(store.feedback_since(since))
    unanswered = [t for t in visitor_turns if t.outcome in UNANSWERED] + unhelpful
    day_list = [(first_day + dt.timedelta(days=n)).isoformat() for n in range(days)]
    chart = daily(visitor_turns + unhelpful, day_list)
    return {"groups": unanswered_groups(unanswered), "daily": chart}


def dashboard_report(
    log: ConversationLog, store: DeskStore, hours: int, now: dt.datetime
) -> dict[str, Any]:
    top = now.astimezone(CHINA_TZ).replace(minute=0, second=0, microsecond=0)
    hour_list = [top - dt.timedelta(hours=n) for n in range(hours - 1, -1, -1)]
    since = hour_list[0]  # whole hours: the outcomes cover exactly the hours shown
    visitor_turns = list(turns(log.events_since(since.timestamp())))
    return dashboard(visitor_turns, hour_list, store.wait_times_s(since))
