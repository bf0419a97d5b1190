"""Find the exercises and topics a question names, by name or alias, tolerant of typos.

"clam shels", "side lying leg raise" and "pelvic drop" should all land on their entries. Matching is
fuzzy (rapidfuzz partial alignment) for longer names and exact word matching for short ones; where two
names overlap in the question ("single leg bridge" and "bridge") the longer, better match wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

SHORT_NAME = 5  # names this short must match a whole word exactly
COVERAGE = 0.85  # share of a name the matched part of the question must span
PREFIX = 3  # a typo rarely hits the first three letters of a word


def normalize(text: str) -> str:
    """Lower-case words and numbers only; apostrophes vanish so "don't" stays one word."""
    return " ".join(re.findall(r"[a-z0-9]+", re.sub(r"['\u2019]", "", text.lower())))


@dataclass(frozen=True)
class Link:
    doc_id: str
    alias: str
    score: float
    start: int
    end: int


class Linker:
    """A table of names -> entry ids, built once at load."""

    def __init__(self, names: Iterable[tuple[str, str]]):
        table: dict[str, str] = {}
        for doc_id, name in names:
            key = normalize(name)
            if len(key) >= 2:  # "pt" is a real name; names this short only match as whole words
                table.setdefault(key, doc_id)
        self.names = sorted(table.items(), key=lambda item: -len(item[0]))
        # Only names sharing a word beginning with the question can match, fuzzily or not: index them by those
        # beginnings, so a question scores a handful of names however large the corpus grows.
        self._by_prefix: dict[str, set[int]] = {}
        for index, (alias, _) in enumerate(self.names):
            for word in alias.split():
                self._by_prefix.setdefault(word[:PREFIX], set()).add(index)

    def _candidates(self, query: str) -> list[tuple[str, str]]:
        found: set[int] = set()
        for word in query.split():
            found |= self._by_prefix.get(word[:PREFIX], set())
        return [self.names[i] for i in sorted(found)]

    @staticmethod
    def _threshold(alias: str) -> float:
        return 100.0 if len(alias) <= SHORT_NAME else 92.0 if len(alias) <= 8 else 86.0

    def links(self, text: str) -> list[Link]:
        """Entries named in the text, in the order they appear, best match per span."""
        query = normalize(text)
        if not query:
            return []
        padded = f" {query} "
        found: list[Link] = []
        for alias, doc_id in self._candidates(query):
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
            found.append(Link(doc_id, alias, match.score, start, end))
        found.sort(key=lambda link: (-link.score, -len(link.alias)))
        chosen: list[Link] = []
        for link in found:
            overlaps = any(link.start < c.end and c.start < link.end for c in chosen)
            if not overlaps and all(c.doc_id != link.doc_id for c in chosen):
                chosen.append(link)
        return sorted(chosen, key=lambda link: link.start)

    @staticmethod
    def _all_words(alias: str, query: str) -> tuple[int, int] | None:
        """The span of the query holding every word of a multi-word name, in any order, or None."""
        words = alias.split()
        if len(words) < 2:
            return None
        spans = []
        for word in words:
            match = re.search(rf"\b{re.escape(word)}s?\b", query)
            if match is None:
                return None
            spans.append(match.span())
        return min(s for s, _ in spans), max(e for _, e in spans)

    def doc_ids(self, text: str) -> list[str]:
        return [link.doc_id for link in self.links(text)]
