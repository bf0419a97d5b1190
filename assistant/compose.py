"""Extractive answers: a lead line naming the exercise, then up to four points copied from the best
passages, each ending with the marker of the passage it came from. Nothing else is said."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .answer import Citation
from .chunking import AT_A_GLANCE, Chunk, statement_lines
from .intent import INTENT_LINES
from .provenance import Provenance, line_tags
from .retrieve import Hit, Query

LEADS = {
    "Make it harder": "To make the {name} harder:",
    "Make it easier": "To make the {name} easier:",
    "How to do it": "How to do the {name}:",
    "Common mistakes": "Common mistakes with the {name}:",
    "Cautions": "Cautions for the {name}:",
    "Tips": "Tips for the {name}:",
    "Summary": "About the {name}:",
    AT_A_GLANCE: "The {name} at a glance:",
}
INTENT_LEADS = {"dosage": "How much and how often to do the {name}:",
                "placement": "Where the band or weight goes for the {name}:"}
MARKER = re.compile(r"\[\d+\]")
WORD_WEIGHT = 0.02  # a shared word is worth this much cosine when choosing lines by meaning
WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset((
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "my", "me", "i", "you", "your",
    "it", "is", "are", "do", "does", "how", "what", "can", "should", "this", "that", "be", "at", "by",
    "from", "as", "if", "so", "about", "which", "when", "why",
))


@dataclass
class Draft:
    """An answer before rendering: the lead sentence, then each point with the passage it quotes."""

    lead: str
    points: list[tuple[str, Chunk]]


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _terms(text: str) -> set[str]:
    return set(_stemmer().stemWords([w for w in WORD.findall(text.lower()) if w not in STOP]))


SAME_WORDS = 0.6  # share of their content words two lines have in common when one only says the other again


def says_again(line: str, said: list[str]) -> bool:
    """Whether `line` repeats one of `said` in other words: two entries may state one trial's finding, each under
    its own heading (which keeps their vectors apart)."""
    words = _terms(line)
    return any(len(words & other) >= SAME_WORDS * min(len(words), len(other)) for other in map(_terms, said))


def _grouped(lines: list[str], groups: int) -> list[str]:
    """Consecutive steps joined so that a long how-to still fits in `groups` points, none left out."""
    size = -(-len(lines) // groups)
    return [" ".join(lines[i : i + size]) for i in range(0, len(lines), size)]


def _lead(chunk: Chunk) -> str:
    if chunk.kind == "exercise":
        return LEADS.get(chunk.section, "About the {name}:").format(name=chunk.title.lower())
    if chunk.kind == "topic":
        return f"{chunk.title} ({chunk.section.lower()}):"
    return "From the source article:"


def passage_lines(chunk: Chunk) -> list[str]:
    """The statements of a passage, without list markers; any that could pass for a citation marker are never
    quoted (the validator rejects them, this guards indexes written by other means)."""
    return [text for text, _ in statement_lines(chunk) if not MARKER.search(text)]


def best_lines(chunk: Chunk, question: str, limit: int, statements: Sequence[tuple[str, float, int]] = ()) -> list[str]:
    """The lines that answer the question best, kept in their original order: by the similarity of each
    statement to the question when the index has statements, with shared words as a small tie-breaker; by
    shared words alone otherwise (ties: earlier first)."""
    lines = passage_lines(chunk)
    wanted = _terms(question)
    meaning = {text: score for text, score, _ in statements}
    scored = sorted(range(len(lines)), key=lambda i: (-(meaning.get(lines[i], 0.0) + WORD_WEIGHT *
                                                        len(_terms(lines[i]) & wanted)), i))[:limit]
    return [lines[i] for i in sorted(scored)]


def draft_answer(question: str, query: Query, hits: list[Hit], max_points: int = 4) -> Draft:
    """Quote one passage: the best one in the section the intent asks for, else the best-ranked one. Sections
    are written to answer one kind of question each, so a short one is quoted whole; a long how-to is grouped
    into steps; any other long passage gives the lines sharing most words with the question."""
    focus = [h for h in hits if h.chunk.kind != "article"] or hits
    on_target = [h for h in focus if h.chunk.section in query.sections and h.chunk.doc_id in query.links]
    if on_target and (draft := _intent_lines(query, [h.chunk for h in on_target], max_points)):
        return draft
    chunk = (on_target or focus)[0].chunk
    lines = passage_lines(chunk)
    if len(lines) > max_points:
        if chunk.section == "How to do it":
            lines = _grouped(lines, max_points)
        else:
            lines = best_lines(chunk, question, max_points, (on_target or focus)[0].statements)
    return Draft(_lead(chunk), [(line, chunk) for line in lines])


def _intent_lines(query: Query, chunks: list[Chunk], max_points: int) -> Draft | None:
    """When the lead intent is answered by one kind of statement, those statements from the named exercise's
    sections, in the order the intent prefers the sections, each citing its own passage."""
    lead_intent = query.intents[0] if query.intents else ""
    if lead_intent not in INTENT_LINES:
        return None
    ordered = sorted((c for c in chunks if c.doc_id == chunks[0].doc_id), key=lambda c: query.sections.index(c.section))
    wanted = INTENT_LINES[lead_intent]
    points = [(line, chunk) for chunk in ordered for line in passage_lines(chunk) if wanted.search(line)]
    if not points:
        return None
    return Draft(INTENT_LEADS[lead_intent].format(name=chunks[0].title.lower()), points[:max_points])


def render(draft: Draft, notes: list[str] | None = None,
           provenance: Provenance | None = None) -> tuple[str, list[Citation]]:
    """Markdown with markers numbered 1..n in order of first use, and one citation per marker, each knowing the
    origin of every statement it quotes; `notes` (what the sources do not cover, what glute declines) close the
    answer in italics, as glute's own words."""
    markers: dict[str, int] = {}
    citations: list[Citation] = []
    body = []
    for text, chunk in draft.points:
        if chunk.chunk_id not in markers:
            markers[chunk.chunk_id] = len(markers) + 1
            citations.append(Citation(
                marker=markers[chunk.chunk_id], chunk_id=chunk.chunk_id, doc_id=chunk.doc_id, title=chunk.title,
                section=chunk.section, text=chunk.text, source=chunk.source,
            ))
        if provenance is not None:
            cited = citations[markers[chunk.chunk_id] - 1]
            origins = provenance.origins(line_tags(chunk, text))
            cited.statements.append({"text": text, "provenance": origins})
            cited.provenance.extend(o for o in origins if o not in cited.provenance)
        body.append(f"- {text} [{markers[chunk.chunk_id]}]")
    return "\n".join([draft.lead, *body, *(f"_{note}_" for note in notes or [])]), citations


