"""A staff member's console session and a REST visitor, for the tests of the desk's API."""

from __future__ import annotations

from typing import Any

import requests

from bot.channels.conversation_ids import REST, conversation_id

from bot.desk.console import COOKIE

TIMEOUT_S = 60


class Console:
    """A staff member's browser: the session cookie in a requests.Session, the CSRF token."""

    def __init__(self, api: str, username: str, password: str) -> None:
        self.api = api
        self.http = requests.Session()
        self.login = self.http.post(
            f"{api}/login", json={"username": username, "password": password}, timeout=TIMEOUT_S
        )
        assert self.login.status_code == 200, self.login.text
        self.csrf: str = self.login.json()["csrf_token"]
        self.token: str = self.http.cookies[COOKIE]

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(f"{self.api}{path}", timeout=TIMEOUT_S, **kwargs)

    def post(
        self, path: str, body: Any = None, csrf: str | None = "session", **kwargs: Any
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf if csrf == "session" else csrf} if csrf else {}
        return self.http.post(
            f"{self.api}{path}", json=body, headers=headers, timeout=TIMEOUT_S, **kwargs
        )


def rest_conversation(sender: str) -> str:
    """The conversation the assistant keeps for a REST `sender` (and the desk queues)."""
    return conversation_id(REST, sender)


def say(webhook: str, sender: str, message: str) -> list[dict[str, Any]]:
    """One visitor message over the REST channel; the replies Rasa (and the outbox) send."""
    response = requests.post(
        webhook, json={"sender": sender, "message": message}, timeout=TIMEOUT_S
    )
    assert response.status_code == 200, response.text
    replies: list[dict[str, Any]] = response.json()
    return replies


def text_of(replies: list[dict[str, Any]]) -> str:
    return "\n".join(reply.get("text") or "" for reply in replies)
