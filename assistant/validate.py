"""`glute corpus check`: every fault a reviewer would catch, named by file and field."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from .corpus import ARTICLE_KEY, ARTICLE_RANGE, ENTRY_ID, EXERCISE_SECTIONS, PHOTO_CREDIT, Corpus, Entry
from .linking import normalize

CITATION_MARKER = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the corpus, named by file and field."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def _article_lines_of(tag: str) -> list[int] | None:
    match = ARTICLE_RANGE.match(tag)
    if not match:
        return None
    start = int(match.group(1))
    end = int(match.group(2) or start)
    return list(range(start, end + 1))


def _check_article_line(corpus: Corpus, file: str, field: str, number: int) -> list[Problem]:
    if not 1 <= number <= len(corpus.article_lines):
        return [Problem(file, field, f"article line {number} is out of range 1-{len(corpus.article_lines)}")]
    if PHOTO_CREDIT.match(corpus.article_lines[number - 1]):
        return [Problem(file, field, f"article line {number} is a photo credit, not a statement")]
    return []


def _check_sections(entry: Entry, file: str) -> list[Problem]:
    titles = [s.title for s in entry.sections]
    problems = []
    if entry.kind == "exercise":
        for missing in (t for t in EXERCISE_SECTIONS if t not in titles):
            problems.append(Problem(file, f"section '{missing}'", "missing"))
        for extra in (t for t in titles if t not in EXERCISE_SECTIONS):
            problems.append(Problem(file, f"section '{extra}'", "not one of the exercise sections"))
        known = [t for t in titles if t in EXERCISE_SECTIONS]
        if known != [t for t in EXERCISE_SECTIONS if t in known]:
            problems.append(Problem(file, "sections", f"out of order; expected {', '.join(EXERCISE_SECTIONS)}"))
        steps = entry.section("How to do it")
        if steps and any(not line.marker[:-1].isdigit() for line in steps.lines):
            problems.append(Problem(file, "section 'How to do it'", "steps must be a numbered list"))
    elif not titles or titles[0] != "Summary":
        problems.append(Problem(file, "sections", "a topic starts with a 'Summary' section"))
    for title, count in Counter(titles).items():
        if count > 1:
            problems.append(Problem(file, f"section '{title}'", "appears more than once"))
    for section in entry.sections:
        if not section.lines:
            problems.append(Problem(file, f"section '{section.title}'", "is empty"))
    return problems


def _check_sources(corpus: Corpus, entry: Entry, file: str) -> list[Problem]:
    problems = []
    refs = entry.meta.references
    for key in refs.sources:
        if key not in corpus.references:
            problems.append(Problem(file, "references.sources", f"unknown reference key '{key}'"))
    for number in refs.article:
        problems += _check_article_line(corpus, file, "references.article", number)
    for section in entry.sections:
        for line in section.lines:
            field = f"section '{section.title}'"
            if not line.sources:
                problems.append(Problem(file, field, f"line without a source tag: {line.text[:60]!r}"))
            if CITATION_MARKER.search(line.text):
                problems.append(Problem(file, field, f"text looks like a citation marker: {line.text[:60]!r}"))
            for tag in line.sources:
                numbers = _article_lines_of(tag)
                if numbers is not None:
                    for number in numbers:
                        problems += _check_article_line(corpus, file, field, number)
                        if number not in refs.article:
                            problems.append(Problem(file, field, f"cites article line {number}, "
                                                    "which references.article does not list"))
                elif tag not in corpus.references or tag == ARTICLE_KEY:
                    problems.append(Problem(file, field, f"unknown source tag '{{{tag}}}'"))
                elif tag not in refs.sources:
                    problems.append(Problem(file, field, f"cites '{tag}', which references.sources does not list"))
    return problems


def check_corpus(corpus: Corpus) -> list[Problem]:
    """All problems found; an empty list means the corpus is fit to ingest."""
    problems: list[Problem] = []
    ids = Counter(e.id for e in corpus.entries)
    names: dict[str, str] = {}
    for entry in corpus.entries:
        file = corpus.relpath(entry.path)
        if not ENTRY_ID.match(entry.id):
            problems.append(Problem(file, "id", f"'{entry.id}' must be lowercase words joined by hyphens"))
        if entry.path.stem != entry.id:
            problems.append(Problem(file, "id", f"'{entry.id}' does not match the file name"))
        if ids[entry.id] > 1:
            problems.append(Problem(file, "id", f"duplicate id '{entry.id}'"))
        for alias in [entry.name, *entry.meta.aliases]:
            key = normalize(alias).removesuffix("s")  # "clam shell", "Clam-shells" and "clam shells" collide
            if key in names and names[key] != entry.id:
                problems.append(Problem(file, "aliases", f"'{alias}' is also a name or alias of '{names[key]}'"))
            names.setdefault(key, entry.id)
        for related in entry.meta.related:
            if related not in ids:
                problems.append(Problem(file, "related", f"unknown entry id '{related}'"))
        problems += _check_sections(entry, file)
        problems += _check_sources(corpus, entry, file)
    for key, ref in corpus.references.items():
        if key != ARTICLE_KEY and not ref.get("title"):
            problems.append(Problem("corpus/references.yaml", key, "needs a title"))
        if key != ARTICLE_KEY and not (ref.get("doi") or ref.get("url") or ref.get("journal")):
            problems.append(Problem("corpus/references.yaml", key, "needs a doi, url or journal"))
    return problems


def coverage(corpus: Corpus, chunk_count: int) -> dict[str, int]:
    """The numbers the coverage report prints."""
    cited_lines = {n for e in corpus.entries for n in e.meta.references.article}
    statement_lines = [
        n for n, text in enumerate(corpus.article_lines, 1) if text.strip() and not PHOTO_CREDIT.match(text)
    ]
    return {
        "exercises": len(corpus.exercises),
        "topics": len(corpus.topics),
        "sections": sum(len(e.sections) for e in corpus.entries),
        "statements": sum(len(s.lines) for e in corpus.entries for s in e.sections),
        "references": len(corpus.references),
        "article_lines_cited": len(cited_lines & set(statement_lines)),
        "article_lines": len(statement_lines),
        "chunks": chunk_count,
    }
