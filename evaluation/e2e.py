"""End-to-end answer accuracy: questions through the REST channel of a running assistant.

`cyberweek eval` (and `python -m evaluation.e2e --model M`) starts the action server and
`rasa run` on free loopback ports (ops.harness; their output goes to build/eval/e2e-servers.log),
with the clock fixed (CYBERWEEK_NOW) and a freshly seeded event database, sends every question
of data/evaluation/e2e/*.yml (one file per category; a list of messages is one conversation: the checks apply
to the last reply), and checks each reply.

Expectations name facts in the event database, not reply strings: `venue_of_event:
opening_ceremony` means "the reply contains the name, in the visitor's language, of the venue
the database holds for the opening ceremony". So the checks stay right when the organisers
change the data, and a reply that only sounds right does not pass. Checks:

  contains / not_contains   literal text (a string or a list)
  venue_of_event: KEY       name of the event's venue          venue: KEY     the venue's name
  not_venue_of_event: KEY   not the name of the event's venue (a question about another year)
  event: KEY                the event's title                  event_day: KEY its first day
  theme_day: KEY            its name and date, or "not announced" (the inferred date absent)
  theme_day_on: ISO         the theme day's name (or "not announced" if unconfirmed)
  theme_days: true          every theme day's name             sub_forums: true  every title
  hedged_theme_day_on: ISO  the theme day's name, with "not announced" when it is unconfirmed
  event_status: KEY         the event's title and where it stands on the clock's day: over /
                            not started (and its first day) / on / unsure (days not announced)
  days_until: ISO           the number of days from the clock's day (明天 / tomorrow for one)
  week_days_left: true      the days left in the week, today included
  events_on: ISO            the title of every event held exactly that day
  day: ISO                  the day itself (9月15日 / 15 September)
  fact: KEY                 the fact's text, or "not announced" when unconfirmed
  not_fact: KEY             not the fact's text (no unrelated fact after a topic switch)
  logistics: TOPIC[@KEY]    practical info on TOPIC for event/venue KEY (none: the week): the
                            most specific announced text (event, its group, its venue — for
                            transport the venue's own field — then the week), else "not
                            announced" with a button to a person
  response: UTTER           the domain.yml response for the visitor's language
  clarify: true             a clarifying question: at least two buttons
An English question must also get an English answer (quoted Chinese names aside).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import yaml

from bot import paths
from bot.limits import RATE_LIMITS_SWITCH_ENV
from bot.clock import parse_now
from bot.lang import CJK_CHAR, LATIN_LETTER, language_of
from evaluation import E2E_QUESTIONS_DIR
from ops.harness import DEMO_NOW, HarnessError, running_assistant

QUESTIONS_DIR = E2E_QUESTIONS_DIR
_NOT_ANNOUNCED = {
    "zh": re.compile(r"尚未|待公布"),
    "en": re.compile(r"not (?:officially )?announced"),
}
# Where an event stands on the clock's day, as a reply may say it (event_status).
_STATUS_WORDS = {
    "over": {
        "zh": re.compile(r"已经结束|已经过去|已结束"),
        "en": re.compile(r"is over|has passed"),
    },
    "not started": {
        "zh": re.compile(r"还没有开始|还没开始|尚未开始"),
        "en": re.compile(r"not started|hasn't started"),
    },
    "on today": {"zh": re.compile(r"正在|今天"), "en": re.compile(r"\bis on\b|\btoday\b")},
    "unsure (days not announced)": {
        "zh": re.compile(r"无法确定|不确定"),
        "en": re.compile(r"can't say|cannot say|not sure"),
    },
}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[str, ...]


@dataclass
class Outcome:
    messages: list[str]
    reply: str
    problems: list[str] = field(default_factory=list)
    category: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class E2EReport:
    total: int
    passed: int
    failures: list[dict[str, Any]]
    seconds: float
    # category (the questions file's name) -> [passed, total]
    by_category: dict[str, list[int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.passed / self.total if self.total else 0.0


def day_pattern(day: date, lang: str) -> re.Pattern[str]:
    """A day as a reply may write it: 9月11日 / 11 September, September 11, 9–11 September."""
    if lang == "zh":
        return re.compile(rf"(?<!\d){day.month}月{day.day}日")
    month = MONTHS[day.month - 1]
    return re.compile(
        rf"(?<!\d){day.day}(?:st|nd|rd|th)?(?:\s*[–-]\s*\d+)?\s+{month}|{month}\s+{day.day}(?!\d)"
    )


class Expectations:
    """Turns one question's `expect:` mapping into problems found in a reply."""

    def __init__(self, db: Any, domain_file: Path = paths.DOMAIN_FILE, now: str = DEMO_NOW) -> None:
        self.db = db
        self.today = parse_now(now).date()  # the assistant's clock during the run
        self.responses = yaml.safe_load(domain_file.read_text(encoding="utf-8"))["responses"]
        self.checks: dict[str, Callable[[Any, str, Reply], list[str]]] = {
            "contains": self._contains,
            "not_contains": self._not_contains,
            "venue_of_event": self._venue_of_event,
            "not_venue_of_event": self._not_venue_of_event,
            "venue": self._venue,
            "event": self._event,
            "event_day": self._event_day,
            "theme_day": self._theme_day,
            "theme_day_on": self._theme_day_on,
            "theme_days": self._theme_days,
            "hedged_theme_day_on": self._hedged_theme_day_on,
            "event_status": self._event_status,
            "days_until": self._days_until,
            "week_days_left": self._week_days_left,
            "sub_forums": self._sub_forums,
            "events_on": self._events_on,
            "day": self._day,
            "fact": self._fact,
            "not_fact": self._not_fact,
            "logistics": self._logistics,
            "response": self._response,
            "clarify": self._clarify,
        }

    def problems(self, expect: dict[str, Any], lang: str, reply: Reply) -> list[str]:
        found = []
        for name, argument in expect.items():
            check = self.checks.get(name)
            if check is None:
                found.append(f"unknown check {name!r}")
                continue
            try:
                found += check(argument, lang, reply)
            except LookupError as error:
                found.append(f"{name}: {error}")
        if lang == "en" and not _mostly_english(reply.text):
            found.append("an English question got a Chinese answer")
        return found

    @staticmethod
    def _need(text: str, reply: Reply, what: str) -> list[str]:
        return [] if text in reply.text else [f"missing {what}: {text!r}"]

    def _not_announced(self, lang: str, reply: Reply, what: str) -> list[str]:
        return (
            []
            if _NOT_ANNOUNCED[lang].search(reply.text)
            else [f"{what} not said to be unannounced"]
        )

    def _contains(self, arg: Any, lang: str, reply: Reply) -> list[str]:
        return [p for text in _as_list(arg) for p in self._need(str(text), reply, "text")]

    def _not_contains(self, arg: Any, lang: str, reply: Reply) -> list[str]:
        return [f"must not contain {t!r}" for t in _as_list(arg) if str(t) in reply.text]

    def _venue_of_event(self, key: str, lang: str, reply: Reply) -> list[str]:
        venue = self.db.venue_of_event(key)
        if venue is None:
            return self._not_announced(lang, reply, f"venue of {key}")
        return self._need(venue.name(lang), reply, f"venue of {key}")

    def _not_venue_of_event(self, key: str, lang: str, reply: Reply) -> list[str]:
        venue = self.db.venue_of_event(key)
        if venue is None or venue.name(lang) not in reply.text:
            return []
        return [f"names the venue of {key} (another edition's question got this one's answer)"]

    def _venue(self, key: str, lang: str, reply: Reply) -> list[str]:
        return self._need(_found(self.db.venue(key), key).name(lang), reply, "venue name")

    def _event(self, key: str, lang: str, reply: Reply) -> list[str]:
        return self._need(_found(self.db.event(key), key).title(lang), reply, "event title")

    def _event_day(self, key: str, lang: str, reply: Reply) -> list[str]:
        event = _found(self.db.event(key), key)
        if event.start_date is None or event.date_precision == "unknown":
            return self._not_announced(lang, reply, f"date of {key}")
        if day_pattern(event.start_date, lang).search(reply.text):
            return []
        return [f"missing the day of {key} ({event.start_date})"]

    def _theme_day(self, key: str, lang: str, reply: Reply) -> list[str]:
        theme_day = _found(self.db.theme_day(key), key)
        if theme_day.date is None or not theme_day.date_confirmed:
            problems = self._not_announced(lang, reply, f"date of {key}")
            if theme_day.date and day_pattern(theme_day.date, lang).search(reply.text):
                problems.append(f"states the unconfirmed date of {key}")
            return problems
        problems = self._need(theme_day.name(lang), reply, "theme day")
        if not day_pattern(theme_day.date, lang).search(reply.text):
            problems.append(f"missing the date of {key} ({theme_day.date})")
        return problems

    def _theme_day_on(self, iso: Any, lang: str, reply: Reply) -> list[str]:
        day = date.fromisoformat(str(iso))
        theme_day = self.db.theme_day_on(day)
        if theme_day is None:
            named = [t.name(lang) for t in self.db.theme_days() if t.name(lang) in reply.text]
            return [f"names a theme day for {day}, which has none"] if len(named) == 1 else []
        if not theme_day.date_confirmed:
            return self._not_announced(lang, reply, f"theme day of {day}")
        return self._need(theme_day.name(lang), reply, f"theme day of {day}")

    def _hedged_theme_day_on(self, iso: Any, lang: str, reply: Reply) -> list[str]:
        """A listing of a day names its theme day even when the date is only inferred — then
        with a hedge."""
        day = date.fromisoformat(str(iso))
        theme_day = self.db.theme_day_on(day)
        if theme_day is None:
            return self._theme_day_on(iso, lang, reply)
        problems = self._need(theme_day.name(lang), reply, f"theme day of {day}")
        if not theme_day.date_confirmed:
            problems += self._not_announced(lang, reply, f"theme day of {day}")
        return problems

    def _event_status(self, key: str, lang: str, reply: Reply) -> list[str]:
        event = _found(self.db.event(key), key)
        problems = self._need(event.title(lang), reply, "event title")
        if event.start_date is None or event.date_precision == "unknown":
            return problems + self._not_announced(lang, reply, f"date of {key}")
        end = event.end_date or event.start_date
        if end < self.today:
            status = "over"
        elif event.start_date > self.today:
            status = "not started"
            if not day_pattern(event.start_date, lang).search(reply.text):
                problems.append(f"missing the day of {key} ({event.start_date})")
        elif event.date_precision == "window":
            status = "unsure (days not announced)"
        else:
            status = "on today"
        if not _STATUS_WORDS[status][lang].search(reply.text):
            problems.append(f"{key} not said to be {status}")
        return problems

    def _days_until(self, iso: Any, lang: str, reply: Reply) -> list[str]:
        days = (date.fromisoformat(str(iso)) - self.today).days
        if days < 1:
            raise LookupError(f"{iso} is not after the clock's day {self.today}")
        words = {1: {"zh": "明天", "en": "tomorrow"}, 2: {"zh": "后天"}}.get(days, {})
        if lang in words and words[lang] in reply.text:
            return []
        return [] if _count_of_days(days, lang).search(reply.text) else [f"missing {days} days"]

    def _week_days_left(self, _: Any, lang: str, reply: Reply) -> list[str]:
        start, end = self.db.week_span()
        if not start <= self.today <= end:
            raise LookupError(f"the clock's day {self.today} is not in the week")
        left = (end - self.today).days + 1
        return [] if _count_of_days(left, lang).search(reply.text) else [f"missing {left} days"]

    def _theme_days(self, _: Any, lang: str, reply: Reply) -> list[str]:
        return [
            p for t in self.db.theme_days() for p in self._need(t.name(lang), reply, "theme day")
        ]

    def _sub_forums(self, _: Any, lang: str, reply: Reply) -> list[str]:
        return [
            p for s in self.db.sub_forums() for p in self._need(s.title(lang), reply, "sub-forum")
        ]

    def _events_on(self, iso: Any, lang: str, reply: Reply) -> list[str]:
        day = date.fromisoformat(str(iso))
        exact = [e for e in self.db.events_on(day) if e.date_precision == "exact"]
        if not exact:
            return []
        return [p for e in exact for p in self._need(e.title(lang), reply, f"event on {day}")]

    def _day(self, iso: Any, lang: str, reply: Reply) -> list[str]:
        day = date.fromisoformat(str(iso))
        return [] if day_pattern(day, lang).search(reply.text) else [f"missing the day {day}"]

    def _fact(self, key: str, lang: str, reply: Reply) -> list[str]:
        fact = _found(self.db.fact(key), key)
        if not fact.confirmed:
            return self._not_announced(lang, reply, f"fact {key}")
        return self._need(fact.text(lang), reply, f"fact {key}")

    def _not_fact(self, key: str, lang: str, reply: Reply) -> list[str]:
        text = _found(self.db.fact(key), key).text(lang)
        return [f"states the unrelated fact {key}"] if text in reply.text else []

    def _logistics(self, arg: str, lang: str, reply: Reply) -> list[str]:
        topic, _, key = str(arg).partition("@")
        for text in self._logistics_texts(topic, key or None, lang):
            if text:
                return self._need(text, reply, f"logistics {arg}")
        problems = self._not_announced(lang, reply, f"logistics {arg}")
        return problems + ([] if reply.buttons else ["no button to a person"])

    def _logistics_texts(self, topic: str, key: str | None, lang: str) -> Iterator[str | None]:
        """The announced texts that may answer, most specific first (None: not announced)."""
        event = self.db.event(key) if key else None
        venue = self.db.venue_of_event(key) if event else self.db.venue(key) if key else None
        if key and not (event or venue):
            raise LookupError(f"{key!r} is not in the event database (no such event or venue)")
        week = self.db.logistics(topic)
        if week is None:
            raise LookupError(f"logistics topic {topic!r} is not in the event database")
        records = []
        if event:
            records += [self.db.logistics(topic, event=event.key)]
            if event.parent_key:
                records += [self.db.logistics(topic, event=event.parent_key)]
        yield from (record.text(lang) for record in records if record)
        if venue and topic == "transport":
            yield venue.transport(lang)
        elif venue and (own := self.db.logistics(topic, venue=venue.key)):
            yield own.text(lang)
        yield week.text(lang)

    def _response(self, name: str, lang: str, reply: Reply) -> list[str]:
        variations = self.responses.get(name)
        if not variations:
            raise LookupError(f"no response {name} in domain.yml")
        for variation in variations:
            conditions = variation.get("condition") or []
            if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
                return self._need(variation["text"], reply, name)
        return self._need(variations[-1]["text"], reply, name)

    def _clarify(self, _: Any, lang: str, reply: Reply) -> list[str]:
        if len(reply.buttons) >= 2:
            return []
        return [f"expected a clarifying question with buttons, got {len(reply.buttons)} buttons"]


