"""`Assistant`: the stages wired together — guard, condense, retrieve, compose — behind one `ask`."""

from __future__ import annotations

import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from .answer import Answer, RefusalReason
from .chunking import STATEMENT, Chunk
from .compose import across_passages, best_lines, draft_answer, passage_lines, red_flag_draft, render, says_again
from .condense import clean_history, resolve
from .config import Settings
from .errors import InvalidQuestion
from .generative import OnDelta, Writer
from .guard import NO_EVIDENCE_SIMILARITY, Verdict, clean_question, in_domain, judge_evidence, life_stages, screen
from .intent import detect_intents
from .provenance import Provenance
from .redflag_similarity import Exemplars, embed_pieces
from .redflags import LABELS, PAIN, PERSONAL, Sign
from .retrieve import RETRIEVERS, Hit, Mode, PassageRetriever, Query
from .statements import Statements
from .text import ASK_PHRASE, CAUSE_ASK, RECOVERY_TIME, SITUATION_ASK, TIMELINE_ASK, normalise, split_asks, sub_asks
from .vocabulary import content_words

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
RED_FLAG_LEADS = {
    "emergency": ("**Please get emergency help now.** You mention {signs}. That can be a sign of something serious: "
                  "call emergency services (999 in the UK) or go to the emergency department. Do not exercise "
                  "through it."),
    "soon": ("**Please get medical care now: see a doctor soon, today if you can.** You mention {signs}, which can "
             "be a warning sign that needs a clinician: contact your doctor or urgent care (after an operation, the "
             "team that did it). If it gets worse or you feel very unwell, call emergency services. Do not exercise "
             "through it."),
}
# The warning-signs section of when-to-see-a-clinician that answers each red-flag category.
RED_FLAG_SECTIONS = {
    "trauma": "After a fall or injury", "infection": "Sudden severe joint pain, with fever or swelling",
    "sudden_severe": "Sudden severe joint pain, with fever or swelling",
    "cauda_equina": "Numbness in the groin or saddle area, or bladder and bowel changes",
    "clot": "Calf pain or swelling, especially after surgery", "cardio": "Warning signs while exercising",
    "child": "A child with hip pain or a limp", "post_surgery": "After a hip replacement or hip surgery",
    "serious_illness": "Cancer history, weight loss or pain at night",
}
DECLINED = {"diagnosis": "diagnoses", "medicine": "medicines", "injection": "injections", "scan": "scans"}
# A story with content-free asks ("any advice?") is answered in parts; this is the first and the last part.
CANNOT_DIAGNOSE = ("weakness-and-pain#summary", "assessment by a clinician")  # the pain entry's own line
WARNING_SIGNS = ("when-to-see-a-clinician#summary", "urgent medical help")
# "while pregnant", "during chemo": the person's condition, which the sources must know to answer
CONDITION_QUALIFIER = re.compile(r"\b(?:while|whilst|during|if i'?m|if i am|when i'?m|when i am|since i'?m)\s+"
                                 r"(?:being |having |my )?([a-z]+)", re.IGNORECASE)
# A story's "what usually helps" part is drawn from these passages: assessment and exercise, progressing safely,
# what soreness is normal (issue 14's parts of an answer to "what should I do?").
WHAT_HELPS = frozenset({"weakness-and-pain#what-has-helped", "running-injuries#where-exercises-fit",
                        "physical-therapy#what-the-exercises-aim-to-do", "safe-progression#summary",
                        "safe-progression#how-it-should-feel"})
HELPS_LINES = 2
STORY_ENTRIES = 2  # entries quoted about a case like the one told (two lines each)
EXERCISE_SITUATION = 0.58  # cosine to an exercise's passage at which a one-sentence situation is about that exercise
GIST_WORDS = 60  # a story is searched by this many words of it: a long text costs several short encodes
STORY_CANDIDATES = 20  # a story is answered from the general entries; search deep enough to find three
RECOVERY_TIME_GAP = "how long recovery takes"  # said plainly when asked and no source gives a time
MIN_ASK_WORDS = 2  # an ask with fewer content words the corpus knows leans on its story ("any advice?")
MIN_NOTED_LETTERS = 6  # shorter unknown words are mostly idiom ("up to snuff"), not a subject the person asks about


def _best_similarity(hits: list[Hit]) -> float | None:
    return max((h.dense for h in hits if h.dense is not None), default=None)


@contextmanager
def _timed(timings: dict[str, float], stage: str) -> Iterator[None]:
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + (time.perf_counter() - start) * 1000


