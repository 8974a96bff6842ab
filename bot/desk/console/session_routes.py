"""The console page, its static files, and logging in and out."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.db.desk import StaffInfo
from bot.desk.auth import (
    PERMISSIONS,
    SESSION_LIFETIME,
    Authenticator,
    LoginRefused,
)
from bot.desk.console.base import ConsoleBase
from bot.desk.console.http import (
    API_HEADERS,
    COOKIE,
    COOKIE_PATH,
    PAGE_HEADERS,
    ApiError,
    client_address,
    json_body,
    over_https,
    run_sync,
)
from bot.desk.console.shapes import staff_json
from bot.rate_limits import RateLimiter

logger = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"


STATIC_FILES = {name: WEB_DIR / name for name in ("console.js", "console.css")}


class SessionRoutes(ConsoleBase):
    """Routes of this module, mixed into DeskConsoleInput (bot/desk/console/channel.py)."""

    async def page(self, _: Request) -> HTTPResponse:
        return await response.file(WEB_DIR / "console.html", headers=PAGE_HEADERS)

    async def static_file(self, _: Request, filename: str) -> HTTPResponse:
        path = STATIC_FILES.get(filename)  # a fixed list: no paths from the URL
        if path is None or not path.is_file():
            return response.text("not found", status=404)
        return await response.file(path, headers=PAGE_HEADERS)

    @property
    def login_limiter(self) -> RateLimiter:
        """Sign-in attempts per address (bot/limits.py RATE_LOGIN_PER_IP), counted before the
        database and the password hash; a test may set its own."""
        limiter = getattr(self, "_login_limiter", None)
        if limiter is None:
            limiter = self._login_limiter = RateLimiter.from_env()
        return limiter

    async def login(self, request: Request) -> HTTPResponse:
        body = json_body(request)
        username, password = body.get("username"), body.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise ApiError(400, '"username" and "password" must be strings')
        # the same 429 "throttled" the page already translates (bot/desk/auth.py's failures)
        verdict = await self.login_limiter.hit_all(("login_ip", client_address(request)))
        if not verdict.allowed:
            raise ApiError(429, "throttled", retry_after_s=verdict.retry_after_s)
        try:
            login = await run_sync(
                Authenticator(self.store).login, username.strip(), password, client_address(request)
            )
        except LoginRefused as refused:
            if refused.reason == "credentials":
                raise ApiError(401, "credentials") from None
            raise ApiError(429, refused.reason, retry_after_s=refused.retry_after_s) from None
        reply = response.json(self._me_json(login.staff, login.csrf_token), headers=API_HEADERS)
        self._set_cookie(reply, login.token, over_https(request))
        return reply

    @staticmethod
    def _set_cookie(reply: HTTPResponse, token: str, secure: bool) -> None:
        reply.cookies[COOKIE] = token
        cookie = reply.cookies[COOKIE]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = COOKIE_PATH
        cookie["max-age"] = int(SESSION_LIFETIME.total_seconds())
        if secure:
            cookie["secure"] = True

    async def logout(self, request: Request) -> HTTPResponse:
        await self._session(request, permission=None, changes=True)
        await run_sync(Authenticator(self.store).logout, request.cookies.get(COOKIE))
        reply = response.json({"ok": True}, headers=API_HEADERS)
        self._set_cookie(reply, "", over_https(request))
        reply.cookies[COOKIE]["max-age"] = 0
        return reply

    async def me(self, request: Request) -> HTTPResponse:
        session = await self._session(request, permission=None)
        return response.json(self._me_json(session.staff, session.csrf_token), headers=API_HEADERS)

    @staticmethod
    def _me_json(staff: StaffInfo, csrf_token: str) -> dict[str, Any]:
        permissions = sorted(PERMISSIONS.get(staff.role, frozenset()))
        return {"staff": staff_json(staff), "csrf_token": csrf_token, "permissions": permissions}
