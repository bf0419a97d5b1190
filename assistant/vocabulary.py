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
actual after again almost always another anyway around away back basically before begin being best better
both bring came certain change come coming completely correct day days definitely describe difference
different does each else enough even exact exactly example explain fine first general generally going gone
happen happened happens having hear heard here however idea important instead involve involved keep kinda last
later least less little long look looking lot lots main make matter mean means meant month months more most
much need needed needs never next normal normally often only other others part people perhaps point possible
pretty probably proper properly question quick quickly rather reason said same seem seems several show simple
since situation some sometimes soon specific still such suppose supposed take taking than that them then there
these they thing this those through told totally true trying type usual usually very wait well went were whether
will with without work works worth wrong year years yes your yourself easy hard tough difficult reps rep sets
workout workouts visit visits appointment avoid nowhere yesterday weekly""".split()) | frozenset("""
about actually also anything anyone best better could daily does doing done dont every everything explain feel
feels getting give good great hello help helps ideal just kind know like maybe might much many okay please
really right should something someone sort start started still stuff sure tell thank thanks thing things think
today tomorrow want wanted ways week weeks what whats when where which while would youre cant ive hows whys
""".split())
MIN_LENGTH = 4
PREFIX = 5
MAX_TYPO_EDITS = 1  # "exercize" and "hipp" are typos of corpus words, not new subjects


class Vocabulary:
    def __init__(self, texts: Iterable[str]):
        import Stemmer

        self._stem = Stemmer.Stemmer("english").stemWord
        self.words = {w for text in texts for w in normalize(text).split()}
        self._stems = {self._stem(w) for w in self.words}
        self._prefixes = {w[:PREFIX] for w in self.words if len(w) >= PREFIX}

    def __contains__(self, word: str) -> bool:
        """Known as written, by stem ("balancing"), or by a long shared prefix ("injured" ~ "injury")."""
        return word in self.words or self._stem(word) in self._stems or (
            len(word) >= PREFIX and word[:PREFIX] in self._prefixes)

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
