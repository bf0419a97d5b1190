"""Checks an LLM-written answer against the passages it was given, before anyone sees it.

Markers must name a passage of the prompt; each sentence must carry one and be supported by what it cites
(content words found there, and close in meaning); numbers, doses and drug names must appear in the cited
text. Sentences that fail are dropped; when too few survive, the caller falls back to the extractive answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from .answer import Citation
from .chunking import Chunk
from .guard import MEDICAL

# Calibrated on the extractive answers to eval/questions.yaml (191 questions, 147 answered; re-checked by
# tests/test_generative.py). Positives: each of their 483 cited sentences with the passage it was copied from.
# Negatives: the same sentences with 3 random passages of other entries (1449 pairs), and with another section
# of the same entry (483 pairs).
# Lexical overlap (share of a sentence's stemmed content words that the passage uses): positives all 1.0, as
# extractive sentences are copies; cross-entry negatives median 0.0, 95th percentile 0.50, 99th 0.80. 0.65 lets a
# paraphrase bring in a third of its words and alone rejects 97.6% of cross-entry, 95.0% of same-entry pairs.
# Cosine similarity (all-MiniLM-L6-v2, sentence vs. whole passage) separates less: positives 1st percentile
# 0.23, 5th 0.33, median 0.68; cross-entry negatives median 0.30, 95th percentile 0.56. 0.25 drops 1.2% of
# supported sentences (fragments such as "Level: beginner." or "Short on space?") and catches sentences that
# borrow a passage's words but not its sense. Both together: 98.8% of supported sentences kept; 97.7% of
# cross-entry and 95.0% of same-entry (wrong-section) pairs rejected.
MIN_OVERLAP = 0.65
MIN_SIMILARITY = 0.25
MIN_KEPT_SHARE = 0.5  # fewer surviving sentences than this share of all of them: fall back

MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
BULLET = re.compile(r"^\s*((?:[-*•]|\d+[.)])\s+)")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
TRAILING_MARKERS = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
WORD = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60",
                                                     "hundred": "100", "twice": "2"}
COUNTED_WORDS = frozenset(NUMBER_WORDS) - {"zero", "one"}  # "one leg" is rarely a count
# A written answer shows no images, HTML or links: the Sources list carries every address a reader needs, taken
# from the corpus's references, so nothing a model writes can point a reader elsewhere or load a remote image.
MARKUP = re.compile(r"!\[[^\]]*\]\([^)]*\)|\[[^\]]*\]\([^)]*\)|</?[a-z][^>]*>|\b(https?://|www\.)\S+|"
                    r"\bdata:[a-z]+/", re.IGNORECASE)
UNITS = re.compile(r"\b(mg|mcg|µg|ml|milligrams?|micrograms?|millilit(?:er|re)s?|grams?|iu|doses?|dosages?)\b",
                   re.IGNORECASE)
STOP = frozenset(
    "a an the and or but of to in on at by for with from as into onto over under up down out off about than then "
    "it its this that these those there here is are was were be been being am do does did doing done have has had "
    "i me my you your yours we our they them their he she his her can could should would will may might must "
    "if so not no too very just also only more most less least any some each every all both either such what "
    "which who whom when where why how while until again once".split())


@dataclass
class Verified:
    """The answer as it may be shown (markers renumbered 1..k), or why nothing of it may be."""

    answer: str
    citations: list[Citation]
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (sentence, why)
    fallback_reason: str | None = None


@dataclass
class _Sentence:
    line: int
    text: str
    markers: list[int]

    @property
    def claim(self) -> str:
        return MARKER.sub(" ", self.text).strip()


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def content_words(text: str) -> set[str]:
    """Stemmed words that carry meaning; numbers are kept, as words."""
    words = [NUMBER_WORDS.get(w, w) for w in WORD.findall(text.lower().replace("\u2019", "'"))]
    return set(_stemmer().stemWords([w for w in words if w not in STOP]))


def lexical_overlap(claim: str, passages: Sequence[str]) -> float:
    """The share of the claim's content words that the passages use."""
    words = content_words(claim)
    if not words:
        return 0.0
    available = set().union(*(content_words(p) for p in passages))
    return len(words & available) / len(words)


