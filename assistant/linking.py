"""Find the exercises and topics a question names, by name or alias, tolerant of typos.

"clam shels", "side lying leg raise" and "pelvic drop" should all land on their entries. Matching is
fuzzy (rapidfuzz partial alignment) for longer names and exact word matching for short ones; where two
names overlap in the question ("single leg bridge" and "bridge") the longer, better match wins.

A 100x corpus has ~35k names and a question shares a word beginning with thousands of them; testing each one
in Python cost ~28 ms a question. So the candidates are screened all at once first: names whose letters
cannot reach their fuzzy threshold are dropped (numpy), the rest are scored in one rapidfuzz `cdist` call, and
whether every word of a name is in the question is counted (numpy). Only the names that pass get the per-name
tests, in the same order as before, so the links are the same.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

SHORT_NAME = 5  # names this short must match a whole word exactly
PLURAL = re.compile(r"[^sui]s$")  # a name in the plural ("runners", not "gluteus" or "stress")
COVERAGE = 0.85  # share of a name the matched part of the question must span
PREFIX = 3  # a typo rarely hits the first three letters of a word
WORD_START = 2  # ... and the first two of each word of a name appear in a fuzzy match of it
SCATTER_SPAN = 1.5  # a name given in scattered words spans at most this many times its own length
FUZZY_THRESHOLDS = (92.0, 86.0)  # partial_ratio a name of up to 8 characters, or a longer one, must reach
SLACK = 1e-6  # screens keep a name this close below its threshold: float rounding must never drop a match
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 "  # every character `normalize` can leave


def normalize(text: str) -> str:
    """Lower-case words and numbers only; apostrophes vanish so "don't" stays one word."""
    return " ".join(re.findall(r"[a-z0-9]+", re.sub(r"['\u2019]", "", text.lower())))


@dataclass(frozen=True)
class Link:
    """One name found in a text: the entry it names, the alias matched, how well, and where."""

    doc_id: str
    alias: str
    score: float
    start: int
    end: int


class Linker:
    """A table of names -> entry ids, built once at load."""

    def __init__(self, names: Iterable[tuple[str, str]]):
        table: dict[str, str] = {}
        singulars: list[tuple[str, str]] = []
        for doc_id, name in names:
            key = normalize(name)
            if len(key) >= 2:  # "pt" is a real name; names this short only match as whole words
                table.setdefault(key, doc_id)
            if PLURAL.search(key) and len(key) > SHORT_NAME:  # "runners" also names "a runner"
                singulars.append((key[:-1], doc_id))
        for key, doc_id in singulars:  # after every written name, so none of them is taken over
            table.setdefault(key, doc_id)
        self.names = sorted(table.items(), key=lambda item: -len(item[0]))
        aliases = [alias for alias, _ in self.names]
        # Only names sharing a word beginning with the question can match, fuzzily or not: index them by those
        # beginnings. The arrays below let `_may_link` screen those candidates all at once.
        self._by_prefix = _postings((word[:PREFIX] for word in alias.split()) for alias in aliases)
        self._by_word = _postings(alias.split() for alias in aliases)
        self._distinct_words = np.array([len(set(alias.split())) for alias in aliases], dtype=np.int32)
        self._several_words = np.array([len(alias.split()) >= 2 for alias in aliases], dtype=bool)
        self._lengths = np.array([len(alias) for alias in aliases], dtype=np.int32)
        self._thresholds = np.array([self._threshold(alias) for alias in aliases])
        self._letters = np.array([_letter_counts(alias) for alias in aliases], dtype=np.int16).reshape(
            len(aliases), len(ALPHABET))

    def _candidates(self, query: str) -> np.ndarray:
        """Indices (ascending) of the names sharing a word beginning with the query."""
        hit = np.zeros(len(self.names), dtype=bool)
        for prefix in {word[:PREFIX] for word in query.split()}:
            if prefix in self._by_prefix:
                hit[self._by_prefix[prefix]] = True
        return np.flatnonzero(hit)

    def _may_link(self, query: str, candidates: np.ndarray) -> np.ndarray:
        """The candidates `links` could keep: short names (a cheap exact test follows), names scoring at least
        their fuzzy threshold, and names with every word in the query. The others fail both the fuzzy and the
        all-words test in `links`, so leaving them out changes nothing."""
        short = self._lengths[candidates] <= SHORT_NAME
        fuzzy = ~short & self._fuzzy_possible(query, candidates)
        fuzzy[fuzzy] = self._fuzzy_scores(query, candidates[fuzzy]) >= self._thresholds[candidates[fuzzy]] - SLACK
        return candidates[short | fuzzy | self._all_words_present(query, candidates)]

    def _fuzzy_possible(self, query: str, candidates: np.ndarray) -> np.ndarray:
        """An upper bound on partial_ratio, to skip scoring most names: the score is 200 * LCS / (m + w) over
        windows of w <= m characters, m the shorter string's length, and LCS <= shared, the sum over letters of
        the smaller count in name and query; the bound peaks at w = shared."""
        shared = np.minimum(self._letters[candidates], _letter_counts(query)).sum(axis=1)
        shorter = np.minimum(self._lengths[candidates], len(query))
        bound = 200.0 * shared / np.maximum(shorter + shared, 1)
        return bound >= self._thresholds[candidates] - SLACK

    def _fuzzy_scores(self, query: str, indices: np.ndarray) -> np.ndarray:
        """partial_ratio(name, query) for each name, in one call (a Python loop over thousands is the cost)."""
        if not len(indices):
            return np.empty(0)
        aliases = [self.names[i][0] for i in indices.tolist()]
        scores = process.cdist(aliases, [query], scorer=fuzz.partial_ratio, score_cutoff=min(FUZZY_THRESHOLDS),
                               dtype=np.float64, workers=1)
        return scores[:, 0]

    def _all_words_present(self, query: str, candidates: np.ndarray) -> np.ndarray:
        """Names of several words whose every word is a word of the query, or that word plus "s": the names
        `_all_words` can find."""
        tokens = set(query.split())
        words = tokens | {token[:-1] for token in tokens if token.endswith("s")}
        found = [self._by_word[w] for w in words if w in self._by_word]
        if not found:
            return np.zeros(len(candidates), dtype=bool)
        present = np.bincount(np.concatenate(found), minlength=len(self.names))[candidates]
        return self._several_words[candidates] & (present == self._distinct_words[candidates])

    @staticmethod
    def _threshold(alias: str) -> float:
        return 100.0 if len(alias) <= SHORT_NAME else FUZZY_THRESHOLDS[0] if len(alias) <= 8 else FUZZY_THRESHOLDS[1]

    def links(self, text: str) -> list[Link]:
        """Entries named in the text, in the order they appear, best match per span."""
        query = normalize(text)
        if not query:
            return []
        padded = f" {query} "
        found: list[Link] = []
        for index in self._may_link(query, self._candidates(query)).tolist():
            alias, doc_id = self.names[index]
            if len(alias) <= SHORT_NAME:
                pos = padded.find(f" {alias} ")
                if pos < 0:
                    plural = padded.find(f" {alias}s ")
                    if plural < 0:
                        continue
                    pos = plural
                found.append(Link(doc_id, alias, 100.0, pos, pos + len(alias)))
                continue
            match = fuzz.partial_ratio_alignment(alias, query, score_cutoff=self._threshold(alias))
            if match is not None and match.dest_end - match.dest_start < COVERAGE * len(alias):
                match = None  # a short question inside a long name ("band walk" in "lateral band walking")
            if match is None:
                scattered = self._all_words(alias, query)  # "tube band ... hip abduction", words apart
                if scattered:
                    found.append(Link(doc_id, alias, 90.0, *scattered))
                continue
            start, end = match.dest_start, match.dest_end
            if start > 1 and query[start - 1] != " " and query[start - 2] != " ":
                continue  # the match starts inside a word: "abridged" is not a bridge
            if not all(word[:WORD_START] in query[start:end] for word in alias.split()):
                continue  # each word of the name begins somewhere in the match: "can exercise" is no "clam exercise"
            found.append(Link(doc_id, alias, match.score, start, end))
        found.sort(key=lambda link: (-link.score, -len(link.alias)))
        chosen: list[Link] = []
        for link in found:
            clashes = [c for c in chosen if link.start < c.end and c.start < link.end]
            if clashes and all(_encloses(link, c) and c.doc_id != link.doc_id for c in clashes):
                chosen = [c for c in chosen if c not in clashes]  # "singel leg squat" is not the "squat" inside it
            elif clashes:
                continue
            if all(c.doc_id != link.doc_id for c in chosen):
                chosen.append(link)
        return sorted(chosen, key=lambda link: link.start)

    @staticmethod
    def _all_words(alias: str, query: str) -> tuple[int, int] | None:
        """The span of the query holding every word of a multi-word name, in any order, or None. The words must
        stay close: "band ... for a monster walk" does not name the band walk."""
        words = alias.split()
        if len(words) < 2:
            return None
        spans = []
        for word in words:
            match = re.search(rf"\b{re.escape(word)}s?\b", query)
            if match is None:
                return None
            spans.append(match.span())
        start, end = min(s for s, _ in spans), max(e for _, e in spans)
        return (start, end) if end - start <= SCATTER_SPAN * len(alias) else None

    def doc_ids(self, text: str) -> list[str]:
        return [link.doc_id for link in self.links(text)]


def _postings(keys_per_name: Iterable[Iterable[str]]) -> dict[str, np.ndarray]:
    """key -> ascending indices of the names having it, each name once."""
    lists: dict[str, list[int]] = {}
    for index, keys in enumerate(keys_per_name):
        for key in dict.fromkeys(keys):
            lists.setdefault(key, []).append(index)
    return {key: np.array(indices, dtype=np.int32) for key, indices in lists.items()}


def _letter_counts(text: str) -> list[int]:
    """How often each ALPHABET character occurs in a normalized text."""
    return [text.count(char) for char in ALPHABET]


def _encloses(outer: Link, inner: Link) -> bool:
    """`outer` spans all of `inner` and more: a longer name of which the shorter one is a part."""
    return outer.start <= inner.start and inner.end <= outer.end and outer.end - outer.start > inner.end - inner.start
