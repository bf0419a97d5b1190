"""A problem met doing the exercise being discussed, answered from that exercise's own entry.

After "how do I do clamshells?", "my pelvis keeps rocking back" asks nothing in so many words, and "and if I can't
keep my balance?" or "what should I change?" (after "I feel it in my lower back") ask about a problem, not for a
section: what may be going wrong (Common mistakes), how to make it easier, the tips and cautions that speak to
it. The exercise is known and the answer is in its own sections, so no search is needed: each section's lines are
weighed against the problem by meaning (the question's vector against the statements' vectors, when the catalog
has an encoder) and by shared words, and the closest are quoted, each citing its section."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .conversation import PROBLEM, Resolution, State
from .intent import detect_intents, preferred_sections
from .phrasing import FIRST_PERSON, TOLD_PAIN, attach, lower_first, pronoun, put_for_pronoun, sentence
from .text import ASK_PHRASE, ASK_START, sentences

if TYPE_CHECKING:
    from .catalog import Catalog, Entity
    from .chunking import Chunk
    from .compose import Draft

# "and if I can't keep my balance?", "what if my hip drops?": a problem put as a condition, asking what then.
CONDITIONAL = re.compile(r"^\W*(?:(?:and|but|so|ok(?:ay)?|also)\s+)?(?:what\s+)?if\b", re.IGNORECASE)
# "what should I change?", "what am I doing wrong?": an ask about the problem just told.
FIX = re.compile(r"\b(what (should|can|could|do) i (change|fix|adjust)|differently|what am i (doing|getting) wrong|"
                 r"(doing|getting) (it |this |that |something )?wrong|how (do|can|could|should) i (fix|stop|correct|"
                 r"avoid|prevent) (it|this|that)|what('?s| is) (causing|going wrong))\b", re.IGNORECASE)
SECTIONS = ("Common mistakes", "Make it easier", "Tips", "Cautions")  # where an entry speaks to a problem
PER_SECTION = 2  # lines quoted from one section at most
MARGIN = 0.05  # cosine below the closest line that a line may be and still be quoted as speaking to the problem
MAX_POINTS = 5


def trouble(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution | None:
    """The turn as a problem with the exercise being discussed, and its answer; None when it is not one."""
    subject = state.subject
    if subject is None or subject.kind != "exercise":
        subject = state.situation_subject if state.situation_fresh else None
    if subject is None:
        return None
    if _told(question) or _conditional(question):
        standalone, problem = _with_exercise(question, subject), question
    elif FIX.search(question) and state.situation_fresh and state.situation_subject is not None:
        subject = state.situation_subject
        standalone = f"{(state.situation or '').rstrip('.!? ')}, {lower_first(question)}"
        problem = f"{state.situation} {question}"
    elif FIX.search(question) and subject.kind == "exercise" and _told(state.last_question, problem=False):
        # "what should I change?" after "when I do the quadruped hip extension my lower back sags": what was told
        told = state.last_question.strip().rstrip(".!? ")
        standalone, problem = f"{told}, {lower_first(question)}", f"{told} {question}"
    else:
        return None
    asked = [s for s in preferred_sections(detect_intents(question)) if s in SECTIONS]  # "what am I doing wrong?"
    return Resolution(sentence(standalone, question), "situation", (subject.doc_id,),
                      draft=trouble_draft(catalog, subject.doc_id, problem, asked) if draft else None)


def _told(question: str, problem: bool = True) -> bool:
    """A first-person problem told with no ask beside it ("my pelvis keeps rocking back"); with `problem` False,
    any first-person statement about doing it ("when I do them my lower back sags")."""
    parts = sentences(question)
    return bool(parts) and not any(p.rstrip().endswith("?") or ASK_PHRASE.search(p) or ASK_START.search(p)
                                   for p in parts) and any((PROBLEM.search(p) or not problem) and _personal(p)
                                                           for p in parts)


def _conditional(question: str) -> bool:
    """A problem put as a condition ("and if I can't keep my balance?")."""
    return bool(CONDITIONAL.match(question) and PROBLEM.search(question) and _personal(question))


def _personal(text: str) -> bool:
    """Told of the person or of the exercise ("it's too hard"), not of someone else."""
    return bool(FIRST_PERSON.search(text) or re.search(r"\b(it|it's|its|this|that)\b", text, re.IGNORECASE))


def _with_exercise(question: str, subject: Entity) -> str:
    """The problem with the exercise put in: for the pronoun that stands for it, else attached ("... during the
    clamshell")."""
    match = pronoun(question)
    if match and match.group(1).lower() in ("it", "this one", "that one", "this exercise", "that exercise"):
        return put_for_pronoun(question, match, subject.phrase)
    return attach(question, subject.phrase)


def trouble_draft(catalog: Catalog, doc: str, problem: str, asked: Sequence[str] = ()) -> Draft:
    """The exercise's lines closest to the problem, the closest first: of its common mistakes, tips and cautions
    those about as close as the best one, and always its easier version (and, for pain, its first caution that
    speaks to it), grouped by section, each citing its section; a section the turn asks for in so many words
    ("what am I doing wrong?") is always quoted, first. The problem is weighed as the person wrote it: the
    exercise's name would make every one of its lines look alike."""
    from .compose import Draft

    rated: list[tuple[float, str, int, str, Chunk]] = []
    for section in SECTIONS:
        chunk = catalog.sections[doc].get(section)
        if chunk is not None:
            rated += [(score, section, i, line, chunk)
                      for i, (score, line) in enumerate(catalog.rated_lines(chunk, problem))]
    if not rated:
        return Draft(f"What my sources say about that for {catalog.phrase(doc)}:", [])
    rated.sort(key=lambda r: (-r[0], SECTIONS.index(r[1]), r[2]))
    floor = rated[0][0] - MARGIN
    always = {"Make it easier", *asked} | ({"Cautions"} if TOLD_PAIN.search(problem) else set())
    kept: dict[str, list[tuple[float, str, int, str, Chunk]]] = {}
    for row in rated:
        section = row[1]
        taken = kept.setdefault(section, [])
        close = row[0] >= floor and row[0] > 0  # with no encoder, a line sharing no word says nothing of it
        if len(taken) < PER_SECTION and (close or section in asked or (section in always and not taken)):
            taken.append(row)
    groups = sorted((rows for rows in kept.values() if rows), key=lambda rows: (rows[0][1] not in asked, -rows[0][0]))
    points = [(line, chunk) for rows in groups for _, _, _, line, chunk in sorted(rows, key=lambda r: r[2])]
    return Draft(f"What my sources say about that for {catalog.phrase(doc)}:", points[:MAX_POINTS])


