"""Statement-level scores: every line of every passage was embedded at ingest as its own unit; at query time the
question's one vector scores all of them at once (a matrix product, well under a millisecond), so retrieval can
lift the passage holding the one line that answers, and compose can quote the lines that answer the ask."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .chunking import Chunk

NEAR_DUPLICATE = 0.92  # cosine above which two statements say the same thing


def unit_rows(vectors) -> np.ndarray:
    """Each row scaled to length 1 (float32), so a matrix product gives cosines."""
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True).clip(min=1e-12)


@dataclass
class Statements:
    """The statement units and their normalised vectors, row by row."""

    units: list[Chunk]
    vectors: np.ndarray  # (n, dim), L2-normalised

    @classmethod
    def from_store(cls, store, passages: list[Chunk] = ()) -> Statements:
        """The statements the index holds (none for an index built before statements existed: scores are empty);
        an article line's statement belongs to whichever window of `passages` holds that line now."""
        got = store.get(where={"kind": "statement"}, include=["embeddings", "metadatas"])
        windows = {tag: p.chunk_id for p in passages if p.kind == "article" for tags in p.line_sources for tag in tags}
        units = [Chunk.from_metadata(m) for m in got["metadatas"]]
        units = [u if u.about else replace(u, about=tuple(windows[t] for t in u.sources if t in windows)[:1])
                 for u in units]
        if not units:  # an index built before statements existed: no statement scores, passages still rank
            return cls([], np.zeros((0, 0), dtype=np.float32))
        vectors = unit_rows(np.asarray(got["embeddings"], dtype=np.float32).reshape(len(units), -1))
        order = sorted((i for i in range(len(units)) if units[i].about), key=lambda i: (units[i].about, i))
        return cls([units[i] for i in order], vectors[order] if order else vectors[:0])

    def __post_init__(self) -> None:
        """Rows are grouped by passage, so one `maximum.reduceat` finds every passage's best statement."""
        self.parents = [u.about[0] for u in self.units]
        self.starts = np.asarray([i for i, p in enumerate(self.parents) if i == 0 or p != self.parents[i - 1]],
                                 dtype=np.int64)
        ends = [*self.starts[1:], len(self.units)] if self.units else []
        self.rows = {self.parents[start]: range(start, end) for start, end in zip(self.starts, ends, strict=True)}

    def scores(self, vector: list[float] | None) -> np.ndarray | None:
        """Cosine of the question with every statement, row by row."""
        if vector is None or not self.units:
            return None
        q = np.asarray(vector, dtype=np.float32)
        return self.vectors @ (q / max(float(np.linalg.norm(q)), 1e-12))

    def best_by_passage(self, scores: np.ndarray | None) -> dict[str, float]:
        """Each passage's best statement score."""
        if scores is None or not self.units:
            return {}
        best = np.maximum.reduceat(scores, self.starts)
        return {self.parents[start]: float(b) for start, b in zip(self.starts, best, strict=True)}

    def of_passage(self, chunk_id: str, scores: np.ndarray | None) -> list[tuple[str, float, int]]:
        """One passage's statements as (text, score, row); compose keeps the passage's own line order."""
        if scores is None:
            return []
        return [(self.units[r].text, float(scores[r]), r) for r in self.rows.get(chunk_id, ())]

    def similar(self, row: int, others: list[int]) -> bool:
        """Whether statement `row` says nearly what one of `others` already says."""
        return bool(others) and float(np.max(self.vectors[others] @ self.vectors[row])) >= NEAR_DUPLICATE
