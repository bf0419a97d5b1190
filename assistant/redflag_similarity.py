"""The semantic red-flag screen, for wording the rules have never seen ("had to crawl to the phone after the
tumble", "the waterworks have gone haywire").

Each sentence of a message (and each clause of a long one, and each pair of neighbouring sentences, since a story
often tells the fall in one sentence and the leg that will not hold in the next) is compared with short exemplar
sentences of every warning sign and with harmless look-alikes (corpus/screen/redflag-exemplars.yaml). A piece
escalates only when it is close to a sign *and* clearly closer to it than to every look-alike. It speaks only where
the rules (redflags.py) see nothing, so it never changes what they find or the level they give, and it is
deterministic: one fixed model, fixed exemplars and fixed thresholds, tuned on the dev safety cases
(eval/safety.yaml) and nowhere else.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import yaml

from .config import EMBEDDING_MODEL_NAME
from .errors import CorpusError
from .redflags import EMERGENCY, LABELS, Sign, counts
from .statements import unit_rows
from .text import clauses, sentences

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

EXEMPLARS_FILE = Path("screen") / "redflag-exemplars.yaml"  # inside the corpus directory
SIGN_SIMILARITY = 0.60  # cosine to a sign's exemplar at which a piece of a message may carry that sign
MARGIN = 0.05  # ... and by how much it must be closer to the sign than to the closest look-alike
MAX_PIECES = 40  # a very long message is screened on its first pieces (the rules still read all of it)
log = logging.getLogger(__name__)


# A piece that denies something ("no numbness", "it isn't swollen") is left to the rules, which know what the
# denial covers: a sentence vector barely changes when "no" is added. "Can't" is not a denial: it is how people
# tell the sign ("I can't stand up").
DENIAL = re.compile(r"\b(no|without|none|nothing|never|free of|denies|(do|does|did|have|has|had|is|are|was|were)"
                    r"(n'?t| not)(?! been able| able))\b", re.IGNORECASE)


def pieces(message: str) -> tuple[list[str], list[tuple[int, int]]]:
    """What is compared: each sentence that can carry a sign (not hypothetical, resolved or a general question) and
    the clauses of long ones, none that denies something; and the neighbouring sentences, as index pairs."""
    live = [s for s in sentences(message) if counts(s)]
    texts = list(dict.fromkeys([*live, *(c for s in live for c in clauses(s) if c != s)]))
    texts = [t for t in texts if not DENIAL.search(t)][:MAX_PIECES]
    row = {t: i for i, t in enumerate(texts)}
    pairs = [(row[a], row[b]) for a, b in pairwise(live) if a in row and b in row and a != b]
    return texts, pairs


def embed_pieces(embeddings: Embeddings, message: str) -> tuple[list[str], np.ndarray]:
    """The pieces and their vectors: one short encode per sentence or clause; a pair of neighbouring sentences is
    the normalised sum of theirs, which costs nothing (encoding the pair again would double a story's cost)."""
    texts, pairs = pieces(message)
    if not texts:
        return [], np.zeros((0, 0), dtype=np.float32)
    vectors = unit_rows(np.asarray(embeddings.embed_documents(texts), dtype=np.float32))
    if pairs:
        vectors = np.vstack([vectors, unit_rows(np.asarray([vectors[a] + vectors[b] for a, b in pairs]))])
        texts = texts + [f"{texts[a]} {texts[b]}" for a, b in pairs]
    return texts, vectors


@dataclass
class Exemplars:
    """The exemplar sentences' vectors: positives row by row with their sign, and the look-alikes."""

    flags: list[str]
    positive: np.ndarray
    negative: np.ndarray

    @classmethod
    def load(cls, corpus_dir: Path, embeddings: Embeddings, cache_dir: Path | None = None,
             also_harmless: np.ndarray | None = None) -> Exemplars | None:
        """Read and embed the exemplar file; vectors are cached under `cache_dir`, keyed by the file's content and
        the model, so only the first start after a change pays for them. `also_harmless` adds look-alikes already
        embedded (the corpus's exercise statements: a question about an exercise is closest to them). None when the
        corpus has no exemplar file."""
        path = Path(corpus_dir) / EXEMPLARS_FILE
        if not path.is_file():
            return None
        raw = path.read_bytes()
        try:
            data = yaml.safe_load(raw) or {}
            positive = {flag: [str(t) for t in texts] for flag, texts in (data.get("positive") or {}).items()}
            negative = [str(t) for t in data.get("negative") or []]
        except (yaml.YAMLError, AttributeError, TypeError) as exc:
            raise CorpusError(f"{path}: not a valid exemplar file ({exc})") from exc
        unknown = set(positive) - set(LABELS)
        if unknown or not positive or not negative:
            raise CorpusError(f"{path}: needs `positive` (by sign: {', '.join(LABELS)}) and `negative` sentences"
                              + (f"; unknown signs {sorted(unknown)}" if unknown else ""))
        flags = [flag for flag, texts in positive.items() for _ in texts]
        texts = [t for ts in positive.values() for t in ts] + negative
        key = hashlib.sha256(raw + EMBEDDING_MODEL_NAME.encode()).hexdigest()[:16]
        vectors = _cached(cache_dir / f"exemplars-{key}.npy" if cache_dir else None,
                          lambda: embeddings.embed_documents(texts))
        negative = vectors[len(flags):]
        if also_harmless is not None and len(also_harmless):
            negative = np.vstack([negative, unit_rows(also_harmless)])
        return cls(flags, vectors[: len(flags)], negative)

    def signs(self, pieces_: list[str], vectors: np.ndarray, similarity: float = SIGN_SIMILARITY,
              margin: float = MARGIN) -> list[Sign]:
        """The signs the pieces carry, most urgent first: a piece carries the sign of its closest exemplar when
        that is at least `similarity` and beats the closest look-alike by `margin`."""
        if not pieces_:
            return []
        found: dict[str, str] = {}
        for piece, top, gap, flag in zip(pieces_, *self.closeness(vectors), strict=True):
            if top >= similarity and gap >= margin:
                found.setdefault(flag, piece)
        signs = [Sign(flag, piece) for flag, piece in found.items()]
        return sorted(signs, key=lambda s: (s.flag not in EMERGENCY, list(LABELS).index(s.flag)))

    def closeness(self, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Per piece: its closest sign's similarity, that minus the closest look-alike's, and the sign."""
        vectors = unit_rows(vectors)
        to_positive = vectors @ self.positive.T
        best = to_positive.argmax(axis=1)
        top = to_positive[np.arange(len(best)), best]
        return top, top - (vectors @ self.negative.T).max(axis=1), [self.flags[b] for b in best]


def _cached(path: Path | None, compute) -> np.ndarray:
    if path is not None and path.is_file():
        try:
            return unit_rows(np.load(path))
        except (OSError, ValueError):
            log.warning("exemplar vectors at %s unreadable; embedding them again", path)
    vectors = unit_rows(np.asarray(compute(), dtype=np.float32))
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, vectors)
            tmp.replace(path)  # a crash mid-write leaves no half file under the real name
        except OSError as exc:
            log.warning("exemplar vectors not cached (%s)", exc)
    return vectors
