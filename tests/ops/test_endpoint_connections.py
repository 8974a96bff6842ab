"""Rasa's endpoint calls over kept-alive connections (ops/endpoint_connections.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
import rasa.core.run
from aiohttp import web
from rasa.utils.endpoints import EndpointConfig

from ops import endpoint_connections
from ops.endpoint_connections import install_kept_alive_endpoint_connections

RASA_SESSION = EndpointConfig.session
RASA_CLOSE_RESOURCES = rasa.core.run.close_resources


@pytest.fixture()
def kept_alive(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(EndpointConfig, "session", RASA_SESSION)
    monkeypatch.setattr(rasa.core.run, "close_resources", RASA_CLOSE_RESOURCES)
    install_kept_alive_endpoint_connections()
    yield


class Peer:
    """An HTTP server that answers every POST with the client's port (one port, one connection)."""

    def __init__(self, keepalive_timeout: float = 75.0) -> None:
        self.ports: list[int] = []
        self.keepalive_timeout = keepalive_timeout
        self.runner: web.AppRunner | None = None
        self.port = 0

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_post("/webhook", self._answer)
        self.runner = web.AppRunner(app, keepalive_timeout=self.keepalive_timeout)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    async def _answer(self, request: web.Request) -> web.Response:
        self.ports.append(request.transport.get_extra_info("peername")[1])  # type: ignore[union-attr]
        return web.json_response({"seen": await request.json()})


def _with_peer(test: Callable[[Peer, EndpointConfig], Awaitable[None]], **peer: Any) -> None:
    async def run() -> None:
        server = Peer(**peer)
        await server.start()
        try:
            await test(server, EndpointConfig(f"http://127.0.0.1:{server.port}/webhook"))
        finally:
            await endpoint_connections.close_shared_connector()
            await server.stop()

    asyncio.run(run())


async def _three_calls(server: Peer, endpoint: EndpointConfig) -> None:
    for number in range(3):
        assert await endpoint.request(json={"n": number}) == {"seen": {"n": number}}


def test_calls_share_one_connection(kept_alive: None) -> None:
    seen: list[int] = []

    async def test(server: Peer, endpoint: EndpointConfig) -> None:
        await _three_calls(server, endpoint)
        seen.extend(server.ports)

    _with_peer(test)
    assert len(seen) == 3 and len(set(seen)) == 1


def test_rasas_own_session_opens_a_connection_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the installer changes (and proof that the test above can tell)."""
    monkeypatch.setattr(EndpointConfig, "session", RASA_SESSION)
    seen: list[int] = []

    async def test(server: Peer, endpoint: EndpointConfig) -> None:
        await _three_calls(server, endpoint)
        seen.extend(server.ports)

    _with_peer(test)
    assert len(set(seen)) == 3


def test_the_session_is_configured_as_rasas(kept_alive: None) -> None:
    endpoint = EndpointConfig(
        "http://127.0.0.1:1/webhook",
        headers={"X-Cyberweek-Action-Secret": "s"},
        basic_auth={"username": "u", "password": "p"},
    )

    async def compare() -> None:
        ours, rasas = endpoint.session(), RASA_SESSION(endpoint)
        try:
            assert dict(ours.headers) == dict(rasas.headers)
            assert ours.auth == rasas.auth == aiohttp.BasicAuth("u", "p")
            assert ours.timeout == rasas.timeout
        finally:
            await ours.close()
            await rasas.close()

    asyncio.run(compare())


def test_a_restarted_server_is_called_on_a_new_connection(kept_alive: None) -> None:
    async def test(server: Peer, endpoint: EndpointConfig) -> None:
        await _three_calls(server, endpoint)
        await server.stop()
        await server.start(server.port)
        await _three_calls(server, endpoint)
        assert len(set(server.ports)) == 2

    _with_peer(test)


def test_a_connection_the_server_closed_is_not_reused(
    kept_alive: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(endpoint_connections, "KEPT_ALIVE_S", 10.0)  # the server closes first

    async def test(server: Peer, endpoint: EndpointConfig) -> None:
        await _three_calls(server, endpoint)
        # aiohttp's server drops an idle connection on a whole second after its 0.5 s
        await asyncio.sleep(2.6)
        await _three_calls(server, endpoint)
        assert len(server.ports) == 6 and len(set(server.ports)) == 2

    _with_peer(test, keepalive_timeout=0.5)


def test_rasas_server_stop_closes_the_kept_connections(kept_alive: None) -> None:
    """Rasa's "after_server_stop" listener closes the loop's connector: its kept connection
    ends with the server instead of an "Unclosed connector" warning at exit."""
    closed: list[bool] = []

    class App:  # what Rasa's close_resources reads: no agent loaded
        ctx = type("Ctx", (), {})()

    async def test(server: Peer, endpoint: EndpointConfig) -> None:
        await _three_calls(server, endpoint)
        connector = endpoint_connections.shared_connector()
        assert connector.closed is False
        await rasa.core.run.close_resources(App(), asyncio.get_running_loop())
        closed.append(connector.closed)
        await _three_calls(server, endpoint)  # a later call gets a new connector
        assert endpoint_connections.shared_connector() is not connector
        assert len(set(server.ports)) == 2

    _with_peer(test)
    assert closed == [True]
