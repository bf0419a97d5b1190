"""What the UI renders, without a server: escaping, streaming, sources and exercise pages."""

from __future__ import annotations

from itertools import pairwise

from assistant.answer import Answer, Citation
from assistant.config import Settings
from assistant.serve.display import (
    answer_markdown,
    as_plain_text,
    compress_numbers,
    exercise_markdown,
    marker_html,
    question_markdown,
    reference_markdown,
    source_label,
    sources_markdown,
    streamed,
)

CLAM = Citation(1, "clamshell#make-it-harder", "clamshell", "Clamshell", "Make it harder",
                "- Loop a resistance band around your upper thighs.", "corpus/exercises/clamshell.md")
ARTICLE = Citation(2, "source#L35-L36", "source", "Source article", "Clamshell",
                   "Use a band <b>carefully</b>.", "corpus/source/gluteus-medius-exercises-article.txt")


def test_user_text_is_neither_html_nor_markdown():
    shown = as_plain_text('<img src=x onerror="a()"> **bold** [link](javascript:x)')
    assert "<" not in shown and "&lt;img" in shown
    assert "\\*\\*bold\\*\\*" in shown and "\\[link\\]\\(javascript:x\\)" in shown


def test_long_questions_are_cut_for_display():
    shown = question_markdown("a" * 5000)
    assert shown.startswith("a" * 2000) and "5,000 characters" in shown and "a" * 2001 not in shown


def test_answers_escape_html_keep_markdown_and_stream_to_the_whole_text():
    answer = Answer("q", "q", "To make it harder:\n- Loop a <band> around. [1]\n- **Start light**. [1]", [CLAM])
    whole = answer_markdown(answer)
    assert "&lt;band&gt;" in whole and "**Start light**" in whole and "[1]" in whole
    parts = list(streamed(answer, step=2))
    assert len(parts) > 2 and parts[-1] == whole
    assert all(len(a) <= len(b) for a, b in pairwise(parts))


def test_red_flags_lead_with_a_warning():
    answer = Answer("q", "q", "**Please get medical care now.**", safety="red_flag")
    assert answer_markdown(answer).startswith('<div class="glute-red-flag"')
    assert all(part.startswith('<div class="glute-red-flag"') for part in streamed(answer, step=1))


def test_sources_give_title_section_passage_and_file_with_article_lines():
    shown = sources_markdown([CLAM, ARTICLE])
    assert f"**{marker_html(1)} Clamshell — Make it harder**" in shown  # shown as [1], read as "source 1"
    assert "> - Loop a resistance band around your upper thighs." in shown
    assert "corpus/exercises/clamshell.md" in shown
    assert "gluteus-medius-exercises-article.txt, lines 35\u201336" in shown
    assert "&lt;b&gt;carefully&lt;/b&gt;" in shown
    assert source_label(CLAM) == CLAM.source


def test_references_resolve_to_citations():
    assert compress_numbers([55, 14, 35, 36, 51, 52, 53]) == "14, 35\u201336, 51\u201353, 55"
    ref = {"authors": "Moore D", "title": "EMG study", "journal": "J Sport Rehabil", "year": 2019,
           "doi": "10.1123/jsr.2018-0340"}
    shown = reference_markdown("moore2019", ref)
    assert shown.startswith("Moore D (2019). EMG study. *J Sport Rehabil*.")
    assert "(https://doi.org/10.1123/jsr.2018-0340)" in shown
    assert reference_markdown("bad", {"title": "x", "url": "javascript:alert(1)"}) == "x. javascript:alert(1)"
    assert reference_markdown("missing", None) == "missing"


def test_exercise_page_comes_from_the_entry():
    from assistant.corpus import load_corpus

    corpus = load_corpus(Settings().corpus_dir)
    clamshell = next(e for e in corpus.exercises if e.id == "clamshell")
    page = exercise_markdown(clamshell, corpus.references)
    assert page.startswith("## Clamshell")
    for section in ("How to do it", "Make it easier", "Make it harder", "Common mistakes", "Cautions", "References"):
        assert f"### {section}" in page
    assert "1. Lie on one side." in page
    assert "10.1123/jsr.2018-0340" in page
