"""The query encoder: ONNX Runtime gives sentence-transformers' vectors on every chunk of the corpus, a missing
export falls back (one log line) and the next ingest rebuilds it, and the query path never imports torch."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.config import REPO_ROOT, Settings
from assistant.embeddings import load_embeddings, load_torch_embeddings
from assistant.errors import GluteError
from assistant.index import ingest
from assistant.onnx_encoder import MANIFEST, MIN_COSINE, OnnxEmbeddings, find_export, read_manifest
from assistant.store import LocalIndex
from tests.helpers import run_glute

FLAGSHIP = "how do I make clamshells harder?"
HEAVY = ("torch", "sentence_transformers", "transformers", "langchain_huggingface")
LAZY = ("langchain_chroma", "gradio", "matplotlib")


def _onnx_file(settings: Settings) -> Path:
    export, why = find_export(settings.models_dir)
    assert export is not None, why
    return export.path


def test_onnx_vectors_equal_sentence_transformers_on_every_chunk(settings: Settings):
    """The real model and the real export: every chunk text in the index of the corpus (what ingest embedded),
    batched and one at a time, cosine >= 0.9999."""
    texts = LocalIndex(settings.index_dir).open().get(include=["documents"])["documents"]
    assert len(texts) > 150
    encoder = load_embeddings(settings)
    assert isinstance(encoder, OnnxEmbeddings)
    reference = np.asarray(load_torch_embeddings().embed_documents(texts))
    batched = np.asarray(encoder.embed_documents(texts))
    single = np.asarray([encoder.embed_query(t) for t in texts])
    assert batched.shape == single.shape == reference.shape == (len(texts), 384)
    for vectors in (batched, single):
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        cosines = (vectors * reference).sum(axis=1)
        assert cosines.min() >= MIN_COSINE, texts[int(cosines.argmin())][:80]
    manifest = read_manifest(settings.models_dir)
    assert manifest["accepted"] and manifest["probes"] >= len(texts) and manifest["min_cosine"] >= MIN_COSINE


def test_deleted_export_falls_back_with_one_log_line_and_next_ingest_rebuilds(small_corpus: Path, tmp_path: Path,
                                                                             caplog: pytest.LogCaptureFixture):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    assert ingest(settings, progress=False).encoder.startswith("query encoder: onnx")
    onnx = _onnx_file(settings)
    assert isinstance(load_embeddings(settings), OnnxEmbeddings)
    onnx.unlink()
    with caplog.at_level(logging.WARNING, logger="assistant.embeddings"):
        fallback = load_embeddings(settings)
        load_embeddings(settings)
    assert not isinstance(fallback, OnnxEmbeddings)
    lines = [r.getMessage() for r in caplog.records if r.name == "assistant.embeddings"]
    assert len(lines) == 1 and "sentence-transformers" in lines[0] and "missing" in lines[0], lines
    vector = fallback.embed_query(FLAGSHIP)
    report = ingest(settings, progress=False)
    assert report.embedded == 0 and "onnx (new export" in report.encoder and "onnx" in report.summary()
    assert onnx.is_file()
    rebuilt = load_embeddings(settings)
    assert isinstance(rebuilt, OnnxEmbeddings)
    assert float(np.dot(rebuilt.embed_query(FLAGSHIP), vector)) >= MIN_COSINE


@pytest.mark.slow
def test_cli_says_it_falls_back_in_one_line_and_still_answers(small_corpus: Path, tmp_path: Path):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    ingest(settings, progress=False)
    _onnx_file(settings).unlink()
    env = {"GLUTE_INDEX_DIR": str(settings.index_dir), "GLUTE_CORPUS_DIR": str(small_corpus)}
    result = run_glute("ask", FLAGSHIP, env=env)
    assert result.returncode == 0, result.stderr
    assert "clamshell" in result.stdout.lower()
    said = [line for line in result.stderr.splitlines() if "Query encoder" in line]
    assert len(said) == 1 and "missing" in said[0], result.stderr
    result = run_glute("ingest", "--quiet", env=env)
    assert result.returncode == 0 and "query encoder: onnx (new export" in result.stdout, result.stderr


def test_a_rejected_export_is_recorded_and_not_used(small_corpus: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture):
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index")
    monkeypatch.setattr("assistant.onnx_export.MIN_COSINE", 1.5)  # no export can pass
    with caplog.at_level(logging.WARNING, logger="assistant.onnx_export"):
        report = ingest(settings, progress=False)
    assert report.encoder.startswith("query encoder: torch (cosine")
    assert any("keeping sentence-transformers" in r.getMessage() for r in caplog.records)
    manifest = json.loads((settings.models_dir / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["accepted"] is False and "< 1.5" in manifest["reason"]
    assert not list(settings.models_dir.glob("*.onnx"))
    assert not isinstance(load_embeddings(settings), OnnxEmbeddings)
    assert "--rebuild" in find_export(settings.models_dir)[1]
    monkeypatch.undo()
    assert "torch" in ingest(settings, progress=False).encoder  # a plain ingest does not retry
    assert "onnx (new export" in ingest(settings, rebuild=True, progress=False).encoder
    with pytest.raises(GluteError, match="GLUTE_ENCODER=onnx"):
        load_embeddings(Settings(corpus_dir=small_corpus, index_dir=tmp_path / "elsewhere" / "index", encoder="onnx"))


def test_query_path_with_a_valid_export_never_imports_torch(settings: Settings):
    """A cold `glute ask` in a fresh process: answered by ONNX Runtime; torch, sentence-transformers and the
    modules a question does not need are never imported."""
    _onnx_file(settings)
    code = (
        "import sys\n"
        "from assistant.cli import main\n"
        f"sys.argv = ['glute', 'ask', {FLAGSHIP!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        f"print('LOADED', [m for m in {HEAVY + LAZY!r} if m in sys.modules])\n"
    )
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("GLUTE_")}, "HF_HUB_OFFLINE": "1",
           "GLUTE_INDEX_DIR": str(settings.index_dir), "GLUTE_CORPUS_DIR": str(settings.corpus_dir)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Loop a resistance band" in result.stdout
    assert "LOADED []" in result.stdout, result.stdout[-500:]
    assert "Query encoder" not in result.stderr


def test_thread_setting_has_a_neutral_name_and_keeps_the_old_one():
    assert Settings.from_env(env={}).encoder_threads is None
    assert Settings.from_env(env={"GLUTE_TORCH_THREADS": "1"}).encoder_threads == 1
    assert Settings.from_env(env={"GLUTE_TORCH_THREADS": "1", "GLUTE_ENCODER_THREADS": "2"}).encoder_threads == 2
    with pytest.raises(GluteError, match="GLUTE_ENCODER_THREADS"):
        Settings.from_env(env={"GLUTE_ENCODER_THREADS": "two"})
    with pytest.raises(GluteError, match="GLUTE_TORCH_THREADS"):  # the old name, named as the user typed it
        Settings.from_env(env={"GLUTE_TORCH_THREADS": "two"})
    assert Settings.from_env(env={"GLUTE_ENCODER": "TORCH"}).encoder == "torch"
    with pytest.raises(GluteError, match="GLUTE_ENCODER"):
        Settings.from_env(env={"GLUTE_ENCODER": "gpu"})
