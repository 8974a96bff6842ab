"""Security headers on every page and file the assistant serves (issue #15, item 6): the
widget's demo page and files and the staff console's page and files, over Sanic's test client,
and pages without inline script or style (the CSP allows none)."""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sanic import Blueprint, Sanic

from bot.channels.webchat import DEMO_FILES, DEMO_PAGE, WIDGET_FILES, WebChatInput
from bot.desk.console import DeskConsoleInput
from bot.desk.console.session_routes import STATIC_FILES, WEB_DIR
from bot.security_headers import security_headers

_app_numbers = itertools.count()
SOCKETIO = "/webhooks/socketio"
DESK = "/webhooks/desk"


@pytest.fixture()
def app() -> Sanic:
    """The widget's routes and the console's, mounted where Rasa mounts them."""
    app = Sanic(f"security_headers_{next(_app_numbers)}")
    widget = Blueprint("widget_routes_test")
    WebChatInput._add_widget_routes(widget)
    app.blueprint(widget, url_prefix=SOCKETIO)

    async def on_new_message(_: object) -> None:
        return None

    app.blueprint(DeskConsoleInput().blueprint(on_new_message), url_prefix=DESK)
    return app


def served_paths() -> list[str]:
    widget = [f"{SOCKETIO}/widget/{name}" for name, path in WIDGET_FILES.items() if path.is_file()]
    demo = [f"{SOCKETIO}/demo/", *(f"{SOCKETIO}/demo/{name}" for name in DEMO_FILES)]
    console = [f"{DESK}/", *(f"{DESK}/static/{name}" for name in STATIC_FILES)]
    return [*demo, *widget, *console]


def csp_directives(header: str) -> dict[str, list[str]]:
    parts = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in parts}


@pytest.mark.parametrize("path", served_paths())
def test_every_page_and_file_carries_the_security_headers(app: Sanic, path: str) -> None:
    _, served = app.test_client.get(path)
    assert served.status == 200
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Referrer-Policy"] == "no-referrer"
    csp = csp_directives(served.headers["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and served.headers["X-Frame-Options"] == "DENY"
    assert csp["object-src"] == ["'none'"]
    assert not any("unsafe" in value for values in csp.values() for value in values)


def test_the_widget_and_the_console_use_the_one_definition(app: Sanic) -> None:
    _, demo = app.test_client.get(f"{SOCKETIO}/demo/")
    _, console = app.test_client.get(f"{DESK}/")
    for name, value in security_headers().items():
        assert demo.headers[name] == console.headers[name] == value


class InlineCode(HTMLParser):
    """What a CSP without 'unsafe-inline' would block: inline scripts and styles, style
    attributes, on* handlers, javascript: links."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


@pytest.mark.parametrize("page", [DEMO_PAGE, WEB_DIR / "console.html"], ids=["demo", "console"])
def test_pages_have_no_inline_script_or_style(page: Path) -> None:
    parser = InlineCode()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.found == []


def test_a_file_outside_the_lists_is_not_served(app: Sanic) -> None:
    _, served = app.test_client.get(f"{SOCKETIO}/demo/index.html")
    assert served.status == 404
