"""Retrieval: dense (Chroma) + lexical (bm25s, stemmed), fused by reciprocal rank, then pulled toward the
exercise the question names and the section its intent asks for.

`PassageRetriever` is what the pipeline and the eval ask of a retriever; `Retriever` (hybrid), `DenseRetriever`
and `LexicalRetriever` implement it, and `RETRIEVERS` maps the names `glute eval --retriever` takes to them.
Everything that can be prepared once (the BM25 index, the name table, the chunk map) is built at load;
a question costs one Chroma query and one BM25 lookup on top of its embedding.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from .chunking import STATEMENT, Chunk
from .intent import INTENT_LINES, INTENT_SECTIONS, detect_intents, general_route, preferred_sections
from .linking import Linker, normalize
from .vocabulary import Vocabulary, content_words, heading_words

if TYPE_CHECKING:
    from .statements import Statements
    from .store import ReadStore

RRF_K = 60
LINK_BONUS = 2.0 / RRF_K  # a named exercise outranks anything the rankers merely like
ARTICLE_LINK_BONUS = 1.0 / RRF_K
TOPIC_LINK_BONUS = 1.0 / RRF_K  # a topic named in passing ("glute med") should not drown the answer
GENERAL_TOPIC_BONUS = 0.5 / RRF_K  # a question naming no exercise is usually a general one
ARTICLE_WEIGHT = 0.5  # article windows are raw, short and context-free; the entries restate them in context
SECTION_BONUS = 1.5 / RRF_K
ESCALATION_DOC = "when-to-see-a-clinician"  # its sections are for warning signs, named or asked about
ESCALATION_PENALTY = 1.0 / RRF_K
STATEMENT_WEIGHT = 0.5  # the best-statement ranking counts half as much as the dense and lexical ones
BEST_LINE_BONUS = 0.75 / RRF_K  # a named exercise's passage holding the line clearly closest to an intent-less question
CLEAR_LEAD = 0.04  # cosine by which that line must beat every other passage's best (closer is noise) for any bonus;
                   # twice this earns all of it
HEADING_BONUS = 1.0 / RRF_K  # times the share of a topic section's heading words the question uses
MIN_HEADING_SHARE = 0.5  # and two of its words, when it has two: one shared word of several is chance
Mode = Literal["hybrid", "dense", "bm25"]


@dataclass
class Hit:
    """One ranked chunk with the evidence for its rank."""

    chunk: Chunk
    score: float
    dense: float | None = None  # cosine similarity
    bm25: float | None = None
    ranks: dict[str, int] = field(default_factory=dict)
    statements: list[tuple[str, float, int]] = field(default_factory=list)  # (line, cosine, row), passage order

    @property
    def chunk_id(self) -> str:
        return self.chunk.chunk_id

    @property
    def text(self) -> str:
        return self.chunk.text


@dataclass
class Query:
    """What retrieval understood of a question."""

    text: str
    search_text: str  # the question in the corpus's words (typos corrected), for the rankers
    links: list[str]
    intents: list[str]
    sections: list[str]
    unknown: list[str] = field(default_factory=list)  # content words the corpus never uses
    names_exercise: bool = False  # one of the links is an exercise (not only a topic)
    route: tuple[str, str] | None = None  # (entry, section) for a general question about exercising
    subject_terms: frozenset[str] = frozenset()  # stemmed content words outside the names it links
    heading_terms: frozenset[str] = frozenset()  # the same, with the everyday words a heading may use ("helps")


class PassageRetriever(Protocol):
    """What the pipeline and the eval need of a retriever: the question understood, its ranked passages, and the
    corpus facts that judging and composing an answer look up."""

    name: str  # what reports call it: hybrid, dense or bm25
    linking: bool  # whether exercise names in a question pull their entry up
    uses_vectors: bool  # False: no dense ranking, so the question is not embedded and has no similarity to judge
    statements: Statements | None

    def understand(self, question: str) -> Query: ...

    def retrieve(self, question: str, vector: list[float] | None, k: int = 5, candidates: int = 20,
                 query: Query | None = None, timings: dict[str, float] | None = None) -> list[Hit]: ...

    def names(self, text: str) -> list[str]: ...

    def names_exercise(self, text: str) -> bool: ...

    def unknown(self, text: str) -> list[str]: ...

    def passage(self, chunk_id: str) -> Chunk | None: ...

    def passages_of(self, doc_id: str) -> list[Chunk]: ...


class Retriever:
    """The hybrid retriever, and the base of the others: dense and lexical rankings and the best statement of each
    passage, fused by reciprocal rank, then pulled toward the exercise the question names and the section its
    intent asks for. Condensing reads its name tables too (`linker`, `vocabulary`, `by_id`, `bm25_ranking`)."""

    name: ClassVar[str] = "hybrid"
    uses_vectors: ClassVar[bool] = True
    uses_lexical: ClassVar[bool] = True

    def __init__(self, chunks: list[Chunk], store: ReadStore | None, linking: bool = True,
                 statements: Statements | None = None):
        import bm25s
        import Stemmer

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs each index build at DEBUG

        self.chunks = chunks
        self.by_id = {c.chunk_id: c for c in chunks}
        self.store = store
        self.linking = linking
        self.statements = statements
        names = {(c.doc_id, n) for c in chunks if c.kind != "article" for n in (c.title, *c.aliases)}
        self.linker = Linker(sorted(names))
        self.by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            self.by_doc.setdefault(chunk.doc_id, []).append(chunk)
        self._stemmer = Stemmer.Stemmer("english")
        self.tokenizer = bm25s.tokenization.Tokenizer(stopwords="en", stemmer=self._stemmer)
        tokens = self.tokenizer.tokenize([c.embed_text for c in chunks], update_vocab=True,
                                         return_as="tuple", show_progress=False)
        self.bm25 = bm25s.BM25()
        self.bm25.index(tokens, show_progress=False)
        self.heading_terms = {c.chunk_id: self._terms(c.section) for c in chunks if c.kind == "topic"}
        names_of: dict[str, list[str]] = {}
        for doc_id, name in sorted(names):
            names_of.setdefault(doc_id, []).append(name)
        self.heading_names = {c.chunk_id: self._name_in_heading(c, names_of.get(c.doc_id, []))
                              for c in chunks if c.kind == "topic"}
        self.intent_lines = {(c.doc_id, intent): set() for c in chunks for intent in INTENT_LINES}
        for chunk in chunks:  # which sections of each entry hold the kind of line an intent asks for
            for intent, pattern in INTENT_LINES.items():
                if any(pattern.search(line) for line in chunk.text.splitlines()):
                    self.intent_lines[(chunk.doc_id, intent)].add(chunk.section)
        self.vocabulary = Vocabulary(f"{c.embed_text} {' '.join(c.aliases)}" for c in chunks)

    def understand(self, question: str) -> Query:
        found = self.linker.links(question) if self.linking else []
        unlinked = normalize(question)
        for link in sorted(found, key=lambda link: -link.start):
            unlinked = unlinked[: link.start] + " " + unlinked[link.end :]
        intents = detect_intents(unlinked)  # "single-leg balance" names an exercise, not a wish for tips
        searched = self.vocabulary.in_corpus_terms(unlinked)
        links = [link.doc_id for link in found]
        names_exercise = self._any_exercise(links)
        sections = preferred_sections(intents) if names_exercise else []  # only an exercise's sections are by intent
        return Query(question, self.vocabulary.in_corpus_terms(question), links, intents, sections,
                     self.vocabulary.unknown(unlinked), names_exercise=names_exercise,
                     route=None if found else general_route(question, intents),
                     subject_terms=self._terms(searched),
                     heading_terms=frozenset(self._stemmer.stemWords(heading_words(searched))))

    def names(self, text: str) -> list[str]:
        """The entries (doc ids) `text` names by title or alias, whether or not linking is on."""
        return self.linker.doc_ids(text)

    def names_exercise(self, text: str) -> bool:
        """Whether one of the entries `text` names is an exercise (not only a topic)."""
        return self._any_exercise(self.names(text))

    def _any_exercise(self, doc_ids: list[str]) -> bool:
        return any(self.by_doc[d][0].kind == "exercise" for d in doc_ids)

    def unknown(self, text: str) -> list[str]:
        """The content words of `text` that no passage uses."""
        return self.vocabulary.unknown(text)

    def passage(self, chunk_id: str) -> Chunk | None:
        return self.by_id.get(chunk_id)

    def passages_of(self, doc_id: str) -> list[Chunk]:
        """The passages of one entry, in order."""
        return self.by_doc.get(doc_id, [])

    def _terms(self, text: str) -> frozenset[str]:
        return frozenset(self._stemmer.stemWords(content_words(text)))

    def _name_in_heading(self, chunk: Chunk, names: list[str]) -> frozenset[str]:
        """The words of a heading that spell one of `names`, its own entry's ("Exercises a physical therapist may
        use"), when the heading says more than the name."""
        heading = self._stemmer.stemWords(normalize(chunk.section).split())
        found: set[str] = set()
        for name in names:
            words = self._stemmer.stemWords(normalize(name).split())
            if words and any(heading[i : i + len(words)] == words for i in range(len(heading) - len(words) + 1)):
                found |= self._terms(name)
        return frozenset(found) if self.heading_terms[chunk.chunk_id] - found else frozenset()

    def _heading_bonus(self, hit: Hit, question_terms: frozenset[str], links: list[str]) -> float:
        """Topic sections are headed by what they answer ("The first session"): a question using most of a
        heading's words, besides the names that linked the entry, is asking for that section. A heading that
        names its own entry ("Exercises a physical therapist may use") is named by any question naming the
        entry ("what exercises would a physio give?"), when the passage is also close in meaning: a name is weak
        evidence of the section wanted."""
        chunk_id = hit.chunk_id
        heading = self.heading_terms.get(chunk_id)
        if not heading:
            return 0.0
        if hit.chunk.doc_id in links and ("dense" in hit.ranks or "statement" in hit.ranks):
            question_terms = question_terms | self.heading_names[chunk_id]
        shared = len(heading & question_terms)
        if shared < min(2, len(heading)) or shared < MIN_HEADING_SHARE * len(heading):
            return 0.0
        return HEADING_BONUS * shared / len(heading)

    def _section_order(self, query: Query, doc_id: str) -> list[str]:
        """The sections of a named exercise its intents ask for, most wanted first: intent by intent, in the order
        the intent lists them, except that an intent answered by one kind of line ("how many?") wants first the
        sections of this exercise that hold such a line (its Cautions, when the repetitions are set there)."""
        if not query.sections or self.by_doc[doc_id][0].kind != "exercise":
            return []
        order: list[str] = []
        for intent in query.intents:
            wanted = [s for s in INTENT_SECTIONS[intent] if s not in order]
            if intent in INTENT_LINES:
                holding = self.intent_lines.get((doc_id, intent), set())
                wanted.sort(key=lambda s: s not in holding)
            order += wanted
        return order

    @staticmethod
    def _best_line_bonus(chunk: Chunk, best_of: dict[str, float],
                         entry_best: dict[str, tuple[float, float]]) -> float:
        """A named exercise whose question asks for no particular section ("what level is it?"): the passage
        holding its line closest to the question is pulled forward, when that line is clearly closer than the
        best line of any other passage of it."""
        score = best_of.get(chunk.chunk_id)
        top, runner_up = entry_best.get(chunk.doc_id, (None, None))
        if score is None or top is None or score < top:
            return 0.0
        return BEST_LINE_BONUS * min(1.0, max(0.0, (top - runner_up - CLEAR_LEAD) / CLEAR_LEAD))

    def dense_ranking(self, vector: list[float], n: int) -> list[tuple[str, float]]:
        """Ids and cosine similarities only: the chunks are already in memory, and fetching their documents and
        metadata back from Chroma would cost more than the search itself."""
        return [(chunk_id, 1.0 - distance)
                for chunk_id, distance in self.store.nearest(vector, n, where={"kind": {"$ne": STATEMENT}})]

    def bm25_ranking(self, question: str, n: int) -> list[tuple[str, float]]:
        ids = self.tokenizer.tokenize([question], update_vocab=False, return_as="ids", show_progress=False)
        if not any(t for t in ids[0] if t):
            return []
        # n_threads=0 scores in this thread; 1 starts a one-worker thread pool per call (~0.5-1 ms at 100x)
        docs, scores = self.bm25.retrieve(ids, k=min(n, len(self.chunks)), show_progress=False, n_threads=0)
        return [(self.chunks[i].chunk_id, float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]

    @staticmethod
    def _weight(hit: Hit) -> float:
        return ARTICLE_WEIGHT if hit.chunk.kind == "article" else 1.0

    def retrieve(self, question: str, vector: list[float] | None, k: int = 5, candidates: int = 20,
                 query: Query | None = None, timings: dict[str, float] | None = None) -> list[Hit]:
        """The k best chunks for the question, best first; per-stage milliseconds go into `timings`."""
        query = query or self.understand(question)
        timings = timings if timings is not None else {}
        clock = time.perf_counter()

        def lap(stage: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[stage] = (now - clock) * 1000
            clock = now

        dense = self.dense_ranking(vector, candidates) if self.uses_vectors and vector is not None else []
        lap("dense")
        lexical = self.bm25_ranking(query.search_text, candidates) if self.uses_lexical else []
        lap("lexical")
        hits: dict[str, Hit] = {}

        def hit(chunk_id: str) -> Hit:
            return hits.setdefault(chunk_id, Hit(self.by_id[chunk_id], 0.0))

        for rank, (chunk_id, similarity) in enumerate(dense, 1):
            h = hit(chunk_id)
            h.dense, h.ranks["dense"] = similarity, rank
            h.score += self._weight(h) / (RRF_K + rank)
        for rank, (chunk_id, score) in enumerate(lexical, 1):
            h = hit(chunk_id)
            h.bm25, h.ranks["bm25"] = score, rank
            h.score += self._weight(h) / (RRF_K + rank)
        line_scores = self.statements.scores(vector) if self.statements else None
        best_of = self.statements.best_by_passage(line_scores) if self.statements else {}
        best_line = sorted(((score, cid) for cid, score in best_of.items() if cid in self.by_id),
                           reverse=True)[:candidates]
        for rank, (_, chunk_id) in enumerate(best_line, 1):  # the passage holding the one line that answers
            h = hit(chunk_id)
            h.ranks["statement"] = rank
            h.score += STATEMENT_WEIGHT * self._weight(h) / (RRF_K + rank)
        for position, doc_id in enumerate(query.links):
            weight = 1.0 / (1 + position)  # the first exercise named leads
            for chunk in self.by_doc.get(doc_id, []):
                bonus = LINK_BONUS if chunk.kind == "exercise" else TOPIC_LINK_BONUS
                hit(chunk.chunk_id).score += bonus * weight
            for chunk in self.by_doc.get("source", []):
                if doc_id in chunk.about:
                    hit(chunk.chunk_id).score += ARTICLE_LINK_BONUS * weight
        if query.route:
            doc_id, section = query.route
            for chunk in self.by_doc.get(doc_id, []):
                hit(chunk.chunk_id).score += TOPIC_LINK_BONUS + (SECTION_BONUS if chunk.section == section else 0.0)
        for h in hits.values():  # warning-sign sections answer questions about them, not every question on pain
            if h.chunk.doc_id == ESCALATION_DOC and ESCALATION_DOC not in query.links:
                h.score -= ESCALATION_PENALTY
        orders = {doc_id: self._section_order(query, doc_id) for doc_id in query.links}
        entry_best: dict[str, tuple[float, float]] = {}  # each named exercise's best and second-best passage
        for doc_id in query.links if not query.sections else ():
            scores = sorted((best_of[c.chunk_id] for c in self.by_doc.get(doc_id, []) if c.chunk_id in best_of),
                            reverse=True)
            if len(scores) > 1 and self.by_doc[doc_id][0].kind == "exercise":
                entry_best[doc_id] = (scores[0], scores[1])
        for h in hits.values():  # sections are per exercise: the intent only counts for the one named
            order = orders.get(h.chunk.doc_id, [])
            if h.chunk.kind == "exercise" and h.chunk.section in order:
                h.score += SECTION_BONUS / (1 + 0.5 * order.index(h.chunk.section))
            elif h.chunk.kind == "topic" and not query.names_exercise:
                h.score += GENERAL_TOPIC_BONUS + self._heading_bonus(h, query.heading_terms, query.links)
            h.score += self._best_line_bonus(h.chunk, best_of, entry_best)
        ranked = sorted(hits.values(), key=lambda h: (-h.score, h.chunk_id))[:k]
        for h in ranked:
            h.statements = self.statements.of_passage(h.chunk_id, line_scores) if self.statements else []
        lap("fuse")
        return ranked


class DenseRetriever(Retriever):
    """Dense and statement rankings only, with the same name and section pulls: the eval's ablation."""

    name = "dense"
    uses_lexical = False


class LexicalRetriever(Retriever):
    """BM25 only, with the same name and section pulls: no question is embedded, so no similarity is known."""

    name = "bm25"
    uses_vectors = False


RETRIEVERS: dict[Mode, type[Retriever]] = {"hybrid": Retriever, "dense": DenseRetriever, "bm25": LexicalRetriever}
