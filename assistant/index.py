"""Embed chunks into Chroma: content-hash idempotent, model-fingerprinted, crash-safe rebuilds.

Layout of the index directory (local mode):
    CURRENT            name of the generation that answers questions (replaced atomically)
    gen-<stamp>/       one complete Chroma store per generation, marked by a COMPLETE file when done
    .ingest.lock       held by the one ingest allowed at a time
A rebuild fills a new generation and only then points CURRENT at it, so a process killed at any moment
leaves the previous generation answering. The previous generation is kept one round, for processes that
still have it open.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from .chunking import Chunk, chunk_corpus
from .config import COLLECTION_NAME, EMBEDDING_DIM, EMBEDDING_MODEL_NAME, Settings
from .corpus import load_corpus
from .errors import CorpusError, IndexBusy, IndexMismatch, IndexMissing
from .validate import check_corpus

if TYPE_CHECKING:
    from langchain_chroma import Chroma

SCHEMA_VERSION = 1
BATCH_SIZE = 32
CURRENT = "CURRENT"
COMPLETE = "COMPLETE"
FINGERPRINT = {"embedding_model": EMBEDDING_MODEL_NAME, "embedding_dim": EMBEDDING_DIM, "schema": SCHEMA_VERSION}
REBUILD_HINT = "Run `glute ingest --rebuild`."


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

    def summary(self) -> str:
        def line(kind: str, counts: dict[str, int]) -> str:
            return f"{kind:<7}" + "  ".join(f"{k} {v}" for k, v in counts.items())

        return "\n".join([
            f"Index {'rebuilt' if self.rebuilt else 'updated'} at {self.location} in {self.seconds:.1f} s "
            f"({self.embedded} chunks embedded).",
            line("docs", self.docs),
            line("chunks", self.chunks),
        ])


def chroma_client(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))


def _vectorstore(client, create: bool, name: str = COLLECTION_NAME) -> Chroma:
    """The LangChain view of our collection; Chroma's own (downloading) embedding function is never set."""
    from langchain_chroma import Chroma

    from .embeddings import LazyEmbeddings

    return Chroma(
        client=client,
        collection_name=name,
        embedding_function=LazyEmbeddings(),
        collection_metadata=dict(FINGERPRINT) if create else None,
        collection_configuration={"hnsw": {"space": "cosine"}} if create else None,
        create_collection_if_not_exists=create,
    )


def check_fingerprint(metadata: dict | None, where: str) -> None:
    """Refuse an index whose vectors came from another model: its neighbours would be meaningless."""
    metadata = metadata or {}
    found = {k: metadata.get(k) for k in FINGERPRINT}
    if found != FINGERPRINT:
        raise IndexMismatch(
            f"The index at {where} was built with embedding model {found['embedding_model']!r} "
            f"(dimension {found['embedding_dim']}, schema {found['schema']}), but glute uses "
            f"{EMBEDDING_MODEL_NAME!r} (dimension {EMBEDDING_DIM}, schema {SCHEMA_VERSION}). {REBUILD_HINT}"
        )


class LocalIndex:
    """The generations of a local index directory."""

    def __init__(self, root: Path):
        self.root = root
        self.where = str(root)
        self.lock_path = root / ".ingest.lock"

    @property
    def current(self) -> Path | None:
        pointer = self.root / CURRENT
        if not pointer.exists():
            return None
        return self.root / pointer.read_text(encoding="utf-8").strip()

    def exists(self) -> bool:
        return (self.root / CURRENT).exists()

    def open(self) -> Chroma:
        """Open the current generation for reading; clear errors when it is missing, damaged or foreign."""
        gen = self.current
        if gen is None:
            raise IndexMissing(f"No index at {self.root}. Run `glute ingest`.")
        if not (gen / COMPLETE).exists():
            raise IndexMissing(f"The index at {self.root} is damaged ({gen.name} is incomplete). {REBUILD_HINT}")
        try:
            client = chroma_client(gen)
            collection = client.get_collection(COLLECTION_NAME)
        except Exception as exc:
            raise IndexMissing(f"The index at {self.root} is damaged ({type(exc).__name__}: {exc}). "
                               f"{REBUILD_HINT}") from exc
        check_fingerprint(collection.metadata, str(self.root))
        return _vectorstore(client, create=False)

    def create(self) -> tuple[Path, Chroma]:
        """A new, empty generation to fill; it answers nothing until published."""
        gen = self.root / f"gen-{_stamp()}"
        gen.mkdir(parents=True)
        return gen, _vectorstore(chroma_client(gen), create=True)

    def publish(self, gen: Path) -> None:
        """Mark a generation complete, then atomically make it the current one."""
        (gen / COMPLETE).write_text(time.strftime("%Y-%m-%dT%H:%M:%S"), encoding="utf-8")
        _pause_for_crash_tests()
        tmp = self.root / f".{CURRENT}.{os.getpid()}.tmp"
        tmp.write_text(gen.name, encoding="utf-8")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / CURRENT)
        self.prune()

    def prune(self) -> None:
        """Drop unfinished generations and all finished ones but the current and the one before it."""
        current = self.current
        finished = sorted((g for g in self.root.glob("gen-*") if (g / COMPLETE).exists() and g != current),
                          key=lambda g: (g / COMPLETE).stat().st_mtime)
        stale = [g for g in self.root.glob("gen-*") if not (g / COMPLETE).exists()] + finished[:-1]
        for gen in stale:
            shutil.rmtree(gen, ignore_errors=True)


