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
about actual actually after again almost also always another anyone anything anyway appointment around avoid away
back basically before begin being best better both bring came cant certain change come coming completely correct
could daily day days definitely describe difference different difficult does doing done dont each easy else enough
even every everything exact exactly example explain feel feels fine first general generally getting give going gone
good great happen happened happens hard having hear heard hello help helps here however hows idea ideal important
instead involve involved ive just keep kind kinda know last later least less like little long look looking lot lots
main make many matter maybe mean means meant might month months more most much need needed needs never next normal
normally nowhere often okay only other others part people perhaps please point possible pretty probably proper
properly question quick quickly rather really reason rep reps right said same seem seems sets several should show
simple since situation some someone something sometimes soon sort specific start started still stuff such suppose
supposed sure take taking tell than thank thanks that them then there these they thing things think this those
through today told tomorrow totally tough true trying type usual usually very visit visits wait want wanted ways
week weekly weeks well went were what whats when where whether which while whys will with without work workout
workouts works worth would wrong year years yes yesterday your youre yourself
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
