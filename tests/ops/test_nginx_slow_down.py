"""nginx's own rate limits (deploy/nginx.conf) answer 429 with "please slow down" in both
languages, in the shape each route's client reads, not nginx's bare error page: the rendered
production conf, a real nginx on loopback, and a stand-in upstream that answers every request
(no Rasa). Also: the instances are told to trust nginx's X-Real-IP, so the app's per-address
limits see visitors, not nginx."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from bot.unavailable import SLOW_DOWN
from ops import prod
from ops.harness import free_port
from tests.ops.test_prod import _profile


class Upstream(BaseHTTPRequestHandler):
    """Answers every request as the REST channel would, with nothing."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = b"[]"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture()
def nginx_url(tmp_path: Path) -> Iterator[str]:
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed")
    upstream = ThreadingHTTPServer(("127.0.0.1", free_port()), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    base = _profile(tmp_path, instances=1)
    instance = replace(base.instances[0], rasa_port=upstream.server_address[1])
    # one request a second and a burst of two: a few quick requests cross it
    profile = replace(base, public_port=free_port(), instances=(instance,), rate_per_ip=1)
    conf = prod.write_nginx_conf(profile)
    prefix = profile.dirs.nginx.resolve()
    prefix.chmod(0o755)  # workers run unprivileged when the test runs as root
    nginx = subprocess.Popen(
        ["nginx", "-p", f"{prefix}/", "-c", str(conf), "-e", str(prefix / "logs/e.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{profile.public_port}"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/nothing", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        upstream.shutdown()


def flood(url: str, path: str, count: int = 8) -> list[requests.Response]:
    body = {"sender": "flooder", "message": "x"}
    return [requests.post(f"{url}{path}", json=body, timeout=5) for _ in range(count)]


def first_refusal(responses: list[requests.Response]) -> requests.Response:
    refused = [r for r in responses if r.status_code == 429]
    assert refused, [r.status_code for r in responses]
    assert responses[0].status_code == 200  # the limit, not a broken upstream
    return refused[0]


def test_rest_over_nginxs_limit_gets_a_reply_shaped_429_in_both_languages(nginx_url: str) -> None:
    refused = first_refusal(flood(nginx_url, "/webhooks/rest/webhook"))
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Content-Type"].startswith("application/json")
    (message,) = refused.json()
    assert SLOW_DOWN["zh"] in message["text"] and SLOW_DOWN["en"] in message["text"]


def test_the_console_over_nginxs_limit_gets_the_throttled_error_its_page_translates(
    nginx_url: str,
) -> None:
    refused = first_refusal(flood(nginx_url, "/webhooks/desk/api/login"))
    assert refused.json() == {"error": "throttled", "retry_after_s": 1}


def test_wechat_over_nginxs_limit_gets_the_text_in_both_languages(nginx_url: str) -> None:
    refused = first_refusal(flood(nginx_url, "/webhooks/wechat/webhook"))
    assert refused.text.splitlines() == [SLOW_DOWN["zh"], SLOW_DOWN["en"]]
    assert json.dumps(refused.text)  # plain text, no HTML page


def test_the_instances_take_the_visitors_address_from_nginx(tmp_path: Path) -> None:
    env = prod.profile_env(_profile(tmp_path), {})
    assert env["SANIC_REAL_IP_HEADER"] == "X-Real-IP"
    conf = prod.render_nginx_conf(_profile(tmp_path), as_root=False)
    assert "proxy_set_header X-Real-IP $remote_addr;" in conf  # overwrites what a client sent
