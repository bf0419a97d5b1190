"""A choice among a set of exercises, or the set compared, answered from each entry's own facts.

"Which one is the easiest?", "which can I do lying down?", "which of those three needs no extra kit to
progress?" choose among the exercises the conversation named (followups.the_set) by their level, position and
equipment (At a glance) and their easier/harder notes; "what's the difference between them?" sets each one's
summary and facts side by side. A message can give its own set: "Out of clamshells, wall presses and single leg
bridges, which can I do?" or "are these beginner exercises?" after naming three is answered the same way, as if the
list had come in a turn before. Each answer cites the entries it draws on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from .conversation import Resolution, State
from .followups import COUNTS, OTHER_ONES, SET_PICK, the_set
from .phrasing import original_span, sentence

if TYPE_CHECKING:
    from .catalog import Catalog
    from .chunking import Chunk
    from .compose import Draft

# What a choice among exercises is about.
EASE = re.compile(r"\b(easiest|easier|gentle(r|st)?|simplest|start with|begin with|beginners?|least (hard|demanding|"
                  r"difficult|challenging)|lowest load|safest|least load)\b", re.IGNORECASE)
HARDNESS = re.compile(r"\b(hardest|most (challenging|difficult|demanding|intense)|toughest|advanced)\b", re.IGNORECASE)
POSITIONS = {
    "lying": (re.compile(r"\b(lying|lie down|lay down|laying|on the floor|on my back|on my side|in bed)\b", re.I),
              ("side-lying", "supine", "prone"), "done lying down"),
    "standing": (re.compile(r"\b(standing|stand up|on my feet|upright)\b", re.I), ("standing",), "done standing"),
    "quadruped": (re.compile(r"\b(hands and knees|all fours|kneeling)\b", re.I), ("quadruped",),
                  "done on hands and knees"),
}
NOT_FLOOR = re.compile(r"\b(can'?t|cannot|can not|unable to|struggle to|hard to|difficult to|don'?t want to) "
                       r"(get|go|kneel|lie) (down )?(on|onto|to) (the )?(floor|ground|mat)\b|\b(not|off) (on )?the "
                       r"(floor|ground)\b", re.IGNORECASE)  # so: standing
NO_KIT = re.compile(r"\b(nothing|no (extra |other )?(kit|equipment|gear|bands?|weights?)|without (any )?(extra )?(kit|"
                    r"equipment|gear|bands?|weights?)|body ?weight only|just my (own )?body|travel\w*|away from home|"
                    r"at home)\b", re.IGNORECASE)
PROGRESS = re.compile(r"\b(progress\w*|harder|advance|level up)\b", re.IGNORECASE)
# "are these beginner exercises?", "what level is each?": their levels, no one of them picked.
LEVELS_ASKED = re.compile(r"\b(levels?|beginners?|intermediate|advanced)\b", re.IGNORECASE)
SUPERLATIVE = re.compile(r"\b(\w+est|most|least|start with|begin with|first)\b", re.IGNORECASE)
# "what's the difference between them?": the set side by side.
COMPARE = re.compile(r"\b(difference|differences|differ|different|compare\w*|comparison|versus|vs|alike|the same)\b",
                     re.IGNORECASE)
# A message naming exercises and referring to them as a set ("are these ...", "which can I do?").
SET_REFERENCE = re.compile(r"\b(these|those|them|they|both|either|neither|each|which)\b", re.IGNORECASE)
EACH_LINES, EACH_MARGIN = 2, 0.03  # an ask put to each of a set: lines quoted per exercise, and how close to its best
GLANCE_FACTS = ("level", "position", "equipment")  # what sets one exercise beside another, from At a glance


def choice(catalog: Catalog, question: str, state: State, draft: bool) -> Resolution | None:
    """ "which of those is the easiest?", "which can I do lying down?", "any other ones I could do?": chosen
    from the set by the entries' own facts, each cited."""
    other = bool(OTHER_ONES.search(question)) and not SET_PICK.search(question)
    members = the_set(question, state) if not other else tuple(
        d for d in catalog.exercises if d not in (*state.listed, *state.shown))
    if not members:
        return None
    said = NOT_FLOOR.sub(" standing ", " ".join(filter(None, (question, state.situation if other else None))))
    positions = [p for p, (pattern, _, _) in POSITIONS.items() if pattern.search(said)]
    kit = bool(NO_KIT.search(question))
    levels = bool(LEVELS_ASKED.search(question)) and not SUPERLATIVE.search(question)
    ease, hard = not levels and bool(EASE.search(question)), not levels and bool(HARDNESS.search(question))
    if not (positions or kit or ease or hard or levels):
        if other:
            return None
        named = sentence(_name_the_set(question, catalog.listing(members)))
        compared = COMPARE.search(question) and draft
        return Resolution(named, "set", tuple(members), draft=_compare_draft(catalog, members) if compared else None)
    chosen = list(members)
    if positions:
        allowed = {p for name in positions for p in POSITIONS[name][1]}
        chosen = [d for d in chosen if catalog.facts[d].get("position") in allowed]
    progressing = bool(PROGRESS.search(question))
    if kit:
        chosen = [d for d in chosen if not catalog.needs_kit(d, progressing)]
    if ease or hard or other or levels:  # other ones: the easiest first
        chosen.sort(key=catalog.ease, reverse=hard)
    if other:
        standalone = f"{state.situation.rstrip('.!?')}: what other exercises could I do?" if state.situation \
            else "what other exercises could I do?"
    else:
        standalone = _name_the_set(question, catalog.listing(members))
    set_draft = _set_draft(catalog, chosen[:4] if other else chosen, members, positions, kit, progressing, ease,
                           hard, other, levels) if draft else None
    return Resolution(sentence(standalone), "situation" if other else "set", tuple(chosen or members)[:1],
                      draft=set_draft)


