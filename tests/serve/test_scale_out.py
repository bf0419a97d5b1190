"""Scale-out: a real `chroma run` server holds the index; ingest goes through it and two separate
`glute serve` processes answer from it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import run_glute
from tests.serve.ui_fixtures import free_port, glute_serve


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(url)


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "chroma"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/v2/heartbeat", proc, 60)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.slow
def test_ingest_and_two_servers_share_a_chroma_server(chroma_server: str, tmp_path: Path):
    from gradio_client import Client

    local = tmp_path / "unused-local-index"
    env = {"GLUTE_INDEX_DIR": str(local)}
    first = run_glute("--chroma-url", chroma_server, "ingest", "--quiet", env=env)
    assert first.returncode == 0, first.stderr
    assert f"rebuilt at {chroma_server}" in first.stdout
    again = run_glute("--chroma-url", chroma_server, "ingest", "--quiet", env=env)
    assert "(0 chunks embedded)" in again.stdout
    assert not local.exists()  # nothing went to the local store

    server = {"GLUTE_CHROMA_URL": chroma_server}
    with glute_serve(local, env=server) as (_, first_url, _), glute_serve(local, env=server) as (_, second_url, _):
        for url in (first_url, second_url):
            answer = Client(url, verbose=False).predict("how do I make clamshells harder?", [], api_name="/ask")
            assert answer["citations"][0]["chunk_id"] == "clamshell#make-it-harder"


def test_unreachable_chroma_server_is_a_clear_error(tmp_path: Path):
    result = run_glute("--chroma-url", f"http://127.0.0.1:{free_port()}", "ask", "how do I do clamshells?",
                       env={"GLUTE_INDEX_DIR": str(tmp_path / "index")})
    assert result.returncode == 1
    assert "Cannot reach the Chroma server" in result.stderr and "Traceback" not in result.stderr