class Assistant:
    """Answers questions from the indexed corpus, with citations. Build one with `Assistant.load()`."""

    def __init__(self, chunks: list[Chunk], store, embeddings, settings: Settings, retriever: PassageRetriever):
        self.chunks = chunks
        self.store = store
        self.embeddings = embeddings
        self.settings = settings
        self.retriever = retriever
        self.titles = {c.doc_id: c.title for c in chunks}
        self.gives_recovery_times = any(RECOVERY_TIME.search(c.text) for c in chunks)
        self.covered_stages = {stage for c in chunks for stage in life_stages(c.text)}
        self.provenance = Provenance.load(settings.corpus_dir, chunks)
        self.writer = Writer(settings, embeddings) if settings.llm else None
        statements = retriever.statements
        harmless = (statements.vectors[[i for i, u in enumerate(statements.units) if u.doc_id != RED_FLAG_DOC]]
                    if statements and statements.units else None)
        self.exemplars = Exemplars.load(settings.corpus_dir, embeddings, settings.state_dir / "screen", harmless)

    def similar_signs(self, message: str) -> list[Sign]:
        """Warning signs in wording the rules do not know, by closeness to the exemplar sentences."""
        if not self.exemplars:
            return []
        return self.exemplars.signs(*embed_pieces(self.embeddings, message))

    def screen(self, message: str) -> Verdict | None:
        """The guard's verdict on a cleaned message: the rules, with the semantic red-flag screen beside them."""
        return screen(message, self.similar_signs)

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None,
             build_if_missing: bool = True, progress: bool = False, retriever: Mode = "hybrid",
             linking: bool = True) -> Assistant:
        """Open the index (building it first when there is none) and prepare everything a question needs. With no
        `settings`, they come from the GLUTE_* environment (`Settings.from_env()`); `retriever` is hybrid, dense
        or bm25."""
        from .embeddings import load_embeddings
        from .index import ingest
        from .store import open_backend

        settings = settings or Settings.from_env()
        if index_dir is not None:
            settings = settings.with_overrides(index_dir=Path(index_dir).expanduser().resolve())
        if build_if_missing and not open_backend(settings).exists():
            ingest(settings, progress=progress)
        store = open_backend(settings).open()
        chunks = sorted((Chunk.from_metadata(m) for m in store.get(where={"kind": {"$ne": STATEMENT}},
                                                                    include=["metadatas"])["metadatas"]),
                        key=lambda c: c.chunk_id)
        statements = Statements.from_store(store, chunks)
        embeddings = load_embeddings(settings)
        return cls(chunks, store, embeddings, settings,
                   RETRIEVERS[retriever](chunks, store, linking=linking, statements=statements))

    def ask(self, question: str, history: list[dict] | None = None, *, on_delta: OnDelta | None = None) -> Answer:
        """Answer one question, using the conversation so far to resolve follow-ups. With an LLM configured,
        `on_delta` receives its raw text as it streams (not yet verified: for progress only)."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        raw = question if isinstance(question, str) else ""
        try:
            with _timed(timings, "guard"):
                text = clean_question(question)
                verdict = self.screen(text)
        except InvalidQuestion as exc:
            return self._refusal(raw, raw, "invalid_input", timings, started, detail=str(exc))
        if verdict and verdict.action == "refuse":  # decided on the person's own words, nothing added
            return self._refusal(text, text, verdict.reason, timings, started)
        if verdict and verdict.action == "escalate":
            return self._red_flag(text, verdict, timings, started)
        focus = normalise(verdict.keep if verdict else text)
        asks, context = split_asks(focus)
        with _timed(timings, "condense"):
            turns = clean_history(history)
            resolved = resolve(focus, turns, self.retriever, self.embeddings.embed_query, story=bool(context))
            standalone = resolved.question
        if resolved.refusal and not verdict:  # read with what it refers back to, it asks for a diagnosis
            return self._refusal(text, standalone, resolved.refusal, timings, started)
        if resolved.draft and not verdict:  # "which one is the easiest?": from the entries it refers back to
            return resolved.answer(text, timings, started)
        if self.writer and turns and not context and not self.retriever.names(standalone):
            with _timed(timings, "condense"):
                standalone = self.writer.condense(text, turns) or standalone
        situation = (any(SITUATION_ASK.search(a) for a in asks) and bool(PERSONAL.search(focus))
                     and not self.retriever.names_exercise(focus))  # the person's own pain, not a topic's
        # an ask is read with the sentences of its story that name an entry ("these exercises", "clams are too easy")
        named = [c for c in context if self.retriever.names(c)]
        leans = bool(context) and not named and self._leans_on_story(asks)  # "any advice?": search the story
        asks_intent = bool(detect_intents(" ".join(asks)))
        story = situation or (leans and not asks_intent)
        search_text = (standalone if not context else self._gist(context, asks) if story or leans
                       else " ".join(named + asks))
        with _timed(timings, "retrieve"):  # a story is answered from deeper down the ranking: one search serves both
            query, deep = self.search(search_text, STORY_CANDIDATES if story else self.settings.top_k, timings)
        hits = deep[: self.settings.top_k]
        if (situation and not context and hits and hits[0].chunk.kind == "exercise"
                and (hits[0].dense or 0) >= EXERCISE_SITUATION):  # "dizzy doing side planks": that exercise; a
            story = leans and not asks_intent  # story that only mentions lying on a side, or "my hip hurts", is not
        best = _best_similarity(hits)
        if context and not story and (best or 0) < NO_EVIDENCE_SIMILARITY:  # the asks alone are too thin:
            story, search_text = True, self._gist(context, asks)               # read them with their story
            with _timed(timings, "retrieve"):
                query, deep = self.search(search_text, STORY_CANDIDATES, timings)
            hits = deep[: self.settings.top_k]
            best = _best_similarity(hits)
        if not self.retriever.uses_vectors and hits:
            best = 1.0  # no similarity to judge by; trust the lexical match
        declined = list(verdict.declined) if verdict else []
        not_covered = self._not_covered(asks, query) if context or declined else []
        each = sub_asks(asks)
        timeline = [] if self.gives_recovery_times else [a for a in each if TIMELINE_ASK.search(a)]
        if timeline and len(timeline) == len(each) and not situation:  # it asks only what no source says
            return self._refusal(text, standalone, "no_evidence", timings, started)
        if timeline:
            not_covered.append(RECOVERY_TIME_GAP)
        conditions = {m.group(1).lower() for m in CONDITION_QUALIFIER.finditer(focus)}
        if (conditions & set(self.retriever.unknown(focus) if conditions else ())
                or life_stages(focus) - self.covered_stages):
            reason: RefusalReason | None = "no_evidence"  # the person's condition appears nowhere in the sources
        elif story or context or declined:  # words outside the corpus in a story do not refuse an ask it covers;
            domain = bool(query.links or query.route) or in_domain(focus)  # no passage close enough to it does
            reason = None if hits and domain and (best or 0) >= NO_EVIDENCE_SIMILARITY else (
                "no_evidence" if domain else "off_topic")
        else:
            targeted = bool(query.route) or (query.names_exercise and bool(set(query.intents) - UNTARGETED_INTENTS))
            linked = bool(query.links or query.route)  # a general route names its entry as surely as an alias does
            reason = judge_evidence(standalone, linked, targeted, query.unknown, best) if hits else "no_evidence"
        if reason:
            return self._refusal(text, standalone, reason, timings, started)
        notes = self._notes(declined, not_covered)
        with _timed(timings, "compose"):
            if story:  # what the sources say about a case like this, what usually helps, the warning signs
                similar = self.retriever.statements.similar if self.retriever.statements else None
                topics = [h for h in deep if h.chunk.kind == "topic" and h.chunk.doc_id != RED_FLAG_DOC
                          and h.chunk_id not in WHAT_HELPS]
                draft = across_passages("Here is what my sources say:", search_text, topics or hits,
                                        passages=STORY_ENTRIES, similar=similar)
                draft.points += self._what_helps(deep, search_text, [line for line, _ in draft.points])
                if PAIN.search(focus):  # the cause of pain needs an assessment: said first, and cited
                    draft.points[:0] = self._fixed_points(CANNOT_DIAGNOSE)
                    draft.lead = "I can't tell what is causing it; here is what my sources say:"
                    if any(CAUSE_ASK.search(a) for a in asks) and "diagnosis" not in declined:
                        declined.append("diagnosis")  # declined by that first line: no closing note repeats it
                draft.points += self._fixed_points(WARNING_SIGNS)
            else:
                draft = draft_answer(search_text, query, hits, self.settings.max_points)
            answer_text, citations = render(draft, notes, self.provenance)
        mode, fallback_reason = "extractive", None
        if self.writer:
            with _timed(timings, "generate"):
                written = self.writer.answer(standalone, hits, on_delta)
            if written.fallback_reason is None:
                mode, answer_text, citations = "generative", written.answer, written.citations
            fallback_reason = written.fallback_reason
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(text, standalone, answer_text, citations, mode=mode, timings_ms=timings,
                      fallback_reason=fallback_reason, declined=declined, not_covered=not_covered)

    @staticmethod
    def _gist(context: list[str], asks: list[str]) -> str:
        """What a story is about, short enough to encode in a few milliseconds: its sentences about pain first (what
        the person feels matters more than the training log around it), then those about the hip or an exercise,
        up to GIST_WORDS words, in the story's order, then its asks; a story with none of those, its opening."""
        ranked = ([c for c in context if PAIN.search(c)] + [c for c in context if not PAIN.search(c) and in_domain(c)]
                  or context)
        chosen: set[str] = set()
        words = 0
        for sentence in ranked:
            if chosen and words + len(sentence.split()) > GIST_WORDS:
                break
            chosen.add(sentence)
            words += len(sentence.split())
        return " ".join([*(c for c in context if c in chosen), *asks])

    def _leans_on_story(self, asks: list[str]) -> bool:
        """The asks carry too little of their own ("any advice?", "what should I do?") to search alone."""
        joined = " ".join(asks)
        known = [w for w in content_words(joined) if w not in set(self.retriever.unknown(joined))]
        return not self.retriever.names(joined) and len(known) < MIN_ASK_WORDS

    def _not_covered(self, asks: list[str], query: Query) -> list[str]:
        """Words of the asks (not the story around them) that no entry uses: said plainly, not guessed at."""
        asked = ASK_PHRASE.sub(" ", " ".join(asks))  # "any suggestions welcome" names no subject
        unknown = set(self.retriever.unknown(asked))
        return [w for w in dict.fromkeys(content_words(asked)) if w in unknown and len(w) >= MIN_NOTED_LETTERS][:3]

    @staticmethod
    def _notes(declined: list[str], not_covered: list[str]) -> list[str]:
        notes = []
        if not_covered:
            notes.append(f"My sources don't cover {', '.join(not_covered)} specifically.")
        if declined:
            parts = " or ".join(DECLINED[d] for d in declined)
            notes.append(f"I can't advise on {parts}: please ask your doctor, physical therapist or pharmacist.")
        return notes

    def _what_helps(self, deep: list[Hit], story: str, said: list[str]) -> list[tuple[str, Chunk]]:
        """The lines of the what-helps passages (WHAT_HELPS) closest to the story, not already said and not
        near-duplicates of each other."""
        statements = self.retriever.statements
        candidates = sorted(((score, line, h.chunk, row) for h in deep if h.chunk_id in WHAT_HELPS
                             for line, score, row in h.statements), key=lambda c: -c[0])
        if not candidates:  # an index without statements: the first such passage's best line
            found = [h.chunk for h in deep if h.chunk_id in WHAT_HELPS][:1]
            return [(line, chunk) for chunk in found for line in best_lines(chunk, story, 1)]
        points: list[tuple[str, Chunk]] = []
        rows: list[int] = []
        for _, line, chunk, row in candidates:
            if says_again(line, said + [p for p, _ in points]) or (statements and statements.similar(row, rows)):
                continue
            points.append((line, chunk))
            rows.append(row)
            if len(points) == HELPS_LINES:
                break
        return points

    def _fixed_points(self, where: tuple[str, str]) -> list[tuple[str, Chunk]]:
        """One statement of a passage, found by the words it contains (so a reworded corpus line is not lost)."""
        chunk = self.retriever.passage(where[0])
        if chunk is None:
            return []
        return [(line, chunk) for line in passage_lines(chunk) if where[1] in line.lower()][:1]

    def search(self, standalone: str, k: int, timings: dict[str, float] | None = None) -> tuple[Query, list[Hit]]:
        """What retrieval understood of a standalone question, and its k best passages."""
        timings = timings if timings is not None else {}
        query = self.retriever.understand(standalone)
        with _timed(timings, "embed"):
            vector = self.embeddings.embed_query(query.search_text) if self.retriever.uses_vectors else None
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

    def _red_flag(self, question: str, verdict: Verdict, timings: dict[str, float], started: float) -> Answer:
        """Lead with advice to seek care at the level of the most urgent sign, naming the signs seen; cite the
        warning-signs passage of each sign, never an exercise."""
        flags = [s.flag for s in verdict.signs]
        with _timed(timings, "compose"):
            sections = list(dict.fromkeys(RED_FLAG_SECTIONS[f] for f in flags))
            chunks = [c for s in sections for c in self.retriever.passages_of(RED_FLAG_DOC) if c.section == s]
            signs = " and ".join(LABELS[f] for f in flags[:2])
            lead = RED_FLAG_LEADS[verdict.level or "soon"].format(signs=signs)
            answer_text, citations = render(red_flag_draft(lead, question, chunks), provenance=self.provenance)
        timings.setdefault("retrieve", 0.0)
        timings["total"] = (time.perf_counter() - started) * 1000
        return Answer(question, question, answer_text, citations, safety="red_flag", timings_ms=timings,
                      safety_level=verdict.level, warning_signs=flags)

    def as_runnable(self) -> Runnable:
        """The assistant as a LangChain Runnable: {"question", "history"} -> Answer."""
        from langchain_core.runnables import RunnableLambda

        return RunnableLambda(lambda inputs: self.ask(inputs["question"], inputs.get("history")), name="glute")
