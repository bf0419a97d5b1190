"""Load and validate `corpus/`: entries with YAML front matter, the source article, references.

Every line of an entry ends with a source tag (`{article:36}`, `{moore2019}`) so that each statement
can be traced; the tags are parsed off here and travel with the text as provenance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import CorpusError

EXERCISE_SECTIONS = (
    "Summary",
    "How to do it",
    "Tips",
    "Make it easier",
    "Make it harder",
    "Common mistakes",
    "Cautions",
)
ARTICLE_KEY = "article"
ARTICLE_DOC_ID = "source"
ENTRY_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
PHOTO_CREDIT = re.compile(r"^\S.*\s/\s+Getty Images\s*$")
SOURCE_TAG = re.compile(r"\s*\{([^{}]+)\}\s*$")
LIST_MARKER = re.compile(r"^(?:(\d+)\.|[-*])\s+")
ARTICLE_RANGE = re.compile(r"^article:(\d+)(?:-(\d+))?$")


class References(BaseModel):


    """Where an entry's facts come from: article line numbers and keys of corpus/references.yaml."""

    model_config = ConfigDict(extra="forbid")
    article: list[int] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class EntryMeta(BaseModel):
    """Front matter shared by exercise and topic entries."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str = Field(min_length=2)
    aliases: list[str] = Field(default_factory=list)
    references: References
    notes: str | None = None
    related: list[str] = Field(default_factory=list)


class ExerciseMeta(EntryMeta):


    """Front matter only exercises carry: what they target, what they need, how hard they are."""

    targets: list[str] = Field(min_length=1)
    equipment: list[str] = Field(default_factory=list)
    position: str
    level: Literal["beginner", "intermediate", "advanced"]
    dosage: str | None = None


@dataclass(frozen=True)
class Line:
    """One statement: its text (list marker and tag removed), its list marker, and its sources."""

    text: str
    marker: str
    sources: tuple[str, ...]

    def render(self) -> str:
        return f"{self.marker} {self.text}" if self.marker else self.text


@dataclass(frozen=True)
class Section:
    """One `##` section of an entry, line by line (each line with its source tags)."""

    title: str
    lines: tuple[Line, ...]

    @property
    def slug(self) -> str:
        return slugify(self.title)

    @property
    def body(self) -> str:
        return "\n".join(line.render() for line in self.lines)


@dataclass(frozen=True)
class Entry:
    """One corpus file: its front matter and sections."""

    kind: Literal["exercise", "topic"]
    meta: EntryMeta
    sections: tuple[Section, ...]
    path: Path

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def name(self) -> str:
        return self.meta.name

    def section(self, title: str) -> Section | None:
        return next((s for s in self.sections if s.title == title), None)


@dataclass
class Corpus:
    """The whole knowledge base as read from disk: entries, the source article and the references."""

    root: Path
    entries: list[Entry]
    article_lines: list[str]
    references: dict[str, dict]
    article_path: Path = field(default_factory=Path)

    @property
    def exercises(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "exercise"]

    @property
    def topics(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "topic"]

    def relpath(self, path: Path) -> str:
        """Paths as users see them in citations, e.g. corpus/exercises/clamshell.md, wherever the corpus lives."""
        try:
            return f"corpus/{path.relative_to(self.root).as_posix()}"
        except ValueError:
            return str(path)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def split_tag(raw: str) -> tuple[str, tuple[str, ...]]:
    """'Loop a band. {article:36; moore2019}' -> ('Loop a band.', ('article:36', 'moore2019'))."""
    match = SOURCE_TAG.search(raw)
    if not match:
        return raw.strip(), ()
    tags = tuple(t.strip() for t in match.group(1).split(";") if t.strip())
    return raw[: match.start()].strip(), tags


def parse_line(raw: str) -> Line:
    text, tags = split_tag(raw)
    marker_match = LIST_MARKER.match(text)
    marker = ""
    if marker_match:
        marker = f"{marker_match.group(1)}." if marker_match.group(1) else "-"
        text = text[marker_match.end() :].strip()
    return Line(text=text, marker=marker, sources=tags)


def _split_front_matter(path: Path, raw: str) -> tuple[dict, str]:
    if not raw.startswith("---"):
        raise CorpusError(f"{path}: missing YAML front matter (the file must start with '---').")
    parts = raw.split("\n---", 1)
    if len(parts) != 2:
        raise CorpusError(f"{path}: front matter is not closed with a '---' line.")
    try:
        data = yaml.safe_load(parts[0][3:]) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: front matter is not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: front matter must be a mapping of fields.")
    body = parts[1].split("\n", 1)[1] if "\n" in parts[1] else ""
    return data, body


def _parse_sections(body: str) -> tuple[Section, ...]:
    sections: list[Section] = []
    title: str | None = None
    lines: list[Line] = []
    for raw in body.splitlines():
        if raw.startswith("## "):
            if title is not None:
                sections.append(Section(title, tuple(lines)))
            title, lines = raw[3:].strip(), []
        elif raw.strip() and not raw.startswith("# ") and title is not None:
            lines.append(parse_line(raw))
    if title is not None:
        sections.append(Section(title, tuple(lines)))
    return tuple(sections)


def load_entry(path: Path, kind: Literal["exercise", "topic"]) -> Entry:
    """Parse one entry; schema errors name the file and the field at fault."""
    data, body = _split_front_matter(path, path.read_text(encoding="utf-8"))
    model = ExerciseMeta if kind == "exercise" else EntryMeta
    try:
        meta = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(front matter)"
        raise CorpusError(f"{path}: field '{where}': {first['msg']}.") from exc
    return Entry(kind=kind, meta=meta, sections=_parse_sections(body), path=path)


def load_references(path: Path) -> dict[str, dict]:
    if not path.exists():
        raise CorpusError(f"{path}: missing; the corpus needs a references file.")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise CorpusError(f"{path}: not valid YAML ({exc}).") from exc
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise CorpusError(f"{path}: each reference must be a key with a mapping of fields.")
    return data


def load_corpus(root: Path) -> Corpus:
    """Read the whole corpus; raises CorpusError for files that cannot be parsed at all."""
    if not root.is_dir():
        raise CorpusError(f"{root}: corpus directory not found (set GLUTE_CORPUS_DIR).")
    articles = sorted((root / "source").glob("*.txt"))
    if len(articles) != 1:
        raise CorpusError(f"{root / 'source'}: expected exactly one source article (.txt), found {len(articles)}.")
    entries = [load_entry(p, "exercise") for p in sorted((root / "exercises").glob("*.md"))]
    entries += [load_entry(p, "topic") for p in sorted((root / "topics").glob("*.md"))]
    return Corpus(
        root=root,
        entries=entries,
        article_lines=articles[0].read_text(encoding="utf-8").splitlines(),
        references=load_references(root / "references.yaml"),
        article_path=articles[0],
    )


def article_blocks(lines: list[str]) -> list[list[int]]:
    """Line numbers (1-based) of the article grouped into the blocks its photo credits separate."""
    blocks: list[list[int]] = [[]]
    for number, text in enumerate(lines, start=1):
        if PHOTO_CREDIT.match(text):
            blocks.append([])
        elif text.strip():
            blocks[-1].append(number)
    return [b for b in blocks if b]


def article_attribution(corpus: Corpus) -> dict[int, list[str]]:
    """Which entries draw on each article line (from their `references.article` lists)."""
    owners: dict[int, list[str]] = {}
    for entry in corpus.entries:
        for number in entry.meta.references.article:
            owners.setdefault(number, []).append(entry.id)
    return owners
