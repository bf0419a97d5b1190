"""Entries and the article -> chunks: stable ids, a context header embedded with the text, metadata.

An entry chunks by section (`clamshell#make-it-harder`), so that a question about making an exercise harder
can land on exactly that passage. The article chunks by small line windows inside the blocks its photo
credits delimit (`source#L35-L36`), labelled with the exercises whose entries cite those lines.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from langchain_core.documents import Document

from .corpus import (
    ARTICLE_DOC_ID,
    Corpus,
    Entry,
    ExerciseMeta,
    Line,
    Section,
    article_attribution,
    article_blocks,
)

ARTICLE_WINDOW = 4
AT_A_GLANCE = "At a glance"


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage. `text` is what is shown and cited; `embed_text` adds the context header."""

    chunk_id: str
    doc_id: str
    kind: str
    title: str
    section: str
    text: str
    source: str
    sources: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    about: tuple[str, ...] = ()
    line_sources: tuple[tuple[str, ...], ...] = ()  # each line's source tags, in the order of `text`'s lines

    @property
    def header(self) -> str:
        return f"{self.title}: {self.section}"

    @property
    def embed_text(self) -> str:
        return f"{self.header}\n{self.text}"

    @property
    def content_hash(self) -> str:
        """Changes whenever anything embedded or stored for the chunk changes."""
        payload = "\x1f".join([self.embed_text, self.source, ";".join(self.sources),
                               "|".join(self.aliases), ",".join(self.about), self.kind,
                               json.dumps(self.line_sources)])
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    def metadata(self) -> dict[str, str | int]:
        """Flat, scalar metadata as Chroma stores it."""
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "kind": self.kind,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "source": self.source,
            "sources": ";".join(self.sources),
            "aliases": "|".join(self.aliases),
            "about": ",".join(self.about),
            "line_sources": json.dumps(self.line_sources),
            "content_hash": self.content_hash,
        }

    @classmethod
    def from_metadata(cls, meta: dict) -> Chunk:
        def split(key: str, sep: str) -> tuple[str, ...]:
            return tuple(v for v in str(meta.get(key, "")).split(sep) if v)

        return cls(
            chunk_id=meta["chunk_id"], doc_id=meta["doc_id"], kind=meta["kind"], title=meta["title"],
            section=meta["section"], text=meta["text"], source=meta["source"], sources=split("sources", ";"),
            aliases=split("aliases", "|"), about=split("about", ","),
            line_sources=tuple(tuple(tags) for tags in json.loads(meta.get("line_sources") or "[]")),
        )

    def to_document(self) -> Document:
        return Document(id=self.chunk_id, page_content=self.embed_text, metadata=self.metadata())


def _at_a_glance(entry: Entry) -> Section | None:
    """The exercise's front-matter facts (targets, equipment, position, level, dosage) as citable lines."""
    meta = entry.meta
    if not isinstance(meta, ExerciseMeta):
        return None
    tags = tuple(meta.references.sources) or ("article",)
    facts = [
        ("Works", ", ".join(meta.targets)),
        ("Equipment", ", ".join(meta.equipment) or "none"),
        ("Position", meta.position),
        ("Level", meta.level),
    ]
    if meta.dosage:
        facts.append(("Dosage", meta.dosage))
    return Section(AT_A_GLANCE, tuple(Line(f"{k}: {v.rstrip('.')}.", "-", tags) for k, v in facts))


def entry_chunks(entry: Entry, source: str) -> list[Chunk]:
    sections = list(entry.sections)
    glance = _at_a_glance(entry)
    if glance:
        sections.insert(1, glance)
    return [
        Chunk(
            chunk_id=f"{entry.id}#{section.slug}", doc_id=entry.id, kind=entry.kind, title=entry.name,
            section=section.title, text=section.body, source=source,
            sources=tuple(dict.fromkeys(t for line in section.lines for t in line.sources)),
            aliases=tuple(entry.meta.aliases), line_sources=tuple(line.sources for line in section.lines),
        )
        for section in sections
        if section.lines
    ]


def article_chunks(corpus: Corpus) -> list[Chunk]:
    """Windows of up to ARTICLE_WINDOW lines that never cross a photo credit or a change of subject."""
    owners = article_attribution(corpus)
    names = {e.id: e.name for e in corpus.entries}
    title = str(corpus.references.get("article", {}).get("title", "Source article"))
    source = corpus.relpath(corpus.article_path)
    windows: list[list[int]] = []
    for block in article_blocks(corpus.article_lines):
        windows.append([block[0]])
        for number in block[1:]:
            current = windows[-1]
            if owners.get(current[0], []) == owners.get(number, []) and len(current) < ARTICLE_WINDOW:
                current.append(number)
            else:
                windows.append([number])
    chunks = []
    for window in windows:
        first, last = window[0], window[-1]
        about = tuple(owners.get(first, []))
        label = f"Lines {first}-{last}" if first != last else f"Line {first}"
        if about:
            label += " (" + ", ".join(names[a] for a in about) + ")"
        chunks.append(Chunk(
            chunk_id=f"{ARTICLE_DOC_ID}#L{first}-L{last}", doc_id=ARTICLE_DOC_ID, kind="article", title=title,
            section=label, text="\n".join(corpus.article_lines[n - 1].strip() for n in window), source=source,
            sources=(f"article:{first}-{last}",), about=about,
            line_sources=tuple((f"article:{n}",) for n in window),
        ))
    return chunks


STATEMENT = "statement"
LIST_MARKER = re.compile(r"^(\d+\.|-)\s+")  # "1. " and "- " in a section's text


def statement_lines(chunk: Chunk) -> list[tuple[str, tuple[str, ...]]]:
    """A passage's statements, list markers dropped, each with its source tags."""
    lines = chunk.text.splitlines()
    tags = [*chunk.line_sources[: len(lines)], *[()] * (len(lines) - len(chunk.line_sources))]
    cleaned = ((LIST_MARKER.sub("", line).strip(), t) for line, t in zip(lines, tags, strict=True))
    return [(text, t) for text, t in cleaned if text]


def statement_units(chunks: list[Chunk]) -> list[Chunk]:
    """Every statement of every passage as its own retrievable unit (`clamshell#make-it-harder~3f2a9c01d4`), keyed
    by its text so that editing one line re-embeds that statement alone, embedded with
    its passage's header and pointing back at it (`about`), so an answer can be built from the lines that answer
    the ask while each marker still cites the passage that says them."""
    units = []
    for chunk in chunks:
        seen: set[str] = set()
        for text, tags in statement_lines(chunk):
            key = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]  # by content: an inserted line adds one
            while key in seen:
                key += "x"
            seen.add(key)
            if chunk.kind == "article":  # by line, not by window: regrouping the windows changes no statement
                line = next((t.split(":", 1)[1] for t in tags if t.startswith("article:")), "")
                unit_id, section, parent = f"{ARTICLE_DOC_ID}#L{line}~{key}", f"Line {line}", ()
            else:
                unit_id, section, parent = f"{chunk.chunk_id}~{key}", chunk.section, (chunk.chunk_id,)
            units.append(Chunk(
                chunk_id=unit_id, doc_id=chunk.doc_id, kind=STATEMENT, title=chunk.title, section=section,
                text=text, source=chunk.source, sources=tags, about=parent, line_sources=(tags,),
            ))
    return units


def chunk_corpus(corpus: Corpus) -> list[Chunk]:
    """All chunks of the corpus, in a stable order."""
    chunks: list[Chunk] = []
    for entry in corpus.entries:
        chunks += entry_chunks(entry, corpus.relpath(entry.path))
    chunks += article_chunks(corpus)
    return chunks
