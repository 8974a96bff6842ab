"""The JSON shapes the console's API answers with (docs/desk-console-api.md)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bot.db.desk import (
    CannedInfo,
    HandoffInfo,
    NoteInfo,
    StaffInfo,
)
from bot.db.edits import ChangeInfo

logger = logging.getLogger(__name__)


def staff_json(staff: StaffInfo) -> dict[str, str]:
    return {"username": staff.username, "display_name": staff.display_name, "role": staff.role}


def staff_ref(staff: StaffInfo | None) -> dict[str, str] | None:
    return {"username": staff.username, "display_name": staff.display_name} if staff else None


def note_json(note: NoteInfo, names: dict[int, StaffInfo]) -> dict[str, Any]:
    author = names.get(note.staff_id)
    staff = author.display_name if author else None
    return {"id": note.id, "staff": staff, "text": note.text, "at": note.created_at.isoformat()}


def canned_json(canned: CannedInfo, names: dict[int, StaffInfo]) -> dict[str, Any]:
    return {
        "id": canned.id,
        "shortcut": canned.shortcut,
        "text_zh": canned.text_zh,
        "text_en": canned.text_en,
        "updated_at": canned.updated_at.isoformat(),
        "updated_by": staff_ref(names.get(canned.updated_by)),
    }


def handoff_json(
    handoff: HandoffInfo,
    names: dict[int, StaffInfo],
    now: dt.datetime,
    labels: Sequence[str] = (),
) -> dict[str, Any]:
    assignee = names.get(handoff.assignee_id) if handoff.assignee_id else None
    end = handoff.claimed_at or handoff.closed_at or now
    return {
        "id": handoff.id,
        "conversation_id": handoff.conversation_id,
        "channel": handoff.channel,
        "language": handoff.language,
        "status": handoff.status,
        "reason": handoff.reason,
        "last_visitor_message": handoff.last_visitor_message,
        "created_at": handoff.created_at.isoformat(),
        "updated_at": handoff.updated_at.isoformat(),
        "waiting_s": max(0, int((end - handoff.created_at).total_seconds())),
        "assignee": {"username": assignee.username, "display_name": assignee.display_name}
        if assignee
        else None,
        "closed_at": handoff.closed_at.isoformat() if handoff.closed_at else None,
        "outcome": handoff.outcome,
        "labels": list(labels),
    }


def change_json(change: ChangeInfo) -> dict[str, Any]:
    data = asdict(change)
    data["when"] = change.when.isoformat()
    return data