def red_flag_draft(lead: str, question: str, chunks: list[Chunk], max_points: int = 4) -> Draft:
    """The red-flag lead, then from each warning-signs passage that matches a sign seen (most urgent first) the
    lines closest to what the person describes, so each sign gets its own advice."""
    per_chunk = max(1, max_points // max(1, len(chunks)))
    points = [(line, chunk) for chunk in chunks for line in best_lines(chunk, question, per_chunk)]
    return Draft(lead, points[:max_points])


def across_passages(lead: str, question: str, hits: list[Hit], passages: int = 3, per_passage: int = 2,
                    similar: Callable[[int, list[int]], bool] | None = None) -> Draft:
    """An answer drawn from several entries: the best lines of the best passage of each of the first
    `passages` entries, so a story about running, side-lying pain and a race gets more than one view; a line
    that says nearly what an earlier one said is left out."""
    chosen: list[Hit] = []
    for h in hits:
        if h.chunk.kind != "article" and all(c.chunk.doc_id != h.chunk.doc_id for c in chosen):
            chosen.append(h)
        if len(chosen) == passages:
            break
    points, rows = [], []
    for h in chosen:
        row_of = {text: row for text, _, row in h.statements}
        for line in best_lines(h.chunk, question, per_passage, h.statements):
            row = row_of.get(line)
            if row is not None and similar and similar(row, rows):
                continue
            rows += [row] if row is not None else []
            points.append((line, h.chunk))
    return Draft(lead, points)
