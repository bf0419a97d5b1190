"""What a `glute serve` on the ONNX encoder holds (issue 17: at most 400 MB after 50 questions, see `glute bench`):
it answers on every API without loading torch or matplotlib, and Gradio's per-event matplotlib manager runs only
when matplotlib is already loaded."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import httpx
import pytest

from assistant.bench.processes import ask_many, rss_mb, running_server
from assistant.config import Settings


def test_gradios_matplotlib_manager_runs_only_when_matplotlib_is_loaded(monkeypatch: pytest.MonkeyPatch):
    import gradio.utils

    from assistant.serve import lean

    manager = gradio.utils.MatplotlibBackendMananger
    assert lean.skip_matplotlib_when_unused() and gradio.utils.MatplotlibBackendMananger is manager  # applied once
    monkeypatch.setitem(sys.modules, "matplotlib", sys.modules.get("matplotlib") or __import__("matplotlib"))
    assert isinstance(manager(), manager.wraps)  # loaded by someone else: Gradio's own manager, as before
    monkeypatch.delitem(sys.modules, "matplotlib")
    with manager() as entered:
        assert entered is None and isinstance(manager(), contextlib.nullcontext)
    assert "matplotlib" not in sys.modules


def _mapped_files(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="reads /proc/<pid>/maps (Linux)")
def test_serve_answers_on_onnx_without_torch_or_matplotlib(settings: Settings, tmp_path: Path):
    from assistant.onnx_encoder import find_export

    assert find_export(settings.models_dir)[0] is not None  # the session's ingest left a checked export
    with running_server(settings.index_dir, tmp_path / "serve.log", mcp=True) as (url, pid):
        questions = [("how do I make clamshells harder?", None), ("what does the gluteus medius do?", None)]
        assert ask_many(url, questions, 4) == 0
        reply = httpx.post(f"{url}v1/chat/completions", timeout=60,
                           json={"model": "glute", "messages": [{"role": "user", "content": questions[0][0]}]})
        assert reply.status_code == 200 and reply.json()["citations"]
        mapped = _mapped_files(pid)
        print(f"glute serve RSS after 5 answers: {rss_mb(pid):.0f} MB")
    assert "onnxruntime" in mapped
    assert "/torch/lib/" not in mapped and "sentence_transformers" not in mapped
    assert "/matplotlib/" not in mapped  # Gradio's events no longer import it
