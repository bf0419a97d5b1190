"""What condensing knows of the corpus, prepared once per retriever.

A follow-up is read against the entries, not against an index: their names and kinds, each exercise's level,
position, equipment and easier/harder neighbours (to choose among a set), and every quoted line's passage (to
know which passages an answer in the history cited, since the UI sends back only text). An `Entity` is an entry as
a sentence names it, the subject a conversation carries."""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .linking import Link, Linker, normalize

if TYPE_CHECKING:
    import numpy as np

    from .chunking import Chunk
    from .conversation import Resolution, State
    from .retrieve import Retriever

Encoder = Callable[[str], list[float]]  # a query's text -> its vector
WORD_WEIGHT = 0.02  # a shared word is worth this much cosine when lines are weighed against a turn
STATES_REMEMBERED = 512  # histories whose reading is kept (a server sees many conversations)
KIT_WORDS = re.compile(r"\b(bands?|weights?|dumbbells?|barbells?|step|box|cuffs?|tub(e|ing)|bench|kettlebells?)\b",
                       re.IGNORECASE)
EVERYWHERE = re.compile(r"\b(mat|floor|wall|towel|worktop|railing|table|optional)\b", re.IGNORECASE)  # to hand
LEVELS = ("beginner", "intermediate", "advanced")
LOWER_LOAD = re.compile(r"\balready (one of |among )?(the )?lower[- ]load\b", re.IGNORECASE)


@dataclass(frozen=True)
class Entity:
    """An entry being talked about, and the words a sentence names it by ("the clamshell", "my outer hip pain")."""

    doc_id: str
    phrase: str
    kind: str
    said: bool = True  # the person named it (a topic only an answer cited has no words of theirs to reuse)


_CATALOGS: weakref.WeakKeyDictionary[Retriever, Catalog] = weakref.WeakKeyDictionary()