def _set_draft(catalog: Catalog, docs: list[str], members: Sequence[str], positions: list[str], kit: bool,
               progressing: bool, ease: bool, hard: bool, other: bool, levels: bool = False) -> Draft:
    """The choice, said in a lead that names the chosen entries in the order their points cite them, then
    each one's deciding facts: its level, position or equipment (At a glance), and for the easiest its
    "Make it easier" notes, or for progressing without kit its first "Make it harder" step; asked for their
    levels, each one's level, the easiest first."""
    from .compose import Draft, passage_lines

    wanted = (["position"] if positions else []) + (["equipment"] if kit and not progressing else [])
    if ease or hard or levels or not wanted:
        wanted.append("level")
    predicates = [(f"is {POSITIONS[p][2]}", f"are {POSITIONS[p][2]}") for p in positions]
    if kit:
        predicates.append(("can be made harder without extra equipment",) * 2 if progressing else
                          ("needs nothing more than a mat or a wall", "need nothing more than a mat or a wall"))
    one, many = " and ".join(p[0] for p in predicates), " and ".join(p[1] for p in predicates)
    group = "the other exercises" if other else f"these {COUNTS.get(len(members), '')}".rstrip()
    facts = catalog.facts
    if not docs:
        docs = list(members)
        lead = f"None of {group} {one}; what my sources say about each:"
    elif levels and not predicates:
        lead = f"Of {group}, {_by_level(catalog, docs)}:"
    elif ease or hard:
        pick, rest = docs[0], docs[1:]
        word = "easiest to start with" if ease else "hardest"
        level = facts[pick].get("level", "")
        if predicates:
            lead = (f"Of {group}, {catalog.listing(docs)} {one if len(docs) == 1 else many}; the {word} is "
                    f"{catalog.phrase(pick)} ({level}):")
        else:
            said = _by_level(catalog, rest)
            docs = [pick, *rest]
            lead = f"Of {group}, the {word} is {catalog.phrase(pick)} ({level})" + (f"; {said}:" if said else ":")
    else:
        lead = f"Of {group}, {catalog.listing(docs)} {one if len(docs) == 1 else many}:"
    points: list[tuple[str, Chunk]] = []
    for index, doc in enumerate(docs):
        glance = catalog.sections[doc].get("At a glance")
        if glance:
            points += [(line, glance) for line in passage_lines(glance)
                       if line.split(":", 1)[0].strip().lower() in wanted]
        harder = catalog.sections[doc].get("Make it harder")
        if progressing and kit and harder:
            points += [(line, harder) for line in passage_lines(harder)[:1]]
        easier = catalog.sections[doc].get("Make it easier")
        if ease and index == 0 and easier:
            points += [(line, easier) for line in passage_lines(easier)[:2]]
    return Draft(lead, points[:8])


def _name_the_set(question: str, listing: str) -> str:
    """ "which of those is the easiest?" -> "which of the clamshell and the hip hitch is the easiest?"; "which can
    I do?" -> "which of ... can I do?"; "the hardest of those" -> "the hardest of ..."."""
    match = SET_PICK.search(question)
    if not match:
        return question
    text = match.group(0)
    named = re.sub(r"\b(those|these|them|the (two|three|four|five|\w+ ones?))( (two|three|four|five)( ones)?)?$",
                   listing, text, count=1, flags=re.IGNORECASE)
    if named == text:  # "which one", "which two", "which can"
        words = text.split(" ", 1)
        tail = words[1] if len(words) > 1 and not re.fullmatch(r"(one|ones|two|three|four)", words[1], re.I) else ""
        named = f"{words[0]} of {listing}" + (f" {tail}" if tail else "")
    return question[:match.start()] + named + question[match.end():]


