"""The staff console: a Rasa input channel serving the console page and its JSON API.

It runs inside the assistant's process (credentials.yml names it), so it reads transcripts from
Rasa's tracker store and appends staff replies and returns-to-bot to them under Rasa's lock
store, exactly as Rasa's own `/conversations/<id>/tracker/events` endpoint does. Replies reach
the visitor through the channel's registered delivery (bot/channels/delivery.py). The API is
documented in docs/desk-console-api.md; every call checks the session, the role and (for
changes) the CSRF token on the server.
"""

from bot.desk.console.channel import DeskConsoleInput
from bot.desk.console.conversation_routes import CLOSED, RETURNED
from bot.desk.console.http import COOKIE, MAX_BODY_BYTES

__all__ = ["CLOSED", "COOKIE", "MAX_BODY_BYTES", "RETURNED", "DeskConsoleInput"]
