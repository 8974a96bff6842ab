"""Rasa's calls to its endpoints (the action server above all) over kept-alive connections.

`EndpointConfig.request` opens a new aiohttp session, and with it a new connector, for every
call and closes both after it: each custom action call paid a TCP connection set-up and
tear-down on both sides (~3% of a turn's GIL at 20 visitors, #14). Here each session borrows
one connector per event loop (`connector_owner=False`), so closing the session leaves the
connection in the connector's pool for the next call.

An idle connection is dropped by the client after `KEPT_ALIVE_S`, before the action server
(Sanic, keep-alive timeout 5 s) closes it from its side: a request is never written into a
connection the server is closing. A connection the server has closed (restarted, killed) is
not reused: aiohttp leaves out of its pool a transport whose peer has hung up.
When Rasa's server stops, the loop's connector is closed with Rasa's own resources, so its
kept connections end with a proper close instead of aiohttp's "Unclosed connector" at exit.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

import aiohttp

# Below Sanic's default KEEP_ALIVE_TIMEOUT (5 s), which the action server keeps.
KEPT_ALIVE_S = 2.0

_connectors: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aiohttp.TCPConnector] = (
    weakref.WeakKeyDictionary()
)


def shared_connector() -> aiohttp.TCPConnector:
    """The running loop's connector (a closed one is replaced): connectors are per loop."""
    loop = asyncio.get_running_loop()
    connector = _connectors.get(loop)
    if connector is None or connector.closed:
        connector = aiohttp.TCPConnector(keepalive_timeout=KEPT_ALIVE_S)
        _connectors[loop] = connector
    return connector


async def close_shared_connector() -> None:
    """Closes the running loop's connector and its kept connections (on server stop)."""
    connector = _connectors.pop(asyncio.get_running_loop(), None)
    if connector is not None:
        await connector.close()


def install_kept_alive_endpoint_connections() -> None:
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.session, "shares_connections", False):
        return

    def session(self: EndpointConfig) -> aiohttp.ClientSession:
        # what Rasa's `session()` sets (headers, basic auth, time-out; a test compares them),
        # on the shared connector
        return aiohttp.ClientSession(
            headers=self.headers,
            auth=_basic_auth(self),
            timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
            connector=shared_connector(),
            connector_owner=False,
        )

    session.shares_connections = True  # type: ignore[attr-defined]
    EndpointConfig.session = session  # type: ignore[method-assign]
    _install_closing_on_server_stop()


def _install_closing_on_server_stop() -> None:
    """`serve_application` registers `rasa.core.run.close_resources` as its
    "after_server_stop" listener, looked up by name when the server is built."""
    import rasa.core.run

    rasa_close_resources = rasa.core.run.close_resources
    if getattr(rasa_close_resources, "closes_shared_connector", False):
        return

    async def close_resources(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await rasa_close_resources(app, loop)
        finally:
            await close_shared_connector()

    close_resources.closes_shared_connector = True  # type: ignore[attr-defined]
    rasa.core.run.close_resources = close_resources


def _basic_auth(endpoint: Any) -> aiohttp.BasicAuth | None:
    if not endpoint.basic_auth:
        return None
    return aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
