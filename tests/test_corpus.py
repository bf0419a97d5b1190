"""The corpus loads, chunks stably, and the validator catches every kind of fault by file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import chunk_corpus
from assistant.config import REPO_ROOT
from assistant.corpus import EXERCISE_SECTIONS, load_corpus
from assistant.errors import CorpusError
from assistant.validate import check_corpus
from tests.helpers import run_glute

ARTICLE_TEN = ["hip-hitch", "isometric-standing-hip-abduction", "single-leg-bridge", "side-lying-hip-abduction",
               "lateral-step-up", "resisted-side-step", "standing-resisted-hip-abduction", "clamshell",
               "single-leg-squat", "single-leg-deadlift"]


def test_real_corpus_passes_the_check():
    corpus = load_corpus(REPO_ROOT / "corpus")
    assert [str(p) for p in check_corpus(corpus)] == []
    ids = {e.id for e in corpus.exercises}
    assert set(ARTICLE_TEN) <= ids
    assert len(corpus.exercises) >= 14 and len(corpus.topics) >= 6
    assert {"moore2019", "semciw2016", "shah2023", "article"} <= set(corpus.references)


def test_cli_check_prints_coverage():
    result = run_glute("corpus", "check")
    assert result.returncode == 0, result.stderr
    assert "Coverage: exercises" in result.stdout and "Corpus OK." in result.stdout


def test_chunk_ids_are_stable_and_carry_context(small_corpus: Path):
    chunks = {c.chunk_id: c for c in chunk_corpus(load_corpus(small_corpus))}
    harder = chunks["clamshell#make-it-harder"]
    assert harder.embed_text.startswith("Clamshell: Make it harder\n")
    assert "{" not in harder.text  # source tags are provenance, not text
    assert "article:36" in harder.sources
    article = [c for c in chunks.values() if c.doc_id == "source"]
    assert article and all(c.chunk_id.startswith("source#L") for c in article)
    assert not any("Getty Images" in c.text for c in article)
    assert chunk_corpus(load_corpus(small_corpus)) == list(chunks.values())  # deterministic


def _entry(root: Path, name: str = "clamshell") -> Path:
    return root / "exercises" / f"{name}.md"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("fault", "field", "message"), [
    (lambda r: _edit(_entry(r), "## Common mistakes\n", "## Mistakes\n"), "section 'Common mistakes'", "missing"),
    (lambda r: _edit(_entry(r), "sources: [", "sources: [nosuchref2020, "), "references.sources",
     "unknown reference key 'nosuchref2020'"),
    (lambda r: _edit(_entry(r), "article: [", "article: [999, "), "references.article", "out of range"),
    (lambda r: _edit(_entry(r), "article: [", "article: [4, "), "references.article", "photo credit"),
    (lambda r: _entry(r, "clamshell-copy").write_text(_entry(r).read_text()), "id", "duplicate id 'clamshell'"),
    (lambda r: _edit(_entry(r, "lateral-step-up"), "aliases: [", "aliases: [clams, "), "aliases",
     "also a name or alias of 'clamshell'"),
    (lambda r: _edit(_entry(r), "## Make it easier\n", "## Make it easier\n\n## Extra\n"),
     "section 'Make it easier'", "is empty"),
    (lambda r: _edit(_entry(r), "## Tips\n", "## Tips\n- Breathe out as you lift.\n"), "section 'Tips'",
     "line without a source tag"),
    (lambda r: _edit(_entry(r), "## Tips\n", "## Tips\n- Go slow. {madeup2024}\n"), "section 'Tips'",
     "unknown source tag"),
    (lambda r: _edit(_entry(r), "## Tips\n", "## Tips\n- Go slow [3]. {article:36}\n"), "section 'Tips'",
     "looks like a citation marker"),
])
def test_validator_names_file_and_field(small_corpus: Path, fault, field: str, message: str):
    fault(small_corpus)
    problems = check_corpus(load_corpus(small_corpus))
    assert any(p.field == field and message in p.message and p.file.startswith("corpus/") for p in problems), \
        [str(p) for p in problems]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("level: beginner", "level: expert", "field 'level'"),
    ("name: Clamshell\n", "", "field 'name'"),
    ("position: side-lying", "position: side-lying\ncolour: red", "field 'colour'"),
])
def test_bad_front_matter_names_the_file_and_field(small_corpus: Path, old: str, new: str, expected: str):
    _edit(_entry(small_corpus), old, new)
    with pytest.raises(CorpusError, match=rf"clamshell\.md: {expected}"):
        load_corpus(small_corpus)


def test_sections_of_every_exercise_follow_the_schema():
    for entry in load_corpus(REPO_ROOT / "corpus").exercises:
        assert tuple(s.title for s in entry.sections) == EXERCISE_SECTIONS, entry.id
