"""The words the corpus uses, to notice a question about something it never mentions ("swimming",
"mattress"), which the embedding alone would still place near some passage."""

from __future__ import annotations

from collections.abc import Iterable

from bm25s.stopwords import STOPWORDS_EN
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .linking import normalize

# Words that carry no subject of their own in a question.
GENERIC = frozenset("""
about actually also anything anyone best better could daily does doing done dont every everything explain feel
feels getting give good great hello help helps ideal just kind know like maybe might much many okay please
really right should something someone sort start started still stuff sure tell thank thanks thing things think
today tomorrow want wanted ways week weeks what whats when where which while would youre cant ive hows whys
""".split())
MIN_LENGTH = 4
MAX_TYPO_EDITS = 1  # "exercize" and "hipp" are typos of corpus words, not new subjects


class Vocabulary:
    def __init__(self, texts: Iterable[str]):
        self.words = {w for text in texts for w in normalize(text).split()}
        self._stems = {w.rstrip("s") for w in self.words}

    def __contains__(self, word: str) -> bool:
        return word in self.words or word.rstrip("s") in self._stems

    def unknown(self, text: str) -> list[str]:
        """Content words of `text` that are neither corpus words nor one typo away from one."""
        found = []
        for word in normalize(text).split():
            if len(word) < MIN_LENGTH or word.isdigit() or word in GENERIC or word in STOPWORDS_EN or word in self:
                continue
            near = process.extractOne(word, self.words, scorer=Levenshtein.distance,
                                      score_cutoff=MAX_TYPO_EDITS)
            if near is None:
                found.append(word)
        return found
