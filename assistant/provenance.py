"""Where each quoted statement really comes from: a line of the source article, or a reference in
corpus/references.yaml. Every corpus line carries its tags ({article:36}, {msdClamshell}); this turns them into
what a reader can check: the article line's own text, or the reference's title, authors, year and address."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from .chunking import Chunk, statement_lines
from .corpus import ARTICLE_RANGE


class Provenance:
    """Resolves source tags against the references and the article lines the index holds."""

    def __init__(self, references: dict[str, dict], article_lines: dict[int, str]):
        self.references = references
        self.article_lines = article_lines

    @classmethod
    def load(cls, corpus_dir: Path, chunks: Iterable[Chunk]) -> Provenance:
        """The references file of the corpus (missing or unreadable: tags are shown as keys only) and the
        article's lines as indexed."""
        import yaml

        try:
            references = yaml.safe_load((Path(corpus_dir) / "references.yaml").read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            references = {}
        lines: dict[int, str] = {}
        for chunk in chunks:
            if chunk.kind == "article":
                for tags, text in zip(chunk.line_sources, chunk.text.splitlines(), strict=False):
                    for tag in tags:
                        match = ARTICLE_RANGE.match(tag)
                        if match:
                            lines[int(match.group(1))] = text.strip()
        return cls(references if isinstance(references, dict) else {}, lines)

    def origins(self, tags: Iterable[str]) -> list[dict[str, Any]]:
        """One origin per article line or reference the tags name, in order, without repeats."""
        found: list[dict[str, Any]] = []
        for tag in tags:
            match = ARTICLE_RANGE.match(tag)
            if match:
                first = int(match.group(1))
                last = int(match.group(2) or first)
                found += [{"kind": "article", "line": n, "text": self.article_lines.get(n, "")}
                          for n in range(first, last + 1)]
            else:
                found.append(self.reference(tag))
        unique: dict[str, dict[str, Any]] = {}
        for origin in found:
            unique.setdefault(f"{origin['kind']}:{origin.get('line', origin.get('key'))}", origin)
        return list(unique.values())

    def reference(self, key: str) -> dict[str, Any]:
        entry = self.references.get(key) or {}
        url = entry.get("url") or (f"https://doi.org/{entry['doi']}" if entry.get("doi") else None)
        return {"kind": "reference", "key": key, "title": entry.get("title") or key,
                "authors": entry.get("authors"), "year": entry.get("year"),
                "publisher": entry.get("journal") or entry.get("publisher"), "url": url}


def line_tags(chunk: Chunk, statement: str) -> tuple[str, ...]:
    """The tags of the passage lines a quoted statement is made of (a grouped how-to joins several)."""
    tags: list[str] = []
    for text, sources in statement_lines(chunk):
        if text in statement:
            tags += sources
    if not tags and chunk.kind == "article":
        tags = list(chunk.sources)
    return tuple(dict.fromkeys(tags))


def describe(origin: dict[str, Any]) -> str:
    """A short 'from:' label for one origin, in plain words: 'source article, line 36' or
    'MSD Manual, Consumer Version — Side-lying hip external rotation (clamshell exercise) <url>'."""
    if origin["kind"] == "article":
        return f"source article, line {origin['line']}"
    who = origin.get("publisher") or origin.get("authors")
    year = f" ({origin['year']})" if origin.get("year") else ""
    label = f"{who} — {origin['title']}{year}" if who else f"{origin['title']}{year}"
    return label + (f" <{origin['url']}>" if origin.get("url") else "")
