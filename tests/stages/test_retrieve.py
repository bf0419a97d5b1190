"""Linking, intent and the three retrievers on hand-made passages and a three-name linker: no model, no Chroma
(the dense ranking reads a stand-in store through the same `nearest` contract as ReadStore)."""

from __future__ import annotations

import pytest

from assistant.chunking import STATEMENT, Chunk
from assistant.intent import detect_intents, general_route, preferred_sections
from assistant.linking import Linker
from assistant.retrieve import RETRIEVERS, DenseRetriever, LexicalRetriever, Retriever


def _chunk(doc_id: str, kind: str, title: str, section: str, text: str, aliases: tuple[str, ...] = ()) -> Chunk:
    slug = section.lower().replace(" ", "-")
    return Chunk(f"{doc_id}#{slug}", doc_id, kind, title, section, text, f"corpus/{doc_id}.md", aliases=aliases)


CHUNKS = [
    _chunk("clamshell", "exercise", "Clamshell", "How to do it", "Lie on your side with your knees bent.\n"
           "Lift your top knee and keep your feet together.", aliases=("clams",)),
    _chunk("clamshell", "exercise", "Clamshell", "Make it harder", "Loop a resistance band around your thighs.\n"
           "Hold the top position for longer.", aliases=("clams",)),
    _chunk("side-plank", "exercise", "Side plank", "How to do it", "Prop yourself on your forearm.\n"
           "Lift your hips off the floor in a straight line."),
    _chunk("side-plank", "exercise", "Side plank", "Make it harder", "Lift your top leg while you hold the plank."),
    _chunk("hip-pain", "topic", "Outer hip pain", "Summary", "Pain on the outside of the hip often comes from the "
           "gluteal tendons.", aliases=("lateral hip pain",)),
]
NAMES = [("clamshell", "Clamshell"), ("clamshell", "Clam exercise"), ("side-plank", "Side plank"),
         ("hip-pain", "Outer hip pain")]


class NearestStore:
    """Stands in for ReadStore: answers `nearest` from fixed distances and records what it was asked."""

    def __init__(self, distances: dict[str, float]):
        self.distances, self.asked = distances, []

    def nearest(self, vector, n, where=None):
        self.asked.append((n, where))
        return sorted(self.distances.items(), key=lambda item: item[1])[:n]


@pytest.fixture(scope="module")
def linker() -> Linker:
    return Linker(NAMES)


@pytest.mark.parametrize(("text", "expected"), [
    ("how do I do a clamshell?", ["clamshell"]),
    ("how do I do clamshells?", ["clamshell"]),
    ("how do I do a clamshel", ["clamshell"]),  # a typo still links
    ("what is a side plank and how does it compare to a clamshell", ["side-plank", "clamshell"]),  # text order
    ("why does my outer hip pain get worse at night", ["hip-pain"]),
    ("is planking good for my back?", []),  # one word of a two-word name is not the name
    ("how do I do a squat?", []),
    ("can exercise help my hip?", []),  # close to "clam exercise" letter by letter, but "clam" is not in it
    ("any tips for the clam excercise?", ["clamshell"]),
])
def test_the_linker_finds_the_names_in_order(linker: Linker, text: str, expected: list[str]):
    assert linker.doc_ids(text) == expected


def test_a_name_inside_a_word_does_not_link(linker: Linker):
    assert linker.doc_ids("an unclamshelled oyster") == []


@pytest.mark.parametrize(("question", "intents", "first_section"), [
    ("how do I make clamshells harder?", ["harder"], "Make it harder"),
    ("I moved up a band and now clamshells feel too hard", ["easier"], "Make it easier"),
    ("how do I do a side plank?", ["howto"], "How to do it"),
    ("the side plank is too easy, what next?", ["harder"], "Make it harder"),
    ("what mistakes should I avoid?", ["mistakes"], "Common mistakes"),
])
def test_intents_and_the_sections_they_want(question: str, intents: list[str], first_section: str):
    found = detect_intents(question)
    assert found[: len(intents)] == intents
    assert preferred_sections(found)[0] == first_section


def test_a_general_question_about_exercising_routes_to_its_entry():
    assert general_route("how do I make my exercises harder?", ["harder"]) == (
        "safe-progression", "What changes how hard an exercise is")
    assert general_route("how do I make clamshells harder?", ["harder"]) is None  # names no exercising word


def test_the_lexical_retriever_needs_no_vector_and_no_store():
    retriever = LexicalRetriever(CHUNKS, None)
    assert (retriever.name, retriever.uses_vectors) == ("bm25", False)
    hits = retriever.retrieve("how do I make clamshells harder?", None, k=3)
    assert hits[0].chunk_id == "clamshell#make-it-harder"
    assert hits[0].dense is None and hits[0].bm25 and "dense" not in hits[0].ranks


def test_the_dense_retriever_reads_ids_and_distances_through_nearest():
    store = NearestStore({"side-plank#how-to-do-it": 0.2, "clamshell#how-to-do-it": 0.4})
    retriever = DenseRetriever(CHUNKS, store)
    hits = retriever.retrieve("hips off the floor", [0.1, 0.2], k=2, candidates=7)
    assert store.asked == [(7, {"kind": {"$ne": STATEMENT}})]  # statements have their own ranking
    assert [h.chunk_id for h in hits] == ["side-plank#how-to-do-it", "clamshell#how-to-do-it"]
    assert hits[0].dense == pytest.approx(0.8) and hits[0].bm25 is None


def test_the_hybrid_retriever_fuses_both_and_a_named_exercise_leads():
    store = NearestStore({"side-plank#make-it-harder": 0.1, "clamshell#make-it-harder": 0.3})
    retriever = Retriever(CHUNKS, store)
    assert dict(RETRIEVERS) == {"hybrid": Retriever, "dense": DenseRetriever, "bm25": LexicalRetriever}
    hits = retriever.retrieve("how do I make clamshells harder?", [0.0], k=2)
    assert hits[0].chunk_id == "clamshell#make-it-harder"  # named and in the section its intent asks for
    assert {"dense", "bm25"} <= set(hits[0].ranks)


def test_the_lookups_the_pipeline_uses():
    retriever = Retriever(CHUNKS, None)
    assert retriever.names("clams or a side plank?") == ["clamshell", "side-plank"]
    assert retriever.names_exercise("side plank") and not retriever.names_exercise("outer hip pain")
    assert retriever.passage("side-plank#make-it-harder").section == "Make it harder"
    assert retriever.passage("nothing#here") is None
    assert [c.section for c in retriever.passages_of("clamshell")] == ["How to do it", "Make it harder"]
    assert retriever.unknown("clamshell while swimming") == ["swimming"]
    query = retriever.understand("how do I make clamshells harder?")
    assert (query.links, query.intents[0], query.names_exercise) == (["clamshell"], "harder", True)


def test_without_linking_a_name_pulls_nothing():
    assert Retriever(CHUNKS, None, linking=False).understand("how do I make clamshells harder?").links == []


@pytest.mark.parametrize(("question", "intents"), [
    ("how many steps do I take before turning?", ["dosage"]),  # the steps counted, not the steps to follow
    ("what are the steps?", ["howto"]),
    ("can I hold onto a rail?", []),  # holding on, or holding your breath, is no hold of a position
    ("is it bad to hold your breath?", []),
    ("how long do I hold it at the top?", ["dosage"]),
])
def test_a_counted_word_or_an_everyday_hold_is_not_an_intent(question: str, intents: list[str]):
    assert detect_intents(question) == intents
