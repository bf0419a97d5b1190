"""`Assistant`: the stages wired together — guard, condense, retrieve, compose — behind one `ask`."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import Answer, RefusalReason
from .chunking import Chunk
from .compose import draft_answer, red_flag_draft, render
from .condense import clean_history, condense
from .config import Settings
from .errors import InvalidQuestion
from .generative import OnDelta, Writer
from .guard import clean_question, judge_evidence, screen
from .retrieve import Hit, Mode, Query, Retriever

if TYPE_CHECKING:
    from collections.abc import Iterator

    from langchain_core.runnables import Runnable

RED_FLAG_DOC = "when-to-see-a-clinician"
# Intents too broad to vouch for words the corpus never uses ("how soon after a c-section ...").
UNTARGETED_INTENTS = frozenset({"why", "muscles", "pace"})
SCOPE = ("I can help with gluteus medius (outer hip) pain and the exercises that rehabilitate it: how to do "
         "each one, how to make it easier or harder, common mistakes, and when to see a clinician.")
REFUSALS: dict[str, str] = {
    "invalid_input": "{detail}",
    "off_topic": "Sorry, that is outside what I can help with. " + SCOPE,
    "no_evidence": ("I could not find that in my sources, so I will not guess. " + SCOPE +
                    " For anything else, a physical therapist can advise you."),
    "out_of_scope_medical": ("I can't advise on medicines, injections, scans or diagnoses. Please ask your doctor, "
                             "physical therapist or pharmacist; they can assess you. " + SCOPE),
}
RED_FLAG_LEAD = ("**Please get medical care now.** What you describe can be a warning sign that needs a "
                 "clinician today: contact your doctor or urgent care, or emergency services if it is severe. "
                 "Do not exercise through it.")


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - start) * 1000


class Assistant:
    """Answers questions from the indexed corpus, with citations. Build one with `Assistant.load()`."""

    def __init__(self, chunks: list[Chunk], store, embeddings, settings: Settings, retriever: Retriever):
        self.chunks = chunks
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self.retriever = retriever
        self.titles = {c.doc_id: c.title for c in chunks}
        self.writer = Writer(settings, embeddings) if settings.llm else None

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None,
             build_if_missing: bool = True, progress: bool = False, retriever: Mode = "hybrid",
             linking: bool = True) -> Assistant:
        """Open the index (building it first when there is none) and prepare everything a question needs."""
        from .embeddings import load_embeddings
        from .index import ingest
        from .store import open_backend

        settings = settings or Settings()
        if index_dir is not None:
            settings = settings.with_overrides(index_dir=Path(index_dir).expanduser().resolve())
        if build_if_missing and not open_backend(settings).exists():
            ingest(settings, progress=progress)
        store = open_backend(settings).open()
        chunks = sorted((Chunk.from_metadata(m) for m in store.get(include=["metadatas"])["metadatas"]),
                        key=lambda c: c.chunk_id)
        embeddings = load_embeddings()
        return cls(chunks, store, embeddings, settings, Retriever(chunks, store, mode=retriever, linking=linking))

    def ask(self, question: str, history: list[dict] | None = None, *, on_delta: OnDelta | None = None) -> Answer:
        """Answer one question, using the conversation so far to resolve follow-ups. With an LLM configured,
        `on_delta` receives its raw text as it streams (not yet verified: for progress only)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        raw = question if isinstance(question, str) else ""
        try:
            with _timed(timings, "guard"):
                text = clean_question(question)
                verdict = screen(text)
        except InvalidQuestion as exc:
            return self._refusal(raw, raw, "invalid_input", timings, started, detail=str(exc))
        if verdict and verdict.action == "refuse":  # decided on the person's own words, nothing added
            return self._refusal(text, text, verdict.reason, timings, started)
        if verdict and verdict.action == "escalate":
            return self._red_flag(text, timings, started)
        with _timed(timings, "condense"):
            turns = clean_history(history)
            standalone = condense(text, turns, self.retriever.linker, self.titles)
        if self.writer and turns and not self.retriever.linker.doc_ids(standalone):
            with _timed(timings, "condense"):
                standalone = self.writer.condense(text, turns) or standalone
        with _timed(timings, "retrieve"):
            query, hits = self.search(standalone, self.settings.top_k, timings)
        best = max((h.dense for h in hits if h.dense is not None), default=None)
        if self.retriever.mode == "bm25" and hits:
            best = 1.0  # no similarity to judge by; trust the lexical match
        targeted = query.names_exercise and bool(set(query.intents) - UNTARGETED_INTENTS)
        linked = bool(query.links or query.route)  # a general route names its entry as surely as an alias does
        reason = judge_evidence(standalone, linked, targeted, query.unknown, best) if hits else "no_evidence"
        if reason:
            return self._refusal(text, standalone, reason, timings, started)
        with _timed(timings, "compose"):
            answer_text, citations = render(draft_answer(standalone, query, hits, self.settings.max_points))
        mode, fallback_reason = "extractive", None
        if self.writer:
            with _timed(timings, "generate"):
                written = self.writer.answer(standalone, hits, on_delta)
            if written.fallback_reason is None:
                mode, answer_text, citations = "generative", written.answer, written.citations
            fallback_reason = written.fallback_reason
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(text, standalone, answer_text, citations, mode=mode, timings_ms=timings,
                      fallback_reason=fallback_reason)

    def search(self, standalone: str, k: int, timings: dict[str, float] | None = None) -> tuple[Query, list[Hit]]:
        """What retrieval understood of a standalone question, and its k best passages."""
        timings = timings if timings is not None else {}
        query = self.retriever.understand(standalone)
        with _timed(timings, "embed"):
            vector = self.embeddings.embed_query(query.search_text) if self.retriever.mode != "bm25" else None
        hits = self.retriever.retrieve(standalone, vector, k=k, candidates=max(self.settings.candidates, k),
                                       query=query, timings=timings)
        return query, hits

    def _refusal(self, question: str, standalone: str, reason: RefusalReason, timings: dict[str, float],
                 started: float, detail: str = "") -> Answer:
        timings.setdefault("retrieve", 0.0)
        timings.setdefault("compose", 0.0)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, standalone, REFUSALS[reason].format(detail=detail), refused=True,
                      refusal_reason=reason, timings_ms=timings)

    def _red_flag(self, question: str, timings: dict[str, float], started: float) -> Answer:
        """Lead with advice to seek care; cite the red-flag passages, never an exercise."""
        with _timed(timings, "compose"):
            chunks = [c for c in self.retriever.by_doc.get(RED_FLAG_DOC, []) if c.section != "Summary"]
            answer_text, citations = render(red_flag_draft(RED_FLAG_LEAD, question, chunks))
        timings.setdefault("retrieve", 0.0)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, question, answer_text, citations, safety="red_flag", timings_ms=timings)

    def as_runnable(self) -> Runnable:
        """The assistant as a LangChain Runnable: {"question", "history"} -> Answer."""
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(lambda inputs: self.ask(inputs["question"], inputs.get("history")), name="glute")
