"""At ingest: export the packaged model to ONNX once, and accept the export only if it encodes like
sentence-transformers on every chunk of the corpus.

`ensure_export` is the hook `index.ingest` calls. It does nothing when the models dir already holds an export of
the installed model files (matched by their hash). Otherwise it exports the transformer with `torch.onnx.export`,
encodes every chunk text both ways (sentence-transformers, the ingest encoder, and onnx_encoder.OnnxEmbeddings),
and writes the file and its manifest only when every cosine is >= MIN_COSINE; a rejected or failed export is
recorded in the manifest, logged, and the query encoder stays sentence-transformers. Nothing is downloaded.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import EMBEDDING_MODEL_NAME, Settings
from .onnx_encoder import (
    MANIFEST,
    MANIFEST_FORMAT,
    MIN_COSINE,
    Export,
    OnnxEmbeddings,
    find_export,
    max_seq_length,
    read_manifest,
    source_hash,
    source_matches,
    source_model_dir,
    source_stats,
)

if TYPE_CHECKING:
    from .chunking import Chunk

log = logging.getLogger(__name__)
OPSET = 18
# One export per source model per process: later ingests into other state dirs (tests, the bench) copy it,
# and still check it against their own corpus.
_exported: dict[str, Path] = {}


@dataclass
class ExportStatus:
    """What the hook decided, for the ingest report."""

    encoder: str  # "onnx" or "torch"
    detail: str
    seconds: float = 0.0

    def line(self) -> str:
        return f"query encoder: {self.encoder} ({self.detail})"


def _write_atomically(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _export(model, path: Path) -> None:
    """The transformer (last hidden state) to ONNX, with dynamic batch and sequence axes."""
    import torch

    class Transformer(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 7592, 2088, 2088, 102]], dtype=torch.long)
    mask = (ids != 0).long()
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    axes = {0: batch, 1: seq}
    with warnings.catch_warnings(), _quiet_exporter():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            Transformer(model).eval(), (ids, mask, torch.zeros_like(ids)),
            input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
            dynamic_shapes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes},
            opset_version=OPSET, dynamo=True, external_data=False, verbose=False)
        program.save(str(path), external_data=False)


@contextlib.contextmanager
def _quiet_exporter():
    """The exporter logs a warning per torchvision op it skips; none of them matter here."""
    quiet = [logging.getLogger(name) for name in ("torch.onnx", "torch.export", "torch._dynamo", "onnxscript")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)


def _cosines(texts: list[str], torch_vectors: list[list[float]], onnx: OnnxEmbeddings,
             batched: bool = True) -> tuple[float, int]:
    """The smallest cosine between the two encoders over `texts` (one at a time, as queries are encoded, and
    unless `batched` is False also in padded batches, as embed_documents does), and where it occurs."""
    import numpy as np

    reference = np.asarray(torch_vectors, dtype=np.float64)
    worst = (reference * np.asarray([onnx.embed_query(t) for t in texts], dtype=np.float64)).sum(axis=1)
    if batched:
        worst = np.minimum(worst, (reference * np.asarray(onnx.embed_documents(texts), dtype=np.float64)).sum(axis=1))
    return float(worst.min()), int(worst.argmin())


def check_export(path: Path, texts: list[str], threads: int | None = None,
                 reference: list[list[float]] | None = None, batched: bool = True) -> tuple[float, int]:
    """Encode `texts` with the export at `path` and compare with sentence-transformers' vectors of them
    (`reference`, or encoded now): (min cosine, where)."""
    from .embeddings import load_torch_embeddings

    root = source_model_dir()
    onnx = OnnxEmbeddings(path, root / "tokenizer.json", max_seq_length(root), threads)
    if reference is None:
        reference = load_torch_embeddings(threads).embed_documents(texts)
    return _cosines(texts, reference, onnx, batched)


def _indexed_vectors(store, chunks: list[Chunk]) -> list[list[float]] | None:
    """The vectors sentence-transformers wrote to the index for these chunks (their content hashes match the
    corpus after an ingest), or None when the index does not have them all."""
    if store is None or not chunks:
        return None
    got = store.get(ids=[c.chunk_id for c in chunks], include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
    if any(c.chunk_id not in by_id for c in chunks):
        return None
    return [list(by_id[c.chunk_id]) for c in chunks]


def _prune(models_dir: Path, keep: Path | None) -> None:
    for old in models_dir.glob("*.onnx"):
        if old != keep:
            old.unlink(missing_ok=True)


def _copy_or_export(source: str, dest: Path, threads: int | None) -> str:
    """Write the export to `dest`: a copy of this process's earlier export of the same model, or a new one."""
    import shutil

    earlier = _exported.get(source)
    if earlier is not None and earlier.is_file() and earlier != dest:
        shutil.copyfile(earlier, dest)
        return "copied from this process's earlier export"
    import torch

    from .embeddings import load_torch_embeddings

    # the transformer inside the ingest encoder (a SentenceTransformer), already loaded when ingest embedded
    model = load_torch_embeddings(threads)._client[0].auto_model
    _export(model, dest)
    return f"exported with torch {torch.__version__} (torch.onnx.export, dynamo, opset {OPSET})"


