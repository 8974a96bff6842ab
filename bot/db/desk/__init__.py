"""The help desk's tables and their store (staff, handoff queue, audit log): SQL stays in bot.db."""

from bot.db.desk.store import (
    AlreadyClaimed,
    AuditInfo,
    DeskError,
    DeskSchemaError,
    DeskStore,
    HandoffClosed,
    HandoffInfo,
    HandoffNotFound,
    OutgoingInfo,
    QueueVersion,
    SessionInfo,
    StaffExists,
    StaffInfo,
    UnknownStaff,
)

__all__ = [
    "AlreadyClaimed",
    "AuditInfo",
    "DeskError",
    "DeskSchemaError",
    "DeskStore",
    "HandoffClosed",
    "HandoffInfo",
    "HandoffNotFound",
    "OutgoingInfo",
    "QueueVersion",
    "SessionInfo",
    "StaffExists",
    "StaffInfo",
    "UnknownStaff",
]
