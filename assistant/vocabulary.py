"""The words the corpus uses: to notice a question about something it never mentions ("swimming",
"mattress"), which the embedding alone would still place near some passage, and to put a question into the
corpus's own words (typos corrected, everyday words paired with the terms the entries use) before searching."""

from __future__ import annotations

from collections import Counter
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
even every everything exact exactly example explain feel feels fine first focus focusing general generally getting
give going gone
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
# Words that frame a question or join it, never its subject.
STOPWORDS = frozenset(STOPWORDS_EN) | frozenset("how who why you my its can may did has had our any".split())
FUNCTION_WORDS = GENERIC | STOPWORDS
MIN_LENGTH = 4
PREFIX = 5
MAX_TYPO_EDITS = 1  # "exercize" and "hipp" are typos of corpus words, not new subjects
MAX_REMEMBERED = 50_000  # words whose resolution is kept
MIN_CORRECTED = 6  # shorter words are known by a near corpus word but searched as written
# Endings that make a word of degree or direction from another word without changing its subject; the
# stemmer keeps them ("lowest", "easiest" -> "easi", "inwards"). Each with what replaces it.
# A direction ending may stand on a function word ("in", "back"); a degree ending only on a corpus word.
DERIVED_ENDINGS = (("iest", "y", False), ("est", "", False), ("wards", "", True), ("ward", "", True))
# Everyday words people use for what the entries call something else. Each maps to corpus words with the
# same meaning; it never adds a subject of its own (a lay word for something the corpus lacks stays unknown).
LAY_TERMS: dict[str, str] = {
    "kneecap": "knee patellofemoral", "kneecaps": "knee patellofemoral",
    "jog": "run", "jogging": "running", "jogger": "runner", "joggers": "runners",
    "sprint": "run fast", "sprinting": "running fast",
    "limping": "limp walking", "wobbly": "balance unstable", "wobble": "balance unstable",
    "backside": "buttock", "hipbone": "pelvis hip bone", "achy": "ache pain",
    "routine": "exercise program", "routines": "exercise program",
}


class Vocabulary:


    """The words of the corpus, with their stems, for unknown-word checks and typo correction."""

    def __init__(self, texts: Iterable[str]):
        import Stemmer

        self._stem = Stemmer.Stemmer("english").stemWord
        counts = Counter(w for text in texts for w in normalize(text).split())
        self.words = set(counts)
        self._by_frequency = [w for w, _ in counts.most_common()]  # a typo near two words means the commoner one
        self._stems = {self._stem(w) for w in self.words}
        self._prefixes = {w[:PREFIX] for w in self.words if len(w) >= PREFIX}
        self._resolved: dict[str, str | None] = {}

    def resolve(self, word: str) -> str | None:
        """The word in the corpus's terms: itself when known or too short/common to judge, its lay-term
        expansion, the corpus word one typo away; None when the corpus never speaks of it. Remembered per word,
        as the typo search is the costly part."""
        if word in self._resolved:
            return self._resolved[word]
        resolved = self._resolve(word)
        if len(self._resolved) < MAX_REMEMBERED:  # a server fed arbitrary text must not grow without end
            self._resolved[word] = resolved
        return resolved

    def _resolve(self, word: str) -> str | None:
        if (len(word) < MIN_LENGTH or word.isdigit() or word in FUNCTION_WORDS
                or word in self.words or self._stem(word) in self._stems):  # "balancing" is known by its stem
            return word
        if word in LAY_TERMS:
            return f"{word} {LAY_TERMS[word]}"
        base = self._derived_base(word)  # "lowest", "inwards": a known word with a degree or direction ending
        if base:
            return word if base in FUNCTION_WORDS else f"{word} {base}"
        corrected = self._one_typo_from(word)
        if corrected:  # a short word one letter from a corpus word is as likely a real word ("night", "might")
            return corrected if len(word) >= MIN_CORRECTED else word
        return word if len(word) >= PREFIX and word[:PREFIX] in self._prefixes else None  # "injured" ~ "injury"

    def _derived_base(self, word: str) -> str | None:
        """The known word (or function word: "in", "back") that `word` makes with a superlative or direction
        ending, which the stemmer leaves on ("lowest" is not stemmed to "low", "inwards" not to "in")."""
        for ending, replacement, on_function_word in DERIVED_ENDINGS:
            base = word[: -len(ending)] + replacement
            if not word.endswith(ending) or len(base) < (2 if on_function_word else 3):
                continue
            for b in (base, base[:-1] if base[-1] == base[-2] else base, base + "e"):  # "biggest", "safest"
                if on_function_word if b in FUNCTION_WORDS else b in self.words or self._stem(b) in self._stems:
                    return b
        return None

    def _one_typo_from(self, word: str) -> str | None:
        """The commonest corpus word one edit away, else a lay term one edit away with its expansion."""
        near = process.extractOne(word, self._by_frequency, scorer=Levenshtein.distance,
                                  score_cutoff=MAX_TYPO_EDITS)
        if near:
            return near[0]
        lay = process.extractOne(word, list(LAY_TERMS), scorer=Levenshtein.distance, score_cutoff=MAX_TYPO_EDITS)
        return f"{lay[0]} {LAY_TERMS[lay[0]]}" if lay else None

    def unknown(self, text: str) -> list[str]:
        """Content words of `text` that are neither corpus words, lay words for them, nor one typo away."""
        return [word for word in normalize(text).split() if self.resolve(word) is None]

    def in_corpus_terms(self, text: str) -> str:
        """`text` with typos corrected and lay words paired with the corpus's terms, for the rankers: "gluteous
        medius wher is it" searches as "gluteus medius where is it"."""
        return " ".join(self.resolve(word) or word for word in normalize(text).split())


def content_words(text: str) -> list[str]:
    """The words of `text` that can carry its subject ("run", "muscle"), for matching it against headings."""
    return [w for w in normalize(text).split() if len(w) >= 3 and w not in FUNCTION_WORDS]


def heading_words(text: str) -> list[str]:
    """Content words with the everyday words a section heading may also use ("what has helped", "how it should
    feel"): matched against the heading's own content words, they count only where the heading has them."""
    return [w for w in normalize(text).split() if len(w) >= 3 and w not in STOPWORDS]