def _by_level(catalog: Catalog, docs: list[str]) -> str:
    """ "the clamshell and the hip hitch are beginner level, and the side plank is advanced level"; `docs` is
    put in that order (the levels in the order they first come)."""
    levels = [(lv, [d for d in docs if catalog.facts[d].get("level", "") == lv])
              for lv in dict.fromkeys(catalog.facts[d].get("level", "") for d in docs)]
    docs[:] = [d for _, ds in levels for d in ds]
    return ", and ".join(f"{catalog.listing(ds)} {'is' if len(ds) == 1 else 'are'} {lv} level" for lv, ds in levels)


def _compare_draft(catalog: Catalog, members: Sequence[str]) -> Draft:
    """The set side by side: each exercise's opening summary line, then its level, position and equipment."""
    from .compose import Draft, passage_lines

    points: list[tuple[str, Chunk]] = []
    for doc in members:
        summary, glance = catalog.sections[doc].get("Summary"), catalog.sections[doc].get("At a glance")
        points += [(line, summary) for line in passage_lines(summary)[:1]] if summary else []
        points += [(line, glance) for line in passage_lines(glance)
                   if line.split(":", 1)[0].strip().lower() in GLANCE_FACTS] if glance else []
    listing = catalog.listing(members)
    return Draft(f"{listing[0].upper()}{listing[1:]} side by side, from each one's entry:", points)


def in_message_set(catalog: Catalog, question: str, draft: bool) -> Resolution | None:
    """A message that names exercises and asks about them as a set ("Out of clamshells, wall presses and single
    leg bridges, which can I do?", "... are these beginner exercises?", "what's the difference between them?"),
    chosen or compared as if the list had come a turn before; nothing is carried, so it stays as written."""
    listed = catalog.exercises_in(question)
    if len(listed) < 2 or not (SET_REFERENCE.search(question) or COMPARE.search(question)):
        return None
    got = choice(catalog, _unnamed(catalog, question), State(listed=tuple(listed)), draft=True)  # drafted: does it?
    if got is None or got.draft is None or got.carry != "set":
        return None
    return replace(got, question=sentence(question), carry="none", draft=got.draft if draft else None)


def for_each(catalog: Catalog, question: str, standalone: str, members: Sequence[str], draft: bool) -> Resolution:
    """ "do both need something to hold on to?", "does that rule either of them out?": the ask put to each of
    the set, answered by each one's lines closest to it; a choice by level, position or kit is `choice`'s."""
    chosen = choice(catalog, question, State(listed=tuple(members)), draft)
    if chosen is not None and (chosen.draft is not None or not draft) and _criteria(question):
        return replace(chosen, question=standalone)
    each = _each_draft(catalog, question, members) if draft else None
    return Resolution(standalone, "set", tuple(members), draft=each)


def _criteria(question: str) -> bool:
    """Whether the ask chooses by the facts `choice` reads: position, kit, level, ease."""
    said = NOT_FLOOR.sub(" standing ", question)
    return bool(any(p.search(said) for p, _, _ in POSITIONS.values()) or NO_KIT.search(question)
                or EASE.search(question) or HARDNESS.search(question) or LEVELS_ASKED.search(question))


def _each_draft(catalog: Catalog, ask: str, members: Sequence[str]) -> Draft:
    """For each exercise, its lines closest to the ask (by meaning, with an encoder, and shared words), from any
    of its sections, each citing its section."""
    from .compose import Draft

    points: list[tuple[str, Chunk]] = []
    for doc in members:
        rated = [(score, order, i, line, chunk) for order, chunk in enumerate(catalog.sections[doc].values())
                 for i, (score, line) in enumerate(catalog.rated_lines(chunk, ask))]
        rated.sort(key=lambda r: (-r[0], r[1], r[2]))
        kept = [r for r in rated[:EACH_LINES] if rated and r[0] >= rated[0][0] - EACH_MARGIN]
        points += [(line, chunk) for _, _, _, line, chunk in sorted(kept, key=lambda r: (r[1], r[2]))]
    return Draft(f"What the entry for each of {catalog.listing(members)} says:", points)


def _unnamed(catalog: Catalog, question: str) -> str:
    """The message with the entries' names cut out, so that "side lying leg lifts" is not read as a wish for
    exercises done lying down."""
    text = question
    for link in sorted(catalog.links(question), key=lambda link: -link.start):
        start, end = original_span(question, link.start, link.end)
        text = f"{text[:start]}them{text[end:]}"
    return text