def unbacked_terms(claim: str, passages: Sequence[str]) -> list[str]:
    """Numbers, units, doses and drug or medical words in the claim that the passages never use."""
    source = " ".join(passages).lower()
    source_numbers = set(NUMBER.findall(source)) | {NUMBER_WORDS[w] for w in WORD.findall(source)
                                                    if w in NUMBER_WORDS}
    missing = []
    for word in WORD.findall(claim.lower()):
        if (NUMBER.fullmatch(word) or word in COUNTED_WORDS) and NUMBER_WORDS.get(word, word) not in source_numbers:
            missing.append(word)
    for match in (*UNITS.finditer(claim), *MEDICAL.finditer(claim)):
        term = match.group(0).lower()
        if not re.search(rf"\b{re.escape(term)}\b", source):
            missing.append(term)
    return list(dict.fromkeys(missing))


def split_sentences(text: str) -> list[_Sentence]:
    """Sentences line by line; a marker written after the full stop still belongs to its sentence."""
    sentences = []
    for number, line in enumerate(text.splitlines()):
        body = BULLET.sub("", line).strip()
        body = TRAILING_MARKERS.sub(r"\2\1", body)
        for piece in SENTENCE_END.split(body):
            if piece.strip():
                markers = [int(n) for group in MARKER.findall(piece) for n in group.split(",")]
                sentences.append(_Sentence(number, piece.strip(), markers))
    return sentences


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm if norm else 0.0


def verify(text: str, passages: Sequence[Chunk], embed: Callable[[list[str]], list[list[float]]]) -> Verified:
    """Keep the supported sentences of `text`, whose markers [1]..[n] name `passages` in prompt order."""
    sentences = split_sentences(text)
    if not sentences:
        return Verified("", [], fallback_reason="unsupported: empty answer")
    bad = sorted({n for s in sentences for n in s.markers if not 1 <= n <= len(passages)})
    if bad:
        return Verified("", [], fallback_reason=f"bad_marker: [{bad[0]}] but {len(passages)} passages were given")
    dropped: list[tuple[str, str]] = []
    candidates = []
    for s in sentences:
        cited = [passages[n - 1].text for n in dict.fromkeys(s.markers)]
        if not cited:
            dropped.append((s.text, "no marker"))
        elif MARKUP.search(s.text):
            dropped.append((s.text, "an image, link or HTML tag"))
        elif missing := unbacked_terms(s.claim, cited):
            dropped.append((s.text, f"{', '.join(repr(m) for m in missing)} not in the cited passage"))
        elif (overlap := lexical_overlap(s.claim, cited)) < MIN_OVERLAP:
            dropped.append((s.text, f"word overlap {overlap:.2f} < {MIN_OVERLAP}"))
        else:
            candidates.append(s)
    if candidates:
        used = list(dict.fromkeys(n for s in candidates for n in s.markers))
        vectors = embed([s.claim for s in candidates] + [passages[n - 1].text for n in used])
        by_passage = dict(zip(used, vectors[len(candidates):], strict=True))
        kept = []
        for s, vector in zip(candidates, vectors, strict=False):
            similarity = max(_cosine(vector, by_passage[n]) for n in s.markers)
            if similarity >= MIN_SIMILARITY:
                kept.append(s)
            else:
                dropped.append((s.text, f"similarity {similarity:.2f} < {MIN_SIMILARITY}"))
    else:
        kept = []
    if not kept or len(kept) < MIN_KEPT_SHARE * len(sentences):
        first = dropped[0]
        return Verified("", [], dropped, f"unsupported: {len(kept)} of {len(sentences)} sentences supported; "
                                         f"{first[0][:80]!r}: {first[1]}")
    return Verified(*_render(text, kept, passages), dropped)


def _render(text: str, kept: list[_Sentence], passages: Sequence[Chunk]) -> tuple[str, list[Citation]]:
    """The kept sentences in their lines (bullets kept), markers renumbered in order of first use."""
    order: dict[int, int] = {}
    for s in kept:
        for n in s.markers:
            order.setdefault(n, len(order) + 1)

    def renumber(match: re.Match[str]) -> str:
        return "".join(f"[{order[int(n)]}]" for n in dict.fromkeys(match.group(1).replace(" ", "").split(",")))

    source_lines = text.splitlines()
    lines = []
    for number in dict.fromkeys(s.line for s in kept):
        bullet = BULLET.match(source_lines[number])
        body = " ".join(MARKER.sub(renumber, s.text) for s in kept if s.line == number)
        lines.append((bullet.group(1).strip() + " " if bullet else "") + body)
    citations = [Citation(marker=m, chunk_id=c.chunk_id, doc_id=c.doc_id, title=c.title, section=c.section,
                          text=c.text, source=c.source)
                 for n, m in order.items() for c in [passages[n - 1]]]
    return "\n".join(lines), citations
