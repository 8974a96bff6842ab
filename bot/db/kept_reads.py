"""Answers of the event database kept between turns while its data version stands (#14).

An answering action used to read two or three records per turn, each a connection check, a
BEGIN, a SELECT and a ROLLBACK on PostgreSQL: about 10 statements a turn and ~1 ms of the
action server's CPU for records that change a few times a day. Kept answers cost one read of
the data version per turn (bot.db.changes: it goes up with every seed load and staff edit, in
the same transaction), so an edit is answered from the first turn that starts after it
commits, on every instance, as before.

No version (the database unreachable, not loaded): nothing is kept or served from here, the
turn reads the database itself and gets its errors ("not ready" becomes the visitor's apology).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# "1": the action server's EventDB keeps answers (ops/action_entry.py sets it unless the
# operator set it; "0" turns keeping off).
KEEP_ANSWERS_ENV = "CYBERWEEK_KEEP_ANSWERS"
DEFAULT_MAX_ANSWERS = 2048  # a few KB each; visitors' keys vary, so the total is bounded


class KeptReads:
    """Answers keyed by question, all dropped when `version()` reports another number.

    Thread-safe: the action server answers from worker threads. A read that started before
    the answers were dropped is not kept afterwards (it may have seen the older data)."""

    def __init__(
        self, version: Callable[[], int | None], max_answers: int = DEFAULT_MAX_ANSWERS
    ) -> None:
        self._version = version
        self.max_answers = max_answers
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._kept_version: int | None = None
        self._generation = 0  # goes up whenever the answers are dropped
        self._lock = threading.Lock()

    def confirm(self) -> bool:
        """Reads the data version: True when kept answers may be served until the next
        confirmation (the answers are dropped first if the version moved), False when the
        version cannot be read (everything dropped; read the database itself)."""
        version = self._version()
        with self._lock:
            if version is None or version != self._kept_version:
                self._answers.clear()
                self._generation += 1
                self._kept_version = version
            return version is not None

    def get(self, question: Hashable, read: Callable[[], T]) -> T:
        """The kept answer to `question`, else `read()`'s, kept. Errors are not kept."""
        with self._lock:
            if question in self._answers:
                self._answers.move_to_end(question)
                return self._answers[question]
            generation = self._generation
        answer = read()  # outside the lock: other threads' kept answers are not held up
        with self._lock:
            if generation == self._generation:
                self._answers[question] = answer
                if len(self._answers) > self.max_answers:
                    self._answers.popitem(last=False)
        return answer

    def __len__(self) -> int:
        return len(self._answers)
