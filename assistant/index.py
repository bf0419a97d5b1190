"""Ingest: bring the index in line with the corpus, embedding only chunks whose content changed.

Content-hash idempotent and model-fingerprinted; a rebuild fills a new generation (store.py) and switches to it
only when complete, so a crash at any moment leaves the previous index answering.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .chunking import Chunk, chunk_corpus, statement_units
from .config import Settings
from .corpus import load_corpus
from .errors import CorpusError, IndexBusy, IndexMismatch, IndexMissing
from .store import open_backend
from .validate import check_corpus

if TYPE_CHECKING:
    from langchain_chroma import Chroma

BATCH_SIZE = 32
log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What an ingest changed, in documents and in chunks."""

    docs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "updated", "removed", "unchanged"), 0))
    chunks: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("added", "updated", "removed", "unchanged"), 0))
    embedded: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    location: str = ""
    encoder: str = ""  # which query encoder the next question will use, and why (onnx_export.py)
    encoder_s: float = 0.0  # of `seconds`, the time spent exporting and checking the ONNX model

    def summary(self) -> str:
        def line(kind: str, counts: dict[str, int]) -> str:
            return f"{kind:<7}" + "  ".join(f"{k} {v}" for k, v in counts.items())

        return "\n".join([
            f"Index {'rebuilt' if self.rebuilt else 'updated'} at {self.location} in {self.seconds:.1f} s "
            f"({self.embedded} chunks embedded).",
            line("docs", self.docs),
            line("chunks", self.chunks),
            *([self.encoder] if self.encoder else []),
        ])


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _embed_into(store: Chroma, chunks: list[Chunk], progress: bool) -> None:
    from tqdm import tqdm

    with tqdm(total=len(chunks), desc="Embedding", unit="chunk", disable=not progress or not chunks) as bar:
        for batch in _batches(chunks, BATCH_SIZE):
            store.add_documents([c.to_document() for c in batch], ids=[c.chunk_id for c in batch])
            bar.update(len(batch))


def _doc_counts(chunks: list[Chunk], old: dict[str, dict], changed: set[str]) -> dict[str, int]:
    new_docs = {c.doc_id for c in chunks}
    old_docs = {m["doc_id"] for m in old.values()}
    touched = {c.doc_id for c in chunks if c.chunk_id in changed} | {
        m["doc_id"] for cid, m in old.items() if cid not in {c.chunk_id for c in chunks}}
    return {
        "added": len(new_docs - old_docs),
        "updated": len((touched & new_docs) & old_docs),
        "removed": len(old_docs - new_docs),
        "unchanged": len((new_docs & old_docs) - touched),
    }


def _prepare_query_encoder(settings: Settings, chunks: list[Chunk], store: Chroma, report: IngestReport,
                           retry: bool, embedded: list[Chunk]) -> None:
    """The hook for the fast query path: a checked ONNX export of the model beside the index (onnx_export.py).
    It runs after the index is published, so nothing it does can cost the index; a rebuild retries a rejection."""
    from .onnx_export import ensure_export

    try:
        status = ensure_export(settings, chunks, store, retry_rejected=retry, embedded=embedded)
    except OSError as exc:  # e.g. a read-only state dir: the index is fine, queries use sentence-transformers
        log.warning("ONNX query encoder not prepared (%s); keeping sentence-transformers", exc)
        return
    report.encoder, report.encoder_s = status.line(), status.seconds


def _prepare_exemplars(settings: Settings) -> None:
    """Embed the semantic red-flag screen's exemplar sentences now (redflag_similarity.py), so the first question
    after an ingest does not pay for them; a failure here only means the first question will."""
    from .embeddings import load_embeddings
    from .redflag_similarity import Exemplars

    try:
        Exemplars.load(settings.corpus_dir, load_embeddings(settings), settings.state_dir / "screen")
    except (OSError, CorpusError) as exc:
        log.warning("red-flag exemplars not embedded at ingest (%s); the first question will embed them", exc)


def load_checked_chunks(settings: Settings) -> list[Chunk]:
    """The corpus as passages and their statements, refusing to index a corpus that fails `glute corpus check`."""
    corpus = load_corpus(settings.corpus_dir)
    problems = check_corpus(corpus)
    if problems:
        listed = "\n  ".join(str(p) for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise CorpusError(f"The corpus has {len(problems)} problem(s); fix them before ingesting:\n  {listed}{more}")
    chunks = chunk_corpus(corpus)
    return chunks + statement_units(chunks)


def ingest(settings: Settings, rebuild: bool = False, progress: bool = True) -> IngestReport:
    """Bring the index in line with the corpus, embedding only chunks whose content changed."""
    from filelock import FileLock, Timeout

    started = time.perf_counter()
    chunks = load_checked_chunks(settings)
    index = open_backend(settings)
    index.lock_path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(index.lock_path))
    try:
        lock.acquire(timeout=settings.lock_timeout_s)
    except Timeout as exc:
        raise IndexBusy(f"Another `glute ingest` is running on {index.where} (waited "
                        f"{settings.lock_timeout_s:.0f} s). Let it finish, then try again.") from exc
    try:
        report = IngestReport(location=index.where)
        if rebuild or not index.exists():
            report.rebuilt = True
            gen, store = index.create()
            old: dict[str, dict] = {}
            if index.exists():
                try:
                    old = {m["chunk_id"]: m for m in index.open().get(include=["metadatas"])["metadatas"]}
                except (IndexMissing, IndexMismatch):
                    old = {}
            todo = chunks
        else:
            store = index.open()
            old = {m["chunk_id"]: m for m in store.get(include=["metadatas"])["metadatas"]}
            todo = [c for c in chunks if old.get(c.chunk_id, {}).get("content_hash") != c.content_hash]
        new_ids = {c.chunk_id for c in chunks}
        removed = [cid for cid in old if cid not in new_ids]
        changed = {c.chunk_id for c in chunks if old.get(c.chunk_id, {}).get("content_hash") != c.content_hash}
        _embed_into(store, todo, progress)
        if removed and not report.rebuilt:
            store.delete(ids=removed)
        report.embedded = len(todo)
        report.chunks = {
            "added": sum(1 for c in chunks if c.chunk_id not in old),
            "updated": sum(1 for c in chunks if c.chunk_id in old and c.chunk_id in changed),
            "removed": len(removed),
            "unchanged": len(chunks) - len(changed),
        }
        report.docs = _doc_counts(chunks, old, changed)
        if report.rebuilt:
            index.publish(gen)
        _prepare_query_encoder(settings, chunks, store, report, retry=rebuild, embedded=todo)
        _prepare_exemplars(settings)
        report.seconds = time.perf_counter() - started
        return report
    finally:
        lock.release()
