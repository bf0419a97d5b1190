"""The real Gradio server for the UI tests, started once per session on a free loopback port.

Import the fixture into a test module with `from tests.serve.ui_fixtures import ui_server_fixture  # noqa: F401`
and ask for `ui_url`. The server is cached at module level, so the API and browser tests share one.
`glute_serve(...)` starts the real `glute serve` command instead, for tests that need a separate process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from assistant.bench.processes import stop_gracefully
from assistant.config import REPO_ROOT

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
        from assistant.serve.app import build_app, launch

        app = build_app(bot)
        launch(app, "127.0.0.1", free_port(), prevent_thread_lock=True)
        _running.update(app=app, url=app.local_url, started=time.time())
    yield str(_running["url"])
    app = _running.pop("app", None)
    _running.pop("url", None)
    if app is not None:
        app.close()


@contextmanager
def glute_serve(index_dir: Path, *args: str, env: dict[str, str] | None = None,
                timeout: float = 180) -> Iterator[tuple[subprocess.Popen, str, list[str]]]:
    """A real `glute serve` subprocess on a free loopback port: yields (process, url, its output lines so far).

    Output is drained on a thread (so the pipe never fills) into the list, which keeps growing while it runs.
    """
    port = free_port()
    inherited = {k: v for k, v in os.environ.items() if k != "GLUTE_CHROMA_URL"}  # only when asked for
    full_env = {**inherited, "GLUTE_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1",
                "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "serve", "--port", str(port), *args],
                            cwd=REPO_ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()

    def drain() -> None:
        for line in proc.stdout:
            output.append(line)
            if "running at" in line:
                ready.set()
        ready.set()

    threading.Thread(target=drain, daemon=True).start()
    try:
        if not ready.wait(timeout) or proc.poll() is not None:
            raise RuntimeError(f"glute serve did not start (exit code {proc.poll()}):\n{''.join(output)[-2000:]}")
        yield proc, f"http://127.0.0.1:{port}/", output
    finally:
        stop_gracefully(proc, timeout=30)


API_USER, API_PASSWORD = "ann", "api-test-secret"
API_KEY = f"{API_USER}:{API_PASSWORD}"


@pytest.fixture(scope="session", name="api_server")
def api_server_fixture(settings) -> Iterator[str]:
    """URL of one real `glute serve --mcp` with GLUTE_AUTH set, shared by the OpenAI-compatible and MCP tests;
    its bearer key is `API_KEY`."""
    with glute_serve(settings.index_dir, "--mcp", env={"GLUTE_AUTH": API_KEY}) as (_, url, _):
        yield url