class Catalog:
    """The entries as condensing reads them, and what it remembers per retriever: the links found in a text, the
    state after each history read (`states`) and each turn resolved against a state (`resolutions`)."""

    @classmethod
    def of(cls, retriever: Retriever, encode: Encoder | None = None) -> Catalog:
        """The catalog of this retriever, built at its first follow-up and kept while the retriever lives; with
        `encode` (the assistant's query encoder) it can weigh a turn by meaning where the rules cannot tell."""
        catalog = _CATALOGS.get(retriever)
        if catalog is None:
            catalog = _CATALOGS[retriever] = cls(retriever)
        if encode is not None:
            catalog.encode = encode
        return catalog

    def __init__(self, retriever: Retriever) -> None:
        from .compose import passage_lines

        self.retriever = retriever
        self.linker: Linker = retriever.linker
        self.sections: dict[str, dict[str, Chunk]] = {}
        self.kind: dict[str, str] = {}
        self.title: dict[str, str] = {}
        self.lines: dict[str, list[str]] = {}  # a quoted statement -> the passages holding it
        for chunk in retriever.chunks:
            if chunk.kind == "article":
                continue
            self.sections.setdefault(chunk.doc_id, {})[chunk.section] = chunk
            self.kind[chunk.doc_id], self.title[chunk.doc_id] = chunk.kind, chunk.title
            for line in passage_lines(chunk):
                for key in _line_keys(line):
                    self.lines.setdefault(key, []).append(chunk.chunk_id)
        self.exercises = sorted(d for d, k in self.kind.items() if k == "exercise")
        self.facts = {d: self._facts(d) for d in self.exercises}
        self.words = {d: self._name_words(d) for d in self.exercises}
        self.described = {d: word_set(" ".join((self.facts[d].get("position", ""), self.facts[d].get("equipment", ""))))
                          for d in self.exercises}
        self.text_words = {d: set().union(*(word_set(c.text) for c in self.sections[d].values()))
                           for d in self.exercises}
        self._links: dict[str, list[Link]] = {}
        self.encode: Encoder | None = None
        self._scores: dict[str, np.ndarray | None] = {}
        self.states: dict[tuple[tuple[str, str], ...], State] = {}
        self.resolutions: dict[tuple[str, State, bool], Resolution] = {}  # (turn, state before, drafted)
        # doc -> the exercises easier than it: those its "Make it easier" names, and those whose "Make it harder"
        # names it ("start with a bridge on both legs", "move on to the single-leg bridge")
        self.easier_than: dict[str, set[str]] = {d: set() for d in self.exercises}
        for doc in self.exercises:
            for section in ("Make it easier", "Make it harder"):
                notes = self.sections[doc].get(section)
                for other in self.exercises_in(notes.text if notes else "", exclude=doc):
                    if section == "Make it easier":
                        self.easier_than[doc].add(other)
                    else:
                        self.easier_than[other].add(doc)

    def _facts(self, doc: str) -> dict[str, str]:
        """The exercise's "At a glance" lines as name -> value, and whether it says it is a lower-load option."""
        glance = self.sections[doc].get("At a glance")
        facts = {}
        for line in (glance.text.splitlines() if glance else []):
            name, _, value = line.lstrip("- ").partition(":")
            facts[name.strip().lower()] = value.strip().rstrip(".")
        easier = self.sections[doc].get("Make it easier")
        facts["lower_load"] = "yes" if easier and LOWER_LOAD.search(easier.text) else ""
        return facts

    def _name_words(self, doc: str) -> set[str]:
        """The words of the exercise's title and aliases, to match a description ("the wall one") against."""
        chunk = next(iter(self.sections[doc].values()))
        return word_set(" ".join((chunk.title, *chunk.aliases)))

    def links(self, text: str) -> list[Link]:
        """The entries a text names (remembered: a conversation's turns are read again at every turn)."""
        found = self._links.get(text)
        if found is None:
            if len(self._links) > 4 * STATES_REMEMBERED:
                self._links.clear()
            found = self._links[text] = [link for link in self.linker.links(text) if link.doc_id in self.kind]
        return found

    def statement_scores(self, text: str) -> np.ndarray | None:
        """The text's cosine with every statement of the index (remembered per text: a turn is read again when the
        next one comes); None with no encoder or no statements, and then the rules decide alone."""
        statements = self.retriever.statements
        if self.encode is None or statements is None or not statements.units:
            return None
        if text not in self._scores:
            if len(self._scores) >= STATES_REMEMBERED:
                self._scores.clear()
            self._scores[text] = statements.scores(self.encode(text))
        return self._scores[text]

    def rated_lines(self, chunk: Chunk, text: str) -> list[tuple[float, str]]:
        """The passage's lines, each with how close it is to the text: its statement's cosine (with an encoder)
        plus a little for each word they share (corrected for typos), which alone decides with no encoder."""
        from .compose import _terms, passage_lines

        scores = self.statement_scores(text)
        statements = self.retriever.statements
        meaning = {line: score for line, score, _ in statements.of_passage(chunk.chunk_id, scores)} \
            if scores is not None and statements else {}
        wanted = _terms(self.retriever.vocabulary.in_corpus_terms(text))
        return [(meaning.get(line, 0.0) + WORD_WEIGHT * len(_terms(line) & wanted), line)
                for line in passage_lines(chunk)]

    def exercises_in(self, text: str, exclude: str | None = None) -> list[str]:
        """The exercises a text names, in order, each once."""
        return [d for d in doc_ids(self.links(text)) if self.kind.get(d) == "exercise" and d != exclude]

    def quoting(self, line: str) -> set[str]:
        """The passages holding a line an answer quoted, whole or any one of its sentences."""
        return {chunk_id for key in _line_keys(line) for chunk_id in self.lines.get(key, ())}

    def level(self, doc: str) -> int:
        """The exercise's level as a rank (beginner 0); an entry with no level sorts after every level."""
        value = self.facts.get(doc, {}).get("level", "")
        return LEVELS.index(value) if value in LEVELS else len(LEVELS)

    def ease(self, doc: str) -> tuple[int, int, int]:
        """Lower is easier: the level, then an entry noting it is already among the lower-load options, then how
        many of the others' easier/harder notes place it below them."""
        above = sum(doc in self.easier_than.get(other, ()) for other in self.exercises)
        below = len(self.easier_than.get(doc, ()))
        return self.level(doc), 0 if self.facts[doc].get("lower_load") else 1, below - above

    def needs_kit(self, doc: str, progressing: bool = False) -> bool:
        """Whether the exercise (or, progressing, its next step) needs more than what every home has to hand."""
        if progressing:
            chunk = self.sections[doc].get("Make it harder")
            return bool(chunk and KIT_WORDS.search(chunk.text))
        items = [i.strip() for i in re.split(r",(?![^()]*\))", self.facts[doc].get("equipment", "")) if i.strip()]
        return any(not EVERYWHERE.search(item) for item in items if item != "none")

    def phrase(self, doc: str) -> str:
        """The entry as a sentence names it: "the clamshell", "gluteal tendinopathy"."""
        title = re.sub(r"\s*\([^)]*\)", "", self.title[doc])
        return f"the {title.lower()}" if self.kind[doc] == "exercise" else title[0].lower() + title[1:]

    def entity(self, doc: str, said: bool = False) -> Entity:
        """The entry as the subject of a conversation, named by its title."""
        return Entity(doc, self.phrase(doc), self.kind[doc], said)

    def listing(self, docs: Sequence[str]) -> str:
        """ "the clamshell, the hip hitch and the single-leg bridge"."""
        names = [self.phrase(d) for d in docs]
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def doc_ids(links: Iterable[Link]) -> list[str]:
    """The entries linked, in order, each once."""
    return list(dict.fromkeys(link.doc_id for link in links))


def doc_of(chunk_id: str) -> str:
    """The entry a chunk id ("clamshell#cautions") belongs to."""
    return chunk_id.split("#", 1)[0]


def singular(word: str) -> str:
    """A crude singular ("bands" -> "band", not "press"), enough to match a description to an entry's words."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def word_set(text: str) -> set[str]:
    """The text's words, singular, to compare with the words an entry is named or described by."""
    return {singular(w) for w in normalize(text).split()}


def _line_keys(line: str) -> set[str]:
    """A quoted line as looked up: whole, and each of its sentences (a point may quote one sentence of a line)."""
    return {normalize(line), *(normalize(s) for s in re.split(r"(?<=[.!?])\s+", line) if s)}
