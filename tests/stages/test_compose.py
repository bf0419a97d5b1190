"""Composing and rendering on hand-made passages (no model, no index): markers, notes, provenance, the lines
chosen, near-duplicates dropped."""

from __future__ import annotations

import json

from assistant.chunking import Chunk, statement_lines, statement_units
from assistant.compose import Draft, across_passages, best_lines, render
from assistant.provenance import Provenance, describe, line_tags
from assistant.retrieve import Hit

HARDER = Chunk("clam#make-it-harder", "clam", "exercise", "Clamshell", "Make it harder",
               "- Loop a band around your thighs.\n- Start with the lightest band.\n- A stronger band is harder.",
               "corpus/exercises/clam.md", line_sources=(("article:36",), ("msd",), ("article:27",)))
PAIN = Chunk("pain#summary", "pain", "topic", "Pain", "Summary", "Outer hip pain often comes from tendons.\n"
             "An assessment by a clinician finds the cause.", "corpus/topics/pain.md",
             line_sources=(("grimaldi",), ("article:50",)))
ARTICLE = Chunk("source#L27-L36", "source", "article", "Article", "Lines 27-36", "Use a stronger band.\nLoop a band.",
                "corpus/source/a.txt", sources=("article:27-36",), line_sources=(("article:27",), ("article:36",)))
PROVENANCE = Provenance({"msd": {"title": "Clamshell handout", "publisher": "MSD Manual", "url": "https://msd.example/c"},
                         "grimaldi": {"title": "Gluteal tendinopathy", "authors": "Grimaldi A", "year": 2015,
                                      "doi": "10.1/x"}},
                        {27: "Use a stronger band.", 36: "Loop a band.", 50: "See a physical therapist."})


def test_markers_follow_first_use_and_every_citation_is_used():
    text, citations = render(Draft("Lead:", [("Loop a band around your thighs.", HARDER),
                                             ("Outer hip pain often comes from tendons.", PAIN),
                                             ("Start with the lightest band.", HARDER)]))
    assert text.splitlines() == ["Lead:", "- Loop a band around your thighs. [1]",
                                 "- Outer hip pain often comes from tendons. [2]",
                                 "- Start with the lightest band. [1]"]
    assert [c.chunk_id for c in citations] == ["clam#make-it-harder", "pain#summary"]


def test_notes_close_the_answer_in_glutes_own_words_without_markers():
    text, _ = render(Draft("Lead:", [("Loop a band around your thighs.", HARDER)]),
                     notes=["My sources don't cover cycling specifically."])
    assert text.splitlines()[-1] == "_My sources don't cover cycling specifically._"


def test_each_quoted_statement_carries_its_origin():
    _, (citation,) = render(Draft("Lead:", [("Loop a band around your thighs.", HARDER),
                                            ("Start with the lightest band.", HARDER)]), provenance=PROVENANCE)
    first, second = citation.statements
    assert first["provenance"] == [{"kind": "article", "line": 36, "text": "Loop a band."}]
    assert second["provenance"][0]["url"] == "https://msd.example/c" and second["provenance"][0]["kind"] == "reference"
    assert citation.provenance == first["provenance"] + second["provenance"]
    assert describe(first["provenance"][0]) == "source article, line 36"
    assert PROVENANCE.reference("grimaldi")["url"] == "https://doi.org/10.1/x"


def test_a_grouped_statement_carries_the_tags_of_every_line_in_it():
    assert line_tags(HARDER, "Loop a band around your thighs. Start with the lightest band.") == ("article:36", "msd")
    assert line_tags(ARTICLE, "Use a stronger band.") == ("article:27",)


def test_statement_units_point_back_at_their_passage_with_their_tags():
    units = statement_units([HARDER])
    assert len({u.chunk_id for u in units}) == 3 and all(u.chunk_id.startswith("clam#make-it-harder~") for u in units)
    assert statement_units([HARDER])[0].chunk_id == units[0].chunk_id  # stable: keyed by the line's text
    assert units[1].text == "Start with the lightest band." and units[1].sources == ("msd",)
    assert all(u.about == ("clam#make-it-harder",) and u.kind == "statement" for u in units)
    assert statement_lines(PAIN)[1] == ("An assessment by a clinician finds the cause.", ("article:50",))
    assert json.loads(HARDER.metadata()["line_sources"]) == [["article:36"], ["msd"], ["article:27"]]


def test_lines_are_chosen_by_meaning_when_statements_are_scored():
    scored = [("Loop a band around your thighs.", 0.2, 0), ("Start with the lightest band.", 0.9, 1),
              ("A stronger band is harder.", 0.1, 2)]
    assert best_lines(HARDER, "which band first?", 1, scored) == ["Start with the lightest band."]
    assert best_lines(HARDER, "stronger band", 1) == ["A stronger band is harder."]  # by shared words alone


def test_across_passages_takes_one_passage_per_entry_and_drops_near_duplicates():
    hits = [Hit(PAIN, 1.0, statements=[("Outer hip pain often comes from tendons.", 0.8, 5),
                                       ("An assessment by a clinician finds the cause.", 0.7, 6)]),
            Hit(PAIN, 0.9), Hit(HARDER, 0.5, statements=[("Loop a band around your thighs.", 0.6, 0),
                                                          ("Start with the lightest band.", 0.1, 1),
                                                          ("A stronger band is harder.", 0.1, 2)])]
    draft = across_passages("Lead:", "outer hip pain", hits, per_passage=1,
                            similar=lambda row, rows: row == 0 and 5 in rows)
    assert [(line, chunk.chunk_id) for line, chunk in draft.points] == [
        ("Outer hip pain often comes from tendons.", "pain#summary")]


def test_an_index_without_statements_still_loads():
    """An index built before statements existed has none: scores are empty and passages rank as before."""
    from assistant.statements import Statements

    class Empty:
        def get(self, **_):
            return {"metadatas": [], "embeddings": []}

    statements = Statements.from_store(Empty())
    assert statements.scores([0.1, 0.2]) is None and statements.best_by_passage(None) == {}


def test_a_story_is_searched_by_what_the_person_feels_before_its_training_log():
    from assistant.pipeline import GIST_WORDS, Assistant

    log = [f"In week {n} I ran {n + 3} miles on the hills with my running club and then did a long walk."
           for n in range(1, 6)]
    felt = "Since then the outside of my hip aches and is tender to press."
    gist = Assistant._gist([*log, felt], ["any advice?"])
    assert felt in gist and gist.endswith("any advice?")
    assert len(gist.split()) <= GIST_WORDS + len(log[0].split()) + 2
    assert gist.index(log[0]) < gist.index(felt)  # chosen sentences keep the story's order


def test_a_line_that_says_another_again_in_other_words_is_recognised():
    from assistant.compose import says_again

    first = "A trial found that load education plus exercise did better at 8 weeks than one steroid injection."
    again = "In a trial, load education plus exercise gave more people a good result at 8 weeks than one injection."
    assert says_again(again, [first])
    assert not says_again("If the pain persists, seek advice from a physiotherapist.", [first])