class ServerIndex:
    """Generations as collections on a Chroma server, shared by several processes; a small pointer collection's
    metadata names the current one, so switching over is one metadata update."""

    POINTER = "glute_current"
    PREFIX = f"{COLLECTION_NAME}_"

    def __init__(self, url: str, state_dir: Path):
        import chromadb

        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname:
            raise IndexMissing(f"GLUTE_CHROMA_URL {url!r} is not a URL like http://127.0.0.1:8000.")
        self.where = url
        self.lock_path = state_dir / ".ingest-server.lock"
        try:
            self.client = chromadb.HttpClient(
                host=parsed.hostname, port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https", settings=chromadb.Settings(anonymized_telemetry=False))
            self.client.heartbeat()
        except Exception as exc:
            raise IndexMissing(f"Cannot reach the Chroma server at {url} ({type(exc).__name__}). Start it with "
                               "`chroma run --path DIR --host HOST --port PORT`, or unset GLUTE_CHROMA_URL.") from exc

    def _pointer(self):
        return self.client.get_or_create_collection(self.POINTER, embedding_function=None)

    @property
    def current(self) -> str | None:
        return (self._pointer().metadata or {}).get("current") or None

    def exists(self) -> bool:
        return self.current is not None

    def open(self) -> Chroma:
        name = self.current
        if name is None:
            raise IndexMissing(f"No index on the Chroma server at {self.where}. Run `glute ingest`.")
        try:
            collection = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise IndexMissing(f"The index on {self.where} is damaged ({name} is missing). {REBUILD_HINT}") from exc
        check_fingerprint(collection.metadata, self.where)
        return _vectorstore(self.client, create=False, name=name)

    def create(self) -> tuple[str, Chroma]:
        name = f"{self.PREFIX}{_stamp()}"
        return name, _vectorstore(self.client, create=True, name=name)

    def publish(self, name: str) -> None:
        previous = self.current
        _pause_for_crash_tests()
        self._pointer().modify(metadata={"current": name, "previous": previous or ""})
        keep = {name, previous}
        for collection in self.client.list_collections():
            collection_name = getattr(collection, "name", collection)
            if collection_name.startswith(self.PREFIX) and collection_name not in keep:
                self.client.delete_collection(collection_name)


def open_backend(settings: Settings) -> LocalIndex | ServerIndex:
    """The configured store: a Chroma server when GLUTE_CHROMA_URL is set, else the local directory."""
    if settings.chroma_url:
        return ServerIndex(settings.chroma_url, settings.state_dir)
    return LocalIndex(settings.index_dir)


def _stamp() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def _pause_for_crash_tests() -> None:
    """Fault injection: lets the crash tests kill a rebuild exactly at the switch-over."""
    pause = float(os.environ.get("GLUTE_TEST_PAUSE_BEFORE_PUBLISH") or 0)
    if pause:
        print("publishing", flush=True)
        time.sleep(pause)


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


def load_checked_chunks(settings: Settings) -> list[Chunk]:
    """The corpus as chunks, refusing to index a corpus that fails `glute corpus check`."""
    corpus = load_corpus(settings.corpus_dir)
    problems = check_corpus(corpus)
    if problems:
        listed = "\n  ".join(str(p) for p in problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise CorpusError(f"The corpus has {len(problems)} problem(s); fix them before ingesting:\n  {listed}{more}")
    return chunk_corpus(corpus)


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
        report.seconds = time.perf_counter() - started
        return report
    finally:
        lock.release()
