"""Which exercises a piece of kit is for, read from every exercise's own equipment line.

"I've got a tube band with handles, which exercise is that for?" names no exercise and no section: the answer is a
choice among all the exercises, by their "At a glance" equipment, and it cites each one chosen. "And a looped
band?" then asks the same of other kit (the ask is carried as "which exercises use {}?"), and "which of those is
done standing?" chooses among the exercises this answer named, as after any list."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .catalog import KIT_WORDS, word_set
from .conversation import Resolution
from .phrasing import sentence

if TYPE_CHECKING:
    from .catalog import Catalog
    from .compose import Draft

# "which exercise is that for?", "what exercises use a step?", "what can I do with a wall?"
WHICH_EXERCISE = re.compile(r"\b(which|what) (exercises?|ones?|moves?)\b|\bwhat (can|could|should) i do with\b|"
                            r"\b(exercises?|ones?) (for|with|that use|using|that need)\b", re.IGNORECASE)
# "which of those need a band?" chooses among a set already given (choices.py), not among all the exercises
SET_WORDS = re.compile(r"\b(of|among|out of) (those|these|them|the (two|three|four|five))\b", re.IGNORECASE)
KIT = re.compile(rf"{KIT_WORDS.pattern}|\b(walls?|mats?|chairs?|railings?|stairs?|worktop|handles?|ankle weights?)\b",
                 re.IGNORECASE)
NOT_KIT = frozenset("a an the or and with such as for of optional to your".split())  # in an item, naming no kit
KIT_FRAME = "which exercises use {}?"  # the ask carried to "and a looped band?"
MAX_CHOSEN = 6


def kit_choice(catalog: Catalog, question: str, draft: bool, carry: str = "none") -> Resolution | None:
    """The exercises whose equipment the question names, when it asks which exercise that kit is for; None when
    it names no kit an exercise lists, or asks about a set already given ("which of those need a band?")."""
    if not WHICH_EXERCISE.search(question) or SET_WORDS.search(question) or not KIT.search(question):
        return None
    chosen = kit_users(catalog, question)
    if not chosen:
        return None
    return Resolution(sentence(question), carry, tuple(chosen[:1]), frame=KIT_FRAME, frame_kind="kit",
                      draft=_kit_draft(catalog, chosen) if draft else None)


def kit_users(catalog: Catalog, text: str) -> list[str]:
    """The exercises one of whose equipment items shares most words with the text (at least a word naming kit:
    "band", "tube", "step"), in the catalog's order; none when no item shares one."""
    words = word_set(text)
    best: dict[str, int] = {}
    for doc in catalog.exercises:
        for item in re.split(r",(?![^()]*\))", catalog.facts[doc].get("equipment", "")):
            named = {w for w in word_set(item) if w not in NOT_KIT} & words
            if any(KIT.search(w) for w in named):
                best[doc] = max(best.get(doc, 0), len(named))
    top = max(best.values(), default=0)
    return [d for d in catalog.exercises if top and best.get(d) == top][:MAX_CHOSEN]


def _kit_draft(catalog: Catalog, chosen: list[str]) -> Draft:
    """Each chosen exercise's equipment line (At a glance), naming them in the lead."""
    from .compose import Draft, passage_lines

    points = []
    for doc in chosen:
        glance = catalog.sections[doc].get("At a glance")
        points += [(line, glance) for line in passage_lines(glance) if glance and
                   line.split(":", 1)[0].strip().lower() == "equipment"] if glance else []
    verb = "uses" if len(chosen) == 1 else "use"
    return Draft(f"Of the exercises, {catalog.listing(chosen)} {verb} that kit:", points)