def ensure_export(settings: Settings, chunks: list[Chunk], store=None, retry_rejected: bool = False,
                  embedded: list[Chunk] | None = None) -> ExportStatus:
    """Make sure `settings.models_dir` holds a checked ONNX export of the installed model, or say why not.
    `store` is the just-ingested index: its vectors are sentence-transformers' side of the check. A new export is
    checked on every chunk; a kept one on the chunks this ingest `embedded` (new or changed text), so that every
    chunk in the index has been encoded both ways."""
    started = time.perf_counter()
    if settings.encoder == "torch":
        return ExportStatus("torch", "GLUTE_ENCODER=torch: no ONNX export")
    models_dir = settings.models_dir
    root = source_model_dir()
    manifest = read_manifest(models_dir)
    if manifest is not None and source_matches(manifest, root) and manifest.get("model") == EMBEDDING_MODEL_NAME:
        export, why = find_export(models_dir)
        if export is not None:
            return _check_kept(export, manifest, embedded or [], store, settings, started)
        if not manifest.get("accepted") and not retry_rejected:
            return ExportStatus("torch", why)
    models_dir.mkdir(parents=True, exist_ok=True)
    source = source_hash(root)
    final = models_dir / f"all-MiniLM-L6-v2-{source[:12]}.onnx"
    tmp = models_dir / f".{final.stem}.{os.getpid()}.tmp.onnx"
    texts = [c.embed_text for c in chunks]
    record: dict[str, Any] = {
        "format": MANIFEST_FORMAT, "model": EMBEDDING_MODEL_NAME, "source_sha256": source,
        "source_stats": source_stats(root), "onnx": final.name, "max_seq_length": max_seq_length(root),
        "probes": len(texts), "min_cosine_required": MIN_COSINE, "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    try:
        how = _copy_or_export(source, tmp, settings.encoder_threads)
        worst, where = check_export(tmp, texts, settings.encoder_threads, _indexed_vectors(store, chunks))
    except Exception as exc:  # an export that cannot be made leaves the query encoder on sentence-transformers
        tmp.unlink(missing_ok=True)
        first = str(exc).splitlines()[0][:200] if str(exc) else ""
        return _reject(models_dir, record, f"the export failed ({type(exc).__name__}: {first})", started)
    record.update(how=how, min_cosine=round(worst, 9), onnx_bytes=tmp.stat().st_size)
    if worst < MIN_COSINE:
        tmp.unlink(missing_ok=True)
        return _reject(models_dir, record, f"cosine {worst:.7f} < {MIN_COSINE} against sentence-transformers on "
                                           f"chunk {chunks[where].chunk_id!r}", started)
    os.replace(tmp, final)
    _write_atomically(models_dir / MANIFEST, json.dumps({**record, "accepted": True, "reason": ""}, indent=2))
    _prune(models_dir, final)
    _exported[source] = final
    return ExportStatus("onnx", f"new export {final.name}, min cosine {worst:.7f} over {len(texts)} chunks",
                        time.perf_counter() - started)


def _check_kept(export: Export, manifest: dict[str, Any], embedded: list[Chunk], store, settings: Settings,
                started: float) -> ExportStatus:
    """A kept export against the chunks just embedded, one at a time (the query path); rejected if one differs."""
    if embedded:
        try:
            worst, where = check_export(export.path, [c.embed_text for c in embedded], settings.encoder_threads,
                                        _indexed_vectors(store, embedded), batched=False)
        except Exception as exc:  # e.g. a damaged file of the right size: removed, so the next ingest re-exports
            export.path.unlink(missing_ok=True)
            reason = (f"the kept export could not be checked ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0][:200] if str(exc) else ''}); the next `glute ingest` re-exports it")
            log.warning("ONNX query encoder not used: %s", reason)
            return ExportStatus("torch", reason, time.perf_counter() - started)
        if worst < MIN_COSINE:
            export.path.unlink(missing_ok=True)
            return _reject(settings.models_dir, manifest, f"cosine {worst:.7f} < {MIN_COSINE} against "
                           f"sentence-transformers on new chunk {embedded[where].chunk_id!r}", started)
        manifest = {**manifest, "probes": manifest["probes"] + len(embedded),
                    "min_cosine": round(min(manifest["min_cosine"], worst), 9)}
        _write_atomically(settings.models_dir / MANIFEST, json.dumps(manifest, indent=2))
    checked = f", {len(embedded)} of them now" if embedded else ""
    return ExportStatus("onnx", f"checked export {export.path.name}, min cosine {manifest['min_cosine']:.7f} in "
                                f"{manifest['probes']} chunk checks{checked}", time.perf_counter() - started)


def _reject(models_dir: Path, record: dict[str, Any], reason: str, started: float) -> ExportStatus:
    """Record and log why the export is not used; the query encoder stays sentence-transformers."""
    log.warning("ONNX query encoder not used: %s; keeping sentence-transformers", reason)
    _write_atomically(models_dir / MANIFEST, json.dumps({**record, "accepted": False, "reason": reason}, indent=2))
    _prune(models_dir, None)
    return ExportStatus("torch", reason, time.perf_counter() - started)
