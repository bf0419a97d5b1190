"""The index: idempotent by content hash, fingerprinted by model, crash-safe, one ingest at a time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from assistant.config import REPO_ROOT, Settings
from assistant.errors import IndexBusy, IndexMismatch, IndexMissing
from assistant.index import ingest
from assistant.store import CURRENT, LocalIndex
from tests.helpers import check_citations, run_glute

FLAGSHIP = "how do I make clamshells harder?"


@pytest.fixture
def small(small_corpus: Path, tmp_path: Path) -> Settings:
    settings = Settings(corpus_dir=small_corpus, index_dir=tmp_path / "index", lock_timeout_s=1)
    ingest(settings, progress=False)
    return settings


def _flagship_is_answered(settings: Settings) -> None:
    from assistant import Assistant

    answer = Assistant.load(settings=settings, build_if_missing=False).ask(FLAGSHIP)
    assert not answer.refused
    assert "clamshell#make-it-harder" in {c.chunk_id for c in answer.citations}
    check_citations(answer)


def test_unchanged_reingest_embeds_nothing(small: Settings):
    report = ingest(small, progress=False)
    assert report.embedded == 0
    assert report.chunks["added"] == report.chunks["updated"] == report.chunks["removed"] == 0
    assert report.chunks["unchanged"] > 20
    assert report.docs["unchanged"] == 4  # three entries and the article


def test_editing_one_line_reembeds_only_its_passage_and_that_statement(small: Settings):
    path = small.corpus_dir / "exercises" / "clamshell.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("## Make it harder\n", "## Make it harder\n- Move slowly. {article:36}\n"),
                    encoding="utf-8")
    report = ingest(small, progress=False)
    assert report.embedded == 2  # the passage, and the one new statement in it
    assert report.chunks["updated"] == 1 and report.chunks["added"] == 1
    assert report.docs == {"added": 0, "updated": 1, "removed": 0, "unchanged": 3}


def test_removed_entry_is_deleted(small: Settings):
    (small.corpus_dir / "exercises" / "lateral-step-up.md").unlink()
    report = ingest(small, progress=False)
    assert report.docs == {"added": 0, "updated": 1, "removed": 1, "unchanged": 2}  # the article lost a label
    assert report.chunks["removed"] >= 7
    assert report.embedded == report.chunks["added"] + report.chunks["updated"] < 10
    ids = {m["chunk_id"] for m in LocalIndex(small.index_dir).open().get(include=["metadatas"])["metadatas"]}
    assert not any(i.startswith("lateral-step-up#") for i in ids)


def test_index_from_another_model_is_refused(small: Settings):
    from assistant.config import COLLECTION_NAME
    from assistant.store import chroma_client

    collection = chroma_client(LocalIndex(small.index_dir).current).get_collection(COLLECTION_NAME)
    collection.modify(metadata={**collection.metadata, "embedding_model": "some/other-model"})
    with pytest.raises(IndexMismatch, match=r"glute ingest --rebuild"):
        LocalIndex(small.index_dir).open()
    with pytest.raises(IndexMismatch, match="some/other-model"):
        ingest(small, progress=False)
    ingest(small, rebuild=True, progress=False)
    _flagship_is_answered(small)


def test_damaged_index_is_detected_and_rebuild_recovers(small: Settings):
    (small.index_dir / CURRENT).write_text("gen-that-does-not-exist", encoding="utf-8")
    with pytest.raises(IndexMissing, match=r"damaged.*glute ingest --rebuild"):
        LocalIndex(small.index_dir).open()
    result = run_glute("ask", FLAGSHIP, env={"GLUTE_INDEX_DIR": str(small.index_dir),
                                             "GLUTE_CORPUS_DIR": str(small.corpus_dir)})
    assert result.returncode == 1
    assert "glute ingest --rebuild" in result.stderr and "Traceback" not in result.stderr
    ingest(small, rebuild=True, progress=False)
    _flagship_is_answered(small)


def test_second_ingest_waits_then_stops_with_a_clear_message(small: Settings):
    with FileLock(str(small.index_dir / ".ingest.lock")), pytest.raises(IndexBusy, match="Another `glute ingest`"):
        ingest(small, progress=False)
    env = {"GLUTE_INDEX_DIR": str(small.index_dir), "GLUTE_CORPUS_DIR": str(small.corpus_dir),
           "GLUTE_LOCK_TIMEOUT": "1"}
    with FileLock(str(small.index_dir / ".ingest.lock")):
        result = run_glute("ingest", env=env)
    assert result.returncode == 1
    assert "Another `glute ingest` is running" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("when", ["early", "mid-embedding", "switch-over"])
def test_rebuild_killed_leaves_previous_index_answering(small: Settings, when: str):
    """SIGKILL a `glute ingest --rebuild` at a given moment; the old generation must keep answering."""
    env = {**os.environ, "GLUTE_INDEX_DIR": str(small.index_dir), "GLUTE_CORPUS_DIR": str(small.corpus_dir)}
    before = LocalIndex(small.index_dir).current
    if when == "switch-over":
        env["GLUTE_TEST_PAUSE_BEFORE_PUBLISH"] = "30"
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", "--rebuild"], env=env, cwd=REPO_ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    marker = {"early": None, "mid-embedding": "Embedding:", "switch-over": "publishing"}[when]
    output = ""
    deadline = time.monotonic() + 120
    if marker:
        while marker not in output and proc.poll() is None and time.monotonic() < deadline:
            output += proc.stdout.read(1)
    else:
        time.sleep(0.5)
    assert proc.poll() is None, f"ingest ended before the kill point: {output}"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert LocalIndex(small.index_dir).current == before
    _flagship_is_answered(small)
    report = ingest(small, rebuild=True, progress=False)  # and the next rebuild cleans up after the crash
    assert report.rebuilt
    assert len(list(small.index_dir.glob("gen-*"))) == 2
