"""Extractive answers: a lead line naming the exercise, then up to four points copied from the best
passages, each ending with the marker of the passage it came from. Nothing else is said."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answer import Citation
from .chunking import AT_A_GLANCE, Chunk
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
WHOLE_SECTION_INTENTS = frozenset({"harder", "easier", "howto", "mistakes", "tips", "cautions"})
MARKER = re.compile(r"\[\d+\]")
WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset((
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "my", "me", "i", "you", "your",
    "it", "is", "are", "do", "does", "how", "what", "can", "should", "this", "that", "be", "at", "by",
    "from", "as", "if", "so", "about", "which", "when", "why",
))


@dataclass
class Draft:
    lead: str
    points: list[tuple[str, Chunk]]


def _terms(text: str) -> set[str]:
    return {w[:5] for w in WORD.findall(text.lower()) if w not in STOP}


def _lead(chunk: Chunk, query: Query) -> str:
    if chunk.kind == "exercise":
        return LEADS.get(chunk.section, "About the {name}:").format(name=chunk.title.lower())
    if chunk.kind == "topic":
        return f"{chunk.title} ({chunk.section.lower()}):"
    return "From the source article:"


def _lines(chunk: Chunk) -> list[str]:
    """The statements of a passage, without list markers; any that could pass for a citation marker are never
    quoted (the validator rejects them, this guards indexes written by other means)."""
    lines = (re.sub(r"^(\d+\.|-)\s+", "", line).strip() for line in chunk.text.splitlines())
    return [line for line in lines if line and not MARKER.search(line)]


def _best_lines(chunk: Chunk, question: str, limit: int) -> list[str]:
    """All lines of a section that answers the intent; otherwise the lines sharing most words with the
    question, kept in their original order."""
    lines = _lines(chunk)
    if len(lines) <= limit:
        return lines
    wanted = _terms(question)
    scored = sorted(range(len(lines)), key=lambda i: (-len(_terms(lines[i]) & wanted), i))[:limit]
    return [lines[i] for i in sorted(scored)]


def draft_answer(question: str, query: Query, hits: list[Hit], max_points: int = 4) -> Draft:
    """Choose the passages and the lines to quote: a whole section when the intent names one (how to,
    harder, easier...), otherwise the lines of the best passages that share most words with the question."""
    focus = [h for h in hits if h.chunk.kind != "article"] or hits
    on_target = [h for h in focus if h.chunk.section in query.sections
                 and (not query.links or h.chunk.doc_id in query.links)]
    if on_target and query.intents and query.intents[0] in WHOLE_SECTION_INTENTS:
        chunk = on_target[0].chunk
        return Draft(_lead(chunk, query), [(line, chunk) for line in _lines(chunk)[:max_points]])
    ranked = (on_target + [h for h in focus if h not in on_target])[:3]
    wanted = _terms(question) - _terms(" ".join(query.links).replace("-", " "))
    scored = [
        (len(_terms(line) & wanted), -rank, -i, line, h.chunk)
        for rank, h in enumerate(ranked)
        for i, line in enumerate(_lines(h.chunk))
    ]
    best = sorted((s for s in scored if s[0] > 0), reverse=True)[:max_points]
    if not best:
        chunk = ranked[0].chunk
        return Draft(_lead(chunk, query), [(line, chunk) for line in _lines(chunk)[:max_points]])
    best.sort(key=lambda s: (-s[1], -s[2]))  # passage order, then line order
    return Draft(_lead(best[0][4], query), [(line, chunk) for *_, line, chunk in best])


def render(draft: Draft) -> tuple[str, list[Citation]]:
    """Markdown with markers numbered 1..n in order of first use, and one citation per marker."""
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
        body.append(f"- {text} [{markers[chunk.chunk_id]}]")
    return "\n".join([draft.lead, *body]), citations
