"""Concurrent load on a real `glute serve` through its `/ask` API: no errors, valid answers, steady memory.

16 clients (threads, one gradio_client.Client each) send questions at the same time. The short form, 5 questions
per client, runs in `make test`; the long form, 50 per client, runs only with `GLUTE_LONG_TESTS=1`:

    GLUTE_LONG_TESTS=1 .venv/bin/pytest -s tests/test_load.py

Latency p50/p95 and the server's resident memory before and after are printed (see them with `-s`).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import MARKER
from tests.serve.test_ui_api import check_shape
from tests.serve.ui_fixtures import glute_serve

pytestmark = pytest.mark.slow

CLIENTS = 16
SHORT, LONG = 5, 50
RSS_GROWTH_MAX_MB = 150
LONG_TESTS = os.environ.get("GLUTE_LONG_TESTS") == "1"
FLAGSHIP = "how do I make clamshells harder?"
FOLLOW_UP = [{"role": "user", "content": FLAGSHIP},
             {"role": "assistant", "content": "To make the clamshell harder: loop a band around your thighs [1]."}]
# (question, history, what the answer must be): answered, a refusal reason, or a red flag
QUESTIONS: list[tuple[str, list[dict], str]] = [
    (FLAGSHIP, [], "answered"),
    ("What height should the step be for lateral step-ups?", [], "answered"),
    ("and how do I make it easier?", FOLLOW_UP, "answered"),
    ("What are common mistakes in a single-leg bridge?", [], "answered"),
    ("What does the gluteus medius do?", [], "answered"),
    ("What is the capital of France?", [], "off_topic"),
    ("I fell and now I can't put weight on my leg", [], "red_flag"),
    ("How many mg of ibuprofen should I take for hip pain?", [], "out_of_scope_medical"),
    ("", [], "invalid_input"),
    ("how do I do a hip hitch?", [], "answered"),
]


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")) / 1024


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def check_answer(result: object, expected: str) -> None:
    """Valid Answer JSON, citations consistent with the markers, and the outcome the question calls for."""
    assert isinstance(result, dict)
    check_shape(result)
    markers = [c["marker"] for c in result["citations"]]
    assert markers == list(range(1, len(markers) + 1))
    assert all(c["text"] and c["chunk_id"].startswith(c["doc_id"] + "#") for c in result["citations"])
    if expected == "answered":
        assert not result["refused"] and MARKER.search(result["answer"]), result["answer"]
    elif expected == "red_flag":
        assert result["safety"] == "red_flag"
    else:
        assert result["refused"] and result["refusal_reason"] == expected, result


def run_load(url: str, per_client: int) -> tuple[list[float], list[str]]:
    """Every client sends `per_client` questions, all starting together; returns latencies (ms) and errors."""
    from gradio_client import Client

    clients = [Client(url, verbose=False, download_files=False) for _ in range(CLIENTS)]
    start = threading.Barrier(CLIENTS)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def work(index: int) -> None:
        start.wait()
        for j in range(per_client):
            question, history, expected = QUESTIONS[(index + j) % len(QUESTIONS)]
            began = time.perf_counter()
            try:
                check_answer(clients[index].predict(question, history, api_name="/ask"), expected)
                problem = None
            except Exception as exc:  # an error or a wrong answer: both count
                problem = f"client {index} question {question!r}: {type(exc).__name__}: {exc}"[:500]
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                if problem:
                    errors.append(problem)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for client in clients:
        client.close()
    return latencies, errors


@pytest.mark.parametrize("per_client", [
    SHORT,
    pytest.param(LONG, marks=pytest.mark.skipif(not LONG_TESTS, reason="long form: set GLUTE_LONG_TESTS=1")),
], ids=["short", "long"])
def test_concurrent_clients_get_valid_answers_with_steady_memory(settings, per_client: int):
    from gradio_client import Client

    with glute_serve(settings.index_dir) as (proc, url, _):
        warm = Client(url, verbose=False, download_files=False)
        for question, history, expected in QUESTIONS:  # warm-up: every code path once
            check_answer(warm.predict(question, history, api_name="/ask"), expected)
        warm.close()
        before = rss_mb(proc.pid)
        began = time.perf_counter()
        latencies, errors = run_load(url, per_client)
        wall = time.perf_counter() - began
        after = rss_mb(proc.pid)
        assert proc.poll() is None, "the server died under load"
    requests = CLIENTS * per_client
    print(f"\nload: {CLIENTS} clients x {per_client} = {requests} requests in {wall:.1f} s, {len(errors)} errors, "
          f"p50 {percentile(latencies, 50):.0f} ms, p95 {percentile(latencies, 95):.0f} ms, "
          f"RSS {before:.0f} -> {after:.0f} MB ({after - before:+.0f} MB)")
    assert not errors, "\n".join(errors[:10])
    assert len(latencies) == requests
    assert after - before < RSS_GROWTH_MAX_MB, f"server memory grew {after - before:.0f} MB under load"
