"""Where the index's Chroma collection lives: a local directory of generations, or a Chroma server.

Layout of the index directory (local mode):
    CURRENT            name of the generation that answers questions (replaced atomically)
    gen-<stamp>/       one complete Chroma store per generation, marked by a COMPLETE file when done
    .ingest.lock       held by the one ingest allowed at a time
A rebuild fills a new generation and only then points CURRENT at it, so a process killed at any moment
leaves the previous generation answering. The previous generation is kept one round, for processes that
still have it open. Every collection records the embedding model that filled it.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from .config import COLLECTION_NAME, EMBEDDING_DIM, EMBEDDING_MODEL_NAME, Settings, parse_http_url
from .errors import IndexMismatch, IndexMissing

if TYPE_CHECKING:
    from langchain_chroma import Chroma

SCHEMA_VERSION = 1
CURRENT = "CURRENT"
COMPLETE = "COMPLETE"
FINGERPRINT = {"embedding_model": EMBEDDING_MODEL_NAME, "embedding_dim": EMBEDDING_DIM, "schema": SCHEMA_VERSION}
REBUILD_HINT = "Run `glute ingest --rebuild`."
GET_PAGE = 10_000  # records per chromadb get: one get of more than SQLite's 32,766 variables fails


def chroma_client(path: Path):
    import chromadb

    return chromadb.PersistentClient(path=str(path), settings=chromadb.Settings(anonymized_telemetry=False))


def _vectorstore(client, create: bool, name: str = COLLECTION_NAME, threads: int | None = None) -> Chroma:
    """The LangChain view of our collection; Chroma's own (downloading) embedding function is never set, and
    ours (sentence-transformers on `threads` threads) loads only when something is embedded."""
    from langchain_chroma import Chroma

    from .embeddings import LazyEmbeddings

    return Chroma(
        client=client,
        collection_name=name,
        embedding_function=LazyEmbeddings(threads),
        collection_metadata=dict(FINGERPRINT) if create else None,
        collection_configuration={"hnsw": {"space": "cosine"}} if create else None,
        create_collection_if_not_exists=create,
    )


class ReadStore:
    """An opened collection as the query path uses it: `get` and `nearest` go straight to chromadb, and any other
    attribute (add_documents, delete, similarity_search, ...) builds the LangChain Chroma view on first use. A
    question never needs that view, so `glute ask` skips importing langchain-chroma (about 0.2 s)."""

    def __init__(self, client, name: str, collection, threads: int | None = None):
        self._client = client
        self._name = name
        self._collection = collection
        self._threads = threads
        self._view: Chroma | None = None

    def get(self, ids: str | list[str] | None = None, where: dict | None = None, limit: int | None = None,
            offset: int | None = None, where_document: dict | None = None,
            include: list[str] | None = None) -> dict:
        """The same as langchain_chroma.Chroma.get, for any number of records: chromadb reads one get in a single
        SQLite statement with a variable per record, which fails past SQLite's limit (32,766: "too many SQL
        variables", e.g. every statement of a 100x corpus), so a read of more than GET_PAGE records is made in
        pages of GET_PAGE and joined. A read of fewer records is one get, as before."""
        kwargs: dict = {"where": where, "where_document": where_document}
        if include is not None:
            kwargs["include"] = include
        if isinstance(ids, list) and len(ids) > GET_PAGE:
            return _joined([self.get(ids[start : start + GET_PAGE], where, None, None, where_document, include)
                            for start in range(0, len(ids), GET_PAGE)])
        if ids is not None or (limit is not None and limit <= GET_PAGE):
            return self._collection.get(ids=ids, limit=limit, offset=offset, **kwargs)
        pages, start, wanted = [], offset or 0, limit
        while True:
            size = GET_PAGE if wanted is None else min(GET_PAGE, wanted)
            page = self._collection.get(limit=size, offset=start, **kwargs)
            if not pages or page["ids"]:
                pages.append(page)
            start, wanted = start + size, None if wanted is None else wanted - len(page["ids"])
            if len(page["ids"]) < size or wanted == 0:
                return _joined(pages)

    def nearest(self, vector: list[float], n: int, where: dict | None = None) -> list[tuple[str, float]]:
        """The ids and cosine distances of the n records nearest to `vector` (matching `where`), nearest first:
        no documents or metadata, which the caller already holds and which would cost more than the search."""
        results = self._collection.query(query_embeddings=[vector], n_results=n, include=["distances"], where=where)
        return list(zip(results["ids"][0], results["distances"][0], strict=True))

    @property
    def view(self) -> Chroma:
        if self._view is None:
            self._view = _vectorstore(self._client, create=False, name=self._name, threads=self._threads)
        return self._view

    def __getattr__(self, attribute: str):  # only for what is not defined above
        if attribute.startswith("__") or attribute in ("_client", "_name", "_collection", "_threads", "_view"):
            raise AttributeError(attribute)
        return getattr(self.view, attribute)


def _joined(pages: list[dict]) -> dict:
    """One get result from the pages of a paged get: every per-record field concatenated, in page order."""
    if len(pages) == 1:
        return pages[0]
    joined = dict(pages[0])
    for key, first in pages[0].items():
        if key == "included" or first is None:
            continue
        parts = [page[key] for page in pages]
        if hasattr(first, "shape"):  # chromadb gives embeddings as one numpy array
            import numpy as np

            joined[key] = np.concatenate([part for part in parts if len(part)]) if any(map(len, parts)) else first
        else:
            joined[key] = [item for part in parts for item in part]
    return joined


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
    """The generations of a local index directory; `threads` is for the encoder that fills them."""

    def __init__(self, root: Path, threads: int | None = None):
        self.root = root
        self.where = str(root)
        self.lock_path = root / ".ingest.lock"
        self.threads = threads

    @property
    def current(self) -> Path | None:
        pointer = self.root / CURRENT
        if not pointer.exists():
            return None
        return self.root / pointer.read_text(encoding="utf-8").strip()

    def exists(self) -> bool:
        return (self.root / CURRENT).exists()

    def open(self) -> ReadStore:
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
        return ReadStore(client, COLLECTION_NAME, collection, self.threads)

    def create(self) -> tuple[Path, Chroma]:
        """A new, empty generation to fill; it answers nothing until published."""
        gen = self.root / f"gen-{_stamp()}"
        gen.mkdir(parents=True)
        return gen, _vectorstore(chroma_client(gen), create=True, threads=self.threads)

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

    def __init__(self, url: str, state_dir: Path, threads: int | None = None):
        import chromadb

        parsed = parse_http_url(url)
        self.where = url
        self.lock_path = state_dir / ".ingest-server.lock"
        self.threads = threads
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

    def open(self) -> ReadStore:
        name = self.current
        if name is None:
            raise IndexMissing(f"No index on the Chroma server at {self.where}. Run `glute ingest`.")
        try:
            collection = self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise IndexMissing(f"The index on {self.where} is damaged ({name} is missing). {REBUILD_HINT}") from exc
        check_fingerprint(collection.metadata, self.where)
        return ReadStore(self.client, name, collection, self.threads)

    def create(self) -> tuple[str, Chroma]:
        name = f"{self.PREFIX}{_stamp()}"
        return name, _vectorstore(self.client, create=True, name=name, threads=self.threads)

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
        return ServerIndex(settings.chroma_url, settings.state_dir, settings.encoder_threads)
    return LocalIndex(settings.index_dir, settings.encoder_threads)


def _stamp() -> str:
    return f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def _pause_for_crash_tests() -> None:
    """Fault injection: lets the crash tests (tests/test_index.py) kill a rebuild exactly at the switch-over. A test
    hook, not a setting: read here, never by Settings, and not in the README's table."""
    pause = float(os.environ.get("GLUTE_TEST_PAUSE_BEFORE_PUBLISH") or 0)
    if pause:
        print("publishing", flush=True)
        time.sleep(pause)
