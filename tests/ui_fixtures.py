"""The real Gradio server for the UI tests, started once per session on a free loopback port.

Import the fixture into a test module with `from tests.ui_fixtures import ui_server_fixture  # noqa: F401`
and ask for `ui_url`. The server is cached at module level, so the API and browser tests share one.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

_running: dict[str, object] = {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session", name="ui_url")
def ui_server_fixture(bot) -> Iterator[str]:
    """URL of `build_app(bot)` served with the same launch settings as `glute serve`."""
    if "url" not in _running:
        from assistant.ui import build_app, launch

        app = build_app(bot)
        launch(app, "127.0.0.1", free_port(), prevent_thread_lock=True)
        _running.update(app=app, url=app.local_url, started=time.time())
    yield str(_running["url"])
    app = _running.pop("app", None)
    _running.pop("url", None)
    if app is not None:
        app.close()