def _count_of_days(days: int, lang: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\d){days}天" if lang == "zh" else rf"(?<!\d){days} days?\b")


def _mostly_english(text: str) -> bool:
    """An English answer may quote a Chinese name or slogan, but must not be Chinese."""
    return len(CJK_CHAR.findall(text)) <= 0.2 * len(LATIN_LETTER.findall(text))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _found(record: Any, key: str) -> Any:
    if record is None:
        raise LookupError(f"{key!r} is not in the event database")
    return record


def load_questions(path: Path = QUESTIONS_DIR) -> list[dict[str, Any]]:
    """The questions of one file, or of every *.yml in a directory; each gets its `category`
    (the file's name without .yml)."""
    files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
    questions = []
    for file in files:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        for number, question in enumerate(data["questions"], 1):
            if "ask" not in question or not isinstance(question.get("expect"), dict):
                raise ValueError(f"{file}: question {number} needs `ask` and an `expect` mapping")
            questions.append({**question, "category": file.stem})
    return questions


# ------------------------------------------------------------------------- the REST channel
def ask(webhook: str, sender: str, message: str) -> Reply:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(
        webhook, data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        replies = json.loads(response.read())
    text = "\n".join(r.get("text") or "" for r in replies)
    buttons = tuple(str(b.get("title")) for r in replies for b in r.get("buttons") or [])
    return Reply(text, buttons)


def run_questions(
    webhook: str, questions: Sequence[dict[str, Any]], expectations: Expectations
) -> list[Outcome]:
    outcomes = []
    for number, question in enumerate(questions, 1):
        messages = [str(m) for m in _as_list(question["ask"])]
        sender = f"e2e-{uuid.uuid4().hex[:12]}"
        reply = Reply("", ())
        try:
            for message in messages:
                reply = ask(webhook, sender, message)
        except OSError as error:
            outcomes.append(
                Outcome(messages, "", [f"request failed: {error}"], question["category"])
            )
            continue
        written = [m for m in messages if not m.lstrip().startswith("/")]  # payloads: buttons
        lang = str(question.get("lang") or language_of(written[-1] if written else ""))
        outcomes.append(
            Outcome(
                messages,
                reply.text,
                expectations.problems(question["expect"], lang, reply),
                question["category"],
            )
        )
        if number % 20 == 0 or number == len(questions):
            print(f"    asked {number}/{len(questions)}", flush=True)
    return outcomes


def evaluate(
    model: Path, db_url: str, questions_file: Path = QUESTIONS_DIR, now: str = DEMO_NOW
) -> E2EReport:
    """Starts the assistant on `model`, asks every question, stops it."""
    from bot.db import EventDB

    started = time.monotonic()
    questions = load_questions(questions_file)
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "CYBERWEEK_NOW": now,
        "RASA_TELEMETRY_ENABLED": "false",
        RATE_LIMITS_SWITCH_ENV: "off",  # questions come faster than a visitor types
    }
    db = EventDB(db_url)
    try:
        expectations = Expectations(db, now=now)
        print(f"    starting the assistant on {model.name} (about a minute)", flush=True)
        log = paths.BUILD_DIR / "eval" / "e2e-servers.log"
        log.unlink(missing_ok=True)  # this run's output only
        try:
            with running_assistant(env, model, log=log) as assistant:
                outcomes = run_questions(assistant.webhook, questions, expectations)
        except HarnessError as error:
            raise RuntimeError(f"{error}; see {log}") from error
    finally:
        db.dispose()
    failures = [
        {"ask": o.messages, "problems": o.problems, "reply": o.reply[:300], "category": o.category}
        for o in outcomes
        if not o.ok
    ]
    by_category: dict[str, list[int]] = {}
    for outcome in outcomes:
        counts = by_category.setdefault(outcome.category, [0, 0])
        counts[0] += outcome.ok
        counts[1] += 1
    return E2EReport(
        len(outcomes),
        len(outcomes) - len(failures),
        failures,
        time.monotonic() - started,
        by_category,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="End-to-end answer accuracy over REST.")
    parser.add_argument("--model", type=Path, default=paths.MODEL_PATH)
    parser.add_argument("--questions", type=Path, default=QUESTIONS_DIR)
    parser.add_argument("--db-url", help="event database (default: a fresh seeded SQLite copy)")
    parser.add_argument("--json", type=Path, help="write the report here")
    args = parser.parse_args(argv)
    db_url = args.db_url or seeded_database(paths.BUILD_DIR / "eval" / "event.db")
    report = evaluate(args.model, db_url, args.questions)
    print_report(report)
    if args.json:
        args.json.write_text(json.dumps(report.__dict__, ensure_ascii=False, indent=1))
    return 0


def seeded_database(file: Path) -> str:
    """A SQLite copy of the seed of the evaluation's own (loading is idempotent)."""
    from bot.db.seed import load_seed

    file.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{file}"
    load_seed(paths.SEED_DIR, url=url)
    return url


def print_report(report: E2EReport) -> None:
    print(f"end-to-end: {report.passed}/{report.total} answered correctly ({report.accuracy:.1%})")
    for category, (passed, total) in report.by_category.items():
        print(f"  {category}: {passed}/{total}")
    for failure in report.failures:
        print(f"  ✗ {' → '.join(failure['ask'])}: {'; '.join(failure['problems'])}")
        print(f"      reply: {failure['reply'][:160]!r}")


if __name__ == "__main__":
    sys.exit(main())
